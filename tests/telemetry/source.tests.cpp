#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <unistd.h>
#include <zlib.h>

#include "selfheal/telemetry/ingest.hpp"
#include "selfheal/telemetry/source.hpp"

namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
struct temp_dir {
  fs::path path;
  explicit temp_dir(const char* name) {
    path = fs::temp_directory_path() / ("selfheal-tel-src-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};
void spit(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}
std::string lines(int n, const char* handler) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += std::string(R"({"ts":"2025-01-01T00:00:00Z","handler":")") + handler + R"(","durationMs":)" + std::to_string(i % 7) + "}\n";
  return s;
}
}  // namespace

TEST_CASE("paths expand to files, directories, globs, problems are named", "[telemetry][loadLogFiles]") {
  temp_dir d("expand");
  fs::create_directories(d.path / "logs" / "deeper");
  spit(d.path / "logs" / "b.log", "x\n");
  spit(d.path / "logs" / "a.log", "x\n");
  spit(d.path / "logs" / "deeper" / "c.log", "x\n");
  spit(d.path / "top.ndjson", "x\n");
  auto e = tel::expand_paths({(d.path / "logs").string(), (d.path / "*.ndjson").string(), (d.path / "*.nothing").string(),
                              (d.path / "top.ndjson").string()});
  REQUIRE(e.sources.size() == 4);  // top.ndjson once, though named twice
  CHECK(fs::path(e.sources[0].path).filename() == "a.log");
  CHECK(fs::path(e.sources[1].path).filename() == "b.log");
  CHECK(fs::path(e.sources[2].path).filename() == "c.log");
  CHECK(fs::path(e.sources[3].path).filename() == "top.ndjson");
  REQUIRE(e.skipped.size() == 1);
  CHECK(e.skipped[0].reason == "glob matched nothing");
  CHECK_FALSE(e.sources[0].identity.empty());
}

TEST_CASE("chunks hold whole lines, long lines grow the buffer, BOM and tail handled", "[telemetry][loadLogFiles][chunks]") {
  temp_dir d("chunks");
  const std::string longline = std::string(20000, 'y');
  spit(d.path / "f.log", "\xEF\xBB\xBF" "first\nsecond\n" + longline + "\nlast-without-newline");
  tel::source_plan plan;
  plan.path = (d.path / "f.log").string();
  auto r = tel::chunk_reader::open(plan, 4096);
  REQUIRE(r);
  std::string all;
  tel::chunk c;
  std::uint64_t held = 0;
  for (;;) {
    auto got = r->next(c);
    REQUIRE(got);
    held += c.held_back;
    if (!*got) break;
    const std::string_view data(c.buffer.data(), c.size);
    CHECK(data.back() == '\n');  // the unterminated last line is held back
    CHECK(c.buffer.size() >= c.size + tel::chunk_padding);
    CHECK_FALSE(c.unterminated);
    all += data;
  }
  CHECK(held == std::string("last-without-newline").size());
  CHECK(r->held_tail() == "last-without-newline");
  CHECK(all == "first\nsecond\n" + longline + "\n");
  CHECK(r->offset() == 3 + all.size());  // the resume point: before the held-back line
}

TEST_CASE("gzip sources are read through zlib", "[telemetry][loadLogFiles][gzip]") {
  temp_dir d("gzip");
  const auto path = (d.path / "old.log.gz").string();
  const std::string text = lines(5000, "zipped");
  gzFile gz = gzopen(path.c_str(), "wb");
  REQUIRE(gz);
  REQUIRE(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(gz);
  auto e = tel::expand_paths({path});
  REQUIRE(e.sources.size() == 1);
  CHECK(e.sources[0].gzip);
  tel::ingest_options opt;
  opt.threads = 2;
  opt.chunk_size = 8192;
  // progress after every chunk (interval 0): bytes read, uncompressed, never going back
  std::mutex m;
  std::vector<std::uint64_t> progress;
  opt.progress_interval_ns = 0;
  opt.progress = [&](std::uint64_t read) {
    std::lock_guard lock(m);
    progress.push_back(read);
  };
  auto r = tel::ingest(e.sources, opt);
  REQUIRE(progress.size() >= 2);  // 8 KiB chunks of ~100 KB
  CHECK(std::is_sorted(progress.begin(), progress.end()));  // NDJSON chunks are read one at a time
  CHECK(progress.front() >= 4096);
  CHECK(progress.back() == text.size());
  auto agg = tel::finish_aggregate(r);
  CHECK(r.sources[0].format == tel::log_format::ndjson);
  CHECK(r.sources[0].bytes == text.size());
  CHECK(agg.events == 5000);
  REQUIRE(agg.handlers.size() == 1);
  CHECK(agg.handlers[0].name == "zipped");
  CHECK(agg.handlers[0].stats.count == 5000);
  CHECK(agg.bad_lines == 0);
}
