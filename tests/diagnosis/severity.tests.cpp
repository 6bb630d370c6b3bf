#include <catch2/catch.hpp>

#include <string>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/diagnosis/impact.hpp"
#include "selfheal/diagnosis/input.hpp"

// One severity scale across detect and diagnose (issue #11, small things): the same anomaly is not
// "critical" in one and "high" in the other.

namespace dx = selfheal::diagnosis;
namespace an = selfheal::anomaly;

namespace {

an::anomaly slow_discount() {
  an::anomaly a;
  a.id = "a-1";
  a.kind = an::anomaly_kind::latency_shift;
  a.handler = "applyDiscount";
  a.number("baseline_p50_ms", 10).number("p50_ms", 32).number("calls", 50);  // ×3.2 on 5 % of traffic
  a.level = an::severity_from_ratio(3.2);  // what the performance detector gives: critical
  return a;
}

}  // namespace

TEST_CASE("diagnose reports the severity detect gave", "[diagnosis][assessImpact][severity]") {
  const dx::codebase cb;
  dx::diagnosis_item d;
  d.type = "performance";
  auto a = slow_discount();
  auto in = dx::to_input(a);
  in.total_count = 1000;
  CHECK(dx::estimate_impact(in, d, cb).severity == "critical");
  for (const auto level : {an::severity::low, an::severity::medium, an::severity::high, an::severity::critical}) {
    a.level = level;
    auto x = dx::to_input(a);
    x.total_count = 1000;
    CHECK(dx::estimate_impact(x, d, cb).severity == an::to_string(level));
  }
}

TEST_CASE("without a detected level, diagnose applies the detectors' own scale", "[diagnosis][assessImpact][severity]") {
  const dx::codebase cb;
  dx::diagnosis_item d;
  d.type = "performance";
  dx::anomaly_input in;
  in.handler = "applyDiscount";
  in.handler_count = 50;
  in.total_count = 1000;  // 5 % of traffic
  in.baseline_p50 = 10;
  SECTION("latency ratio: severity_from_ratio") {
    for (const double r : {1.2, 1.6, 2.4, 3.2}) {
      in.current_p50 = 10 * r;
      CHECK(dx::estimate_impact(in, d, cb).severity == an::to_string(an::severity_from_ratio(r)));
    }
  }
  SECTION("error rate: the error detector's thresholds") {
    d.type = "error";
    in.baseline_p50 = 0;
    in.error_count = 15;  // 30 % of the handler's calls
    CHECK(dx::estimate_impact(in, d, cb).severity == "critical");
    in.error_count = 6;  // 12 %
    CHECK(dx::estimate_impact(in, d, cb).severity == "high");
  }
}
