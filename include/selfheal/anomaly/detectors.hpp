#pragma once
/// \file
/// Every detector over one current period and one baseline, as the sequence's beats 3–6 run them,
/// for callers that want the pure pipeline without the store (the evaluation harness, benchmarks,
/// hosts): `detect_all(current, baseline, inputs, options)` → raw findings; pass them to
/// `aggregate_anomalies` for the ranked list.

#include <iterator>
#include <span>
#include <vector>

#include "selfheal/anomaly/aggregate.hpp"
#include "selfheal/anomaly/behavioral.hpp"
#include "selfheal/anomaly/coverage.hpp"
#include "selfheal/anomaly/errors.hpp"
#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/performance.hpp"
#include "selfheal/anomaly/slo.hpp"

namespace selfheal::anomaly {

/// Optional inputs of detection (each may be absent).
struct detect_inputs {
  const slo_config* slo = nullptr;
  std::span<const sequence_definition> definitions{};
  const lcov_report* coverage = nullptr;
};


/// Findings of each beat, kept apart (the sequence passes them along beat by beat).
struct findings {
  std::vector<anomaly> performance;  ///< latency + SLO burn (beat 3)
  std::vector<anomaly> behavioral;   ///< executions, new handlers, traffic (beat 4)
  std::vector<anomaly> coverage;     ///< beat 5
  std::vector<anomaly> errors;       ///< beat 6

  [[nodiscard]] std::vector<anomaly> all() const {
    std::vector<anomaly> out;
    out.reserve(performance.size() + behavioral.size() + coverage.size() + errors.size());
    for (const auto* v : {&performance, &behavioral, &coverage, &errors}) out.insert(out.end(), v->begin(), v->end());
    return out;
  }
};

[[nodiscard]] inline std::vector<anomaly> detect_performance_and_slo(const telemetry_data& cur, const baseline& base,
                                                                     const detect_inputs& in, const all_options& o = {}) {
  auto out = detect_performance(cur, base, o.detect.performance);
  if (in.slo) {
    auto s = detect_slo_breaches(cur, *in.slo, o.slo);
    out.insert(out.end(), std::make_move_iterator(s.begin()), std::make_move_iterator(s.end()));
  }
  return out;
}

[[nodiscard]] inline std::vector<anomaly> detect_behavior(const telemetry_data& cur, const baseline& base,
                                                          const detect_inputs& in, const all_options& o = {}) {
  // stored paths, plus raw observations folded into paths when an embedder has them
  std::vector<execution_path> with_raw;
  std::span<const execution_path> paths(cur.paths);
  if (!cur.beats.empty()) {
    with_raw = cur.paths;
    auto more = paths_from_observations(cur.beats);
    with_raw.insert(with_raw.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    paths = with_raw;
  }
  auto out = detect_execution_anomalies(paths, in.definitions, o.detect.behavioral);
  auto n = detect_new_handlers(cur, base, o.detect.traffic);
  auto t = detect_traffic(cur, base, o.detect.traffic);
  out.insert(out.end(), std::make_move_iterator(n.begin()), std::make_move_iterator(n.end()));
  out.insert(out.end(), std::make_move_iterator(t.begin()), std::make_move_iterator(t.end()));
  return out;
}

[[nodiscard]] inline findings detect_all(const telemetry_data& cur, const baseline& base, const detect_inputs& in = {},
                                         const all_options& o = {}) {
  findings f;
  f.performance = detect_performance_and_slo(cur, base, in, o);
  f.behavioral = detect_behavior(cur, base, in, o);
  if (in.coverage) f.coverage = find_coverage_gaps(cur, *in.coverage, o.detect.coverage);
  f.errors = detect_errors(cur, base, o.detect.errors);
  return f;
}

}  // namespace selfheal::anomaly
