#pragma once
/// \file
/// Every sequence selfheal ships, with the catalogue file it must match, in pipeline order:
/// `for_each_sequence([](std::string_view file, const auto& seq) { ... })`.

#include <string_view>

#include "selfheal/anomaly/sequence.hpp"
#include "selfheal/deployment/sequence.hpp"
#include "selfheal/diagnosis/sequence.hpp"
#include "selfheal/fix/sequence.hpp"
#include "selfheal/learning/sequence.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "selfheal/validation/sequence.hpp"

namespace selfheal {

/// Calls `f(file, sequence)` for each shipped sequence; `file` is relative to `sequences/`.
template <class F>
constexpr void for_each_sequence(F&& f) {
  f(std::string_view("telemetry.parse.json"), telemetry::parse_telemetry);
  f(std::string_view("baseline.establish.json"), anomaly::establish_baseline);
  f(std::string_view("anomaly.detect.json"), anomaly::detect_anomalies);
  f(std::string_view("diagnosis.analyze.json"), diagnosis::analyze_diagnosis);
  f(std::string_view("fix.generate.json"), fix::generate_fix);
  f(std::string_view("validation.run.json"), validation::run_validation);
  f(std::string_view("deployment.deploy.json"), deployment::deploy_fix);
  f(std::string_view("learning.track.json"), learning::track_learning);
}

}  // namespace selfheal
