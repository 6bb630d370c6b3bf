// `selfheal ship PATH... --nats URL --subject S [--stream NAME] [--chunk-bytes N] [--state FILE]
//                [--host NAME] [--follow|--once] [--json]`: publishes log files to a NATS JetStream
// stream in chunks of whole lines (`selfheal/telemetry/fleet/ship.hpp`), with the same source rules
// as `parse` (identity, rotation, resume). Resume points live in the --state file, written after
// each acknowledged chunk. --once (the default) ships what is there and exits; --follow keeps
// tailing until SIGINT/SIGTERM. Exit 0 done, 1 failed (server unreachable past the retry time, an
// input missing), 2 usage.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/telemetry/fleet/ship.hpp"
#include "selfheal/telemetry/printable.hpp"

namespace selfheal::cli {

namespace {
std::atomic<bool> ship_stop{false};
extern "C" void ship_on_signal(int) { ship_stop.store(true); }
}  // namespace

void add_ship(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::vector<std::string> paths;
    std::string url;
    std::string subject;
    std::string stream = "SELFHEAL";
    std::size_t chunk_bytes = std::size_t{1} << 20;
    std::string state = ".selfheal-ship.db";
    std::string host;
    bool follow = false;
    bool once = false;
    unsigned retry_seconds = 60;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("ship", "Publish log files to a NATS JetStream stream, in chunks of whole lines");
  sub->add_flag("--json", g.json, "print exactly one JSON object on standard output");
  sub->add_option("paths", o->paths, "files, directories (recursive) or globs")->required();
  sub->add_option("--nats", o->url, "NATS server URL, e.g. nats://127.0.0.1:4222")->required();
  sub->add_option("--subject", o->subject, "subject to publish on")->required();
  sub->add_option("--stream", o->stream, "JetStream stream (created, work-queue retention, if missing)")->capture_default_str();
  sub->add_option("--chunk-bytes", o->chunk_bytes, "bytes per message (whole lines; capped by the server's limit)")
      ->check(CLI::Range(std::size_t{4096}, std::size_t{64} << 20))->capture_default_str();
  sub->add_option("--state", o->state, "local SQLite file of resume points")->capture_default_str();
  sub->add_option("--host", o->host, "name qualifying source identities (default: the host name)");
  sub->add_option("--retry-seconds", o->retry_seconds, "keep retrying a publish this long while the server is away")
      ->capture_default_str();
  auto* follow = sub->add_flag("--follow", o->follow, "keep tailing the files until interrupted");
  sub->add_flag("--once", o->once, "ship what is there and exit (the default)")->excludes(follow);
  sub->callback([o, &g, &exit_code] {
    telemetry::fleet::ship_options so;
    so.paths = o->paths;
    so.url = o->url;
    so.subject = o->subject;
    so.stream = o->stream;
    so.chunk_bytes = o->chunk_bytes;
    so.state_path = o->state;
    so.host = o->host;
    so.follow = o->follow;
    so.retry_for = std::chrono::seconds(o->retry_seconds);
    so.stop = &ship_stop;
    so.note = [](const std::string& s) { std::fprintf(stderr, "selfheal ship: %s\n", telemetry::printable(s).c_str()); };
    std::signal(SIGINT, ship_on_signal);
    std::signal(SIGTERM, ship_on_signal);
    auto r = telemetry::fleet::ship(so);
    if (!r) {
      exit_code = report_error(g, "ship", r.error());
      return;
    }
    bool missing = false;
    for (const auto& k : r->skipped) {
      std::fprintf(stderr, "selfheal ship: skipped %s: %s\n", telemetry::printable(k.path).c_str(),
                   telemetry::printable(k.reason).c_str());
      missing = true;
    }
    if (g.json) {
      std::string out;
      json_writer w(out);
      w.begin_object()
          .member("sources", r->sources)
          .member("messages", r->messages)
          .member("duplicates", r->duplicates)
          .member("bytes", r->bytes)
          .member("lines", r->lines)
          .member("skipped_lines", r->skipped_lines)
          .member("retries", r->retries)
          .member("publish_seconds", static_cast<double>(r->publish_ns) / 1e9)
          .member("elapsed_seconds", static_cast<double>(r->elapsed_ns) / 1e9)
          .key("skipped")
          .begin_array();
      for (const auto& k : r->skipped) w.begin_object().member("path", k.path).member("reason", k.reason).end_object();
      w.end_array().end_object();
      print_json(out);
    } else {
      std::printf("shipped %llu messages (%llu lines, %.1f MB) from %llu source(s)%s\n",
                  static_cast<unsigned long long>(r->messages), static_cast<unsigned long long>(r->lines),
                  static_cast<double>(r->bytes) / 1e6, static_cast<unsigned long long>(r->sources),
                  r->duplicates ? (", " + std::to_string(r->duplicates) + " already on the server").c_str() : "");
    }
    exit_code = missing ? exit_failed : exit_ok;
  });
}

}  // namespace selfheal::cli
