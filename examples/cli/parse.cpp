// `selfheal parse PATH... [--db FILE] [--format auto|ndjson|conductor|serilog|text] [--threads N]
//                  [--window 60s] [--execution-timeout 5m] [--no-traces] [--json]`: runs telemetry.parse (parse logs into the store).
// With --json standard output is exactly the object of `selfheal/telemetry/summary.hpp`. Skipped
// sources and bad lines are reported on standard error; inputs over 100 MB get a progress line.
// Exit 0 when events were read (or nothing was new: no record is made then), 1 when an input is
// missing or unreadable or no input held a usable event, 2 for a usage error. Text from the logs is
// printed with control characters escaped (`telemetry/printable.hpp`).

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/formats.hpp"
#include "selfheal/telemetry/printable.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "selfheal/telemetry/source.hpp"
#include "selfheal/telemetry/summary.hpp"

namespace selfheal::cli {

void add_parse(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::vector<std::string> paths;
    std::string format = "auto";
    unsigned threads = 0;
    std::string window = "60s";
    std::string execution_timeout = "5m";
    bool no_traces = false;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("parse", "Parse logs (NDJSON, Musical-Conductor, Serilog, key=value) into the store");
  add_common_options(sub, g);
  sub->add_option("paths", o->paths, "files, directories (recursive), globs, or - for standard input")->required();
  sub->add_option("--format", o->format, "auto|ndjson|conductor|serilog|text")->capture_default_str();
  sub->add_option("--threads", o->threads, "worker threads (0: all cores)")->check(CLI::Range(0u, 1024u))->capture_default_str();
  sub->add_option("--window", o->window, "aggregation window, e.g. 60s, 5m, 500ms")->capture_default_str();
  sub->add_option("--execution-timeout", o->execution_timeout,
                  "an execution logged without sequence-started ends after this long without a beat, e.g. 5m, 30s")
      ->capture_default_str();
  sub->add_flag("--no-traces", o->no_traces,
                "do not rebuild executions by correlation id (detect --sequences then has no paths to check)");
  sub->callback([o, &g, &exit_code] {
    telemetry::parse_request req;
    req.paths = o->paths;
    req.threads = o->threads;
    req.trace_executions = !o->no_traces;
    const auto format = telemetry::parse_log_format(o->format);
    if (!format) {
      exit_code = report_usage(g, "parse", "--format must be auto, ndjson, conductor, serilog or text");
      return;
    }
    req.format = *format;
    double window_ms = 0;
    if (!telemetry::parse_duration_ms(o->window, window_ms) || window_ms < 1) {
      exit_code = report_usage(g, "parse", "--window must be a duration of at least 1ms, e.g. 60s");
      return;
    }
    req.window = std::chrono::nanoseconds(static_cast<std::int64_t>(window_ms * 1e6));
    double timeout_ms = 0;
    if (!telemetry::parse_duration_ms(o->execution_timeout, timeout_ms) || timeout_ms < 1) {
      exit_code = report_usage(g, "parse", "--execution-timeout must be a duration of at least 1ms, e.g. 5m");
      return;
    }
    req.execution_timeout = std::chrono::nanoseconds(static_cast<std::int64_t>(timeout_ms * 1e6));

    // A progress line for big inputs (the sizes come from the same expansion beat 2 does).
    std::uint64_t total = 0;
    const auto expanded = telemetry::expand_paths(req.paths);
    for (const auto& s : expanded.sources) total += s.size;
    if (total > 100'000'000) {
      std::fprintf(stderr, "selfheal parse: reading %.1f MB from %zu source(s)...\n", static_cast<double>(total) / 1e6,
                   expanded.sources.size());
      // then about once a second (sizes on disk: a .gz source reads more than its size)
      req.progress = [total](std::uint64_t read) {
        if (read <= total)
          std::fprintf(stderr, "selfheal parse: %.1f of %.1f MB (%.0f%%)\n", static_cast<double>(read) / 1e6,
                       static_cast<double>(total) / 1e6, 100.0 * static_cast<double>(read) / static_cast<double>(total));
        else
          std::fprintf(stderr, "selfheal parse: %.1f MB read\n", static_cast<double>(read) / 1e6);
      };
    }

    auto summary = run_on_store(g, "parse", telemetry::parse_telemetry, std::move(req), exit_code, store_mode::create);
    if (!summary) return;
    const auto& a = summary->aggregate;
    using telemetry::printable;
    bool missing = false;  // an input that names nothing readable: the run reports it and fails
    for (const auto& k : a.skipped) {
      std::fprintf(stderr, "selfheal parse: skipped %s: %s\n", printable(k.path).c_str(), printable(k.reason).c_str());
      for (std::string_view p : {"not found", "glob matched nothing", "cannot stat", "cannot open", "not a regular file"})
        missing = missing || k.reason.rfind(p, 0) == 0;
    }
    for (const auto& b : a.bad_line_samples)
      if (b.line > 0) std::fprintf(stderr, "selfheal parse: %s:%llu: %s\n", printable(b.path).c_str(), static_cast<unsigned long long>(b.line), printable(b.reason).c_str());
      else std::fprintf(stderr, "selfheal parse: %s: %s\n", printable(b.path).c_str(), printable(b.reason).c_str());
    for (const auto& src : a.sources)
      if (!src.hint.empty())
        std::fprintf(stderr, "selfheal parse: %s: %s\n", printable(src.plan.path).c_str(), printable(src.hint).c_str());
    for (const auto& src : a.sources)
      if (src.held_back_bytes > 0)
        std::fprintf(stderr, "selfheal parse: %s: an unterminated last line (%llu bytes) is held back until it is complete\n",
                     printable(src.plan.path).c_str(), static_cast<unsigned long long>(src.held_back_bytes));
    if (total > 100'000'000)
      std::fprintf(stderr, "selfheal parse: %.1f MB in %.2f s (%.0f MB/s)\n", static_cast<double>(a.bytes) / 1e6,
                   static_cast<double>(a.elapsed_ns) / 1e9, summary->bytes_per_second / 1e6);
    const bool nothing_usable = !summary->nothing_new && a.events == 0;
    if (nothing_usable)
      std::fprintf(stderr, "selfheal parse: no usable event in any input%s\n",
                   a.bad_lines ? " (see the reasons above)" : "");
    if (missing) std::fprintf(stderr, "selfheal parse: an input was missing or unreadable (see above)\n");
    if (g.json) {
      print_json(telemetry::to_json(*summary));
    } else if (summary->nothing_new) {
      std::printf("nothing new: every source is unchanged since the last run (no record made)\n");
    } else {
      std::printf("%s: %llu events, %llu handler calls, %llu bad lines from %zu source(s), %.1f MB\n",
                  summary->record_id.c_str(), static_cast<unsigned long long>(a.events),
                  static_cast<unsigned long long>(a.executions), static_cast<unsigned long long>(a.bad_lines),
                  a.sources.size(), static_cast<double>(a.bytes) / 1e6);
      constexpr std::size_t max_shown = 10;
      std::size_t shown = 0;
      for (const auto& h : a.handlers) {
        if (++shown > max_shown) break;
        std::printf("  %-40s %8llu  err %5.1f%%  p50 %9.3f ms  p95 %9.3f ms  p99 %9.3f ms  max %9.3f ms\n",
                    printable(h.name).c_str(), static_cast<unsigned long long>(h.stats.count), 100.0 * h.stats.error_rate(),
                    h.stats.quantile_ms(0.5), h.stats.quantile_ms(0.95), h.stats.quantile_ms(0.99), h.stats.max_ms());
      }
      if (a.handlers.size() > max_shown)
        std::printf("  ... and %zu more handlers (--json lists every one)\n", a.handlers.size() - max_shown);
      for (const auto& q : a.sequences)
        std::printf("  sequence %-31s %8llu executions  failed %llu  p50 %9.3f ms  max %9.3f ms\n", printable(q.name).c_str(),
                    static_cast<unsigned long long>(q.stats.count), static_cast<unsigned long long>(q.stats.errors),
                    q.stats.quantile_ms(0.5), q.stats.max_ms());
      const auto& t = a.traces;
      if (t.executions || t.untraced_beats) {
        std::size_t paths = 0;
        for (const auto& p : t.paths) paths += p.rest ? 0 : 1;
        std::printf("  sequence executions traced by correlation id: %llu, distinct beat paths: %zu, incomplete: %llu; "
                    "beat calls outside a traced execution: %llu\n",
                    static_cast<unsigned long long>(t.executions), paths, static_cast<unsigned long long>(t.incomplete),
                    static_cast<unsigned long long>(t.untraced_beats));
      }
    }
    exit_code = (missing || nothing_usable) ? exit_failed : exit_ok;
  });
}

}  // namespace selfheal::cli
