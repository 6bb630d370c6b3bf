// Execution paths (telemetry/traces.hpp): executions rebuilt from their correlation ids across
// chunks and threads, counted by path, bounded, stored and read back. The expected paths come from
// the test's own log writer below, which knows what each execution did.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "selfheal/core/beat.hpp"
#include "selfheal/core/events.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/telemetry/ingest.hpp"
#include "selfheal/telemetry/store.hpp"
#include "fixture.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {

// One execution of "checkout" as the log writer emits it: its beats in time order, whether it
// ends (and how), whether one beat is retried.
struct plan {
  std::vector<int> beats;
  enum { completed, failed, open } end = completed;
  bool retry_first = false;
};

std::string iso(long ms) {
  char b[40];
  std::snprintf(b, sizeof b, "2025-11-15T16:%02ld:%02ld.%03ldZ", (ms / 60000) % 60, (ms / 1000) % 60, ms % 1000);
  return b;
}

/// Writes `plans` as NDJSON beat events, two executions interleaved line by line (as concurrent
/// executions are), then `strays` beats whose correlation id never started.
std::string write_log(const std::vector<plan>& plans, int strays) {
  std::vector<std::vector<std::string>> per_exec;
  long t = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    const std::string corr = "req-" + std::to_string(i);
    const auto line = [&](const std::string& event, int beat, const std::string& extra = "") {
      std::string s = "{\"ts\":\"" + iso(t) + "\",\"event\":\"" + event + "\",\"sequence\":\"checkout\",\"correlationId\":\"" + corr + "\"";
      if (beat > 0)
        s += ",\"beat\":" + std::to_string(beat) + ",\"topic\":\"shop:checkout:step" + std::to_string(beat) +
             "\",\"handler\":\"step" + std::to_string(beat) + "\"";
      return s + extra + "}";
    };
    std::vector<std::string> lines;
    lines.push_back(line("sequence-started", 0));
    t += 1;
    for (std::size_t k = 0; k < p.beats.size(); ++k) {
      const int b = p.beats[k];
      const bool last_fails = p.end == plan::failed && k + 1 == p.beats.size();
      const int times = (k == 0 && p.retry_first) ? 2 : 1;
      for (int r = 0; r < times; ++r) {
        lines.push_back(line("beat-started", b));
        t += 2;
        lines.push_back(last_fails ? line("beat-failed", b, ",\"durationMs\":2,\"error\":\"card declined\"")
                                   : line("beat-completed", b, ",\"durationMs\":2"));
        t += 1;
      }
    }
    if (p.end == plan::completed) lines.push_back(line("sequence-completed", 0, ",\"durationMs\":9"));
    if (p.end == plan::failed) lines.push_back(line("sequence-failed", 0, ",\"error\":\"card declined\""));
    per_exec.push_back(std::move(lines));
  }
  std::string out;
  for (std::size_t i = 0; i < per_exec.size(); i += 2) {
    const auto& a = per_exec[i];
    const auto* b = i + 1 < per_exec.size() ? &per_exec[i + 1] : nullptr;
    for (std::size_t k = 0; k < std::max(a.size(), b ? b->size() : 0); ++k) {
      if (k < a.size()) out += a[k] + "\n";
      if (b && k < b->size()) out += (*b)[k] + "\n";
    }
  }
  for (int s = 0; s < strays; ++s)
    out += "{\"ts\":\"" + iso(t + s) + "\",\"event\":\"beat-completed\",\"sequence\":\"checkout\",\"beat\":1,\"handler\":\"step1\","
           "\"durationMs\":1,\"correlationId\":\"never-started-" + std::to_string(s) + "\"}\n";
  return out;
}

tel::path_step step(int b) {
  return {std::to_string(b), "shop:checkout:step" + std::to_string(b), "step" + std::to_string(b)};
}

struct expected_path {
  std::uint64_t executions = 0, failed = 0, incomplete = 0;
};

/// 300 executions: 120 × [1,2,3] (every 10th retries beat 1), 60 × [1,3] (beat 2 skipped),
/// 60 × [1,3,2] (out of order), 60 × [1,2] failing at beat 2; then one execution [1] left open
/// (carried to the next run of the file, so not counted in this one).
std::vector<plan> checkout_plans() {
  std::vector<plan> plans;
  for (int i = 0; i < 300; ++i) {
    switch (i % 5) {
      case 0: case 1: plans.push_back({{1, 2, 3}, plan::completed, i % 10 == 0}); break;
      case 2: plans.push_back({{1, 3}, plan::completed}); break;
      case 3: plans.push_back({{1, 3, 2}, plan::completed}); break;
      default: plans.push_back({{1, 2}, plan::failed}); break;
    }
  }
  plans.push_back({{1}, plan::open});
  return plans;
}

std::map<std::vector<int>, expected_path> checkout_expected() {
  return {{{1, 2, 3}, {120, 0, 0}}, {{1, 3}, {60, 0, 0}}, {{1, 3, 2}, {60, 0, 0}}, {{1, 2}, {60, 60, 0}}};
}

tel::ingest_result ingest_file(const fs::path& p, unsigned threads, std::size_t chunk, tel::trace_limits limits = {}) {
  auto e = tel::expand_paths({p.string()});
  REQUIRE(e.sources.size() == 1);
  tel::ingest_options opt;
  opt.threads = threads;
  opt.chunk_size = chunk;
  opt.traces = limits;
  return tel::ingest(e.sources, opt);
}

void check_against(const tel::trace_summary& t, const std::map<std::vector<int>, expected_path>& want) {
  REQUIRE(t.paths.size() == want.size());
  for (const auto& [beats, w] : want) {
    std::vector<tel::path_step> steps;
    for (int b : beats) steps.push_back(step(b));
    const auto it = std::find_if(t.paths.begin(), t.paths.end(), [&](const tel::execution_path& p) { return p.steps == steps; });
    INFO("path of " << beats.size() << " beats starting with beat " << beats.front());
    REQUIRE(it != t.paths.end());
    CHECK(it->sequence == "checkout");
    CHECK(!it->rest);
    CHECK(it->executions == w.executions);
    CHECK(it->failed == w.failed);
    CHECK(it->incomplete == w.incomplete);
  }
}

}  // namespace

TEST_CASE("beat labels hash apart for every handler and beat", "[telemetry][traces][hash]") {
  // (beat, handler id) pairs that a seed XORed into the data would confuse: ("1", 1) and ("2", 2)
  std::set<std::uint64_t> keys;
  for (std::uint64_t handler = 0; handler < 200; ++handler)
    for (int beat = 0; beat < 200; ++beat)
      keys.insert(tel::detail::short_hash("", tel::detail::short_hash(std::to_string(beat), handler)));
  CHECK(keys.size() == 200u * 200u);
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 100000; ++i) ids.insert(tel::detail::short_hash("req-" + std::to_string(i)));
  CHECK(ids.size() == 100000u);
}

TEST_CASE("a string's tail is read as memcpy reads it, so stored hashes keep their values", "[telemetry][traces][hash]") {
  // tail_bytes replaces `memcpy(&v, p, n)` into a zeroed word (a byte loop) with overlapping loads;
  // correlation keys carried to the next run are hashes of such tails, so the value must not move.
  std::string text;
  for (int i = 0; i < 64; ++i) text.push_back(static_cast<char>(0x80 + 37 * i));  // high bits set
  for (std::size_t size = 1; size < 40; ++size)
    for (std::size_t n = 1; n <= std::min<std::size_t>(7, size); ++n) {
      const char* p = text.data() + 3 + size - n;  // the last n bytes of text[3, 3 + size)
      std::uint64_t expected = 0;
      std::memcpy(&expected, p, n);
      INFO("size " << size << ", tail " << n);
      CHECK(tel::detail::tail_bytes(p, n, size) == expected);
    }
}

TEST_CASE("flat_key_map keeps every key, 0 and colliding slots included, through growth, erase and clear", "[telemetry][traces][hash]") {
  // Checked against std::map on seeded keys: many share a home slot (small table, clustered
  // keys), key 0 (the empty-slot mark) is a key like any other.
  tel::detail::flat_key_map m;
  std::map<std::uint64_t, std::int64_t> want;
  std::uint64_t x = 0x243F6A8885A308D3ull;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 5000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const std::uint64_t key = i % 97 == 0 ? 0 : (i % 3 == 0 ? x & 0xfff : x);  // repeats and small keys
      bool inserted = false;
      auto& v = m.find_or_insert(key, i, inserted);
      CHECK(inserted == (want.count(key) == 0));
      if (inserted) want[key] = i;
      if (i % 5 == 0) v = want[key] = -i;
    }
    // every third key goes (backward-shift deletion must keep the runs behind it findable)
    int n = 0;
    for (auto it = want.begin(); it != want.end();)
      if (n++ % 3 == 0) {
        m.erase(it->first);
        it = want.erase(it);
      } else {
        ++it;
      }
    m.erase(0x5555555555555555ull);  // absent: nothing happens
    CHECK(m.size() == want.size());
    std::map<std::uint64_t, std::int64_t> seen;
    m.for_each([&](std::uint64_t k, std::int64_t v) { CHECK(seen.emplace(k, v).second); });
    CHECK(seen == want);
    for (const auto& [k, v] : want) {
      const auto* p = m.find(k);
      REQUIRE(p != nullptr);
      CHECK(*p == v);
    }
    CHECK(m.find(0x5555555555555555ull) == nullptr);
    m.clear();
    want.clear();
    CHECK(m.size() == 0);
    CHECK(m.find(0) == nullptr);
  }
}

TEST_CASE("executions are rebuilt by correlation id and counted by path", "[telemetry][traces]") {
  sh::test::temp_dir d;
  const auto log = d.path() / "checkout.ndjson";
  std::ofstream(log, std::ios::binary) << write_log(checkout_plans(), 3);

  const auto one = ingest_file(log, 1, std::size_t{1} << 20);
  check_against(one.traces, checkout_expected());
  CHECK(one.traces.executions == 300);
  CHECK(one.traces.carried == 1);
  CHECK(one.traces.incomplete == 0);
  REQUIRE(one.sources[0].carried.executions.size() == 1);
  // its beats so far: beat 1 completed (a beat-started adds nothing to a path)
  REQUIRE(one.sources[0].carried.executions[0].steps.size() == 1);
  CHECK(one.sources[0].carried.executions[0].steps[0].first == step(1));
  CHECK(one.sources[0].carried.executions[0].sequence == "checkout");
  CHECK(one.traces.evicted == 0);
  CHECK(one.traces.untraced_beats == 3);
  // the most frequent path comes first
  CHECK(one.traces.paths.front().executions == 120);

  SECTION("4 KiB chunks on 2 threads give the same paths as one thread reading it whole") {
    REQUIRE(fs::file_size(log) > 20 * 4096);
    const auto two = ingest_file(log, 2, 4096);
    CHECK(two.traces == one.traces);
  }
  SECTION("the first start time of a path is its earliest execution's start") {
    const auto it = std::find_if(one.traces.paths.begin(), one.traces.paths.end(),
                                 [](const tel::execution_path& p) { return p.steps.size() == 3 && p.steps[1] == step(2); });
    REQUIRE(it != one.traces.paths.end());
    CHECK(it->first_ns == sh::telemetry::parse_iso8601("2025-11-15T16:00:00.000Z").value());
  }
}

TEST_CASE("open executions and distinct paths are bounded without skewing shares", "[telemetry][traces][limits]") {
  sh::test::temp_dir d;
  const auto log = d.path() / "checkout.ndjson";
  std::ofstream(log, std::ios::binary) << write_log(checkout_plans(), 0);

  SECTION("beyond max_paths_per_sequence the rarer paths become one rest row") {
    const auto t = ingest_file(log, 2, 4096, {true, 65536, 2, 1 << 16, 300'000'000'000}).traces;
    REQUIRE(t.paths.size() == 3);
    CHECK(t.paths[0].executions == 120);
    CHECK(t.paths[1].executions == 60);
    CHECK(t.paths[1].steps == std::vector<tel::path_step>{step(1), step(2)});  // ties: by steps
    CHECK(t.paths[2].rest);
    CHECK(t.paths[2].steps.empty());
    // the rest holds the other 60 + 60 executions: the total is unchanged
    CHECK(t.paths[2].executions == 120);
    std::uint64_t total = 0;
    for (const auto& p : t.paths) total += p.executions;
    CHECK(total == 300);
  }
  SECTION("with at most one open execution per file, the older of two open at a chunk end is evicted") {
    const auto t = ingest_file(log, 1, 4096, {true, 1, 256, 1 << 16, 300'000'000'000}).traces;
    // executions run two at a time, so chunk ends leave two open: evictions happen, each is counted
    // as incomplete, its later beats as untraced
    CHECK(t.evicted > 0);
    CHECK(t.incomplete == t.evicted);
    CHECK(t.executions + t.carried == 301);
    CHECK(t.untraced_beats > 0);
    const auto unbounded = ingest_file(log, 1, 4096).traces;
    CHECK(unbounded.evicted == 0);
    CHECK(unbounded.untraced_beats == 0);
  }
}

TEST_CASE("execution paths round-trip through the store", "[telemetry][traces][storeTelemetryDatabase]") {
  sh::test::telemetry_fixture f;
  const auto log = f.dir / "checkout.ndjson";
  std::ofstream(log, std::ios::binary) << write_log(checkout_plans(), 3);
  auto s = f.parse({log.string()});
  REQUIRE(s);
  auto back = tel::load_traces(*f.db, s->record_id);
  REQUIRE(back);
  CHECK(*back == s->aggregate.traces);
  check_against(*back, checkout_expected());
  CHECK(back->untraced_beats == 3);

  SECTION("a record id that is not telemetry is not found") {
    auto none = tel::load_traces(*f.db, "telemetry-999");
    REQUIRE(!none);
    CHECK(none.error().code == sh::errc::not_found);
  }
}

namespace {
struct double_it {
  int operator()(int x) const { return 2 * x; }
};
struct fail_on_big {
  sh::result<int> operator()(int x) const {
    if (x > 10) return sh::fail(sh::errc::invalid_request, "too big");
    return x + 1;
  }
};
}  // namespace

TEST_CASE("selfheal's own beat events are traced back into its sequence's beats", "[telemetry][traces][self]") {
  sh::test::telemetry_fixture f;
  const auto log = f.dir / "self.ndjson";
  {
    std::FILE* out = std::fopen(log.c_str(), "wb");
    REQUIRE(out);
    sh::ndjson_sink sink(out);
    const auto seq = sh::sequence<"demo.pipeline", int>(sh::beat<"demo:double", "doubleIt">(double_it{}),
                                                            sh::beat<"demo:check", "failOnBig">(fail_on_big{}));
    for (int i = 0; i < 8; ++i) {
      sh::context ctx;
      ctx.sink = &sink;
      ctx.clock = &f.clock;
      ctx.correlation_id = "run-" + std::to_string(i);
      f.clock.advance(std::chrono::milliseconds(5));
      static_cast<void>(sh::run(seq, ctx, i));  // i > 5 fails at beat 2
    }
    std::fclose(out);
  }
  auto s = f.parse({log.string()});
  REQUIRE(s);
  const auto& t = s->aggregate.traces;
  CHECK(t.executions == 8);
  CHECK(t.incomplete == 0);
  REQUIRE(t.paths.size() == 1);  // both beats ran every time; 2 of 8 failed at the second
  const auto& p = t.paths[0];
  CHECK(p.sequence == "demo.pipeline");
  CHECK(p.executions == 8);
  CHECK(p.failed == 2);
  REQUIRE(p.steps.size() == 2);
  CHECK(p.steps[0].topic == "demo:double");
  CHECK(p.steps[0].handler == "doubleIt");
  CHECK(p.steps[1].topic == "demo:check");
  CHECK(p.steps[1].handler == "failOnBig");
}

TEST_CASE("a resumed source joins executions and beat pairs cut by the previous run", "[telemetry][traces][incremental]") {
  const std::string log = write_log(checkout_plans(), 3);
  // cut in the middle of the log, inside an execution (between a beat-started and its completion)
  std::size_t cut = log.find("beat-started", log.size() / 2);
  cut = log.find('\n', cut) + 1;
  REQUIRE(log.compare(cut, 40, log.substr(cut, 40)) == 0);

  sh::test::telemetry_fixture whole, split;
  std::ofstream(whole.dir / "app.ndjson", std::ios::binary) << log;
  auto one = whole.parse({(whole.dir / "app.ndjson").string()}, 2, 4096);
  REQUIRE(one);

  const auto path = (split.dir / "app.ndjson").string();
  std::ofstream(path, std::ios::binary) << log.substr(0, cut);
  auto first = split.parse({path}, 2, 4096);
  REQUIRE(first);
  const auto& t1 = first->aggregate.traces;
  CHECK(t1.carried >= 1);  // the cut execution(s), handed on rather than counted
  // the starts open at the cut, counted here from the text: sequence and beat starts without their end
  std::map<std::string, int> open;
  for (std::size_t at = 0; at < cut;) {
    const auto nl = log.find('\n', at);
    const std::string line = log.substr(at, nl - at);
    at = nl + 1;
    const auto field = [&](const std::string& k) {
      const auto p = line.find("\"" + k + "\":");
      if (p == std::string::npos) return std::string();
      const auto v = p + k.size() + 3;
      return line.substr(v, line.find_first_of(",}", v) - v);
    };
    const std::string ev = field("event"), key = field("correlationId") + "/" + field("beat");
    if (ev.find("started") != std::string::npos) ++open[key];
    else if (ev.find("completed") != std::string::npos || ev.find("failed") != std::string::npos) --open[key];
  }
  std::size_t open_starts = 0;
  for (const auto& [k, n] : open) open_starts += n > 0 ? 1u : 0u;
  CHECK(first->aggregate.sources[0].carried.open_starts.size() == open_starts);
  CHECK(first->aggregate.unmatched_starts == open_starts);
  std::ofstream(path, std::ios::binary | std::ios::app) << log.substr(cut);
  auto second = split.parse({path}, 2, 4096);
  REQUIRE(second);
  CHECK(second->aggregate.sources[0].plan.note == "resumed");
  const auto& t2 = second->aggregate.traces;
  CHECK(t2.carried == one->aggregate.traces.carried);  // what is still open at the end of the file

  SECTION("the two runs count every execution once, on the same paths as one run") {
    CHECK(t1.executions + t2.executions == one->aggregate.traces.executions);
    CHECK(t1.untraced_beats + t2.untraced_beats == one->aggregate.traces.untraced_beats);
    std::map<std::vector<tel::path_step>, std::array<std::uint64_t, 3>> sum, want;
    for (const auto* t : {&t1, &t2})
      for (const auto& p : t->paths) {
        auto& c = sum[p.steps];
        c[0] += p.executions;
        c[1] += p.failed;
        c[2] += p.incomplete;
      }
    for (const auto& p : one->aggregate.traces.paths) want[p.steps] = {p.executions, p.failed, p.incomplete};
    CHECK(sum == want);
  }
  SECTION("the beat cut in two keeps its duration") {
    std::uint64_t timed = 0, want_timed = 0;
    for (const auto* a : {&first->aggregate, &second->aggregate})
      for (const auto& h : a->handlers) timed += h.stats.timed;
    for (const auto& h : one->aggregate.handlers) want_timed += h.stats.timed;
    CHECK(timed == want_timed);
    CHECK(second->aggregate.unmatched_starts == one->aggregate.unmatched_starts);
  }
}
