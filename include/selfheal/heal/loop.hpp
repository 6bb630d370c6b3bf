#pragma once
/// \file
/// `selfheal heal`, the closed loop over all seven sequences. Each round parses only what was
/// appended to `service.telemetry`, establishes a baseline on the first round, detects, and takes
/// every new actionable anomaly through diagnose → fix → validate → deploy → learn, writing each
/// step's record id into the heal run as soon as that step has committed. A run killed at any point
/// resumes at the first step without a record; the deploy step is itself resumable per validation,
/// so a resumed run never branches, commits, merges or deploys the same fix twice.
///
/// Rules: a handler already being healed is not healed twice; a strategy whose fix was rolled back
/// for a handler is not tried again for it; a healthy round is `nothing_to_do`.
///
/// ```cpp
/// auto s = selfheal::source::load_settings(repo);
/// selfheal::heal::heal_request req{.repo = repo};
/// auto report = selfheal::heal::heal(ctx, *s, req, [](std::string_view line) { std::puts(line.data()); });
/// ```

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "selfheal/anomaly/sequence.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/deployment/sequence.hpp"
#include "selfheal/diagnosis/sequence.hpp"
#include "selfheal/fix/sequence.hpp"
#include "selfheal/heal/model.hpp"
#include "selfheal/heal/store.hpp"
#include "selfheal/heal/timing.hpp"
#include "selfheal/learning/sequence.hpp"
#include "selfheal/source/settings.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "selfheal/validation/sequence.hpp"

namespace selfheal::heal {

/// Receives the loop's progress lines (the human story); may be empty.
using say_fn = std::function<void(std::string_view)>;

namespace detail {

inline std::int64_t now_ns(context& ctx) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(ctx.now().time_since_epoch()).count();
}

/// "anomaly-4.2" → "anomaly-4".
inline std::string record_of(std::string_view anomaly_id) {
  const auto dot = anomaly_id.rfind('.');
  return std::string(dot == std::string_view::npos ? anomaly_id : anomaly_id.substr(0, dot));
}

/// Anomalies a code change can answer: a handler's errors, or its latency when the shift is at
/// least what the canary judge could ever count (`canary.min_effect_ms`): a 1.5x rise of a
/// 0.0003 ms handler is real and not worth a deploy.
inline bool actionable(const anomaly::anomaly& a, const source::settings& s) {
  if (a.handler.empty()) return false;
  using k = anomaly::anomaly_kind;
  if (a.has_kind(k::error_rate) || a.has_kind(k::error_template_spike) || a.has_kind(k::new_error_template) ||
      a.has_kind(k::slo_burn))
    return true;
  if (!a.has_kind(k::latency_shift) && !a.has_kind(k::latency_tail)) return false;
  double shift = -1;
  if (const auto* hl = a.find("hodges_lehmann_ms")) shift = hl->number;
  const auto* now = a.find(a.kind == k::latency_tail ? "p95_ms" : "p50_ms");
  const auto* then = a.find(a.kind == k::latency_tail ? "baseline_p95_ms" : "baseline_p50_ms");
  if (now && then) shift = std::max(shift, now->number - then->number);
  return shift < 0 || shift >= s.canary.min_effect_ms;  // unknown size: act
}

inline void say(const say_fn& f, const std::string& line) {
  if (f) f(line);
}

/// `run(seq, ctx, req)`, followed by the `externalWait` event of what it waited on (timing.hpp).
template <class Seq, class Req>
[[nodiscard]] auto timed_run(const Seq& seq, context& ctx, Req&& req) {
  const std::int64_t since = external_wait_ns().load();
  auto r = run(seq, ctx, std::forward<Req>(req));
  emit_external_wait(ctx, since);
  return r;
}

/// The strategies tried for `handler` whose deploy was rolled back: not tried again (HEALING.md).
inline result<std::vector<std::string>> rolled_back_strategies(store::database& db, const std::string& handler) {
  auto past = history_of(db, handler);
  if (!past) return tl::unexpected(past.error());
  std::vector<std::string> out;
  for (const auto& a : *past)
    if (a.status == "rolled_back" && !a.strategy.empty() && std::find(out.begin(), out.end(), a.strategy) == out.end())
      out.push_back(a.strategy);
  return out;
}

/// The built-in code strategies, in the order tried when the recommended one was rolled back before.
inline constexpr const char* fallback_strategies[] = {"revert", "partial_revert", "config_change"};

}  // namespace detail

namespace detail {

inline std::string fmt_ms(double ms) {
  return ms < 0.1 ? fmt::format("{:.4f} ms", ms) : fmt::format("{:.2f} ms", ms);
}

inline std::string short_sha(std::string_view sha) { return std::string(sha.substr(0, 12)); }

/// One anomaly through its remaining steps. Each step's record id is saved as soon as that step has
/// committed; a step that fails or stops the anomaly sets its status and reason.
inline result<void> advance(context& ctx, store::database& db, const source::settings& s, const heal_request& req,
                            const std::string& run_id, const std::string& telemetry_record, anomaly_progress& a,
                            const say_fn& say, const std::atomic<bool>* stop) {
  auto save = [&]() { return save_anomaly(db, run_id, a); };
  auto stopped = [&] { return stop && stop->load(); };
  auto finish = [&](std::string status, std::string reason) -> result<void> {
    a.status = std::move(status);
    a.reason = std::move(reason);
    say("  " + a.id + " " + a.handler + ": " + a.status + (a.reason.empty() ? "" : " — " + a.reason));
    return save();
  };
  const std::string repo = s.repo.string();
  const std::string config = req.config.empty() ? std::string{} : req.config.string();

  if (a.diagnosis.empty()) {
    if (stopped()) return {};
    diagnosis::analyze_request dr;
    dr.repo = s.repo;
    dr.anomaly_record = record_of(a.id);
    dr.anomaly_ids = {a.id};
    dr.telemetry_record = telemetry_record;
    auto d = detail::timed_run(diagnosis::analyze_diagnosis, ctx, std::move(dr));
    if (!d) return finish("failed", "diagnose: " + d.error().message());
    a.diagnosis = d->record_id;
    std::string why = "no suspect commit";
    for (const auto& item : d->diagnoses) {
      if (!item.suspects.empty()) {
        const auto& c = item.suspects.front();
        why = "commit " + short_sha(c.commit) + " \"" + c.summary + "\" by " + c.author;
        break;
      }
    }
    a.story += "Why: " + why + " (" + a.diagnosis + ").\n";
    say("  diagnose " + a.diagnosis + ": " + why);
    if (auto r = save(); !r) return r;
    kill_point("diagnosis");
  }
  if (a.fix.empty()) {
    if (stopped()) return {};
    // A strategy whose fix was rolled back for this handler is not tried again: the recommended one
    // first, then the other built-in strategies, each asked for by name.
    auto excluded = rolled_back_strategies(db, a.handler);
    if (!excluded) return tl::unexpected(excluded.error());
    auto is_excluded = [&](const std::string& st) {
      return std::find(excluded->begin(), excluded->end(), st) != excluded->end();
    };
    std::vector<std::string> asks{""};
    if (!excluded->empty())
      for (const char* st : fallback_strategies)
        if (!is_excluded(st)) asks.emplace_back(st);
    std::optional<fix::generate_summary> chosen;
    std::string why;
    for (const auto& ask : asks) {
      fix::generate_request fr;
      fr.diagnosis_record = a.diagnosis;
      fr.repo = repo;
      fr.config = config;
      fr.anomaly_ids = {a.id};
      fr.strategy = ask;
      fr.store_result = ask.empty() ? excluded->empty() : true;  // a probe of the recommended one stores nothing
      auto f = detail::timed_run(fix::generate_fix, ctx, std::move(fr));
      if (!f) {
        if (ask.empty() && excluded->empty()) return finish("failed", "fix: " + f.error().message());
        why += "; " + (ask.empty() ? std::string("recommended") : ask) + ": " + f.error().message();
        continue;
      }
      if (!f->patches.empty() && is_excluded(f->patches.front().strategy)) {
        why += "; " + f->patches.front().strategy + ": rolled back before for " + a.handler;
        continue;
      }
      if (!f->patches.empty() && ask.empty() && !excluded->empty()) {  // recommended and allowed: store it
        fix::generate_request again;
        again.diagnosis_record = a.diagnosis;
        again.repo = repo;
        again.config = config;
        again.anomaly_ids = {a.id};
        again.strategy = f->patches.front().strategy;
        f = detail::timed_run(fix::generate_fix, ctx, std::move(again));
        if (!f) return finish("failed", "fix: " + f.error().message());
      }
      if (f->patches.empty()) {
        for (const auto& k : f->skipped) why += "; " + k.strategy + ": " + k.reason;
        if (!f->record_id.empty()) a.fix = f->record_id;
        continue;
      }
      chosen = std::move(*f);
      break;
    }
    if (!chosen) {
      if (a.fix.empty()) a.fix = "none";
      return finish("failed", "fix: no strategy applies" + why);
    }
    const fix::generate_summary* f = &*chosen;
    const auto& p = f->patches.front();
    a.fix = p.id.empty() ? f->record_id : p.id;
    a.strategy = p.strategy;
    std::size_t add = 0, del = 0;
    for (const auto& file : p.files) add += file.additions, del += file.deletions;
    a.story += "Change: " + p.strategy + (p.suspect_commit.empty() ? "" : " of " + short_sha(p.suspect_commit)) + " (" +
               a.fix + ", " + std::to_string(p.files.size()) + " file(s), +" + std::to_string(add) + " -" +
               std::to_string(del) + ").\n";
    say("  fix " + a.fix + ": " + p.strategy + ", " + std::to_string(p.files.size()) + " file(s)");
    if (auto r = save(); !r) return r;
    kill_point("fix");
  }
  if (a.validation.empty()) {
    if (stopped()) return {};
    validation::run_request vr;
    vr.patch_record = a.fix;
    vr.repo = repo;
    vr.config = config;
    auto v = detail::timed_run(validation::run_validation, ctx, std::move(vr));
    if (!v) return finish("failed", "validate: " + v.error().message());
    a.validation = v->record_id;
    std::string evidence = "tests " + std::to_string(v->tests.passed) + " passed, " + std::to_string(v->tests.failed) +
                           " failed";
    if (v->performance.ratio > 0)
      evidence += "; " + v->performance.handler + " p50 " + fmt_ms(v->performance.main_p50_ms) + " → " +
                  fmt_ms(v->performance.candidate_p50_ms) + " (p=" + std::to_string(v->performance.p_value).substr(0, 6) + ")";
    a.story += "Proof: " + evidence + " (" + a.validation + ", " + v->verdict + ").\n";
    say("  validate " + a.validation + ": " + v->verdict + " — " + evidence);
    if (auto r = save(); !r) return r;
    kill_point("validation");
    if (v->verdict != "pass") {
      std::string why;
      for (const auto& r : v->reasons) why += (why.empty() ? "" : "; ") + r;
      return finish("failed", "validation failed: " + why);
    }
  }
  if (a.deployment.empty() || a.status == "open") {
    if (stopped()) return {};
    deployment::deploy_request dq;
    dq.validation_record = a.validation;
    dq.repo = repo;
    dq.config_path = config;
    dq.actor = "selfheal heal";
    auto d = detail::timed_run(deployment::deploy_fix, ctx, std::move(dq));
    if (!d) return finish("failed", "deploy: " + d.error().message());
    a.deployment = d->record_id;
    std::string stages;
    for (const auto& st : d->stages)
      stages += (stages.empty() ? "" : ", ") + st.stage + " " + st.verdict + " (score " +
                std::to_string(static_cast<int>(std::lround(st.score))) + ")";
    say("  deploy " + a.deployment + ": " + d->status + (stages.empty() ? "" : " — " + stages));
    if (d->status == "deployed") {
      a.healed_ns = d->deployed_ns ? d->deployed_ns : now_ns(ctx);
      a.story += "Shipped: " + d->merge_commit.substr(0, 12) + " on " + s.service.main + ", " + stages + " (" +
                 a.deployment + ").\n";
    } else if (d->status == "rolled_back") {
      a.story += "Rolled back: " + (d->rolled_back ? d->rolled_back->reason : std::string("the canary failed")) + " (" +
                 a.deployment + ").\n";
    }
    if (auto r = save(); !r) return r;
    kill_point("deployment");
    if (d->status == "blocked" || d->status == "dry_run" || d->status == "failed") {
      std::string why;
      for (const auto& r : d->reasons) why += (why.empty() ? "" : "; ") + r;
      if (d->status == "blocked") {  // stays open: a later heal resumes once a person approved
        a.reason = why;
        say("  " + a.id + " " + a.handler + ": blocked — " + why);
        return save();
      }
      return finish(d->status, why);
    }
    a.status = d->status == "deployed" ? "deployed" : d->status;
    if (auto r = save(); !r) return r;
  }
  if (a.learning.empty()) {
    if (stopped()) return {};
    learning::track_request lr;
    lr.deployment_record = a.deployment;
    lr.repo = repo;
    auto l = detail::timed_run(learning::track_learning, ctx, std::move(lr));
    if (!l && a.status == "deployed") {  // production has not spoken since the deploy: a later round learns
      a.reason = "learning waits for telemetry after the deploy (" + l.error().message() + ")";
      say("  " + a.id + " " + a.handler + ": deployed; " + a.reason);
      return save();
    }
    if (!l) return finish(a.status == "rolled_back" ? "rolled_back" : "failed", "learn: " + l.error().message());
    a.learning = l->record_id;
    std::string evidence;
    for (const auto& m : l->metrics)
      if (m.name == a.handler + ".p50_ms")  // during the anomaly → after the fix, against the healthy baseline
        evidence = m.name + (m.during ? " " + fmt_ms(*m.during) + " during the anomaly" : std::string()) + " → " +
                   fmt_ms(m.after) + " after the fix (baseline " + fmt_ms(m.before) + ")";
    const std::string outcome(learning::to_string(l->result));
    a.story += "Learned: " + outcome + (evidence.empty() ? "" : ", " + evidence) + " (" + a.learning + ").\n";
    say("  learn " + a.learning + ": " + outcome + (evidence.empty() ? "" : " — " + evidence));
    if (auto r = save(); !r) return r;
    kill_point("learning");
  }
  if (a.status == "deployed") {
    // Deployed is not healed until production agrees: a fix learning judged a failure (the handler
    // did not come back towards its baseline) leaves the anomaly failed, and its time is not counted.
    auto learned = learning::learned_outcome(db, a.learning);
    if (!learned) return tl::unexpected(learned.error());
    if (*learned == learning::outcome::failure) {
      a.healed_ns = 0;
      return finish("failed", "learning " + a.learning + " judged the deployed fix a failure");
    }
    return finish("healed", "");
  }
  return finish(a.status == "open" ? "failed" : a.status, a.reason);
}

}  // namespace detail

/// Runs the loop: `req.max_rounds` rounds (0: until `stop`), `req.watch_seconds` apart. Resumes
/// the latest run that did not finish.
[[nodiscard]] inline result<heal_report> heal(context& ctx, const source::settings& s, const heal_request& req,
                                              const say_fn& say = {}, const std::atomic<bool>* stop = nullptr) {
  if (!ctx.store) return fail(errc::invalid_request, "heal needs a store");
  store::database& db = *ctx.store;
  // Every sequence's beat events pass through heal's own sink (timing.hpp): selfheal's share of
  // the time is read back from them at the end.
  heal_sink events(ctx.sink);
  struct sink_scope {
    context& c;
    event_sink* previous;
    ~sink_scope() { c.sink = previous; }
  } restore{ctx, ctx.sink};
  ctx.sink = &events;
  if (s.service.telemetry.empty())
    return fail(errc::invalid_request, s.file.string() + ": [service] telemetry: heal needs the logs to watch");
  auto open = open_run(db);
  if (!open) return tl::unexpected(open.error());
  std::string run_id;
  if (*open) {
    run_id = **open;
    detail::say(say, "resuming " + run_id);
  } else {
    auto id = create_run(db, ctx.now());
    if (!id) return tl::unexpected(id.error());
    run_id = *id;
  }
  auto loaded = load_run(db, run_id);
  if (!loaded) return tl::unexpected(loaded.error());
  heal_report rep = std::move(*loaded);

  auto finish_open = [&](const std::string& telemetry_record) -> result<void> {
    for (auto& a : rep.anomalies) {
      if (a.finished() && !(a.status == "deployed")) continue;
      if (stop && stop->load()) break;
      if (auto r = detail::advance(ctx, db, s, req, run_id, telemetry_record, a, say, stop); !r) return r;
    }
    return {};
  };
  // A resumed run first finishes what it had started.
  if (auto r = finish_open(rep.telemetry_records.empty() ? std::string{} : rep.telemetry_records.back()); !r)
    return tl::unexpected(r.error());

  for (unsigned round = 0; req.max_rounds == 0 || round < req.max_rounds; ++round) {
    if (stop && stop->load()) break;
    if (round > 0 && req.watch_seconds > 0) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(req.watch_seconds);
      while (std::chrono::steady_clock::now() < until && !(stop && stop->load()))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (stop && stop->load()) break;
    }
    ++rep.rounds;
    const std::int64_t round_ns = detail::now_ns(ctx);
    // Parse only what was appended.
    telemetry::parse_request pr;
    pr.paths = s.service.telemetry;
    for (auto& p : pr.paths)
      if (!p.empty() && p.front() != '/') p = (s.repo / p).string();
    pr.window = std::chrono::nanoseconds(static_cast<std::int64_t>(req.window_seconds * 1e9));
    auto parsed = detail::timed_run(telemetry::parse_telemetry, ctx, std::move(pr));
    if (!parsed) return tl::unexpected(parsed.error());
    if (parsed->record_id.empty() || parsed->aggregate.events == 0) {
      detail::say(say, "round " + std::to_string(rep.rounds) + ": no new telemetry");
      if (auto r = save_run(db, rep, ctx.now()); !r) return tl::unexpected(r.error());
      continue;
    }
    const std::string telemetry_record = parsed->record_id;
    rep.telemetry_records.push_back(telemetry_record);
    if (auto r = add_telemetry(db, run_id, rep.rounds, telemetry_record); !r) return tl::unexpected(r.error());
    detail::say(say, "round " + std::to_string(rep.rounds) + ": " + telemetry_record + ", " +
                         std::to_string(parsed->aggregate.events) + " events");

    // The first round of a store without a baseline establishes one.
    if (rep.baseline_record.empty()) {
      auto latest = store::latest_record(db, "baseline");
      if (!latest) {
        anomaly::baseline_request br;
        br.records = {telemetry_record};
        auto b = detail::timed_run(anomaly::establish_baseline, ctx, std::move(br));
        if (!b) return tl::unexpected(b.error());
        rep.baseline_record = b->id;
        detail::say(say, "  baseline " + b->id + " from " + telemetry_record + " (" + std::to_string(b->handlers.size()) +
                             " handlers)");
        if (auto r = save_run(db, rep, ctx.now()); !r) return tl::unexpected(r.error());
        kill_point("baseline");
        continue;
      }
      rep.baseline_record = *latest;
    }
    anomaly::detect_request dq;
    dq.record_id = telemetry_record;
    // A success refreshes the baseline (learning.track): always compare with the newest one.
    if (auto latest = store::latest_record(db, "baseline")) rep.baseline_record = *latest;
    dq.baseline_id = rep.baseline_record;
    if (!s.service.sequences.empty()) dq.sequences_dir = (s.repo / s.service.sequences).string();
    if (!s.service.slo.empty()) dq.slo_path = (s.repo / s.service.slo).string();
    auto det = detail::timed_run(anomaly::detect_anomalies, ctx, std::move(dq));
    if (!det) return tl::unexpected(det.error());
    std::size_t added = 0;
    for (const auto& an : det->anomalies) {
      if (!detail::actionable(an, s)) continue;
      // A handler already being healed (in this run or another) is not healed twice.
      bool busy = false;
      for (const auto& a : rep.anomalies) busy = busy || (a.handler == an.handler && !a.finished());
      auto past = history_of(db, an.handler);
      if (!past) return tl::unexpected(past.error());
      for (const auto& a : *past) busy = busy || (a.status == "open" || a.status == "deployed");
      if (busy) continue;
      anomaly_progress a;
      a.id = an.id;
      a.handler = an.handler;
      a.type = std::string(anomaly::to_string(an.type()));
      a.kind = std::string(anomaly::to_string(an.kind));
      a.description = an.description;
      a.onset_ns = an.onset_ns == anomaly::no_time_ns ? 0 : an.onset_ns;
      a.detected_ns = round_ns;
      a.story = "What broke: " + an.handler + " — " + an.description + ".\n";
      detail::say(say, "  " + a.id + " " + a.handler + ": " + an.description);
      if (auto r = save_anomaly(db, run_id, a); !r) return tl::unexpected(r.error());
      kill_point("anomaly");
      rep.anomalies.push_back(std::move(a));
      ++added;
    }
    if (added == 0) detail::say(say, "  healthy: nothing to heal (" + det->record_id + ")");
    if (auto r = save_run(db, rep, ctx.now()); !r) return tl::unexpected(r.error());
    if (auto r = finish_open(telemetry_record); !r) return tl::unexpected(r.error());
  }

  // The run's verdict and figures.
  double tth = 0, mttr = 0;
  std::size_t healed = 0, with_onset = 0;
  bool blocked = false, failed = false, dry = false;
  for (const auto& a : rep.anomalies) {
    if (a.status == "healed" || (a.status == "deployed" && a.healed_ns > 0)) {
      ++healed;
      tth += static_cast<double>(a.healed_ns - a.detected_ns) / 1e9;
      if (a.onset_ns > 0) ++with_onset, mttr += static_cast<double>(a.healed_ns - a.onset_ns) / 1e9;
    }
    blocked = blocked || (a.status == "open" && !a.reason.empty());
    failed = failed || a.status == "failed" || a.status == "rolled_back";
    dry = dry || a.status == "dry_run";
  }
  rep.time_to_heal_s = healed ? tth / static_cast<double>(healed) : 0;
  rep.mttr_s = with_onset ? mttr / static_cast<double>(with_onset) : 0;
  rep.status = healed ? "healed" : blocked ? "blocked" : failed ? "failed" : dry ? "dry_run" : "nothing_to_do";
  const bool interrupted = stop && stop->load();
  bool learning_pending = false;
  for (const auto& a : rep.anomalies) learning_pending = learning_pending || a.status == "deployed";
  const own_share share = share_of(events.ndjson());
  rep.selfheal_s = share.selfheal_s;
  rep.external_s = share.external_s;
  rep.sequences_s = share.sequences_s;
  heal_report stored = rep;
  if (interrupted || blocked || learning_pending)
    stored.status = blocked && !interrupted ? "blocked" : "running";  // the next heal resumes it
  if (auto r = save_run(db, stored, ctx.now()); !r) return tl::unexpected(r.error());
  return rep;
}

}  // namespace selfheal::heal
