#pragma once
/// \file
/// The anomaly sequences, declared beat by beat so that they read like their JSON files:
/// `detect_anomalies` (anomaly.detect, 9 beats) and `establish_baseline` (baseline.establish, 6).
///
/// anomaly.detect carries one `detect_state` from beat 2 to beat 8; each detector beat adds its
/// findings to it. baseline.establish hands a `baseline` along. Stage-crew beats read and write the
/// store through `ctx.store`; every other beat is pure.
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

/// What `selfheal detect` asks for. Empty ids mean "the latest".
struct detect_request {
  std::string record_id;       ///< telemetry record (default: latest)
  std::string baseline_id;     ///< baseline (default: latest established)
  std::string slo_path;        ///< SLO objectives JSON, optional
  std::string sequences_dir;   ///< the monitored app's sequence definitions, optional
  std::string coverage_path;   ///< lcov tracefile, optional
  std::string repo_path;       ///< the monitored app's source tree: maps the tracefile through a symbol index, optional
  all_options options{};
};

/// The run's working state, filled beat by beat.
struct detect_state {
  detect_request request;
  time_point started_at{};
  telemetry_data current;
  baseline base;
  std::optional<slo_config> slo;
  std::vector<sequence_definition> definitions;
  std::optional<lcov_report> coverage;
  std::optional<coverage_index> coverage_symbols;  ///< with `repo_path`: the tracefile's files and their symbols
  handler_thresholds thresholds;      ///< per-handler factors tuned by `selfheal feedback` (thresholds.hpp)
  std::vector<std::string> warnings;  ///< bad definition files, skipped lcov lines: reported, not fatal
  findings found;
  std::vector<anomaly> ranked;
  std::string record_id;              ///< set by beat 8
};

/// Beat 9's output: what the CLI prints.
struct detect_summary {
  std::string record_id;
  std::string telemetry_record;
  std::string baseline_id;
  std::vector<anomaly> anomalies;
  anomaly_counts counts;
  std::vector<std::string> warnings;
};

// ---- anomaly.detect: the nine beats --------------------------------------------------------------

/// Beat 1: Validate; choose the telemetry record (default: latest) and the baseline (default: latest established).
struct detect_anomalies_requested {
  result<detect_state> operator()(detect_request req, sh::context& ctx) const {
    const auto& p = req.options.detect.performance;
    if (!(p.ratio > 1.0)) return fail(errc::invalid_request, "the latency ratio threshold must be above 1");
    if (!(p.alpha > 0 && p.alpha < 1)) return fail(errc::invalid_request, "alpha must be in (0, 1)");
    const auto& c = req.options.detect.coverage;
    if (!(c.min_line_coverage > 0 && c.min_line_coverage <= 1))
      return fail(errc::invalid_request, "the coverage threshold must be in (0, 1]");
    detect_state s;
    s.request = std::move(req);
    s.started_at = ctx.now();
    return s;
  }
};

/// Beat 2: Load current windowed metrics, the baseline, SLO objectives, the monitored app's sequence definitions and a coverage report when given.
/// With `repo_path` too, the tracefile's source files are resolved in the repository and indexed (Universal Ctags).
struct load_telemetry_data {
  result<detect_state> operator()(detect_state s, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: anomaly.detect needs a database in the context");
    auto& db = *ctx.store;
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
      s.warnings.push_back("--repo " + s.request.repo_path + " not used: it maps a --coverage tracefile, and none was given");
    }
    return s;
  }
};

namespace detail {
inline detect_inputs inputs_of(const detect_state& s) {
  detect_inputs in;
  in.slo = s.slo ? &*s.slo : nullptr;
  in.definitions = s.definitions;
  in.coverage = s.coverage ? &*s.coverage : nullptr;
  return in;
}
}  // namespace detail

/// Beat 3: Latency regressions that are both large (ratio of p50/p95 vs baseline) and statistically real (robust test, not one slow call), with onset time; SLO burn-rate breaches (multi-window).
struct detect_performance_anomalies {
  detect_state operator()(detect_state s) const {
    s.found.performance = detect_performance_and_slo(s.current, s.base, detail::inputs_of(s), s.request.options);
    return s;
  }
};

/// Beat 4: Per execution (correlation id) compare observed beats with the sequence definition: missing, out-of-order, unexpected beats; new handlers; traffic surges and drops.
struct detect_behavioral_anomalies {
  detect_state operator()(detect_state s) const {
    s.found.behavioral = detect_behavior(s.current, s.base, detail::inputs_of(s), s.request.options);
    return s;
  }
};

/// Beat 5: Handlers hot in production whose source lines are poorly covered by tests (lcov report mapped to handler source ranges).
/// With `repo_path` the ranges come from the symbol index built in beat 2, else from the tracefile's function records.
struct detect_coverage_gaps {
  detect_state operator()(detect_state s) const {
    if (s.coverage && s.coverage_symbols) {
      auto gaps = find_coverage_gaps(s.current, *s.coverage, *s.coverage_symbols, s.request.options.detect.coverage);
      s.found.coverage = std::move(gaps.anomalies);
      for (auto& w : gaps.warnings) s.warnings.push_back(std::move(w));
    } else if (s.coverage) {
      s.found.coverage = find_coverage_gaps(s.current, *s.coverage, s.request.options.detect.coverage);
    }
    return s;
  }
};

/// Beat 6: Mine error messages into templates; new templates, template spikes, error-rate rises that are significant.
struct detect_error_patterns {
  detect_state operator()(detect_state s) const {
    s.found.errors = detect_errors(s.current, s.base, s.request.options.detect.errors);
    return s;
  }
};

/// Beat 7: Merge duplicates (one root symptom, one anomaly), score and rank by severity × confidence.
struct aggregate_anomaly_results {
  detect_state operator()(detect_state s) const {
    s.ranked = aggregate_anomalies(apply_thresholds(s.found.all(), s.thresholds, s.request.options));
    return s;
  }
};

/// Beat 8: One transaction; record id.
struct store_anomaly_results {
  result<detect_state> operator()(detect_state s, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: anomaly.detect needs a database in the context");
    std::string notes;
    for (const auto& w : s.warnings) notes += (notes.empty() ? "" : "\n") + w;
    auto id = store_anomaly_run(*ctx.store, s.ranked, s.current.record_id, s.base.id, notes, s.started_at);
    if (!id) return tl::unexpected(id.error());
    s.record_id = std::move(*id);
    return s;
  }
};

/// Beat 9: Counts by type and severity.
struct detect_anomalies_completed {
  detect_summary operator()(detect_state s) const {
    detect_summary out;
    out.record_id = std::move(s.record_id);
    out.telemetry_record = std::move(s.current.record_id);
    out.baseline_id = std::move(s.base.id);
    out.counts = count_anomalies(s.ranked);
    out.anomalies = std::move(s.ranked);
    out.warnings = std::move(s.warnings);
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

/// What `selfheal baseline` asks for: records, or a period over every record, or (neither) the latest.
struct baseline_request {
  std::vector<std::string> records;  ///< telemetry record ids
  std::int64_t since_ns = no_time_ns;
  std::int64_t until_ns = no_time_ns;
  baseline_options options{};
};

struct baseline_run {
  baseline_request request;
  time_point started_at{};
};

struct baseline_inputs {
  baseline_run run;
  telemetry_data data;
  std::vector<std::string> records;
};

struct computed_baseline {
  baseline_run run;
  baseline value;
};

/// Beat 6's output.
struct baseline_summary {
  std::string id;
  std::vector<std::string> records;
  std::int64_t from_ns = no_time_ns, until_ns = no_time_ns, window_ns = 0;
  std::size_t windows = 0;
  std::uint64_t samples = 0;
  std::vector<handler_baseline> handlers;          ///< sorted by name
  std::vector<handler_baseline> sequences;         ///< whole-sequence baselines, sorted by name
  std::vector<std::string> low_confidence;         ///< handler names
};

/// Marks low-confidence handlers (below the gates or the confidence floor); returns their names.
inline std::vector<std::string> assess_confidence(baseline& b, const baseline_options& o = {}) {
  std::vector<std::string> low;
  for (auto& h : b.sequences) {
    h.confidence = baseline_confidence(h.samples, h.windows, o);
    h.low_confidence = h.samples < o.gates.min_samples || h.window_p50.size() < o.gates.min_windows ||
                       h.confidence < o.low_confidence_below;
  }
  for (auto& h : b.handlers) {
    h.confidence = baseline_confidence(h.samples, h.windows, o);
    h.low_confidence = h.samples < o.gates.min_samples || h.window_p50.size() < o.gates.min_windows ||
                       h.confidence < o.low_confidence_below;
    if (h.low_confidence) low.push_back(h.handler);
  }
  return low;
}

/// Beat 1: Validate the request: records or a time period; new baseline id.
struct establish_baseline_requested {
  result<baseline_run> operator()(baseline_request req, sh::context& ctx) const {
    for (const auto& r : req.records)
      if (r.empty()) return fail(errc::invalid_request, "an empty --record id");
    if (!req.records.empty() && (req.since_ns != no_time_ns || req.until_ns != no_time_ns))
      return fail(errc::invalid_request, "give either --record or --since/--until, not both");
    if (req.since_ns != no_time_ns && req.until_ns != no_time_ns && req.since_ns >= req.until_ns)
      return fail(errc::invalid_request, "--since must be before --until");
    return baseline_run{std::move(req), ctx.now()};
  }
};

/// Beat 2: Collect the stored windowed metrics (sketches, counts, errors) of the chosen records or period.
struct load_baseline_metrics {
  result<baseline_inputs> operator()(baseline_run run, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: baseline.establish needs a database in the context");
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
  computed_baseline operator()(computed_baseline in) const {
    (void)assess_confidence(in.value, in.run.request.options);
    return in;
  }
};

/// Beat 5: One transaction into the store; returns the baseline id.
struct store_baseline {
  result<computed_baseline> operator()(computed_baseline in, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: baseline.establish needs a database in the context");
    auto id = store_baseline_record(*ctx.store, in.value, in.run.started_at);
    if (!id) return tl::unexpected(id.error());
    in.value.id = std::move(*id);
    return in;
  }
};

/// Beat 6: Summary: handlers, windows, low-confidence handlers.
struct establish_baseline_completed {
  baseline_summary operator()(computed_baseline in) const {
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
