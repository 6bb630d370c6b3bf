#include <selfheal/anomaly/baseline.hpp>
#include <selfheal/anomaly/behavioral.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace an = selfheal::anomaly;
namespace fs = std::filesystem;

namespace {
constexpr std::int64_t W = 60'000'000'000;

an::sequence_definition abc() {
  an::sequence_definition d;
  d.id = "order-flow";
  d.beats = {{1, "order:a", "stepA"}, {2, "order:b", "stepB"}, {3, "order:c", "stepC"}};
  return d;
}

void execution(std::vector<an::beat_observation>& out, const std::string& id, std::vector<const char*> events) {
  std::int64_t t = static_cast<std::int64_t>(out.size()) * 1000;
  for (const char* e : events) {
    const std::string ev = e;
    const std::string handler = ev == "order:a" ? "stepA" : ev == "order:b" ? "stepB" : ev == "order:c" ? "stepC" : "debugDump";
    out.push_back({id, "order-flow", ev, handler, t++, -1});
  }
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    path = fs::temp_directory_path() / ("selfheal-anomaly-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~temp_dir() { std::error_code ec; fs::remove_all(path, ec); }
};
}  // namespace

TEST_CASE("executions are checked against their definition", "[anomaly][detectBehavioralAnomalies]") {
  std::vector<an::beat_observation> obs;
  int n = 0;
  for (int i = 0; i < 11; ++i) execution(obs, "ok" + std::to_string(++n), {"order:a", "order:a", "order:b", "order:c"});
  execution(obs, "stopped", {"order:a"});  // stopped after beat 1: not "missing" its tail
  for (int i = 0; i < 4; ++i) execution(obs, "miss" + std::to_string(i), {"order:a", "order:c"});
  for (int i = 0; i < 3; ++i) execution(obs, "swap" + std::to_string(i), {"order:a", "order:c", "order:b"});
  execution(obs, "extra", {"order:a", "order:b", "debug:dump", "order:c"});
  const std::vector<an::sequence_definition> defs{abc()};
  an::behavioral_options o;
  o.min_executions = 1;
  const auto found = an::detect_execution_anomalies(obs, defs, o);
  REQUIRE(found.size() == 3);
  // sorted by (sequence, kind, beat): missing, out_of_order, unexpected
  CHECK(found[0].kind == an::anomaly_kind::missing_beat);
  CHECK(found[0].handler == "stepB");
  CHECK(found[0].find("share")->number == Approx(4.0 / 20.0));
  CHECK(found[0].find("executions_affected")->number == 4);
  CHECK(found[1].kind == an::anomaly_kind::out_of_order);
  CHECK(found[1].find("beat")->text == "order:b");
  CHECK(found[1].find("share")->number == Approx(3.0 / 20.0));
  CHECK(found[2].kind == an::anomaly_kind::unexpected_beat);
  CHECK(found[2].handler == "debugDump");
  CHECK(found[2].find("share")->number == Approx(1.0 / 20.0));
  CHECK(found[0].sequence == "order-flow");

  SECTION("the default gates drop rare findings (1 execution < 5)") {
    const auto def_found = an::detect_execution_anomalies(obs, defs);
    CHECK(def_found.size() == 0);  // 4, 3 and 1 executions: all below min_executions = 5
  }
  SECTION("without timestamps the logged order counts") {
    for (auto& b : obs) b.ts_ns = an::no_time_ns;
    const auto again = an::detect_execution_anomalies(obs, defs, o);
    REQUIRE(again.size() == 3);
    CHECK(again[1].kind == an::anomaly_kind::out_of_order);
    CHECK(again[1].find("executions_affected")->number == 3);
  }
  SECTION("executions of unknown sequences are ignored") {
    for (auto& b : obs) b.sequence = "other-flow";
    CHECK(an::detect_execution_anomalies(obs, defs, o).empty());
  }
}

TEST_CASE("sequence definitions load from a directory, a bad file is named, the rest used", "[anomaly][detectBehavioralAnomalies]") {
  SECTION("selfheal's own sequences parse") {
    const auto load = an::load_sequence_definitions(std::string(SELFHEAL_SOURCE_DIR) + "/sequences");
    // index.json lists the sequences and is not one: it is reported, the eight others are used
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].find("index.json: no \"id\" or \"name\"") != std::string::npos);
    CHECK(load.definitions.size() == 8);
    const an::sequence_definition* detect = nullptr;
    for (const auto& d : load.definitions)
      if (d.id == "self-healing-anomaly-detect-symphony") detect = &d;
    REQUIRE(detect != nullptr);
    REQUIRE(detect->beats.size() == 9);
    CHECK(detect->beats[0].handler == "detectAnomaliesRequested");
    CHECK(detect->beats[8].event == "self-healing:anomaly:detect:completed");
  }
  SECTION("broken files") {
    temp_dir dir;
    std::ofstream(dir.path / "good.json") << R"({"id":"g","beats":[{"beat":1,"event":"g:1","handler":"one"}]})";
    std::ofstream(dir.path / "broken.json") << R"({"id":"b","beats":[)";
    std::ofstream(dir.path / "empty.json") << R"({"id":"e","movements":[{"beats":[]}]})";
    std::ofstream(dir.path / "notes.txt") << "not a definition";
    const auto load = an::load_sequence_definitions(dir.path.string());
    REQUIRE(load.definitions.size() == 1);
    CHECK(load.definitions[0].id == "g");
    REQUIRE(load.errors.size() == 2);
    CHECK(load.errors[0].find("broken.json: not valid JSON") != std::string::npos);
    CHECK(load.errors[1].find("empty.json: the sequence has no beats") != std::string::npos);
  }
  SECTION("not a directory") {
    const auto load = an::load_sequence_definitions("/nonexistent/defs");
    CHECK(load.definitions.empty());
    CHECK(load.errors.at(0) == "/nonexistent/defs: not a directory");
  }
}

namespace {
an::handler_series flat(const char* name, std::int64_t t0, std::vector<std::uint64_t> counts) {
  an::handler_series s;
  s.handler = name;
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (counts[i]) s.windows.push_back({t0 + static_cast<std::int64_t>(i) * W, counts[i], 0, 10, 20, 30});
  return s;
}
std::vector<std::uint64_t> wobble(std::size_t n, std::uint64_t level) {
  std::vector<std::uint64_t> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(level - 4 + (i * 7) % 9);  // level ± 4
  return v;
}
}  // namespace

TEST_CASE("traffic surges and drops against the baseline's window-to-window spread", "[anomaly][detectBehavioralAnomalies]") {
  std::vector<an::handler_series> bs{flat("api", 0, wobble(30, 100)), flat("quiet", 0, wobble(30, 100)),
                                     flat("gone", 0, wobble(30, 100))};
  const auto base = an::build_baseline(bs, W);
  const std::int64_t t0 = 10000 * W;
  an::telemetry_data cur;
  cur.window_ns = W;
  auto surge = wobble(30, 100);
  for (std::size_t i = 15; i < 30; ++i) surge[i] *= 3;
  auto drop = wobble(30, 100);
  for (std::size_t i = 20; i < 30; ++i) drop[i] = 10;
  cur.handlers = {flat("api", t0, surge), flat("quiet", t0, drop)};  // "gone" vanished
  const auto found = an::detect_traffic(cur, base);
  REQUIRE(found.size() == 3);
  CHECK(found[0].kind == an::anomaly_kind::traffic_surge);
  CHECK(found[0].handler == "api");
  CHECK(found[0].onset_ns == t0 + 15 * W);
  CHECK(found[0].find("ratio")->number > 2.5);
  CHECK(found[1].kind == an::anomaly_kind::traffic_drop);
  CHECK(found[1].handler == "quiet");
  CHECK(found[1].onset_ns == t0 + 20 * W);
  CHECK(found[2].kind == an::anomaly_kind::traffic_drop);
  CHECK(found[2].handler == "gone");
  CHECK(found[2].level == an::severity::critical);

  SECTION("a 5% drift and noise do not fire") {
    auto drift = wobble(30, 105);
    cur.handlers = {flat("api", t0, drift), flat("quiet", t0, wobble(30, 100)), flat("gone", t0, wobble(30, 96))};
    CHECK(an::detect_traffic(cur, base).empty());
  }
}

TEST_CASE("handlers never seen in the baseline", "[anomaly][detectBehavioralAnomalies]") {
  std::vector<an::handler_series> bs{flat("api", 0, wobble(10, 100))};
  const auto base = an::build_baseline(bs, W);
  an::telemetry_data cur;
  cur.handlers = {flat("api", 0, wobble(10, 100)), flat("brandNew", 3 * W, {25, 30}), flat("rare", 0, {3})};
  const auto found = an::detect_new_handlers(cur, base);
  REQUIRE(found.size() == 1);  // "rare": 3 calls < 20
  CHECK(found[0].handler == "brandNew");
  CHECK(found[0].onset_ns == 3 * W);
  CHECK(found[0].find("calls")->number == 55);
}
