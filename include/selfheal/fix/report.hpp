#pragma once
/// \file
/// The JSON of `selfheal fix --json` (HEALING.md: `record_id`, `diagnosis_record`, `patches[]` with
/// `id`, `anomaly_id`, `handler`, `strategy`, `base_commit`, `files[]`, `tests_added`, `docs_added`,
/// `syntax[]`, `diff`; plus `suspect_commit`, `anomaly_type`, `test_framework`, `notes` and a
/// top-level `skipped[]`: each strategy that was tried and refused, with its reason), and a short text
/// form for people.

#include <string>
#include <string_view>
#include <vector>

#include "selfheal/core/json_writer.hpp"
#include "selfheal/fix/model.hpp"

namespace selfheal::fix {

inline void write_json(json_writer& w, const patch& p) {
  w.begin_object()
      .member("id", p.id)
      .member("anomaly_id", p.anomaly_id)
      .member("anomaly_type", p.anomaly_type)
      .member("handler", p.handler)
      .member("strategy", p.strategy)
      .member("suspect_commit", p.suspect_commit)
      .member("base_commit", p.base_commit);
  w.key("files").begin_array();
  for (const auto& f : p.files)
    w.begin_object().member("path", f.path).member("additions", f.additions).member("deletions", f.deletions).end_object();
  w.end_array();
  w.key("tests_added").begin_array();
  for (const auto& t : p.tests_added) w.value(t);
  w.end_array();
  w.key("docs_added").begin_array();
  for (const auto& d : p.docs_added) w.value(d);
  w.end_array();
  w.key("syntax").begin_array();
  for (const auto& s : p.syntax)
    w.begin_object().member("path", s.path).member("tool", s.tool).member("ok", s.ok).member("message", s.message).end_object();
  w.end_array();
  w.member("test_framework", p.test_framework);
  w.key("notes").begin_array();
  for (const auto& n : p.notes) w.value(n);
  w.end_array();
  w.member("diff", p.diff);
  w.end_object();
}

inline void write_json(json_writer& w, const skipped_strategy& s) {
  w.begin_object()
      .member("anomaly_id", s.anomaly_id)
      .member("handler", s.handler)
      .member("strategy", s.strategy)
      .member("reason", s.reason)
      .end_object();
}

/// The whole `selfheal fix --json` object.
[[nodiscard]] inline std::string fix_json(std::string_view record_id, std::string_view diagnosis_record,
                                          const std::vector<patch>& patches, const std::vector<skipped_strategy>& skipped) {
  std::string out;
  json_writer w(out);
  w.begin_object().member("record_id", record_id).member("diagnosis_record", diagnosis_record);
  w.key("patches").begin_array();
  for (const auto& p : patches) write_json(w, p);
  w.end_array();
  w.key("skipped").begin_array();
  for (const auto& s : skipped) write_json(w, s);
  w.end_array();
  w.end_object();
  return out;
}

/// A few lines per patch for people.
[[nodiscard]] inline std::string patch_text(const patch& p) {
  std::string s = p.id.empty() ? std::string("patch") : p.id;
  s += " (" + p.strategy + ") for " + p.anomaly_id + " " + p.handler + " on " + p.base_commit.substr(0, 12) + "\n";
  for (const auto& f : p.files)
    s += "  " + f.path + "  +" + std::to_string(f.additions) + " -" + std::to_string(f.deletions) + "\n";
  for (const auto& t : p.tests_added) s += "  test: " + t + " (" + p.test_framework + ")\n";
  for (const auto& d : p.docs_added) s += "  runbook: " + d + "\n";
  for (const auto& c : p.syntax)
    s += "  syntax " + c.path + ": " + (c.ok ? "ok" : "FAILED") + " (" + c.tool + ")" + (c.ok || c.message.empty() ? "" : ": " + c.message) + "\n";
  for (const auto& n : p.notes) s += "  note: " + n + "\n";
  return s;
}

}  // namespace selfheal::fix
