#include <selfheal/anomaly/slo.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

namespace an = selfheal::anomaly;

namespace {
constexpr std::int64_t W = 60'000'000'000;

an::handler_series steady(const char* name, std::uint64_t errors_from_50) {
  an::handler_series s;
  s.handler = name;
  for (int i = 0; i < 60; ++i)
    s.windows.push_back({i * W, 100, i >= 50 ? errors_from_50 : 0, 10, 20, 40});
  return s;
}
}  // namespace

TEST_CASE("burn-rate windows are scaled to the data and the scaling is stated", "[anomaly][slo]") {
  // 60 one-minute windows span 1 h; s = 1/72. Long windows 1 h, 6 h, 1 d, 3 d → 50 s, 5 min,
  // 20 min, 60 min → 1, 5, 20, 60 windows; short 5 min, 30 min, 2 h, 6 h → 4 s, 25 s, 100 s,
  // 5 min → 1, 1, 2, 5 windows (at least one each).
  const auto r = an::scale_burn_rules(60, W);
  CHECK(r.scale == Approx(1.0 / 72.0));
  CHECK(std::vector<std::size_t>(r.long_windows, r.long_windows + 4) == std::vector<std::size_t>{1, 5, 20, 60});
  CHECK(std::vector<std::size_t>(r.short_windows, r.short_windows + 4) == std::vector<std::size_t>{1, 1, 2, 5});
  CHECK(r.statement.find("scaled by 0.01389") != std::string::npos);
  SECTION("three days of data or more keep the workbook's windows") {
    const auto full = an::scale_burn_rules(6 * 24 * 60, W);  // 6 days of minutes
    CHECK(full.scale == 1.0);
    CHECK(full.long_windows[0] == 60);
    CHECK(full.short_windows[0] == 5);
    CHECK(full.long_windows[3] == 3 * 24 * 60);
  }
}

TEST_CASE("the share of slow calls is interpolated from a window's quantiles", "[anomaly][slo]") {
  const an::window_point w{0, 100, 0, 10, 20, 40};
  CHECK(an::share_slower(w, 20) == Approx(0.05));
  CHECK(an::share_slower(w, 10) == Approx(0.5));
  CHECK(an::share_slower(w, 40) == Approx(0.01));
  // halfway between p50 and p95 in log space: √(10·20) → CDF 0.5 + 0.45/2 = 0.725
  CHECK(an::share_slower(w, std::sqrt(200.0)) == Approx(0.275));
  CHECK(an::share_slower(w, 1e9) < 1e-6);
}

TEST_CASE("an error budget burning at 30x pages, with its onset", "[anomaly][slo]") {
  an::slo_config cfg;
  cfg.objectives.push_back({"checkout", std::nullopt, std::nullopt, 0.01, std::nullopt});
  an::telemetry_data cur;
  cur.window_ns = W;
  cur.handlers.push_back(steady("checkout", 30));  // 30% errors from window 50: burn 30 ≥ 14.4
  cur.handlers.push_back(steady("search", 0));     // no objective of its own and no global one
  const auto found = an::detect_slo_breaches(cur, cfg);
  REQUIRE(found.size() == 1);
  const auto& a = found[0];
  CHECK(a.kind == an::anomaly_kind::slo_burn);
  CHECK(a.handler == "checkout");
  CHECK(a.level == an::severity::critical);
  CHECK(a.onset_ns == 50 * W);
  CHECK(a.find("burn_rate_long")->number == Approx(30.0));
  CHECK(a.find("sli")->text == "error_rate");
  CHECK(a.find("action")->text == "page");
  CHECK(a.find("scaling")->text.find("scaled by") != std::string::npos);
}

TEST_CASE("budgets that hold, or too few calls, do not alert", "[anomaly][slo]") {
  an::telemetry_data cur;
  cur.window_ns = W;
  cur.handlers.push_back(steady("checkout", 0));
  SECTION("errors below budget") {
    an::slo_config cfg;
    cfg.objectives.push_back({"", std::nullopt, std::nullopt, 0.01, std::nullopt});  // global
    cur.handlers[0].windows[55].errors = 1;                                          // 1%: burn 1 in one window
    CHECK(an::detect_slo_breaches(cur, cfg).empty());
  }
  SECTION("p95 objective above the observed p95") {
    an::slo_config cfg;
    cfg.objectives.push_back({"checkout", 25.0, std::nullopt, std::nullopt, std::nullopt});
    CHECK(an::detect_slo_breaches(cur, cfg).empty());
  }
  SECTION("p95 objective below p50 burns (the latency SLI)") {
    an::slo_config cfg;
    cfg.objectives.push_back({"checkout", 5.0, std::nullopt, std::nullopt, std::nullopt});
    const auto found = an::detect_slo_breaches(cur, cfg);
    REQUIRE(found.size() == 1);
    CHECK(found[0].find("sli")->text == "p95_ms");
  }
  SECTION("a handful of calls never pages") {
    an::handler_series tiny;
    tiny.handler = "checkout";
    tiny.windows = {{0, 2, 2, 10, 20, 40}, {59 * W, 2, 2, 10, 20, 40}};
    cur.handlers = {tiny};
    an::slo_config cfg;
    cfg.objectives.push_back({"checkout", std::nullopt, std::nullopt, 0.01, std::nullopt});
    CHECK(an::detect_slo_breaches(cur, cfg).empty());
  }
}

TEST_CASE("SLO files: good ones parse, bad ones say where", "[anomaly][slo]") {
  const auto ok = an::parse_slo(R"({"period_days": 28, "objectives": [
      {"handler": "checkout", "p95_ms": 300, "availability": 0.999},
      {"handler": "*", "error_rate": 0.05}]})", "slo.json");
  REQUIRE(ok.has_value());
  CHECK(ok->period_days == 28);
  REQUIRE(ok->objectives.size() == 2);
  CHECK(ok->objectives[0].handler == "checkout");
  CHECK(*ok->objectives[0].p95_ms == 300);
  CHECK(ok->objectives[1].handler.empty());
  CHECK(*ok->objectives[1].error_rate == 0.05);

  const auto not_json = an::parse_slo("{oops", "a.json");
  REQUIRE_FALSE(not_json.has_value());
  CHECK(not_json.error().detail.find("a.json: not valid JSON") == 0);
  const auto no_budget = an::parse_slo(R"({"objectives":[{"availability": 1}]})", "b.json");
  REQUIRE_FALSE(no_budget.has_value());
  CHECK(no_budget.error().detail.find("b.json: objectives[0].availability") == 0);
  const auto negative = an::parse_slo(R"({"objectives":[{"p95_ms": -3}]})", "c.json");
  REQUIRE_FALSE(negative.has_value());
  CHECK(negative.error().detail == "c.json: objectives[0].p95_ms must be a positive number");
  CHECK_FALSE(an::parse_slo(R"({"slo": []})", "d.json").has_value());
  CHECK(an::load_slo_file("/nonexistent/slo.json").error().code == selfheal::errc::not_found);
}
