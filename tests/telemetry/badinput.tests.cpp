// Every bad input the issue lists: each gives a clear message (file, line, reason) and a count, and
// the good lines around it are all ingested.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
const std::string good = R"({"ts":"2025-01-01T00:00:00Z","handler":"h","durationMs":2,"event":"beat-completed"})";
void spit(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}
}  // namespace

TEST_CASE("bad input is counted and named, good lines around it are ingested",
          "[telemetry][extractTelemetryEvents][badinput]") {
  const auto dir = fs::temp_directory_path() / ("selfheal-tel-bad-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto logs = dir / "logs";
  fs::create_directories(logs / "sub");
  spit(logs / "a_empty.log", "");
  spit(logs / "b_garbage.log", "%%%% nonsense\n@@@ more\n");
  spit(logs / "c_binary.bin", std::string("\x7f" "ELF\0\0\0\x01\x02", 9) + std::string(100, '\0'));
  spit(logs / "d_utf8.ndjson", good + "\n{\"handler\":\"\xc3\x28\",\"durationMs\":1}\n" + good + "\n");
  spit(logs / "e_truncated.ndjson", good + "\n" + good + "\n{\"ts\":\"2025-01-01T00:00:0");
  spit(logs / "f_crlf.ndjson", good + "\r\n" + good + "\r\n" + good + "\r\n");
  spit(logs / "g_bom.ndjson", "\xEF\xBB\xBF" + good + "\n" + good + "\n");
  spit(logs / "h_big.ndjson", good + "\n{\"handler\":\"big\",\"durationMs\":1,\"blob\":\"" + std::string(5 << 20, 'x') + "\"}\n" + good + "\n");
  spit(logs / "i_deep.ndjson", good + "\n" + std::string(3000, '[') + std::string(3000, ']') + "\n" + good + "\n");
  spit(logs / "j_range.ndjson", R"({"handler":"h","durationMs":1e999})" "\n" R"({"ts":1e30,"handler":"h","durationMs":1})" "\n" + good + "\n");
  spit(logs / "k_order.ndjson",
       R"({"ts":"2025-01-01T00:00:05Z","handler":"o","durationMs":1})" "\n"
       R"({"ts":"2025-01-01T00:00:01Z","handler":"o","durationMs":1})" "\n"
       R"({"ts":"yesterday at noon","handler":"o","durationMs":1})" "\n"
       R"({"ts":"2025-01-01T00:00:09Z","handler":"o","durationMs":1})" "\n");
  fs::create_directory_symlink(logs, logs / "sub" / "loop");            // a directory loop
  fs::create_symlink(logs / "does-not-exist.log", logs / "l_dangling.log");  // unreadable

  auto db = sh::store::database::open((dir / "store.db").string());
  REQUIRE(db);
  sh::context ctx;
  ctx.store = &*db;
  tel::parse_request req;
  req.paths = {logs.string()};
  req.threads = 2;
  req.chunk_size = 64 << 10;
  req.max_bad_line_samples = 100;
  auto s = sh::run(tel::parse_telemetry, ctx, std::move(req));
  REQUIRE(s);
  const auto& a = s->aggregate;

  auto source = [&](const std::string& name) -> const tel::source_result& {
    for (const auto& src : a.sources)
      if (fs::path(src.plan.path).filename() == name) return src;
    FAIL("no source " << name);
    return a.sources.front();
  };
  auto samples_for = [&](const std::string& name) {
    std::vector<tel::bad_line> v;
    for (const auto& b : a.bad_line_samples)
      if (fs::path(b.path).filename() == name) v.push_back(b);
    return v;
  };

  CHECK(source("a_empty.log").events == 0);
  CHECK(source("a_empty.log").bad_lines == 0);
  CHECK(source("b_garbage.log").bad_lines == 2);
  CHECK(samples_for("b_garbage.log").at(0).line == 1);
  CHECK(source("c_binary.bin").format == tel::log_format::binary);
  CHECK(source("c_binary.bin").bad_lines == 1);
  CHECK(samples_for("c_binary.bin").at(0).reason.find("binary") != std::string::npos);
  CHECK(source("d_utf8.ndjson").events == 2);
  REQUIRE(samples_for("d_utf8.ndjson").size() == 1);
  CHECK(samples_for("d_utf8.ndjson")[0].line == 2);
  CHECK(samples_for("d_utf8.ndjson")[0].reason.find("UTF-8") != std::string::npos);
  CHECK(source("e_truncated.ndjson").events == 2);
  CHECK(source("e_truncated.ndjson").bad_lines == 0);  // an unterminated last line is held back
  CHECK(source("e_truncated.ndjson").held_back_bytes == 25);
  CHECK(source("f_crlf.ndjson").events == 3);
  CHECK(source("f_crlf.ndjson").bad_lines == 0);
  CHECK(source("g_bom.ndjson").events == 2);
  CHECK(source("g_bom.ndjson").bad_lines == 0);
  CHECK(source("h_big.ndjson").events == 3);
  CHECK(source("h_big.ndjson").bad_lines == 0);
  CHECK(source("i_deep.ndjson").events == 2);
  CHECK(samples_for("i_deep.ndjson").at(0).line == 2);
  CHECK(source("j_range.ndjson").events == 1);
  CHECK(source("j_range.ndjson").bad_lines == 2);
  CHECK(samples_for("j_range.ndjson").at(0).reason.find("durationMs") != std::string::npos);
  CHECK(source("k_order.ndjson").events == 3);
  CHECK(samples_for("k_order.ndjson").at(0).line == 3);
  CHECK(samples_for("k_order.ndjson").at(0).reason.find("timestamp") != std::string::npos);
  CHECK(a.out_of_order == 1);

  bool loop = false, dangling = false;
  for (const auto& k : a.skipped) {
    loop = loop || k.reason.find("loop") != std::string::npos;
    dangling = dangling || (fs::path(k.path).filename() == "l_dangling.log" && !k.reason.empty());
  }
  CHECK(loop);
  CHECK(dangling);
  // Every good line of every file: 2+2+3+2+3+2+1+3 NDJSON lines with handler "h"/"big"/"o".
  CHECK(a.events == 18);
  CHECK(a.executions == 18);
  CHECK(a.bad_lines == 2 + 1 + 1 + 1 + 2 + 1 + a.skipped.size());
  fs::remove_all(dir);
}

TEST_CASE("a bad request is refused before anything is read", "[telemetry][parseTelemetryRequested]") {
  sh::context ctx;
  tel::parse_request req;
  auto r = sh::run(tel::parse_telemetry, ctx, req);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == sh::errc::invalid_request);
  CHECK(r.error().beat == 1);
  req.paths = {"/definitely/not/here.log"};
  auto r2 = sh::run(tel::parse_telemetry, ctx, req);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().code == sh::errc::not_found);
  CHECK(r2.error().message().find("/definitely/not/here.log") != std::string::npos);
}
