#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "selfheal/validation/performance.hpp"
#include "temp_dir.hpp"

namespace val = selfheal::validation;
namespace fs = std::filesystem;

namespace {
std::vector<double> lognormal(std::mt19937& rng, double median_ms, std::size_t n) {
  std::lognormal_distribution<double> d(std::log(median_ms), 0.15);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
}  // namespace

TEST_CASE("workload events are read by the telemetry parser: durations and started/completed pairs",
          "[validation][verifyPerformance]") {
  const std::string out =
      R"({"ts":"2025-01-01T00:00:00.000Z","event":"beat-completed","handler":"price","durationMs":2.5})"
      "\n"
      R"({"ts":"2025-01-01T00:00:00.010Z","event":"beat-started","handler":"pay","beat":"3","correlationId":"c1"})"
      "\n"
      R"({"ts":"2025-01-01T00:00:00.017Z","event":"beat-completed","handler":"pay","beat":"3","correlationId":"c1"})"
      "\nnot json\n";
  auto s = val::parse_workload_events(out);
  REQUIRE(s.by_handler.size() == 2);
  CHECK(s.by_handler["price"] == std::vector<double>{2.5});
  REQUIRE(s.by_handler["pay"].size() == 1);
  CHECK(s.by_handler["pay"][0] == Approx(7.0));
  CHECK(s.bad_lines == 1);
}

TEST_CASE("compare_performance names a handler that got slower, and holds a fix to its improvement",
          "[validation][verifyPerformance]") {
  std::mt19937 rng(42);
  val::workload_samples base, cand;
  base.by_handler["price"] = lognormal(rng, 2.0, 60);
  base.by_handler["pay"] = lognormal(rng, 5.0, 60);
  base.by_handler["ship"] = lognormal(rng, 1.0, 60);
  cand.by_handler["price"] = lognormal(rng, 1.0, 60);  // the fix: twice as fast
  cand.by_handler["pay"] = lognormal(rng, 7.5, 60);    // collateral: 1.5x slower
  cand.by_handler["ship"] = lognormal(rng, 1.0, 60);   // unchanged
  val::performance_options opt;
  opt.handler = "price";
  opt.expect_improvement = true;
  auto v = val::compare_performance(base, cand, opt);
  REQUIRE(v.result.regressions == std::vector<std::string>{"pay"});
  REQUIRE(v.reasons.size() == 1);
  CHECK(v.reasons[0].find("pay is slower") != std::string::npos);
  CHECK(v.result.handler == "price");
  CHECK(v.result.ratio == Approx(0.5).epsilon(0.1));
  CHECK(v.result.p_value < 1e-6);
  CHECK(v.result.handlers.size() == 3);
  SECTION("without the collateral slowdown it passes") {
    cand.by_handler["pay"] = lognormal(rng, 5.0, 60);
    CHECK(val::compare_performance(base, cand, opt).reasons.empty());
  }
  SECTION("a fix that does not speed its handler up enough fails") {
    cand.by_handler["pay"] = lognormal(rng, 5.0, 60);
    cand.by_handler["price"] = lognormal(rng, 1.9, 60);
    auto w = val::compare_performance(base, cand, opt);
    REQUIRE(w.reasons.size() == 1);
    CHECK(w.reasons[0].find("does not make price faster enough") != std::string::npos);
  }
  SECTION("noise is not a regression: a 1.3x ratio on three samples is not significant") {
    val::workload_samples b2, c2;
    b2.by_handler["x"] = {1.0, 2.0, 3.0};
    c2.by_handler["x"] = {1.3, 2.6, 3.9};
    val::performance_options o2;
    auto w = val::compare_performance(b2, c2, o2);
    CHECK(w.result.regressions.empty());
    CHECK(w.result.handler == "x");
  }
  SECTION("a sub-microsecond handler twice as slow is below the floor; at floor 0 it is a regression") {
    val::workload_samples b2, c2;
    b2.by_handler["tiny"] = lognormal(rng, 0.0004, 75);
    c2.by_handler["tiny"] = lognormal(rng, 0.0008, 75);
    b2.by_handler["real"] = lognormal(rng, 0.5, 75);
    c2.by_handler["real"] = lognormal(rng, 0.52, 75);  // +0.02 ms but within max_regression: not judged slower
    val::performance_options o2;
    auto w = val::compare_performance(b2, c2, o2);
    CHECK(w.result.regressions.empty());
    o2.min_regression_ms = 0;
    CHECK(val::compare_performance(b2, c2, o2).result.regressions == std::vector<std::string>{"tiny"});
    c2.by_handler["real"] = lognormal(rng, 1.0, 75);  // 0.5 ms slower: above any floor
    o2.min_regression_ms = 0.01;
    CHECK(val::compare_performance(b2, c2, o2).result.regressions == std::vector<std::string>{"real"});
  }
}

TEST_CASE("run_interleaved: base and candidate alternate, and a silent workload is an error", "[validation][verifyPerformance]") {
  selfheal::test::temp_dir base, cand;
  const std::string script =
      "import json, os\n"
      "side = open('side.txt').read().strip()\n"
      "with open(os.environ['ORDER_LOG'], 'a') as f: f.write(side + '\\n')\n"
      "d = 2.0 if side == 'base' else 4.0\n"
      "for i in range(5): print(json.dumps({'ts': '2025-01-01T00:00:00Z', 'event': 'beat-completed', 'handler': 'h', 'durationMs': d + i * 0.01}))\n";
  for (auto* d : {&base, &cand}) std::ofstream(d->path() / "w.py") << script;
  std::ofstream(base.path() / "side.txt") << "base";
  std::ofstream(cand.path() / "side.txt") << "candidate";
  const auto order = base.path() / "order.log";
  val::command_spec cmd{{"python3", "w.py"}, std::chrono::seconds{30}};
  auto s = val::run_interleaved(cmd, base.path(), cand.path(), 3, {{"ORDER_LOG", order.string()}});
  REQUIRE(s);
  std::ifstream in(order);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(all == "base\ncandidate\nbase\ncandidate\nbase\ncandidate\n");
  CHECK(s->base.by_handler["h"].size() == 15);
  CHECK(s->candidate.by_handler["h"].size() == 15);
  auto v = val::compare_performance(s->base, s->candidate, {});
  CHECK(v.result.regressions == std::vector<std::string>{"h"});
  CHECK(v.result.ratio == Approx(2.0).epsilon(0.01));
  SECTION("a workload that prints nothing") {
    val::command_spec quiet{{"python3", "-c", "print('hello')"}, std::chrono::seconds{30}};
    auto q = val::run_interleaved(quiet, base.path(), cand.path(), 2);
    REQUIRE_FALSE(q);
    CHECK(q.error().detail.find("base run 1") != std::string::npos);
  }
}
