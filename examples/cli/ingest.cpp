// `selfheal ingest --nats URL --stream S [--db FILE] [--workers N] [--durable NAME] [--batch N]
//                  [--idle-exit SECONDS] [--ack-wait SECONDS] [--max-deliver N] [--window 60s] [--json]`:
// worker processes pulling shipped log chunks from one durable JetStream consumer, parsing them with
// the telemetry core and committing aggregates plus the stream sequences they cover in one
// transaction, acking only after it (`selfheal/telemetry/fleet/ingest.hpp`). --workers N forks N
// local workers; more machines simply run `selfheal ingest` against the same stream and store.
// Runs until SIGINT/SIGTERM, or until --idle-exit seconds pass without a message. Exit 0 done,
// 1 failed, 2 usage.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/telemetry/fleet/ingest.hpp"
#include "selfheal/telemetry/formats.hpp"
#include "selfheal/telemetry/normalize.hpp"

namespace selfheal::cli {

namespace {
std::atomic<bool> ingest_stop{false};
extern "C" void ingest_on_signal(int) { ingest_stop.store(true); }
}  // namespace

void add_ingest(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string url;
    std::string stream = "SELFHEAL";
    unsigned workers = 1;
    std::string durable = "selfheal-ingest";
    int batch = 16;
    double idle_exit = 0;
    double ack_wait = 30;
    std::int64_t max_deliver = 5;
    std::string window = "60s";
    std::string format = "auto";
    std::string name;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("ingest", "Parse shipped logs from a NATS JetStream stream into the store (N workers)");
  add_common_options(sub, g);
  sub->add_option("--nats", o->url, "NATS server URL, e.g. nats://127.0.0.1:4222")->required();
  sub->add_option("--stream", o->stream, "JetStream stream to consume")->capture_default_str();
  sub->add_option("--workers", o->workers, "local worker processes")->check(CLI::Range(1u, 256u))->capture_default_str();
  sub->add_option("--durable", o->durable, "durable consumer shared by every worker")->capture_default_str();
  sub->add_option("--batch", o->batch, "messages per fetch and per transaction")->check(CLI::Range(1, 1024))->capture_default_str();
  sub->add_option("--idle-exit", o->idle_exit, "stop after this many seconds without a message (0: run until interrupted)")
      ->check(CLI::Range(0.0, 1e7))->capture_default_str();
  sub->add_option("--ack-wait", o->ack_wait, "seconds before an unacked message goes to another worker (consumer creation)")
      ->check(CLI::Range(0.1, 86400.0))->capture_default_str();
  sub->add_option("--max-deliver", o->max_deliver, "deliveries before a message that cannot be parsed is given up")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000}))->capture_default_str();
  sub->add_option("--window", o->window, "aggregation window, e.g. 60s (the same for every worker of a store)")->capture_default_str();
  sub->add_option("--format", o->format, "auto|ndjson|conductor|serilog|text")->capture_default_str();
  sub->add_option("--name", o->name, "worker name recorded with each message (default host:pid)");
  sub->callback([o, &g, &exit_code] {
    telemetry::fleet::worker_options wo;
    wo.url = o->url;
    wo.stream = o->stream;
    wo.durable = o->durable;
    wo.db_path = g.db;
    wo.name = o->name;
    wo.batch = o->batch;
    wo.idle_exit = std::chrono::milliseconds(static_cast<std::int64_t>(o->idle_exit * 1000));
    wo.consumer.ack_wait = std::chrono::milliseconds(static_cast<std::int64_t>(o->ack_wait * 1000));
    wo.consumer.max_deliver = o->max_deliver;
    const auto format = telemetry::parse_log_format(o->format);
    if (!format || *format == telemetry::log_format::binary) {
      exit_code = report_usage(g, "ingest", "--format must be auto, ndjson, conductor, serilog or text");
      return;
    }
    wo.parse.format = *format;
    double window_ms = 0;
    if (!telemetry::parse_duration_ms(o->window, window_ms) || window_ms < 1) {
      exit_code = report_usage(g, "ingest", "--window must be a duration of at least 1ms, e.g. 60s");
      return;
    }
    wo.parse.window_ns = static_cast<std::int64_t>(window_ms * 1e6);
    wo.stop = &ingest_stop;
    std::signal(SIGINT, ingest_on_signal);
    std::signal(SIGTERM, ingest_on_signal);
    auto r = telemetry::fleet::run_worker_processes(o->workers, wo);
    if (!r) {
      exit_code = report_error(g, "ingest", r.error());
      return;
    }
    const auto& s = *r;
    const double secs = static_cast<double>(s.elapsed_ns) / 1e9;
    if (g.json) {
      std::string out;
      json_writer w(out);
      w.begin_object()
          .member("workers", s.workers)
          .member("messages", s.messages)
          .member("duplicates", s.duplicates)
          .member("terminated", s.terminated)
          .member("batches", s.batches)
          .member("bytes", s.bytes)
          .member("events", s.events)
          .member("bad_lines", s.bad_lines)
          .member("elapsed_seconds", secs)
          .member("busy_seconds", static_cast<double>(s.busy_ns) / 1e9)
          .member("network_seconds", static_cast<double>(s.network_ns) / 1e9)
          .member("parse_seconds", static_cast<double>(s.parse_ns) / 1e9)
          .member("commit_seconds", static_cast<double>(s.commit_ns) / 1e9)
          .end_object();
      print_json(out);
    } else {
      std::printf("ingested %llu messages (%llu events, %llu bad lines, %.1f MB) with %u worker(s) in %.2f s; "
                  "%llu already committed, %llu given up\n",
                  static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.events),
                  static_cast<unsigned long long>(s.bad_lines), static_cast<double>(s.bytes) / 1e6, s.workers, secs,
                  static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.terminated));
      std::printf("  time: network %.2f s, parse %.2f s, commit %.2f s (summed over workers)\n",
                  static_cast<double>(s.network_ns) / 1e9, static_cast<double>(s.parse_ns) / 1e9,
                  static_cast<double>(s.commit_ns) / 1e9);
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
