// `selfheal export --prometheus [--out FILE] [--db F]`: per-handler calls, errors and latency
// quantiles from the latest telemetry record with events, and heal/deploy/rollback counters, in the
// Prometheus text exposition format. With --out the file is written atomically (a temporary file
// renamed over it), as node_exporter's textfile collector needs: point
// `--collector.textfile.directory` at the folder and run this from cron or after each `heal`.
// The store must exist. Exit 0 done, 1 failed, 2 usage error.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/heal/prometheus.hpp"

namespace selfheal::cli {

namespace {

struct export_options {
  bool prometheus = false;
  std::string out;
};

}  // namespace

void add_export(CLI::App& app, globals& g, int& exit_code) {
  auto o = std::make_shared<export_options>();
  auto* sub = app.add_subcommand("export", "Export metrics (Prometheus text format)");
  add_common_options(sub, g);
  sub->add_flag("--prometheus", o->prometheus, "the Prometheus text exposition format (the only one so far)")->required();
  sub->add_option("--out", o->out, "write to this file atomically instead of standard output (textfile collector)");
  sub->callback([o, &g, &exit_code] {
    auto db = open_store(g, "export", exit_code);
    if (!db) return;
    auto text = heal::export_prometheus(*db);
    if (!text) {
      exit_code = report_error(g, "export", text.error());
      return;
    }
    if (o->out.empty()) {
      std::fwrite(text->data(), 1, text->size(), stdout);
    } else {
      const std::string tmp = o->out + ".tmp";
      {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f.write(text->data(), static_cast<std::streamsize>(text->size()));
        if (!f.flush()) {
          exit_code = report_error(g, "export", error{errc::io_error, "cannot write '" + tmp + "'", 0, {}});
          return;
        }
      }
      std::error_code ec;
      std::filesystem::rename(tmp, o->out, ec);
      if (ec) {
        exit_code = report_error(g, "export", error{errc::io_error, "cannot rename to '" + o->out + "': " + ec.message(), 0, {}});
        return;
      }
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
