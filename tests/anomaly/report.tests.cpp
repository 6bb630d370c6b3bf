// The JSON of `selfheal detect --json` / `selfheal baseline --json`, directly and through the real
// program (parse → baseline → detect as child processes on generated NDJSON logs).
#include <selfheal/anomaly/aggregate.hpp>
#include <selfheal/anomaly/report.hpp>
#include <selfheal/core/process.hpp>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace an = selfheal::anomaly;
namespace fs = std::filesystem;

TEST_CASE("detect's JSON is exactly the issue's shape", "[anomaly][detectAnomaliesCompleted]") {
  an::detect_summary s;
  s.record_id = "anomaly-2";
  s.telemetry_record = "telemetry-5";
  s.baseline_id = "baseline-1";
  an::anomaly a;
  a.id = "anomaly-2.1";
  a.kind = an::anomaly_kind::latency_shift;
  a.kinds = {an::anomaly_kind::latency_shift, an::anomaly_kind::slo_burn};
  a.handler = "checkout";
  a.level = an::severity::high;
  a.confidence = 0.5;
  a.score = 0.375;
  a.onset_ns = 0;
  a.description = "p50 \"2x\"";
  a.number("p50_ratio", 2).text("sli", "p95_ms");
  s.anomalies.push_back(a);
  s.counts = an::count_anomalies(s.anomalies);
  CHECK(an::to_json(s) ==
        R"({"record_id":"anomaly-2","telemetry_record":"telemetry-5","baseline":"baseline-1","anomalies":[)"
        R"({"id":"anomaly-2.1","type":"performance","kind":"latency_shift","handler":"checkout","sequence":"",)"
        R"("severity":"high","confidence":0.5,"score":0.375,"onset":"1970-01-01T00:00:00.000Z",)"
        R"("description":"p50 \"2x\"","evidence":{"merged_kinds":["latency_shift","slo_burn"],"p50_ratio":2,"sli":"p95_ms"}}],)"
        R"("counts":{"by_type":{"performance":1},"by_severity":{"high":1}}})");
  SECTION("no onset is null") {
    s.anomalies[0].onset_ns = an::no_time_ns;
    CHECK(an::to_json(s).find(R"("onset":null)") != std::string::npos);
  }
}

namespace {
struct temp_dir {
  fs::path path;
  temp_dir() : path(fs::temp_directory_path() / ("selfheal-anomaly-cli-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() { std::error_code ec; fs::remove_all(path, ec); }
};

// 60 one-minute windows × 3 handlers × 40 calls, durations from a fixed LCG; in the current log
// "checkout" is 2.5× slower from window 30 and "pay" fails 1 in 5 from window 40.
void write_log(const fs::path& file, std::int64_t t0, bool current) {
  std::ofstream out(file);
  std::uint64_t state = 12345;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  for (int w = 0; w < 60; ++w)
    for (const char* h : {"checkout", "search", "pay"})
      for (int i = 0; i < 40; ++i) {
        const std::string name = h;
        double ms = (name == "checkout" ? 40 : name == "search" ? 12 : 25) * (0.8 + 0.4 * next());
        if (current && name == "checkout" && w >= 30) ms *= 2.5;
        const bool failed = current && name == "pay" && w >= 40 && i % 5 == 0;
        const std::int64_t ts = t0 + w * 60'000'000'000LL + i * 1'000'000'000LL;
        out << R"({"ts":")" << an::iso8601(ts) << R"(","handler":")" << name << R"(","durationMs":)" << ms
            << R"(,"event":")" << (failed ? "beat-failed" : "beat-completed") << '"';
        if (failed) out << R"(,"error":"bank timeout after )" << 100 + i << R"( ms")";
        out << "}\n";
      }
}
}  // namespace

TEST_CASE("selfheal baseline and detect end to end, as child processes", "[anomaly][cli][program]") {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  INFO("SELFHEAL_BINARY_DIR names the build folder holding the selfheal program (ctest sets it)");
  REQUIRE(bin != nullptr);
  const fs::path exe = fs::path(bin) / "selfheal";
  REQUIRE(fs::exists(exe));
  temp_dir dir;
  const std::string db = (dir.path / "store.db").string();
  const std::int64_t day = 86'400'000'000'000LL, t0 = 1'767'225'600'000'000'000LL;
  write_log(dir.path / "base.ndjson", t0, false);
  write_log(dir.path / "cur.ndjson", t0 + day, true);
  selfheal::process_options po;
  po.timeout = std::chrono::seconds(120);

  auto parse1 = selfheal::run_process({exe.string(), "parse", (dir.path / "base.ndjson").string(), "--db", db}, po);
  REQUIRE(parse1.has_value());
  REQUIRE(parse1->exit_code == 0);

  // no baseline yet: exit 1, one JSON error object telling how to make one, nothing stored
  auto none = selfheal::run_process({exe.string(), "detect", "--db", db, "--json"}, po);
  REQUIRE(none.has_value());
  CHECK(none->exit_code == 1);
  CHECK(none->out.find(R"("error":"not_found")") != std::string::npos);
  CHECK(none->err.find("selfheal baseline") != std::string::npos);

  auto base = selfheal::run_process({exe.string(), "baseline", "--db", db, "--json"}, po);
  REQUIRE(base.has_value());
  REQUIRE(base->exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element b;
  REQUIRE(parser.parse(simdjson::padded_string(base->out)).get(b) == simdjson::SUCCESS);
  CHECK(std::string_view(b["baseline"].get_string().value()) == "baseline-1");
  CHECK(b["handlers"].get_array().size() == 3);
  CHECK(b["windows"].get_uint64().value() == 60);

  auto parse2 = selfheal::run_process({exe.string(), "parse", (dir.path / "cur.ndjson").string(), "--db", db}, po);
  REQUIRE(parse2.has_value());
  REQUIRE(parse2->exit_code == 0);
  auto det = selfheal::run_process({exe.string(), "detect", "--db", db, "--json"}, po);
  REQUIRE(det.has_value());
  INFO(det->err);
  REQUIRE(det->exit_code == 0);
  simdjson::dom::parser p2;
  simdjson::dom::element d;
  REQUIRE(p2.parse(simdjson::padded_string(det->out)).get(d) == simdjson::SUCCESS);
  CHECK(std::string_view(d["record_id"].get_string().value()) == "anomaly-1");
  CHECK(std::string_view(d["telemetry_record"].get_string().value()) == "telemetry-2");
  CHECK(std::string_view(d["baseline"].get_string().value()) == "baseline-1");
  bool shift = false, errors = false;
  for (auto x : d["anomalies"].get_array()) {
    for (const char* key : {"id", "type", "kind", "handler", "sequence", "severity", "confidence", "score", "onset",
                            "description", "evidence"})
      CHECK(x[key].error() == simdjson::SUCCESS);
    const std::string_view kind = x["kind"].get_string().value(), handler = x["handler"].get_string().value();
    if (kind == "latency_shift" && handler == "checkout") {
      shift = true;
      CHECK(std::string_view(x["onset"].get_string().value()) == "2026-01-02T00:30:00.000Z");
    }
    if (kind == "error_rate" && handler == "pay") errors = true;
    CHECK(handler != "search");  // unchanged: never flagged
  }
  CHECK(shift);
  CHECK(errors);
  CHECK(d["counts"]["by_type"]["performance"].get_uint64().value() == 1);
  CHECK(d["counts"]["by_severity"].error() == simdjson::SUCCESS);
}

TEST_CASE("a short dense period through the real program: 1,000 calls in a minute, then 500 at 3.5 ms",
          "[anomaly][cli][samples][program]") {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  INFO("SELFHEAL_BINARY_DIR names the build folder holding the selfheal program (ctest sets it)");
  REQUIRE(bin != nullptr);
  const fs::path exe = fs::path(bin) / "selfheal";
  REQUIRE(fs::exists(exe));
  temp_dir dir;
  const std::string db = (dir.path / "store.db").string();
  const std::int64_t t0 = 1'767'225'600'000'000'000LL, day = 86'400'000'000'000LL;
  // a batch job: every call within one minute (50 ms apart at most); durations center·(0.75 … 1.25)
  const auto write = [&](const fs::path& file, std::int64_t start, int calls, double center_ms) {
    std::ofstream out(file);
    for (int i = 0; i < calls; ++i)
      out << R"({"ts":")" << an::iso8601(start + i * 50'000'000LL) << R"(","handler":"nightly","durationMs":)"
          << center_ms * (0.75 + 0.05 * (i % 11)) << R"(,"event":"beat-completed"})" << "\n";
  };
  write(dir.path / "base.ndjson", t0, 1000, 0.002);
  write(dir.path / "cur.ndjson", t0 + day, 500, 3.5);
  selfheal::process_options po;
  po.timeout = std::chrono::seconds(120);
  for (const char* f : {"base.ndjson", "cur.ndjson"}) {
    auto p = selfheal::run_process({exe.string(), "parse", (dir.path / f).string(), "--db", db}, po);
    REQUIRE(p.has_value());
    INFO(p->err);
    REQUIRE(p->exit_code == 0);
  }
  auto base = selfheal::run_process({exe.string(), "baseline", "--db", db, "--record", "telemetry-1", "--json"}, po);
  REQUIRE(base.has_value());
  INFO(base->err);
  REQUIRE(base->exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element b;
  REQUIRE(parser.parse(simdjson::padded_string(base->out)).get(b) == simdjson::SUCCESS);
  CHECK(b["low_confidence"].get_array().size() == 0);  // 1,000 samples in one window: confident

  auto det = selfheal::run_process({exe.string(), "detect", "--db", db, "--json"}, po);
  REQUIRE(det.has_value());
  INFO(det->out);
  INFO(det->err);
  REQUIRE(det->exit_code == 0);
  simdjson::dom::parser p2;
  simdjson::dom::element d;
  REQUIRE(p2.parse(simdjson::padded_string(det->out)).get(d) == simdjson::SUCCESS);
  bool found = false;
  for (auto x : d["anomalies"].get_array()) {
    if (std::string_view(x["kind"].get_string().value()) != "latency_shift") continue;
    found = true;
    CHECK(std::string_view(x["handler"].get_string().value()) == "nightly");
    CHECK(std::string_view(x["evidence"]["compared"].get_string().value()) == "samples");
    CHECK(x["evidence"]["p_value"].get_double().value() < 1e-6);
    CHECK(x["evidence"]["p50_ratio"].get_double().value() > 1000.0);
    CHECK(x["evidence"]["hodges_lehmann_ms"].get_double().value() == Approx(3.5).epsilon(0.02));
  }
  CHECK(found);
}
