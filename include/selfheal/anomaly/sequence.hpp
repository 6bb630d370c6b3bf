#pragma once
/// \file
/// The anomaly sequences, declared beat by beat so that they read like their JSON files:
/// `detect_anomalies` (anomaly.detect, 9 beats) and `establish_baseline` (baseline.establish, 6).
///
/// Every beat hands on a type of its own (what it added), so a reordered sequence does not compile.
/// Stage-crew beats read and write the store through `ctx.store` and read the clock; pure beats do
/// not take the context at all (the beat gate rejects a pure beat whose handler takes one).
/// `async` in a beat is the catalogue's label (as in the JSON files): `run` calls beats in order.
///
/// \code
/// sh::context ctx; ctx.store = &db;
/// auto b = sh::run(anomaly::establish_baseline, ctx, anomaly::baseline_request{});       // latest record
/// auto s = sh::run(anomaly::detect_anomalies, ctx, anomaly::detect_request{.slo_path = "slo.json"});
/// if (!s) std::cerr << s.error().message();   // e.g. "beat 2 loadTelemetryData: no baseline yet: …"
/// \endcode

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "selfheal/anomaly/aggregate.hpp"
#include "selfheal/anomaly/baseline.hpp"
#include "selfheal/anomaly/behavioral.hpp"
#include "selfheal/anomaly/coverage.hpp"
#include "selfheal/anomaly/coverage_index.hpp"
#include "selfheal/anomaly/detectors.hpp"
#include "selfheal/anomaly/errors.hpp"
#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/performance.hpp"
#include "selfheal/anomaly/slo.hpp"
#include "selfheal/anomaly/store.hpp"
#include "selfheal/anomaly/thresholds.hpp"
#include "selfheal/core/beat.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::anomaly {

namespace sh = ::selfheal;

// ---- anomaly.detect: data handed from beat to beat ---------------------------------------------
//
// Each beat hands on a type that says what it added, so that a sequence with two beats swapped
// does not compile (tests/compile_fail/swapped_detect_beats.cpp): a validated request, the loaded
// inputs, then the findings after each detector stage, the ranked list, the stored record.

/// Beat 1's output: a request that passed validation.
struct detect_plan {
  detect_request request;
};

/// Beat 2's output: everything detection reads, loaded from the store and files.
struct detect_loaded {
  detect_request request;
  time_point started_at{};  ///< read by beat 2 (a stage-crew beat): the record's creation time
  telemetry_data current;
  baseline base;
  std::optional<slo_config> slo;
  std::vector<sequence_definition> definitions;
  std::optional<lcov_report> coverage;
  std::optional<coverage_index> coverage_symbols;  ///< with `repo_path`: the tracefile's files and their symbols
  handler_thresholds thresholds;      ///< per-handler factors tuned by `selfheal feedback` (thresholds.hpp)
  std::vector<std::string> warnings;  ///< bad definition files, skipped lcov lines: reported, not fatal
};

/// The detector stages, in sequence order; `detect_findings<S>` holds the findings up to stage S.
enum class detect_stage : unsigned char { performance, behavior, coverage, errors };

/// Beats 3–6's outputs: the loaded inputs and the findings so far. One type per stage, with no
/// conversion between them, so each detector beat takes only the previous stage's output.
template <detect_stage Done>
struct detect_findings {
  detect_loaded in;
  findings found;
};
using performance_checked = detect_findings<detect_stage::performance>;
using behavior_checked = detect_findings<detect_stage::behavior>;
using coverage_checked = detect_findings<detect_stage::coverage>;
using errors_checked = detect_findings<detect_stage::errors>;

/// Beat 7's output: one anomaly per root symptom, ranked.
struct ranked_anomalies {
  detect_loaded in;
  std::vector<anomaly> ranked;
};

/// Beat 8's output: the ranked anomalies with their stored record id.
struct stored_anomalies {
  detect_loaded in;
  std::vector<anomaly> ranked;
  std::string record_id;
};

// ---- anomaly.detect: the nine beats --------------------------------------------------------------

/// Beat 1: Validate; choose the telemetry record (default: latest) and the baseline (default: latest established).
struct detect_anomalies_requested {
  result<detect_plan> operator()(detect_request req) const {
    const auto& p = req.options.detect.performance;
    if (!(p.ratio > 1.0)) return fail(errc::invalid_request, "the latency ratio threshold must be above 1");
    if (!(p.alpha > 0 && p.alpha < 1)) return fail(errc::invalid_request, "alpha must be in (0, 1)");
    const auto& c = req.options.detect.coverage;
    if (!(c.min_line_coverage > 0 && c.min_line_coverage <= 1))
      return fail(errc::invalid_request, "the coverage threshold must be in (0, 1]");
    return detect_plan{std::move(req)};
  }
};

/// Beat 2: Load current windowed metrics, the baseline, SLO objectives, the monitored app's sequence definitions and a coverage report when given.
/// With `repo_path` too, the tracefile's source files are resolved in the repository and indexed (Universal Ctags).
struct load_telemetry_data {
  result<detect_loaded> operator()(detect_plan plan, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: anomaly.detect needs a database in the context");
    auto& db = *ctx.store;
    detect_loaded s;
    s.request = std::move(plan.request);
    s.started_at = ctx.now();
    auto base_id = s.request.baseline_id.empty() ? latest_baseline(db) : result<std::string>(s.request.baseline_id);
    if (!base_id) return tl::unexpected(base_id.error());
    auto base = load_baseline(db, *base_id);
    if (!base) return tl::unexpected(base.error());
    s.base = std::move(*base);
    telemetry_selection sel;
    if (!s.request.record_id.empty()) sel.records = {s.request.record_id};
    auto cur = load_telemetry(db, sel);
    if (!cur) return tl::unexpected(cur.error());
    s.current = std::move(*cur);
    if (auto th = load_thresholds(db); th) s.thresholds = std::move(*th); else return tl::unexpected(th.error());
    if (!s.request.slo_path.empty()) {
      auto slo = load_slo_file(s.request.slo_path);
      if (!slo) return tl::unexpected(slo.error());
      s.slo = std::move(*slo);
    }
    if (!s.request.sequences_dir.empty()) {
      auto defs = load_sequence_definitions(s.request.sequences_dir);
      for (auto& e : defs.errors) s.warnings.push_back("sequence definition skipped: " + e);
      s.definitions = std::move(defs.definitions);
      if (s.current.paths.empty() && s.current.beats.empty())
        s.warnings.push_back("no execution paths stored for " + s.current.record_id +
                             " (its logs have no sequence-started events with correlation ids): "
                             "missing/out-of-order/unexpected beat checks had nothing to compare");
    }
    if (!s.request.coverage_path.empty()) {
      auto cov = load_lcov_file(s.request.coverage_path);
      if (!cov) return tl::unexpected(cov.error());
      if (cov->skipped_lines) {
        std::string w = s.request.coverage_path + ": " + std::to_string(cov->skipped_lines) + " lcov lines skipped";
        if (!cov->skipped_samples.empty()) w += " (first: " + cov->skipped_samples.front() + ")";
        s.warnings.push_back(std::move(w));
      }
      s.coverage = std::move(*cov);
      if (!s.request.repo_path.empty()) {
        auto idx = index_coverage(*s.coverage, s.request.repo_path);
        if (!idx) return tl::unexpected(idx.error());
        for (auto& w : idx->warnings) s.warnings.push_back(std::move(w));
        idx->warnings.clear();
        s.coverage_symbols = std::move(*idx);
      }
    } else if (!s.request.repo_path.empty()) {
      s.warnings.push_back("the repository " + s.request.repo_path + " is not used: it maps a coverage tracefile to handlers, and none was given");
    }
    return s;
  }
};

namespace detail {
inline detect_inputs inputs_of(const detect_loaded& s) {
  detect_inputs in;
  in.slo = s.slo ? &*s.slo : nullptr;
  in.definitions = s.definitions;
  in.coverage = s.coverage ? &*s.coverage : nullptr;
  return in;
}
}  // namespace detail

/// Beat 3: Latency regressions that are both large (ratio of p50/p95 vs baseline) and statistically real (robust test, not one slow call), with onset time; SLO burn-rate breaches (multi-window).
struct detect_performance_anomalies {
  performance_checked operator()(detect_loaded s) const {
    performance_checked out{std::move(s), {}};
    out.found.performance = detect_performance_and_slo(out.in.current, out.in.base, detail::inputs_of(out.in), out.in.request.options);
    return out;
  }
};

/// Beat 4: Per execution (correlation id) compare observed beats with the sequence definition: missing, out-of-order, unexpected beats; new handlers; traffic surges and drops.
struct detect_behavioral_anomalies {
  behavior_checked operator()(performance_checked s) const {
    behavior_checked out{std::move(s.in), std::move(s.found)};
    out.found.behavioral = detect_behavior(out.in.current, out.in.base, detail::inputs_of(out.in), out.in.request.options);
    return out;
  }
};

/// Beat 5: Handlers hot in production whose source lines are poorly covered by tests (lcov report mapped to handler source ranges).
/// With `repo_path` the ranges come from the symbol index built in beat 2, else from the tracefile's function records.
struct detect_coverage_gaps {
  coverage_checked operator()(behavior_checked s) const {
    coverage_checked out{std::move(s.in), std::move(s.found)};
    auto& in = out.in;
    if (in.coverage && in.coverage_symbols) {
      auto gaps = find_coverage_gaps(in.current, *in.coverage, *in.coverage_symbols, in.request.options.detect.coverage);
      out.found.coverage = std::move(gaps.anomalies);
      for (auto& w : gaps.warnings) in.warnings.push_back(std::move(w));
    } else if (in.coverage) {
      out.found.coverage = find_coverage_gaps(in.current, *in.coverage, in.request.options.detect.coverage);
    }
    return out;
  }
};

/// Beat 6: Mine error messages into templates; new templates, template spikes, error-rate rises that are significant.
struct detect_error_patterns {
  errors_checked operator()(coverage_checked s) const {
    errors_checked out{std::move(s.in), std::move(s.found)};
    out.found.errors = detect_errors(out.in.current, out.in.base, out.in.request.options.detect.errors);
    return out;
  }
};

/// Beat 7: Merge duplicates (one root symptom, one anomaly), score and rank by severity × confidence.
struct aggregate_anomaly_results {
  ranked_anomalies operator()(errors_checked s) const {
    auto ranked = aggregate_anomalies(apply_thresholds(s.found.all(), s.in.thresholds, s.in.request.options));
    return ranked_anomalies{std::move(s.in), std::move(ranked)};
  }
};

/// Beat 8: One transaction; record id.
struct store_anomaly_results {
  result<stored_anomalies> operator()(ranked_anomalies s, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: anomaly.detect needs a database in the context");
    std::string notes;
    for (const auto& w : s.in.warnings) notes += (notes.empty() ? "" : "\n") + w;
    auto id = store_anomaly_run(*ctx.store, s.ranked, s.in.current.record_id, s.in.base.id, notes, s.in.started_at);
    if (!id) return tl::unexpected(id.error());
    return stored_anomalies{std::move(s.in), std::move(s.ranked), std::move(*id)};
  }
};

/// Beat 9: Counts by type and severity.
struct detect_anomalies_completed {
  detect_summary operator()(stored_anomalies s) const {
    detect_summary out;
    out.record_id = std::move(s.record_id);
    out.telemetry_record = std::move(s.in.current.record_id);
    out.baseline_id = std::move(s.in.base.id);
    out.counts = count_anomalies(s.ranked);
    out.anomalies = std::move(s.ranked);
    out.warnings = std::move(s.in.warnings);
    return out;
  }
};

/// `self-healing-anomaly-detect-symphony` — reads like `sequences/anomaly.detect.json`.
inline constexpr auto detect_anomalies = sh::sequence<"self-healing-anomaly-detect-symphony">(
    // movement: Prepare
    sh::beat<"self-healing:anomaly:detect:requested", "detectAnomaliesRequested", sh::immediate, sh::pure>(detect_anomalies_requested{}),
    sh::beat<"self-healing:anomaly:load:telemetry", "loadTelemetryData", sh::async, sh::stage_crew>(load_telemetry_data{}),
    // movement: Detect
    sh::beat<"self-healing:anomaly:detect:performance", "detectPerformanceAnomalies", sh::immediate, sh::pure>(detect_performance_anomalies{}),
    sh::beat<"self-healing:anomaly:detect:behavioral", "detectBehavioralAnomalies", sh::immediate, sh::pure>(detect_behavioral_anomalies{}),
    sh::beat<"self-healing:anomaly:detect:coverage", "detectCoverageGaps", sh::immediate, sh::pure>(detect_coverage_gaps{}),
    sh::beat<"self-healing:anomaly:detect:errors", "detectErrorPatterns", sh::immediate, sh::pure>(detect_error_patterns{}),
    // movement: Rank, persist and report
    sh::beat<"self-healing:anomaly:aggregate:results", "aggregateAnomalyResults", sh::immediate, sh::pure>(aggregate_anomaly_results{}),
    sh::beat<"self-healing:anomaly:store:results", "storeAnomalyResults", sh::async, sh::stage_crew>(store_anomaly_results{}),
    sh::beat<"self-healing:anomaly:detect:completed", "detectAnomaliesCompleted", sh::immediate, sh::pure>(detect_anomalies_completed{}));

// ---- baseline.establish --------------------------------------------------------------------------

/// Beat 1's output: a request that passed validation.
struct baseline_plan {
  baseline_request request;
};

/// The request and the run's start time (read by beat 2, a stage-crew beat).
struct baseline_run {
  baseline_request request;
  time_point started_at{};
};

/// Beat 2's output.
struct baseline_inputs {
  baseline_run run;
  telemetry_data data;
  std::vector<std::string> records;
};

/// Beats 3–5's outputs, one type per step: statistics computed, confidence assessed, stored.
enum class baseline_stage : unsigned char { computed, assessed, stored };
template <baseline_stage Done>
struct baseline_progress {
  baseline_run run;
  baseline value;
};
using computed_baseline = baseline_progress<baseline_stage::computed>;
using assessed_baseline = baseline_progress<baseline_stage::assessed>;
using stored_baseline = baseline_progress<baseline_stage::stored>;

/// Marks low-confidence handlers (below the gates or the confidence floor); returns their names.
inline std::vector<std::string> assess_confidence(baseline& b, const baseline_options& o = {}) {
  std::vector<std::string> low;
  for (auto& h : b.sequences) assess_confidence(h, o);
  for (auto& h : b.handlers) {
    assess_confidence(h, o);
    if (h.low_confidence) low.push_back(h.handler);
  }
  return low;
}

/// Beat 1: Validate the request: records or a time period; new baseline id.
struct establish_baseline_requested {
  result<baseline_plan> operator()(baseline_request req) const {
    for (const auto& r : req.records)
      if (r.empty()) return fail(errc::invalid_request, "an empty telemetry record id");
    if (!req.records.empty() && (req.since_ns != no_time_ns || req.until_ns != no_time_ns))
      return fail(errc::invalid_request, "give either telemetry records or a period (since, until), not both");
    if (req.since_ns != no_time_ns && req.until_ns != no_time_ns && req.since_ns >= req.until_ns)
      return fail(errc::invalid_request, "the period's start must be before its end");
    return baseline_plan{std::move(req)};
  }
};

/// Beat 2: Collect the stored windowed metrics (sketches, counts, errors) of the chosen records or period.
struct load_baseline_metrics {
  result<baseline_inputs> operator()(baseline_plan plan, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: baseline.establish needs a database in the context");
    baseline_run run{std::move(plan.request), ctx.now()};
    telemetry_selection sel{run.request.records, run.request.since_ns, run.request.until_ns};
    auto records = resolve_records(*ctx.store, sel);
    if (!records) return tl::unexpected(records.error());
    sel.records = *records;
    auto data = load_telemetry(*ctx.store, sel);
    if (!data) return tl::unexpected(data.error());
    if (data->handlers.empty())
      return fail(errc::not_found, "no handler metrics with timestamps in " + data->record_id +
                                       (run.request.since_ns != no_time_ns || run.request.until_ns != no_time_ns ? " for that period" : "") +
                                       ": nothing to build a baseline from");
    baseline_inputs in{std::move(run), std::move(*data), std::move(*records)};
    return in;
  }
};

/// Beat 3: Per handler and sequence: quantiles from merged sketches; median and MAD of per-window p50/p95, error rate and call rate; sample size.
struct compute_baseline_statistics {
  computed_baseline operator()(baseline_inputs in) const {
    baseline value = build_baseline(in.data, in.run.request.options);
    computed_baseline out{std::move(in.run), std::move(value)};
    out.value.records = std::move(in.records);
    out.value.created_ns = detail::to_ns(out.run.started_at);
    return out;
  }
};

/// Beat 4: A confidence that grows with samples and windows; list low-confidence handlers.
struct assess_baseline_confidence {
  assessed_baseline operator()(computed_baseline in) const {
    (void)assess_confidence(in.value, in.run.request.options);
    return assessed_baseline{std::move(in.run), std::move(in.value)};
  }
};

/// Beat 5: One transaction into the store; returns the baseline id.
struct store_baseline {
  result<stored_baseline> operator()(assessed_baseline in, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: baseline.establish needs a database in the context");
    auto id = store_baseline_record(*ctx.store, in.value, in.run.started_at);
    if (!id) return tl::unexpected(id.error());
    in.value.id = std::move(*id);
    return stored_baseline{std::move(in.run), std::move(in.value)};
  }
};

/// Beat 6: Summary: handlers, windows, low-confidence handlers.
struct establish_baseline_completed {
  baseline_summary operator()(stored_baseline in) const {
    baseline_summary s;
    s.id = in.value.id;
    s.records = in.value.records;
    s.from_ns = in.value.from_ns;
    s.until_ns = in.value.until_ns;
    s.window_ns = in.value.window_ns;
    s.windows = in.value.period_windows;
    s.samples = in.value.total_samples;
    for (const auto* h : in.value.low_confidence()) s.low_confidence.push_back(h->handler);
    s.handlers = std::move(in.value.handlers);
    s.sequences = std::move(in.value.sequences);
    return s;
  }
};

/// `self-healing-baseline-establish-symphony` — reads like `sequences/baseline.establish.json`.
inline constexpr auto establish_baseline = sh::sequence<"self-healing-baseline-establish-symphony">(
    // movement: Prepare
    sh::beat<"self-healing:baseline:establish:requested", "establishBaselineRequested", sh::immediate, sh::pure>(establish_baseline_requested{}),
    sh::beat<"self-healing:baseline:load:metrics", "loadBaselineMetrics", sh::async, sh::stage_crew>(load_baseline_metrics{}),
    // movement: Compute
    sh::beat<"self-healing:baseline:compute:statistics", "computeBaselineStatistics", sh::immediate, sh::pure>(compute_baseline_statistics{}),
    sh::beat<"self-healing:baseline:assess:confidence", "assessBaselineConfidence", sh::immediate, sh::pure>(assess_baseline_confidence{}),
    // movement: Persist and report
    sh::beat<"self-healing:baseline:store:baseline", "storeBaseline", sh::async, sh::stage_crew>(store_baseline{}),
    sh::beat<"self-healing:baseline:establish:completed", "establishBaselineCompleted", sh::immediate, sh::pure>(establish_baseline_completed{}));

}  // namespace selfheal::anomaly
