// `selfheal ship` and `selfheal ingest` over NATS JetStream (issue 18): exactly-once counts from
// many workers, through worker, shipper and server crashes, and poisoned messages. The server is a
// real `nats-server -js` (tests/support/nats.hpp); the logs are generated here, seeded, with known
// truth (benchmarks/tools/telemetry_gen.hpp); the single-process reference is telemetry.parse.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../../benchmarks/tools/telemetry_gen.hpp"
#include "../telemetry/fixture.hpp"
#include "nats.hpp"
#include "postgres.hpp"
#include "selfheal/core/process.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/fleet/ingest.hpp"
#include "selfheal/telemetry/fleet/ship.hpp"
#include "selfheal/telemetry/fleet/store.hpp"
#include "selfheal/telemetry/store.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;
namespace fleet = selfheal::telemetry::fleet;
namespace fs = std::filesystem;

namespace {

selfheal_gen::truth generate(const fs::path& p, std::uint64_t seed, std::uint64_t bytes, double pair_rate = 0.0) {
  selfheal_gen::options opt;
  opt.seed = seed;
  opt.target_bytes = bytes;
  opt.pair_rate = pair_rate;
  std::FILE* f = std::fopen(p.c_str(), "wb");
  REQUIRE(f);
  auto t = selfheal_gen::write_ndjson(f, opt);
  std::fclose(f);
  return t;
}

/// What a store holds for one telemetry record, per handler (windows merged).
struct totals {
  std::uint64_t events = 0, bad_lines = 0, executions = 0;
  std::map<std::string, tel::metric_stats> handlers;
};

totals read_totals(sh::store::database& db, const std::string& record) {
  totals t;
  auto run = tel::load_run(db, record);
  REQUIRE(run);
  t.events = run->events;
  t.bad_lines = run->bad_lines;
  t.executions = run->executions;
  auto windows = tel::load_window_metrics(db, record);
  REQUIRE(windows);
  for (const auto& w : *windows)
    if (w.scope == tel::metric_scope::handler) t.handlers[w.name].merge(w.stats);
  return t;
}

totals fleet_totals(const fs::path& db_path, const std::string& stream) {
  auto db = sh::store::database::open(db_path.string());
  REQUIRE(db);
  auto s = fleet::load_stream_totals(*db, stream);
  REQUIRE(s);
  REQUIRE(s->has_value());
  return read_totals(*db, (*s)->record_id);
}

/// The counts a worker store must hold for the generated files: exactly the truth, and p50 within
/// the sketch's error bound of the single-process parse.
void check_same(const totals& got, const totals& parsed, const selfheal_gen::truth& truth) {
  CHECK(got.events == truth.events);
  CHECK(got.bad_lines == truth.bad_lines);
  CHECK(got.executions == truth.executions);
  CHECK(got.events == parsed.events);
  CHECK(got.bad_lines == parsed.bad_lines);
  REQUIRE(got.handlers.size() == parsed.handlers.size());
  for (const auto& [name, p] : parsed.handlers) {
    INFO(name);
    REQUIRE(got.handlers.count(name) == 1);
    const auto& g = got.handlers.at(name);
    CHECK(g.count == p.count);
    CHECK(g.errors == p.errors);
    CHECK(g.count == truth.handlers.at(name).count);
    CHECK(g.errors == truth.handlers.at(name).errors);
    const double a = g.quantile_ms(0.5), b = p.quantile_ms(0.5);
    CHECK(std::abs(a - b) <= 2 * tel::quantile_sketch::relative_accuracy * std::max(a, b) + 1e-9);
  }
}

/// Reads `files` in chunks as `ship` does and hands them to `parse_messages` (no server).
std::vector<std::string> chunks_of(const fs::path& file, std::size_t size) {
  auto found = tel::expand_paths({file.string()});
  REQUIRE(found.sources.size() == 1);
  auto r = tel::chunk_reader::open(found.sources[0], size);
  REQUIRE(r);
  std::vector<std::string> out;
  tel::chunk c;
  for (;;) {
    auto got = r->next(c);
    REQUIRE(got);
    if (!*got) break;
    out.emplace_back(c.buffer.data(), c.size);
    if (c.last) break;
  }
  return out;
}

struct parsed_reference {
  sh::test::telemetry_fixture f;
  totals t;
  explicit parsed_reference(const std::vector<std::string>& paths) {
    auto s = f.parse(paths, 1);
    REQUIRE(s);
    t = read_totals(*f.db, s->record_id);
  }
};

std::string selfheal_program() {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  REQUIRE(bin != nullptr);  // set by ctest; run this suite through ctest
  return (fs::path(bin) / "selfheal").string();
}

sh::process_output run_program(std::vector<std::string> args, std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  args.insert(args.begin(), selfheal_program());
  sh::process_options o;
  o.timeout = timeout;
  auto out = sh::run_process(args, o);
  REQUIRE(out);
  return *out;
}

/// Runs the program and SIGKILLs its process group after `limit` (run_process's time limit).
/// Returns whether it was killed (false: it ended before).
/// Returns 1 when it was killed, 0 when it ended before, -1 when it could not run (no Catch
/// assertion here: this runs on test threads).
int run_killed_after(std::vector<std::string> args, const std::string& program, std::chrono::milliseconds limit) {
  args.insert(args.begin(), program);
  sh::process_options o;
  o.timeout = limit;
  auto out = sh::run_process(args, o);
  if (!out) return out.error().code == sh::errc::timeout ? 1 : -1;
  return 0;
}

/// `t` added into `sum`: the truth of several generated files.
void add_truth(selfheal_gen::truth& sum, const selfheal_gen::truth& t) {
  sum.events += t.events;
  sum.bad_lines += t.bad_lines;
  sum.executions += t.executions;
  for (const auto& [n, h] : t.handlers) {
    sum.handlers[n].count += h.count;
    sum.handlers[n].errors += h.errors;
  }
}
}  // namespace

TEST_CASE("chunks parsed as memory sources count exactly what parse counts", "[fleet]") {
  sh::test::temp_dir tmp;
  const auto log = tmp.path() / "app.ndjson";
  const auto truth = generate(log, 7, 600 << 10, 0.25);  // with started/completed pairs
  parsed_reference ref({log.string()});
  const auto chunks = chunks_of(log, 64 << 10);
  REQUIRE(chunks.size() > 5);
  std::vector<fleet::message_input> in;
  std::uint64_t offset = 0, seq = 0;
  for (const auto& c : chunks) {
    in.push_back({c, ++seq, "host/1:2", log.string(), offset, offset + c.size(), 1, 0});
    offset += c.size();
  }
  auto batch = fleet::parse_messages(in, {});
  const auto& a = batch.aggregate;
  CHECK(a.events == truth.events);
  CHECK(a.bad_lines == truth.bad_lines);
  CHECK(a.executions == truth.executions);  // a completion whose start is in another chunk still counts
  REQUIRE(batch.messages.size() == chunks.size());
  std::uint64_t events = 0;
  for (const auto& m : batch.messages) events += m.events;
  CHECK(events == truth.events);
  for (const auto& h : a.handlers) CHECK(h.stats.count == ref.t.handlers.at(h.name).count);
}

TEST_CASE("batches appended to one stream record read back merged, exactly", "[fleet][postgres]") {
  const auto backend = GENERATE(sh::test::store_backend::sqlite, sh::test::store_backend::postgresql);
  INFO((backend == sh::test::store_backend::sqlite ? "SQLite" : "PostgreSQL"));
  sh::test::temp_dir tmp;
  const auto log = tmp.path() / "app.ndjson";
  const auto truth = generate(log, 11, 300 << 10);
  parsed_reference ref({log.string()});
  const auto chunks = chunks_of(log, 32 << 10);
  auto db = sh::store::database::open(sh::test::fresh_store_url(backend, tmp, "fleet.db"));
  REQUIRE(db);
  REQUIRE(fleet::migrate_fleet(*db));
  const sh::time_point now{std::chrono::seconds(1'763'224'800)};
  std::uint64_t seq = 0, offset = 0;
  std::string first_record;
  for (std::size_t i = 0; i < chunks.size(); i += 3) {  // batches of three messages
    std::vector<fleet::message_input> in;
    for (std::size_t k = i; k < std::min(chunks.size(), i + 3); ++k) {
      in.push_back({chunks[k], ++seq, "host/1:2", log.string(), offset, offset + chunks[k].size(), 1, 0});
      offset += chunks[k].size();
    }
    auto batch = fleet::parse_messages(in, {});
    sh::store::transaction tx(*db);
    auto record = fleet::stream_record(*db, "S", batch.aggregate.window_ns, now);
    REQUIRE(record);
    if (first_record.empty()) first_record = *record;
    CHECK(*record == first_record);  // one record per stream
    REQUIRE(fleet::append_batch(*db, *record, "S", batch.aggregate, batch.messages, "w", now));
    REQUIRE(tx.commit());
  }
  const auto got = read_totals(*db, first_record);
  check_same(got, ref.t, truth);
  // every window cell is one merged row, as parse wrote it
  auto windows = tel::load_window_metrics(*db, first_record);
  auto parsed_windows = tel::load_window_metrics(*ref.f.db, "telemetry-1");
  REQUIRE(windows);
  REQUIRE(parsed_windows);
  REQUIRE(windows->size() == parsed_windows->size());
  for (std::size_t i = 0; i < windows->size(); ++i) {
    CHECK((*windows)[i].name == (*parsed_windows)[i].name);
    CHECK((*windows)[i].stats.count == (*parsed_windows)[i].stats.count);
    CHECK((*windows)[i].stats.sum_ns == (*parsed_windows)[i].stats.sum_ns);
    CHECK((*windows)[i].stats.sketch == (*parsed_windows)[i].stats.sketch);  // sketches merge exactly
  }
  auto errors = tel::load_error_samples(*db, first_record);
  auto parsed_errors = tel::load_error_samples(*ref.f.db, "telemetry-1");
  REQUIRE(errors);
  REQUIRE(parsed_errors);
  CHECK(errors->size() == parsed_errors->size());
  // a sequence already committed is seen as such (the worker acks and skips it)
  const std::vector<std::uint64_t> ask = {1, seq, seq + 1};
  auto done = fleet::committed_sequences(*db, "S", ask);
  REQUIRE(done);
  CHECK(*done == std::set<std::uint64_t>{1, seq});
}

TEST_CASE("ship and one worker over a real server give parse's counts, and a restarted server loses nothing",
          "[fleet][postgres][slow]") {
  const auto backend = GENERATE(sh::test::store_backend::sqlite, sh::test::store_backend::postgresql);
  INFO((backend == sh::test::store_backend::sqlite ? "SQLite" : "PostgreSQL"));
  sh::test::temp_dir tmp;
  sh::test::nats_server server(tmp.path() / "nats");
  const auto logs = tmp.path() / "logs";
  fs::create_directories(logs);
  auto truth = generate(logs / "a.ndjson", 21, 400 << 10);
  const auto t2 = generate(logs / "b.ndjson", 22, 300 << 10);
  add_truth(truth, t2);
  parsed_reference ref({logs.string()});

  fleet::ship_options so;
  so.paths = {(logs / "a.ndjson").string()};
  so.url = server.url();
  so.subject = "logs.app";
  so.stream = "APP";
  so.chunk_bytes = 32 << 10;
  so.state_path = (tmp.path() / "ship.db").string();
  so.host = "web-1";
  auto first = fleet::ship(so);
  REQUIRE(first);
  CHECK(first->messages > 5);
  CHECK(first->duplicates == 0);

  server.restart();  // same store folder: the stream and its messages survive

  so.paths = {logs.string()};  // a.ndjson resumes (nothing new), b.ndjson is new
  auto second = fleet::ship(so);
  REQUIRE(second);
  CHECK(second->sources == 1);
  auto again = fleet::ship(so);  // nothing new at all
  REQUIRE(again);
  CHECK(again->messages == 0);

  fleet::worker_options wo;
  wo.url = server.url();
  wo.stream = "APP";
  wo.db_path = sh::test::fresh_store_url(backend, tmp, "fleet.db");
  wo.batch = 4;
  wo.fetch_wait = std::chrono::milliseconds(300);
  wo.idle_exit = std::chrono::milliseconds(1500);
  auto stats = fleet::run_worker(wo);
  REQUIRE(stats);
  CHECK(stats->messages == first->messages + second->messages);
  CHECK(stats->duplicates == 0);
  check_same(fleet_totals(wo.db_path, "APP"), ref.t, truth);

  // a second run finds nothing left: the work queue is empty, nothing counted twice
  auto more = fleet::run_worker(wo);
  REQUIRE(more);
  CHECK(more->messages == 0);
  check_same(fleet_totals(wo.db_path, "APP"), ref.t, truth);
}

TEST_CASE("poisoned messages become counted bad lines and are acked, never redelivered", "[fleet][slow]") {
  sh::test::temp_dir tmp;
  sh::test::nats_server server(tmp.path() / "nats");
  auto link = fleet::nats_link::connect(server.url());
  REQUIRE(link);
  REQUIRE(link->ensure_work_queue("P", "poison"));
  std::string binary(4096, '\0');
  std::mt19937 rng(5);
  for (auto& c : binary) c = static_cast<char>(rng() & 0xFF);
  const std::string bad_utf8 = "{\"ts\":\"2025-01-01T00:00:00Z\",\"handler\":\"\xC3\x28\xFF\",\"msg\":\"\xED\xA0\x80\"}\n\xFE\xFE\xFE\n";
  std::string huge(static_cast<std::size_t>(link->max_payload() - 4096), 'x');  // one line, no newline, no JSON
  const std::string good = "{\"ts\":\"2025-01-01T00:00:00Z\",\"handler\":\"ok\",\"duration_ms\":5}\n";
  for (const std::string* m : std::vector<const std::string*>{&binary, &bad_utf8, &huge, &good}) REQUIRE(link->publish("poison", *m, {}, ""));

  fleet::worker_options wo;
  wo.url = server.url();
  wo.stream = "P";
  wo.db_path = (tmp.path() / "fleet.db").string();
  wo.fetch_wait = std::chrono::milliseconds(300);
  wo.idle_exit = std::chrono::milliseconds(1500);
  wo.consumer.ack_wait = std::chrono::milliseconds(1000);
  auto stats = fleet::run_worker(wo);
  REQUIRE(stats);
  CHECK(stats->messages == 4);
  CHECK(stats->terminated == 0);
  CHECK(stats->events >= 1);
  CHECK(stats->bad_lines >= 3);  // the binary message, the broken lines, the huge line
  auto db = sh::store::database::open(wo.db_path);
  REQUIRE(db);
  auto t = fleet::load_stream_totals(*db, "P");
  REQUIRE(t);
  REQUIRE(t->has_value());
  CHECK((*t)->messages == 4);
  CHECK((*t)->bad_lines == stats->bad_lines);
  // acked: a later worker (after the ack wait) gets nothing again
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto again = fleet::run_worker(wo);
  REQUIRE(again);
  CHECK(again->messages == 0);
  CHECK(again->duplicates == 0);
}

TEST_CASE("three selfheal ingest workers give parse's counts, through kill -9 of workers and shipper",
          "[fleet][slow][program]") {
  sh::test::temp_dir tmp;
  sh::test::nats_server server(tmp.path() / "nats");
  const auto logs = tmp.path() / "logs";
  fs::create_directories(logs);
  selfheal_gen::truth truth;
  for (int i = 0; i < 3; ++i) {
    add_truth(truth, generate(logs / ("app" + std::to_string(i) + ".ndjson"), 100 + static_cast<std::uint64_t>(i), 700 << 10));
  }
  const std::string db = (tmp.path() / "fleet.db").string();
  const std::string state = (tmp.path() / "ship.db").string();
  const std::vector<std::string> ship = {"ship", logs.string(), "--nats", server.url(), "--subject", "logs.app", "--stream",
                                         "APP", "--chunk-bytes", "4096", "--state", state, "--host", "web-1", "--json"};
  const std::vector<std::string> ingest = {"ingest", "--nats", server.url(), "--stream", "APP", "--db", db, "--batch", "3",
                                           "--ack-wait", "1", "--json"};
  std::mt19937_64 rng(20261130);

  // the shipper killed (SIGKILL, by the time limit) at seeded moments, then run to the end
  int killed = 0;
  for (int round = 0; round < 3; ++round) {
    const int k = run_killed_after(ship, selfheal_program(), std::chrono::milliseconds(40 + rng() % 100));
    REQUIRE(k >= 0);
    killed += k;
  }
  auto shipped = run_program(ship);
  REQUIRE(shipped.exit_code == 0);
  INFO("shipper kills that hit a running shipper: " << killed << "; the last ship: " << shipped.out);
  CHECK(killed >= 1);  // the crash-and-resume path ran

  // workers killed at seeded moments, several times, three at once
  std::atomic<int> killed_workers{0}, failed_workers{0};
  const std::string program = selfheal_program();
  for (int round = 0; round < 4; ++round) {
    std::vector<std::thread> ws;
    for (int w = 0; w < 3; ++w) {
      const auto limit = std::chrono::milliseconds(60 + rng() % 300);
      ws.emplace_back([&, limit] {
        auto args = ingest;
        args.insert(args.end(), {"--idle-exit", "2"});
        const int k = run_killed_after(args, program, limit);
        if (k < 0) ++failed_workers;
        else killed_workers += k;
      });
    }
    for (auto& t : ws) t.join();
  }
  {
    auto store = sh::store::database::open(db);
    REQUIRE(store);
    auto st = store->prepare("SELECT COUNT(*) FROM fleet_messages");
    REQUIRE(st);
    REQUIRE(st->step());
    INFO("messages committed by the workers that were killed: " << st->column_int(0));
    CHECK(st->column_int(0) > 0);  // they had committed work before being killed
    CHECK(killed_workers.load() >= 3);
    CHECK(failed_workers.load() == 0);
  }
  // a fourth file arrives after the crashes, so the last workers have work however much the killed
  // ones got through (on an idle machine they may have finished the first three files)
  {
    add_truth(truth, generate(logs / "app3.ndjson", 103, 200 << 10));
    auto late = run_program(ship);
    INFO(late.err);
    REQUIRE(late.exit_code == 0);
  }
  parsed_reference ref({logs.string()});
  // then three workers run to the end (the ack wait has passed: unacked messages come back)
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::vector<sh::process_output> outs(3);
  {
    std::vector<std::thread> ws;
    for (int w = 0; w < 3; ++w)
      ws.emplace_back([&, w] {
        auto args = ingest;
        args.insert(args.end(), {"--idle-exit", "3"});
        outs[static_cast<std::size_t>(w)] = run_program(args);
      });
    for (auto& t : ws) t.join();
  }
  std::uint64_t redelivered_skipped = 0;
  for (const auto& o : outs) {
    INFO(o.err);
    CHECK(o.exit_code == 0);
    const auto at = o.out.find("\"duplicates\":");
    if (at != std::string::npos) redelivered_skipped += std::stoull(o.out.substr(at + 13));
  }
  UNSCOPED_INFO("redelivered messages found committed and skipped: " << redelivered_skipped);
  std::uint64_t finished = 0;
  for (const auto& o : outs) {
    const auto at = o.out.find("\"messages\":");
    if (at != std::string::npos) finished += std::stoull(o.out.substr(at + 11));
  }
  CHECK(finished > 0);  // at least the fourth file's messages
  check_same(fleet_totals(db, "APP"), ref.t, truth);
  // nothing twice: each byte range of each source committed once, and they tile the files
  auto store = sh::store::database::open(db);
  REQUIRE(store);
  auto st = store->prepare(
      "SELECT COUNT(*), COUNT(DISTINCT identity || ':' || start_offset), SUM(end_offset - start_offset) FROM fleet_messages");
  REQUIRE(st);
  REQUIRE(st->step());
  CHECK(st->column_int(0) == st->column_int(1));
  std::uint64_t size = 0;
  for (const auto& e : fs::directory_iterator(logs)) size += fs::file_size(e.path());
  CHECK(static_cast<std::uint64_t>(st->column_int(2)) == size);

  // --workers 2 in one program: forks two workers; nothing is left, nothing changes
  auto args = ingest;
  args.insert(args.end(), {"--workers", "2", "--idle-exit", "1"});
  auto two = run_program(args);
  CHECK(two.exit_code == 0);
  CHECK(two.out.find("\"workers\":2") != std::string::npos);
  CHECK(two.out.find("\"messages\":0") != std::string::npos);
  check_same(fleet_totals(db, "APP"), ref.t, truth);
}
