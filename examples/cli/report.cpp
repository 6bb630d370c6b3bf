// `selfheal report --html FILE [--record ID]... [--db F] [--json]`: what selfheal saw and did, as one
// self-contained HTML page (inline SVG and CSS, no script, no network): per deployment, the
// handler's latency per window with the onset, the stages and any rollback marked; the p50s before
// and after; the diagnosis with the blamed commit; the patch; the validation's checks; the canary's
// scores; and the audit trail. `--record` names deployment or heal records (default: every
// deployment). With --json standard output is `{"file","deployments","audit_entries","bytes"}`.
// The store must exist (a mistyped --db is an error, not an empty report). Exit 0 done, 1 failed,
// 2 usage error.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/heal/report.hpp"

namespace selfheal::cli {

namespace {

struct report_options {
  std::string html;
  std::vector<std::string> records;
};

}  // namespace

void add_report(CLI::App& app, globals& g, int& exit_code) {
  auto o = std::make_shared<report_options>();
  auto* sub = app.add_subcommand("report", "Write an HTML report of what selfheal saw and did");
  add_common_options(sub, g);
  sub->add_option("--html", o->html, "the HTML file to write")->required();
  sub->add_option("--record", o->records, "deployment or heal record id(s) (default: every deployment)");
  sub->callback([o, &g, &exit_code] {
    auto db = open_store(g, "report", exit_code);
    if (!db) return;
    system_clock_source clock;
    auto data = heal::gather_report(*db, o->records, clock.now());
    if (!data) {
      exit_code = report_error(g, "report", data.error(),
                               data.error().code == errc::invalid_request ? exit_usage : exit_failed);
      return;
    }
    const std::string page = heal::render_html(*data);
    {
      std::ofstream out(o->html, std::ios::binary | std::ios::trunc);
      out.write(page.data(), static_cast<std::streamsize>(page.size()));
      if (!out.flush()) {
        exit_code = report_error(g, "report", error{errc::io_error, "cannot write '" + o->html + "'", 0, {}});
        return;
      }
    }
    if (g.json) {
      std::string doc;
      json_writer w(doc);
      w.begin_object()
          .member("file", o->html)
          .member("deployments", static_cast<std::uint64_t>(data->cases.size()))
          .member("audit_entries", static_cast<std::uint64_t>(data->audit.size()))
          .member("bytes", static_cast<std::uint64_t>(page.size()))
          .end_object();
      print_json(doc);
    } else {
      std::printf("%s: %zu deployment(s), %zu audit entries, %zu bytes\n", o->html.c_str(), data->cases.size(),
                  data->audit.size(), page.size());
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
