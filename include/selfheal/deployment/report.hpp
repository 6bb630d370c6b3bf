#pragma once
/// \file
/// The JSON of `selfheal deploy --json` (HEALING.md: record_id, validation_record, mode, status,
/// reasons, branch, commit, merge_commit, pull_request{id,title,url}, stages[{stage, commit, started,
/// finished, verdict, score, metrics[{name, baseline, canary, ratio, p_value, classification}]}],
/// rollback{commit,reason}|null, audit[ids]; more fields welcome: previous, handler, plan,
/// approved_by, critical per metric) and its text form.

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/deployment/model.hpp"
#include "selfheal/deployment/store.hpp"

namespace selfheal::deployment {

namespace detail {
inline std::string iso(std::int64_t ns) {
  if (ns == 0) return {};
  return format_iso8601_ms(time_point{} + std::chrono::duration_cast<time_point::duration>(std::chrono::nanoseconds{ns}));
}
}  // namespace detail

inline void write_json(json_writer& w, const record& r) {
  w.begin_object();
  w.member("record_id", r.record_id);
  w.member("validation_record", r.validation_record);
  w.member("mode", r.mode);
  w.member("status", r.status);
  w.key("reasons").begin_array();
  for (const auto& x : r.reasons) w.value(x);
  w.end_array();
  w.member("handler", r.handler);
  w.member("anomaly_id", r.anomaly_id);
  w.member("strategy", r.strategy);
  w.member("branch", r.branch);
  w.member("commit", r.commit);
  w.member("merge_commit", r.merge_commit);
  w.member("previous", r.previous);
  w.key("pull_request");
  if (r.pr) {
    w.begin_object().member("id", r.pr->id).member("title", r.pr->title).member("url", r.pr->url).end_object();
  } else {
    w.value(nullptr);
  }
  w.key("stages").begin_array();
  for (const auto& s : r.stages) {
    w.begin_object();
    w.member("stage", s.stage).member("commit", s.commit);
    w.member("started", detail::iso(s.started_ns)).member("finished", detail::iso(s.finished_ns));
    w.member("verdict", s.verdict).member("score", s.score);
    w.key("metrics");
    write_metrics_json(w, s.metrics);
    w.end_object();
  }
  w.end_array();
  w.key("rollback");
  if (r.rolled_back) w.begin_object().member("commit", r.rolled_back->commit).member("reason", r.rolled_back->reason).end_object();
  else w.value(nullptr);
  w.key("audit").begin_array();
  for (auto id : r.audit) w.value(id);
  w.end_array();
  w.member("approved_by", r.approved_by);
  w.key("plan").begin_array();
  for (const auto& p : r.plan) w.value(p);
  w.end_array();
  w.end_object();
}

[[nodiscard]] inline std::string deployment_json(const record& r) {
  std::string out;
  json_writer w(out);
  write_json(w, r);
  return out;
}

/// A few lines for a person.
[[nodiscard]] inline std::string deployment_text(const record& r) {
  std::string t = "deployment " + r.record_id + " of " + r.validation_record + ": " + r.status + " (mode " + r.mode + ")\n";
  if (!r.branch.empty()) t += "  branch " + r.branch + (r.commit.empty() ? "" : " at " + r.commit.substr(0, 12)) + "\n";
  if (r.pr) t += "  pull request " + r.pr->id + ": " + r.pr->title + (r.pr->url.empty() ? "" : " " + r.pr->url) + "\n";
  if (!r.merge_commit.empty()) t += "  merged as " + r.merge_commit.substr(0, 12) + " (previous " + r.previous.substr(0, 12) + ")\n";
  for (const auto& s : r.stages) {
    t += fmt::format("  stage {} {}: {} (score {:.4g})\n", s.stage, s.commit.substr(0, 12), s.verdict, s.score);
    for (const auto& m : s.metrics)
      if (m.classification != "pass") t += "    " + m.name + ": " + m.classification + "\n";
  }
  if (r.rolled_back) t += "  rolled back with " + r.rolled_back->commit.substr(0, 12) + ": " + r.rolled_back->reason + "\n";
  if (r.status == "dry_run" || r.status == "blocked")
    for (const auto& p : r.plan) t += "  would: " + p + "\n";
  for (const auto& x : r.reasons) t += "  - " + x + "\n";
  return t;
}

}  // namespace selfheal::deployment
