// baseline.establish and anomaly.detect end to end on a real SQLite file: telemetry records are
// written with telemetry's own store API (sketches and all), the sequences run through `run`.
#include <selfheal/anomaly/sequence.hpp>
#include <selfheal/core/clock.hpp>
#include <selfheal/core/run.hpp>
#include <selfheal/telemetry/sequence.hpp>
#include <selfheal/telemetry/store.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <filesystem>
#include <tuple>
#include <fstream>
#include <string>

namespace an = selfheal::anomaly;
namespace tm_ = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
constexpr std::int64_t W = 60'000'000'000;
constexpr std::int64_t day0 = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z

struct temp_store {
  fs::path dir;
  selfheal::store::database db;
  explicit temp_store(const char* tag)
      : dir(fs::temp_directory_path() / ("selfheal-anomaly-" + std::string(tag) + "-" + std::to_string(::getpid()))),
        db([&] {
          fs::remove_all(dir);
          fs::create_directories(dir);
          return std::move(*selfheal::store::database::open((dir / "store.db").string()));
        }()) {}
  ~temp_store() { std::error_code ec; fs::remove_all(dir, ec); }
};

// One telemetry record: `handlers` with 30 windows × 100 calls each; "checkout" durations are
// 10 ms + (i mod 7) ms, times `slow` from window 15 on; "pay" fails 1 in 100, or `fail_pct` % from 15.
std::string write_telemetry(selfheal::store::database& db, std::int64_t t0, double slow, int fail_pct,
                            const char* extra_error = nullptr, tm_::trace_summary traces = {}) {
  tm_::telemetry_aggregate agg;
  agg.traces = std::move(traces);
  agg.window_ns = W;
  for (const char* name : {"checkout", "pay"}) {
    for (int w = 0; w < 30; ++w) {
      tm_::window_metric m;
      m.name = name;
      m.window_start_ns = t0 + w * W;
      for (int i = 0; i < 100; ++i) {
        double ms = 10.0 + i % 7;
        if (std::string(name) == "checkout" && w >= 15) ms *= slow;
        const bool failed = std::string(name) == "pay" && (w >= 15 && fail_pct > 1 ? i < fail_pct : i == 0);
        m.stats.add(failed, static_cast<std::int64_t>(ms * 1e6));
      }
      agg.executions += m.stats.count;
      agg.windows.push_back(std::move(m));
    }
  }
  for (int w = 0; w < 30; ++w) {  // the whole sequence: 50 executions a window, 50–54 ms, slowed likewise
    tm_::window_metric m;
    m.scope = tm_::metric_scope::sequence;
    m.name = "checkout-flow";
    m.window_start_ns = t0 + w * W;
    for (int i = 0; i < 50; ++i) m.stats.add(false, static_cast<std::int64_t>((50.0 + i % 5) * (w >= 15 ? slow : 1.0) * 1e6));
    agg.sequence_executions += m.stats.count;
    agg.windows.push_back(std::move(m));
  }
  std::sort(agg.windows.begin(), agg.windows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.scope, a.name, a.window_start_ns) < std::tie(b.scope, b.name, b.window_start_ns);
  });
  agg.events = agg.executions;
  agg.errors.push_back({"pay", "card declined by issuer 4111", t0, t0 + 29 * W, 30});
  if (extra_error) agg.errors.push_back({"pay", extra_error, t0 + 20 * W, t0 + 29 * W, 40});
  auto id = tm_::store_telemetry(db, agg, selfheal::time_point(std::chrono::nanoseconds(t0 + 31 * W)));
  REQUIRE(id.has_value());
  return *id;
}

std::int64_t count_rows(selfheal::store::database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st.has_value());
  auto row = st->step();
  REQUIRE(row.has_value());
  return st->column_int(0);
}
}  // namespace

TEST_CASE("baseline.establish builds and stores per-handler baselines", "[anomaly][establishBaselineRequested]") {
  temp_store s("baseline");
  const auto rec = write_telemetry(s.db, day0, 1.0, 1);
  selfheal::manual_clock clock(selfheal::time_point(std::chrono::nanoseconds(day0 + 40 * W)));
  selfheal::context ctx;
  ctx.store = &s.db;
  ctx.clock = &clock;
  auto sum = selfheal::run(an::establish_baseline, ctx, an::baseline_request{});
  REQUIRE(sum.has_value());
  CHECK(sum->id == "baseline-1");
  CHECK(sum->records == std::vector<std::string>{rec});
  CHECK(sum->windows == 30);
  CHECK(sum->samples == 6000);
  REQUIRE(sum->handlers.size() == 2);
  CHECK(sum->handlers[0].handler == "checkout");
  // durations 10..16 ms, 100 a window: the p50 is 13 ms (within the sketch's 1%)
  CHECK(sum->handlers[0].p50_ms == Approx(13.0).epsilon(0.01));
  CHECK(sum->handlers[1].errors == 30);
  CHECK(sum->low_confidence.empty());
  REQUIRE(sum->sequences.size() == 1);
  CHECK(sum->sequences[0].handler == "checkout-flow");
  CHECK(sum->sequences[0].samples == 1500);

  const auto back = an::load_baseline(s.db, "baseline-1");
  REQUIRE(back.has_value());
  REQUIRE(back->handlers.size() == 2);
  CHECK(back->handlers[0].window_p50 == sum->handlers[0].window_p50);
  CHECK(back->handlers[1].window_counts.size() == 30);
  CHECK(back->errors.size() == 1);
  CHECK(back->records == std::vector<std::string>{rec});

  SECTION("bad requests fail before anything is stored") {
    an::baseline_request both;
    both.records = {rec};
    both.since_ns = day0;
    auto r = selfheal::run(an::establish_baseline, ctx, both);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message() == "beat 1 establishBaselineRequested: give either telemetry records or a period (since, until), not both");
    an::baseline_request unknown;
    unknown.records = {"telemetry-99"};
    auto u = selfheal::run(an::establish_baseline, ctx, unknown);
    REQUIRE_FALSE(u.has_value());
    CHECK(u.error().message().find("no telemetry record 'telemetry-99'") != std::string::npos);
    CHECK(count_rows(s.db, "SELECT COUNT(*) FROM records WHERE kind = 'baseline'") == 1);
  }
  SECTION("a period with no windows says so") {
    an::baseline_request later;
    later.since_ns = day0 + 1000 * W;
    later.until_ns = day0 + 2000 * W;
    auto r = selfheal::run(an::establish_baseline, ctx, later);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find("for that period: nothing to build a baseline from") != std::string::npos);
  }
}

TEST_CASE("anomaly.detect finds what changed and stores it in one record", "[anomaly][detectAnomaliesRequested]") {
  temp_store s("detect");
  selfheal::manual_clock clock(selfheal::time_point(std::chrono::nanoseconds(day0 + 50 * W)));
  selfheal::context ctx;
  ctx.store = &s.db;
  ctx.clock = &clock;

  SECTION("no baseline yet: a clear message, nothing stored") {
    write_telemetry(s.db, day0, 1.0, 1);
    auto r = selfheal::run(an::detect_anomalies, ctx, an::detect_request{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == selfheal::errc::not_found);
    CHECK(r.error().message().find("establish one with `selfheal baseline`") != std::string::npos);
    CHECK(count_rows(s.db, "SELECT COUNT(*) FROM records WHERE kind = 'anomaly'") == 0);
  }

  SECTION("a latency shift, an error-rate rise and a new error template") {
    write_telemetry(s.db, day0, 1.0, 1);
    REQUIRE(selfheal::run(an::establish_baseline, ctx, an::baseline_request{}).has_value());
    // execution paths as telemetry stores them: 14 executions a→b, 6 b→a
    tm_::trace_summary traces;
    const tm_::path_step a{"1", "a", "checkout"}, b{"2", "b", "pay"};
    traces.paths.push_back({"checkout-flow", {a, b}, false, 14, 0, 0, day0, day0 + 13 * W});
    traces.paths.push_back({"checkout-flow", {b, a}, false, 6, 0, 0, day0 + 14 * W, day0 + 19 * W});
    traces.executions = 20;
    const auto cur = write_telemetry(s.db, day0 + 86'400'000'000'000, 2.0, 20, "ledger write failed: disk full on /var/lib/x",
                                     traces);

    // the monitored app's definitions: one good file, one broken
    const fs::path defs = s.dir / "defs";
    fs::create_directories(defs);
    std::ofstream(defs / "checkout.json")
        << R"({"id":"checkout-flow","beats":[{"beat":1,"event":"a","handler":"checkout"},{"beat":2,"event":"b","handler":"pay"}]})";
    std::ofstream(defs / "broken.json") << "{ nope";
    // coverage with an unknown record
    const fs::path cov = s.dir / "lcov.info";
    std::ofstream(cov) << "SF:src/checkout.cpp\nFN:1,checkout\nDA:1,1\nDA:2,0\nDA:3,0\nDA:4,0\nWHAT:1\nend_of_record\n";

    an::detect_request req;
    req.sequences_dir = defs.string();
    req.coverage_path = cov.string();
    auto r = selfheal::run(an::detect_anomalies, ctx, req);
    REQUIRE(r.has_value());
    CHECK(r->record_id == "anomaly-1");
    CHECK(r->telemetry_record == cur);
    CHECK(r->baseline_id == "baseline-1");
    // warnings: the broken definition file (with its reason) and the skipped lcov line
    REQUIRE(r->warnings.size() == 2);
    CHECK(r->warnings[0].find("broken.json: not valid JSON") != std::string::npos);
    CHECK(r->warnings[1].find("1 lcov lines skipped") != std::string::npos);

    bool shift = false, rate = false, coverage = false, seq_shift = false, order = false;
    for (const auto& a : r->anomalies) {
      if (a.handler == "checkout" && a.kind == an::anomaly_kind::latency_shift) {
        shift = true;
        CHECK(a.onset_ns == day0 + 86'400'000'000'000 + 15 * W);
        CHECK(a.find("p50_ratio")->number == Approx(2.0).epsilon(0.03));
        // the whole sequence slowed down with it: one root symptom, the handler's (the paths place
        // checkout in checkout-flow)
        CHECK(a.sequence == "checkout-flow");
        seq_shift = a.description.find("also sequence checkout-flow") != std::string::npos &&
                    a.find("latency_shift.p50_ratio") != nullptr;
      }
      if (a.handler == "pay" && a.kind == an::anomaly_kind::error_rate) {
        rate = true;
        CHECK(a.has_kind(an::anomaly_kind::new_error_template));  // merged: one root symptom

      }
      if (a.handler == "checkout" && a.kind == an::anomaly_kind::coverage_gap) coverage = true;
      CHECK_FALSE((a.handler.empty() && a.sequence == "checkout-flow" && a.kind == an::anomaly_kind::latency_shift));
      if (a.kind == an::anomaly_kind::out_of_order) {
        order = true;
        CHECK(a.sequence == "checkout-flow");
        CHECK(a.find("share")->number == Approx(0.3));
        CHECK(a.onset_ns == day0 + 14 * W);
      }
      CHECK(a.id.rfind("anomaly-1.", 0) == 0);
    }
    CHECK(shift);
    CHECK(rate);
    CHECK(coverage);
    CHECK(seq_shift);
    CHECK(order);
    CHECK(count_rows(s.db, "SELECT COUNT(*) FROM anomaly_results WHERE record_id = 'anomaly-1'") ==
          static_cast<std::int64_t>(r->anomalies.size()));
    CHECK(r->counts.by_type.at("performance") == 1);  // the handler, with its whole sequence's slowdown

    const auto stored = an::load_anomalies(s.db, "anomaly-1");
    REQUIRE(stored.has_value());
    REQUIRE(stored->size() == r->anomalies.size());
    CHECK((*stored)[0].id == "anomaly-1.1");
    CHECK((*stored)[0].evidence_json.front() == '{');

    SECTION("an SLO file that does not parse fails the run, nothing stored") {
      std::ofstream(s.dir / "slo.json") << "{]";
      an::detect_request bad;
      bad.slo_path = (s.dir / "slo.json").string();
      auto b = selfheal::run(an::detect_anomalies, ctx, bad);
      REQUIRE_FALSE(b.has_value());
      CHECK(b.error().message().find("slo.json: not valid JSON") != std::string::npos);
      CHECK(count_rows(s.db, "SELECT COUNT(*) FROM records WHERE kind = 'anomaly'") == 1);
    }
  }
}

TEST_CASE("without stored execution paths the execution checks say they had nothing to compare", "[anomaly][loadTelemetryData]") {
  temp_store s("nobeats");
  selfheal::manual_clock clock(selfheal::time_point(std::chrono::nanoseconds(day0 + 50 * W)));
  selfheal::context ctx;
  ctx.store = &s.db;
  ctx.clock = &clock;
  write_telemetry(s.db, day0, 1.0, 1);
  REQUIRE(selfheal::run(an::establish_baseline, ctx, an::baseline_request{}).has_value());
  an::detect_request req;
  req.sequences_dir = std::string(SELFHEAL_SOURCE_DIR) + "/sequences";
  auto r = selfheal::run(an::detect_anomalies, ctx, req);
  REQUIRE(r.has_value());
  CHECK(r->anomalies.empty());  // the baseline's own data: nothing changed
  REQUIRE(r->warnings.size() == 2);  // index.json is not a definition; and no paths
  CHECK(r->warnings[1].find("no execution paths stored for telemetry-1") != std::string::npos);
}

namespace {
/// NDJSON beat events of `runs` executions of "checkout-flow" starting at `t0`: each run's beats are
/// `plan(i)` (handler names), two runs interleaved line by line as concurrent ones are.
template <class Plan>
std::string checkout_log(std::int64_t t0, int runs, Plan plan) {
  std::string out;
  const auto iso = [](std::int64_t ns) { return an::iso8601(ns); };
  for (int i = 0; i < runs; i += 2) {
    std::vector<std::string> lines[2];
    for (int k = 0; k < 2 && i + k < runs; ++k) {
      const std::string corr = "order-" + std::to_string(i + k);
      std::int64_t t = t0 + static_cast<std::int64_t>(i) * 1'000'000'000 + k * 1000;
      const auto ev = [&](const std::string& kind, const std::string& handler, int beat) {
        std::string l = R"({"ts":")" + iso(t) + R"(","event":")" + kind + R"(","sequence":"checkout-flow","correlationId":")" + corr + '"';
        if (!handler.empty())
          l += R"(,"beat":)" + std::to_string(beat) + R"(,"topic":"shop:)" + handler + R"(","handler":")" + handler + R"(","durationMs":3)";
        t += 3'000'000;
        return l + "}";
      };
      lines[k].push_back(ev("sequence-started", "", 0));
      int beat = 0;
      for (const std::string& h : plan(i + k)) {
        lines[k].push_back(ev("beat-started", h, ++beat));
        lines[k].push_back(ev("beat-completed", h, beat));
      }
      lines[k].push_back(ev("sequence-completed", "", 0));
    }
    for (std::size_t n = 0; n < std::max(lines[0].size(), lines[1].size()); ++n)
      for (auto& l : lines)
        if (n < l.size()) out += l[n] + "\n";
  }
  return out;
}
}  // namespace

TEST_CASE("execution checks run on the paths telemetry.parse rebuilt from real logs", "[anomaly][detectBehavioralAnomalies][e2e]") {
  temp_store s("paths");
  selfheal::manual_clock clock(selfheal::time_point(std::chrono::nanoseconds(day0 + 3 * 86'400'000'000'000)));
  selfheal::context ctx;
  ctx.store = &s.db;
  ctx.clock = &clock;
  const std::vector<std::string> normal{"reserve", "charge", "ship"};
  // yesterday: every order ran reserve → charge → ship
  std::ofstream(s.dir / "monday.ndjson") << checkout_log(day0, 200, [&](int) { return normal; });
  // today: 30 of 200 skip charge, 10 of 200 also call an unknown auditTrail after ship
  std::ofstream(s.dir / "tuesday.ndjson") << checkout_log(day0 + 86'400'000'000'000, 200, [&](int i) {
    if (i % 20 < 3) return std::vector<std::string>{"reserve", "ship"};
    if (i % 20 == 3) return std::vector<std::string>{"reserve", "charge", "ship", "auditTrail"};
    return normal;
  });
  const auto parse = [&](const char* file) {
    tm_::parse_request req;
    req.paths = {(s.dir / file).string()};
    req.threads = 2;
    req.chunk_size = 4096;  // executions straddle chunks
    auto r = selfheal::run(tm_::parse_telemetry, ctx, std::move(req));
    REQUIRE(r.has_value());
    return r->record_id;
  };
  const auto monday = parse("monday.ndjson");
  an::baseline_request breq;
  breq.records = {monday};
  REQUIRE(selfheal::run(an::establish_baseline, ctx, breq).has_value());
  parse("tuesday.ndjson");

  const fs::path defs = s.dir / "defs";
  fs::create_directories(defs);
  std::ofstream(defs / "checkout.json") << R"({"id":"checkout-flow","movements":[{"beats":[
      {"beat":1,"event":"shop:reserve","handler":"reserve"},{"beat":2,"event":"shop:charge","handler":"charge"},
      {"beat":3,"event":"shop:ship","handler":"ship"}]}]})";
  an::detect_request req;
  req.sequences_dir = defs.string();
  auto r = selfheal::run(an::detect_anomalies, ctx, req);
  REQUIRE(r.has_value());
  CHECK(r->warnings.empty());
  const an::anomaly* missing = nullptr;
  const an::anomaly* unexpected = nullptr;
  for (const auto& a : r->anomalies) {
    if (a.kind == an::anomaly_kind::missing_beat) missing = &a;
    if (a.kind == an::anomaly_kind::unexpected_beat) unexpected = &a;
    CHECK(a.kind != an::anomaly_kind::out_of_order);
  }
  REQUIRE(missing != nullptr);
  CHECK(missing->sequence == "checkout-flow");
  CHECK(missing->handler == "charge");
  CHECK(missing->find("executions_affected")->number == 30);
  CHECK(missing->find("share")->number == Approx(0.15));
  CHECK(missing->onset_ns == day0 + 86'400'000'000'000);  // order-0, the day's first
  REQUIRE(unexpected != nullptr);
  CHECK(unexpected->handler == "auditTrail");
  CHECK(unexpected->find("executions_affected")->number == 10);

  SECTION("handlers are placed in the sequence their executions ran them in") {
    an::telemetry_selection sel;
    sel.records = {monday};
    auto t = an::load_telemetry(s.db, sel);
    REQUIRE(t.has_value());
    REQUIRE(t->handlers.size() == 3);
    for (const auto& h : t->handlers) CHECK(h.sequence == "checkout-flow");
    REQUIRE(t->paths.size() == 1);
    CHECK(t->paths[0].executions == 200);
  }
  SECTION("the baseline's own day has no execution findings") {
    an::detect_request same;
    same.sequences_dir = defs.string();
    same.record_id = monday;
    auto m = selfheal::run(an::detect_anomalies, ctx, same);
    REQUIRE(m.has_value());
    for (const auto& a : m->anomalies) CHECK(an::to_string(a.type()) != std::string_view("behavioral"));
  }
}

TEST_CASE("the compiled anomaly sequences keep their catalogue names", "[anomaly][sequence]") {
  CHECK(decltype(an::detect_anomalies)::id == std::string_view("self-healing-anomaly-detect-symphony"));
  CHECK(decltype(an::establish_baseline)::id == std::string_view("self-healing-baseline-establish-symphony"));
}
