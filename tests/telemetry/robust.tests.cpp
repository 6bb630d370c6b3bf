// Issues 10 and 11, the parse side: damaged regions cost only their lines, an unterminated last
// line waits until it is whole, a source is known by its identity and content (not its name),
// concurrent runs count each line once, and a run that reads nothing new says so.
// All data is generated here.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <zlib.h>

#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "fixture.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
void spit(const fs::path& p, const std::string& s, std::ios::openmode mode = std::ios::trunc) {
  std::ofstream out(p, std::ios::binary | mode);
  out << s;
}

/// One NDJSON beat event of handler `h{k % handlers}` at second `i`.
std::string json_line(int i, int handlers = 4) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                R"({"ts":"2025-03-01T10:%02d:%02d.%03dZ","handler":"h%d","durationMs":%d,"event":"beat-completed"})",
                (i / 60) % 60, i % 60, i % 1000, i % handlers, 1 + i % 7);
  return buf;
}

std::uint64_t count_of(const tel::parse_summary& s, const std::string& handler) {
  for (const auto& h : s.aggregate.handlers)
    if (h.name == handler) return h.stats.count;
  return 0;
}
const tel::named_metric* handler_of(const tel::parse_summary& s, const std::string& handler) {
  for (const auto& h : s.aggregate.handlers)
    if (h.name == handler) return &h;
  return nullptr;
}
}  // namespace

TEST_CASE("one damaged region costs only its lines, not the file", "[telemetry][extractTelemetryEvents][damage]") {
  sh::test::telemetry_fixture f;
  // 12,000 good lines; line 6,000 holds a NUL byte and invalid UTF-8; a zeroed 4 KiB block (a crash
  // left the file extended with zeros) stands between lines 9,000 and 9,001.
  std::string log;
  for (int i = 1; i <= 12000; ++i) {
    if (i == 6000) {
      log += std::string(R"({"ts":"2025-03-01T10:00:00Z","handler":"h1","message":"a)") + '\0' + "\xc3\x28" +
             R"(b","durationMs":3})" + "\n";
      continue;
    }
    log += json_line(i) + "\n";
    if (i == 9000) log += std::string(4096, '\0');
  }
  spit(f.dir / "app.ndjson", log);
  // the same damage in a key=value text log
  std::string text;
  for (int i = 1; i <= 300; ++i) {
    text += "2025-03-01T11:00:" + std::string(i % 60 < 10 ? "0" : "") + std::to_string(i % 60) +
            "Z INFO handler=t duration=" + std::to_string(i % 9 + 1) + "ms\n";
    if (i == 100) text += std::string(4096, '\0');
  }
  spit(f.dir / "app.log", text);

  for (const std::size_t chunk : {std::size_t{0}, std::size_t{8192}}) {
    sh::test::telemetry_fixture g;
    fs::copy_file(f.dir / "app.ndjson", g.dir / "app.ndjson");
    fs::copy_file(f.dir / "app.log", g.dir / "app.log");
    INFO("chunk " << chunk);
    auto s = g.parse({(g.dir / "app.ndjson").string(), (g.dir / "app.log").string()}, 2, chunk);
    REQUIRE(s);
    const auto& a = s->aggregate;
    REQUIRE(a.sources.size() == 2);
    CHECK(a.sources[0].format == tel::log_format::ndjson);
    CHECK(a.sources[0].error.empty());
    CHECK(a.sources[0].events == 11999);
    CHECK(a.sources[0].bad_lines == 2);  // the damaged line and the zeroed block, once each
    for (const char* h : {"h0", "h1", "h2", "h3"}) CHECK(count_of(*s, h) >= 2999);
    CHECK(a.sources[1].format == tel::log_format::text);
    CHECK(a.sources[1].events == 300);
    CHECK(a.sources[1].bad_lines == 1);
    CHECK(count_of(*s, "t") == 300);
    std::vector<std::string> reasons;
    for (const auto& b : a.bad_line_samples) reasons.push_back(b.path.substr(b.path.rfind('/') + 1) + ":" + std::to_string(b.line) + ":" + b.reason);
    INFO(::Catch::Detail::stringify(reasons));
    REQUIRE(a.bad_line_samples.size() == 3);
    CHECK(a.bad_line_samples[0].line == 6000);
    CHECK(a.bad_line_samples[0].reason.find("NUL") != std::string::npos);
    CHECK(a.bad_line_samples[1].line == 9001);
    CHECK(a.bad_line_samples[1].reason.find("zeroed region (4096 NUL bytes") != std::string::npos);
    CHECK(a.bad_line_samples[2].path.find("app.log") != std::string::npos);
    CHECK(a.bad_line_samples[2].line == 101);
  }

  SECTION("a file binary from its first block is still skipped") {
    spit(f.dir / "core.bin", std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(5000, '\0') + json_line(1) + "\n");
    auto s = f.parse({(f.dir / "core.bin").string(), (f.dir / "app.log").string()});
    REQUIRE(s);
    CHECK(s->aggregate.sources[0].format == tel::log_format::binary);
    CHECK(s->aggregate.sources[0].events == 0);
    CHECK(s->aggregate.sources[1].events == 300);
  }
}

TEST_CASE("an unterminated last line waits until it is whole, in every format",
          "[telemetry][loadLogFiles][tail]") {
  sh::test::telemetry_fixture f;
  const auto text = f.dir / "app.log";
  const auto json = f.dir / "app.ndjson";
  std::string t, j;
  for (int i = 0; i < 10; ++i) {
    t += "2025-03-01T11:00:0" + std::to_string(i) + "Z INFO handler=t duration=5ms\n";
    j += json_line(i, 1) + "\n";
  }
  spit(text, t + "2025-03-01T11:00:10Z INFO handler=t duration=12");
  spit(json, j + R"({"ts":"2025-03-01T10:00:10Z","handler":"h0","durationMs":12)");
  auto s = f.parse({text.string(), json.string()});
  REQUIRE(s);
  CHECK(count_of(*s, "t") == 10);
  CHECK(count_of(*s, "h0") == 10);
  CHECK(s->aggregate.bad_lines == 0);
  CHECK(s->aggregate.sources[0].held_back_bytes == 47);
  CHECK(s->aggregate.sources[1].held_back_bytes > 0);
  REQUIRE(handler_of(*s, "t"));
  CHECK(handler_of(*s, "t")->stats.max_ms() == Approx(5).epsilon(0.01));

  // the rest of both lines arrives
  spit(text, "00ms\n", std::ios::app);
  spit(json, "00}\n", std::ios::app);
  s = f.parse({text.string(), json.string()});
  REQUIRE(s);
  CHECK(count_of(*s, "t") == 1);
  CHECK(count_of(*s, "h0") == 1);
  CHECK(s->aggregate.bad_lines == 0);
  REQUIRE(handler_of(*s, "t"));
  CHECK(handler_of(*s, "t")->stats.max_ms() == Approx(1200).epsilon(0.01));
  REQUIRE(handler_of(*s, "h0"));
  CHECK(handler_of(*s, "h0")->stats.max_ms() == Approx(1200).epsilon(0.01));
  CHECK(s->aggregate.sources[0].held_back_bytes == 0);

  SECTION("an unterminated bad line is not counted on every run") {
    spit(text, "%%% half", std::ios::app);
    for (int run = 0; run < 3; ++run) {
      s = f.parse({text.string()});
      if (run > 0 && !s) continue;  // nothing new: no record (see the no-new-data test)
      REQUIRE(s);
      CHECK(s->aggregate.bad_lines == 0);
    }
  }
}

namespace {
std::string kv_lines(const std::string& handler, int from, int n) {
  std::string out;
  for (int i = from; i < from + n; ++i)
    out += "2025-03-02T08:" + std::string((i / 60) % 60 < 10 ? "0" : "") + std::to_string((i / 60) % 60) + ":" +
           std::string(i % 60 < 10 ? "0" : "") + std::to_string(i % 60) + "Z INFO handler=" + handler +
           " duration=" + std::to_string(i % 13 + 1) + "ms seq=" + std::to_string(i) + "\n";
  return out;
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
/// `gzip FILE` as logrotate runs it: FILE.gz written, FILE removed.
void gzip_file(const fs::path& p) {
  const std::string data = slurp(p);
  gzFile gz = ::gzopen((p.string() + ".gz").c_str(), "wb");
  REQUIRE(gz != nullptr);
  REQUIRE(::gzwrite(gz, data.data(), static_cast<unsigned>(data.size())) == static_cast<int>(data.size()));
  ::gzclose(gz);
  fs::remove(p);
}
}  // namespace

TEST_CASE("a source is known by its identity and content, not its name", "[telemetry][loadLogFiles][identity]") {
  sh::test::telemetry_fixture f;
  const auto log = f.dir / "app.log";
  spit(log, kv_lines("a", 0, 1000));
  std::map<std::string, std::uint64_t> total;
  auto add = [&](const tel::parse_summary& s) {
    for (const auto& h : s.aggregate.handlers) total[h.name] += h.stats.count;
  };
  auto s = f.parse({log.string()});
  REQUIRE(s);
  add(*s);
  CHECK(total["a"] == 1000);

  // the same file by a relative path
  spit(log, kv_lines("a", 1000, 210), std::ios::app);
  const auto rel = fs::relative(log, fs::current_path());
  REQUIRE(rel.string() != log.string());
  s = f.parse({rel.string()});
  REQUIRE(s);
  add(*s);
  CHECK(s->aggregate.sources[0].plan.note == "resumed");
  CHECK(total["a"] == 1210);
  s = f.parse({log.string()});  // and by the absolute one again: nothing new
  REQUIRE(s);
  CHECK(s->nothing_new);

  // logrotate: mv app.log app.log.1 (the service still appends 5 lines there), gzip app.log.1,
  // and a new app.log
  fs::rename(log, f.dir / "app.log.1");
  spit(f.dir / "app.log.1", kv_lines("a", 1210, 5), std::ios::app);
  gzip_file(f.dir / "app.log.1");
  spit(log, kv_lines("b", 0, 100));
  s = f.parse({(f.dir / "app.log*").string()});
  REQUIRE(s);
  add(*s);
  REQUIRE(s->aggregate.sources.size() == 2);
  CHECK(s->aggregate.sources[0].plan.path.find("app.log") != std::string::npos);
  for (const auto& src : s->aggregate.sources) {
    INFO(src.plan.path << " " << src.plan.note);
    if (src.plan.gzip) {
      CHECK(src.plan.note == "moved");
      CHECK(src.events == 5);
    } else {
      CHECK(src.plan.note == "rotated");
      CHECK(src.events == 100);
    }
  }
  CHECK(total["a"] == 1215);
  CHECK(total["b"] == 100);
  s = f.parse({(f.dir / "app.log*").string()});
  REQUIRE(s);
  CHECK(s->nothing_new);

  SECTION("a file and its compressed copy in one run are read once") {
    spit(f.dir / "other.log", kv_lines("c", 0, 50));
    fs::copy_file(f.dir / "other.log", f.dir / "other.copy");
    gzip_file(f.dir / "other.copy");
    s = f.parse({(f.dir / "other.log").string(), (f.dir / "other.copy.gz").string()});
    REQUIRE(s);
    CHECK(count_of(*s, "c") == 50);
    REQUIRE(s->aggregate.skipped.size() == 1);
    CHECK(s->aggregate.skipped[0].reason.find("same content as") != std::string::npos);
  }
}

TEST_CASE("concurrent parses of one store count each line once", "[telemetry][storeTelemetryDatabase][concurrent]") {
  sh::test::temp_dir tmp;
  const auto log = tmp.path() / "app.log";
  spit(log, kv_lines("a", 0, 3000));
  const auto store = (tmp.path() / "store.db").string();  // a fresh store: the migrations race too
  for (int round = 0; round < 2; ++round) {
    std::vector<std::thread> threads;
    std::vector<std::string> errors(4);
    for (int k = 0; k < 4; ++k) {
      threads.emplace_back([&, k] {
        auto db = sh::store::database::open(store);
        if (!db) {
          errors[static_cast<std::size_t>(k)] = db.error().detail;
          return;
        }
        sh::manual_clock clock{sh::time_point(std::chrono::seconds(1'763'224'800 + k))};
        sh::context ctx;
        ctx.store = &*db;
        ctx.clock = &clock;
        tel::parse_request req;
        req.paths = {log.string()};
        req.threads = 1;
        auto r = sh::run(tel::parse_telemetry, ctx, std::move(req));
        if (!r) errors[static_cast<std::size_t>(k)] = r.error().message();
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e.empty());
    spit(log, kv_lines("a", 3000, 500), std::ios::app);  // the second round reads only these
  }
  auto db = sh::store::database::open(store);
  REQUIRE(db);
  auto st = db->prepare("SELECT COALESCE(SUM(events), 0), COUNT(*) FROM telemetry_runs");
  REQUIRE(st);
  REQUIRE(*st->step());
  CHECK(st->column_int(0) == 3500);
  CHECK(st->column_int(1) == 2);  // one record per round: the other runs found nothing new
}
