// Fleet ingest (issue 18): `selfheal ingest` with 1, 2 and 4 worker processes pulling shipped
// chunks from a real nats-server (JetStream, a temporary folder, a loopback port), against the
// single-process parse of the same data in the same run.
//
//   build/benchmarks/fleet_bench --benchmark_counters_tabular=true
//
// Each iteration ships 64 MB of generated NDJSON (`selfheal ship`, 1 MiB chunks; untimed) to a fresh
// stream, then times `selfheal ingest --workers N --batch 4` on a fresh store until its last commit ("busy" time: the final
// idle wait before the workers exit is left out). Counters: messages/s and MB/s overall; per
// worker: MB/s and efficiency (MB/s per worker against the one-worker run); and where the workers'
// time went, summed over workers, in seconds per iteration: network (fetch + ack), parse (the
// telemetry core), commit (the store transaction). On a 2-core machine 4 workers cannot run
// 4 times faster: read the per-worker cost, not the scaling.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../tests/support/nats.hpp"
#include "../tests/support/temp_dir.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/process.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "tools/telemetry_gen.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t data_bytes = std::uint64_t{64} << 20;

struct shared_setup {
  selfheal::test::temp_dir tmp;
  fs::path log = tmp.path() / "app.ndjson";
  std::uint64_t bytes = 0;
  std::unique_ptr<selfheal::test::nats_server> server;
  int streams = 0;
  double one_worker_mb_s = 0;
  shared_setup() {
    selfheal_gen::options opt;
    opt.seed = 42;
    opt.target_bytes = data_bytes;
    std::FILE* f = std::fopen(log.c_str(), "wb");
    bytes = selfheal_gen::write_ndjson(f, opt).bytes;
    std::fclose(f);
    server = std::make_unique<selfheal::test::nats_server>(tmp.path() / "nats");
  }
};

shared_setup& setup() {
  static shared_setup s;
  return s;
}

std::string program() { return (fs::path(SELFHEAL_BINARY_DIR) / "selfheal").string(); }

double json_number(const std::string& doc, const std::string& key) {
  const auto at = doc.find("\"" + key + "\":");
  if (at == std::string::npos) return 0;
  return std::strtod(doc.c_str() + at + key.size() + 3, nullptr);
}

void parse_single(benchmark::State& state) {
  auto& s = setup();
  const auto threads = static_cast<unsigned>(state.range(0));
  static int run = 0;  // a fresh store each time: a store that read the file would find nothing new
  for (auto _ : state) {
    state.PauseTiming();
    const auto db_path = s.tmp.path() / ("parse-" + std::to_string(run++) + ".db");
    auto db = selfheal::store::database::open(db_path.string());
    selfheal::manual_clock clock{selfheal::time_point(std::chrono::seconds(1'763'224'800))};
    selfheal::context ctx;
    ctx.store = &*db;
    ctx.clock = &clock;
    selfheal::telemetry::parse_request req;
    req.paths = {s.log.string()};
    req.threads = threads;
    state.ResumeTiming();
    auto r = selfheal::run(selfheal::telemetry::parse_telemetry, ctx, std::move(req));
    if (!r) state.SkipWithError(r.error().message().c_str());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.bytes));
}

void ingest_workers(benchmark::State& state) {
  auto& s = setup();
  const auto workers = state.range(0);
  double messages = 0, network = 0, parse = 0, commit = 0, busy = 0;
  for (auto _ : state) {
    const std::string stream = "B" + std::to_string(++s.streams);
    const auto shipped = selfheal::run_process(
        {program(), "ship", s.log.string(), "--nats", s.server->url(), "--subject", "bench." + stream, "--stream", stream,
         "--state", (s.tmp.path() / (stream + ".ship.db")).string(), "--json"},
        {});
    if (!shipped || !shipped->ok()) {
      state.SkipWithError("selfheal ship failed");
      break;
    }
    selfheal::process_options o;
    o.timeout = std::chrono::minutes(10);
    const auto out = selfheal::run_process(
        std::vector<std::string>{program(), "ingest", "--nats", s.server->url(), "--stream", stream, "--db",
                                 (s.tmp.path() / (stream + ".db")).string(), "--workers", std::to_string(workers),
                                 "--batch", "4", "--idle-exit", "0.5", "--json"},
        o);
    if (!out || !out->ok()) {
      state.SkipWithError(("selfheal ingest failed: " + (out ? out->err : out.error().message())).c_str());
      break;
    }
    const double b = json_number(out->out, "busy_seconds");
    state.SetIterationTime(b);
    busy += b;
    messages += json_number(out->out, "messages");
    network += json_number(out->out, "network_seconds");
    parse += json_number(out->out, "parse_seconds");
    commit += json_number(out->out, "commit_seconds");
  }
  const double n = static_cast<double>(state.iterations());
  const double mb_s = busy > 0 ? static_cast<double>(s.bytes) * n / busy / 1e6 : 0;
  if (workers == 1) s.one_worker_mb_s = mb_s;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.bytes));
  state.counters["messages_per_s"] = busy > 0 ? messages / busy : 0;
  state.counters["MB_per_s"] = mb_s;
  state.counters["MB_per_s_per_worker"] = mb_s / static_cast<double>(workers);
  state.counters["efficiency"] = s.one_worker_mb_s > 0 ? mb_s / static_cast<double>(workers) / s.one_worker_mb_s : 0;
  state.counters["network_s"] = network / n;
  state.counters["parse_s"] = parse / n;
  state.counters["commit_s"] = commit / n;
  state.counters["messages"] = messages / n;
}

}  // namespace

BENCHMARK(parse_single)->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(ingest_workers)->Arg(1)->Arg(2)->Arg(4)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
