// `selfheal heal [--once | --watch SECONDS] [--repo DIR] [--config FILE] [--events FILE] [--db F] [--json]`:
// the closed loop (selfheal/heal/loop.hpp). The human output is the story of each anomaly: what
// broke, why, what was changed, the evidence it works. SIGINT/SIGTERM finish the current step and
// leave the run resumable. Exit 0 healed / nothing to do / dry run / blocked, 1 failed, 2 usage.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/core/events.hpp"
#include "selfheal/heal/loop.hpp"
#include "selfheal/heal/records.hpp"
#include "selfheal/source/settings.hpp"

namespace selfheal::cli {

namespace {
std::atomic<bool> heal_stop{false};
void heal_on_signal(int) { heal_stop.store(true); }

}  // namespace

void add_heal(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string repo = ".";
    std::string config;
    std::string events;
    bool once = false;
    double watch = -1;
    double window = 1;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("heal", "The closed loop: parse, detect, diagnose, fix, validate, deploy, learn");
  add_common_options(sub, g);
  sub->add_option("--repo", o->repo, "the monitored repository (holds selfheal.toml)")->capture_default_str();
  sub->add_option("--config", o->config, "the settings file (default: <repo>/selfheal.toml)");
  sub->add_option("--events", o->events, "append selfheal's own beat events (NDJSON) to this file");
  auto* once = sub->add_flag("--once", o->once, "one round (the default)");
  sub->add_option("--watch", o->watch, "repeat rounds this many seconds apart until interrupted")->excludes(once);
  sub->add_option("--window", o->window, "telemetry aggregation window in seconds")->capture_default_str();
  sub->callback([o, &g, &exit_code] {
    auto s = source::load_settings(o->repo, o->config);
    if (!s) {
      exit_code = report_error(g, "heal", s.error(), exit_usage);
      return;
    }
    auto db = open_store(g, "heal", exit_code, store_mode::create);
    if (!db) return;
    std::FILE* events_file = nullptr;
    std::unique_ptr<ndjson_sink> sink;
    if (!o->events.empty()) {
      events_file = std::fopen(o->events.c_str(), "a");
      if (!events_file) {
        exit_code = report_error(g, "heal", error{errc::io_error, "cannot open --events file " + o->events, 0, {}}, exit_usage);
        return;
      }
      sink = std::make_unique<ndjson_sink>(events_file);
    }
    context ctx;
    ctx.store = &*db;
    ctx.sink = sink.get();
    heal::heal_request req;
    req.repo = s->repo;
    req.config = o->config;
    req.window_seconds = o->window > 0 ? o->window : 1;
    if (o->watch >= 0) {
      req.max_rounds = 0;
      req.watch_seconds = o->watch;
    }
    std::signal(SIGINT, heal_on_signal);
    std::signal(SIGTERM, heal_on_signal);
    auto say = [](std::string_view line) {
      std::fprintf(stderr, "selfheal heal: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    auto r = heal::heal(ctx, *s, req, say, &heal_stop);
    if (events_file) std::fclose(events_file);
    if (!r) {
      exit_code = report_error(g, "heal", r.error());
      return;
    }
    if (g.json) {
      print_json(heal::heal_json(*r));
    } else {
      std::printf("%s: %s after %u round(s)\n", r->record_id.c_str(), r->status.c_str(), r->rounds);
      for (const auto& a : r->anomalies) {
        std::printf("\n%s (%s, %s): %s\n%s", a.id.c_str(), a.handler.c_str(), a.kind.c_str(), a.status.c_str(),
                    a.story.c_str());
        if (!a.reason.empty()) std::printf("Stopped: %s\n", a.reason.c_str());
        if (a.healed_ns > 0) {
          std::printf("Time to heal: %.1f s", static_cast<double>(a.healed_ns - a.detected_ns) / 1e9);
          if (a.onset_ns > 0) std::printf(" (%.1f s from the onset)", static_cast<double>(a.healed_ns - a.onset_ns) / 1e9);
          std::printf("\n");
        }
      }
      std::printf("\nTime in selfheal's sequences: %.2f s, of which builds, tests, deploys and waits %.2f s; "
                  "selfheal's own share %.2f s.\n",
                  r->sequences_s, r->external_s, r->selfheal_s);
    }
    exit_code = (r->status == "failed") ? exit_failed : exit_ok;
  });
}

}  // namespace selfheal::cli
