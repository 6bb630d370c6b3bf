#pragma once
// A shop whose logs the tests write as NDJSON and parse with telemetry.parse: "checkout" (10–16 ms)
// and "pay" (20–24 ms), 40 calls of each per one-minute window. Periods are written one log file
// (= one telemetry record) each; a factor slows a handler, a share of pay calls can fail.
#include <selfheal/anomaly/sequence.hpp>
#include <selfheal/core/clock.hpp>
#include <selfheal/core/context.hpp>
#include <selfheal/core/run.hpp>
#include <selfheal/deployment/model.hpp>
#include <selfheal/store/database.hpp>
#include <selfheal/telemetry/sequence.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace learn_test {

namespace sh = selfheal;
namespace fs = std::filesystem;

inline constexpr std::int64_t W = 60'000'000'000;                // one window
inline constexpr std::int64_t t0 = 1'767'225'600'000'000'000;     // 2026-01-01T00:00:00Z

struct period {
  int from = 0, to = 0;           ///< windows [from, to)
  double checkout = 1.0;          ///< checkout latency factor
  double pay = 1.0;               ///< pay latency factor
  int pay_failures_per_40 = 0;    ///< failed pay calls per window
};

struct shop {
  sh::test::temp_dir dir;
  sh::store::database db;
  sh::manual_clock clock{sh::time_point(std::chrono::nanoseconds(t0))};
  sh::context ctx;
  int logs = 0;

  shop() : db(std::move(*sh::store::database::open((dir.path() / "store.db").string()))) {
    ctx.store = &db;
    ctx.clock = &clock;
  }

  /// Writes the period's NDJSON log, parses it (telemetry.parse), returns the telemetry record id.
  std::string parse(const period& p) {
    const fs::path file = dir.path() / ("period-" + std::to_string(++logs) + ".ndjson");
    {
      std::ofstream out(file);
      for (int w = p.from; w < p.to; ++w)
        for (int i = 0; i < 40; ++i) {
          const std::int64_t ts_ms = (t0 + w * W) / 1'000'000 + i * 1000;
          const double checkout_ms = (10.0 + i % 7) * p.checkout;
          const double pay_ms = (20.0 + i % 5) * p.pay;
          out << R"({"ts":)" << ts_ms << R"(,"handler":"checkout","durationMs":)" << checkout_ms
              << R"(,"event":"beat-completed"})" << '\n';
          if (i < p.pay_failures_per_40)
            out << R"({"ts":)" << ts_ms + 500 << R"(,"handler":"pay","durationMs":)" << pay_ms
                << R"(,"event":"beat-failed","error":"card declined by issuer"})" << '\n';
          else
            out << R"({"ts":)" << ts_ms + 500 << R"(,"handler":"pay","durationMs":)" << pay_ms
                << R"(,"event":"beat-completed"})" << '\n';
        }
    }
    clock.set(sh::time_point(std::chrono::nanoseconds(t0 + p.to * W + W)));
    sh::telemetry::parse_request req;
    req.paths = {file.string()};
    req.threads = 1;
    auto s = sh::run(sh::telemetry::parse_telemetry, ctx, std::move(req));
    REQUIRE(s);
    return s->record_id;
  }

  /// baseline.establish over `record`.
  std::string baseline(const std::string& record) {
    sh::anomaly::baseline_request req;
    req.records = {record};
    auto b = sh::run(sh::anomaly::establish_baseline, ctx, std::move(req));
    REQUIRE(b);
    return b->id;
  }

  /// anomaly.detect on the latest telemetry record against the latest baseline.
  sh::anomaly::detect_summary detect(const std::string& record = {}) {
    sh::anomaly::detect_request req;
    req.record_id = record;
    auto d = sh::run(sh::anomaly::detect_anomalies, ctx, std::move(req));
    REQUIRE(d);
    return *d;
  }
};

/// The id of the detection's anomaly on `handler` ("" when none fired).
inline std::string anomaly_on(const sh::anomaly::detect_summary& d, const std::string& handler) {
  for (const auto& a : d.anomalies)
    if (a.handler == handler) return a.id;
  return {};
}

/// A deployment record as deployment.deploy stores it: deployed at the start of window `at`, the
/// judge having looked at checkout's and pay's metrics.
inline sh::deployment::record deployed(const std::string& id, const std::string& anomaly_id, const std::string& strategy,
                                       int at, const std::string& status = "deployed") {
  sh::deployment::record d;
  d.record_id = id;
  d.validation_record = "validation-1";
  d.mode = "auto";
  d.status = status;
  d.handler = "checkout";
  d.anomaly_id = anomaly_id;
  d.anomaly_type = "performance";
  d.strategy = strategy;
  d.deployed_ns = t0 + at * W;
  sh::deployment::stage_result st;
  st.stage = "full";
  st.verdict = status == "rolled_back" ? "fail" : "pass";
  for (const char* n : {"checkout.p50_ms", "checkout.p95_ms", "checkout.error_rate", "pay.p50_ms", "pay.p95_ms", "pay.error_rate"}) {
    sh::deployment::metric_verdict m;
    m.name = n;
    st.metrics.push_back(m);
  }
  d.stages.push_back(st);
  if (status == "rolled_back") d.rolled_back = sh::deployment::rollback{"abc123", "canary judge: checkout.p50_ms high"};
  return d;
}

}  // namespace learn_test
