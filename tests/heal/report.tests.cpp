// The HTML report and the Prometheus export, over a store written by the real sequences: a shop's
// logs parsed, a baseline, a detected regression, a deployment with stages, and the healthy period
// after it.
#include <selfheal/deployment/store.hpp>
#include <selfheal/heal/prometheus.hpp>
#include <selfheal/heal/report.hpp>
#include <selfheal/core/process.hpp>
#include <selfheal/store/records.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "../learning/scenario.hpp"

namespace {

using namespace learn_test;

/// How many "x,y" pairs the polylines of a class hold, and how many polylines there are.
std::pair<std::size_t, std::size_t> polylines(const std::string& html, std::string_view cls) {
  const std::string tag = "<polyline class=\"" + std::string(cls) + "\"";
  std::size_t points = 0, lines = 0;
  for (auto at = html.find(tag); at != std::string::npos; at = html.find(tag, at + 1)) {
    ++lines;
    const auto from = html.find("points=\"", at) + 8;
    const auto to = html.find('"', from);
    std::istringstream in(html.substr(from, to - from));
    for (std::string pair; in >> pair;) points += pair.find(',') != std::string::npos;
  }
  return {points, lines};
}
std::size_t polyline_points(const std::string& html, std::string_view cls) { return polylines(html, cls).first; }

std::size_t count(const std::string& hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

/// 30 healthy windows, 15 with checkout 3x slower, a deploy at window 45, 15 healthy windows after.
struct healed_shop : shop {
  std::string anomaly_id, deployment_id;
  healed_shop() {
    baseline(parse({0, 30}));
    parse({30, 45, 3.0});
    const auto d = detect();
    anomaly_id = anomaly_on(d, "checkout");
    REQUIRE(!anomaly_id.empty());
    clock.set(sh::time_point(std::chrono::nanoseconds(t0 + 45 * W)));
    auto dep = deployed("", anomaly_id, "revert <script>alert(1)</script>", 45);
    dep.stages.front().started_ns = t0 + 45 * W;
    dep.stages.front().finished_ns = t0 + 46 * W;
    dep.stages.front().score = 100;
    auto id = sh::deployment::create_deployment(db, dep, clock.now(), "test");
    REQUIRE(id);
    dep.record_id = deployment_id = *id;
    REQUIRE(sh::deployment::save_deployment(db, dep, clock.now(), "selfheal", "deploy.full", "stage \"full\" <b>passed</b>"));
    parse({46, 61});
  }
};

}  // namespace

TEST_CASE("report: latency per window with onset and stage, before/after, escaped text", "[heal][report]") {
  healed_shop s;
  auto data = sh::heal::gather_report(s.db, {}, s.clock.now());
  REQUIRE(data);
  REQUIRE(data->cases.size() == 1);
  const auto& c = data->cases.front();
  CHECK(c.handler == "checkout");
  CHECK(c.deploy.record_id == s.deployment_id);
  // every window of the three telemetry records, once: 0..44 and 46..60
  CHECK(c.series.size() == 60);
  // the regression sits between the onset and the deploy, the healthy period after it
  REQUIRE(!c.before_p50_ms.empty());
  REQUIRE(!c.after_p50_ms.empty());
  CHECK(c.after_p50_ms.size() == 15);  // windows 46..60
  std::map<std::string, int> kinds;
  for (const auto& m : c.markers) ++kinds[m.kind];
  CHECK(kinds["onset"] == 1);
  CHECK(kinds["stage"] == 1);
  CHECK(kinds["rollback"] == 0);
  for (const auto& m : c.markers)
    if (m.kind == "onset") {  // detection put the onset at the slow period's start, within a window
      CHECK(m.t_ns >= t0 + 29 * W);
      CHECK(m.t_ns <= t0 + 31 * W);
    }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  CHECK(median(c.before_p50_ms) > 2.5 * median(c.after_p50_ms));  // checkout was 3x slower

  const std::string html = sh::heal::render_html(*data);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(polyline_points(html, "p50") == 60);
  CHECK(polyline_points(html, "p95") == 60);
  CHECK(count(html, "class=\"marker onset\"") == 1);
  CHECK(count(html, "class=\"marker stage\"") == 1);
  CHECK(count(html, "class=\"bar-before\"") >= 1);
  CHECK(count(html, "class=\"bar-after\"") >= 1);
  // text from the store never becomes markup, and nothing is fetched
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("&lt;b&gt;passed&lt;/b&gt;") != std::string::npos);
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  // the audit trail holds the deploy's rows, oldest first
  REQUIRE(data->audit.size() >= 2);
  CHECK(data->audit.front().action == "deploy.requested");
}

TEST_CASE("report: a rollback is marked, and records that are not deployments are refused by name", "[heal][report]") {
  healed_shop s;
  auto dep = sh::deployment::load_deployment(s.db, s.deployment_id);
  REQUIRE(dep);
  dep->status = "rolled_back";
  dep->rolled_back = sh::deployment::rollback{"0123456789abcdef", "canary judge: checkout.p50_ms high"};
  REQUIRE(sh::deployment::save_deployment(s.db, *dep, s.clock.now()));
  const std::vector<std::string> ids{s.deployment_id};
  auto data = sh::heal::gather_report(s.db, ids, s.clock.now());
  REQUIRE(data);
  const std::string html = sh::heal::render_html(*data);
  CHECK(count(html, "class=\"marker rollback\"") == 1);
  CHECK(html.find("Rolled back by <code>0123456789ab</code>") != std::string::npos);

  const std::vector<std::string> wrong{"telemetry-1"};
  auto refused = sh::heal::gather_report(s.db, wrong, s.clock.now());
  REQUIRE(!refused);
  CHECK(refused.error().message().find("telemetry-1") != std::string::npos);
  const std::vector<std::string> missing{"deployment-99"};
  auto none = sh::heal::gather_report(s.db, missing, s.clock.now());
  REQUIRE(!none);
  CHECK(none.error().code == sh::errc::not_found);
}

TEST_CASE("report and export read while another connection holds the write lock", "[heal][report][prometheus]") {
  healed_shop s;
  // the migrations report and export run are done once; a second pass writes nothing
  REQUIRE(sh::heal::gather_report(s.db, {}, s.clock.now()));
  REQUIRE(sh::heal::export_prometheus(s.db));
  auto writer = sh::store::database::open((s.dir.path() / "store.db").string());
  REQUIRE(writer);
  REQUIRE(writer->exec("BEGIN IMMEDIATE"));
  REQUIRE(sh::store::audit(*writer, s.clock.now(), "other", "other.write", "", "", "uncommitted"));
  s.db.set_busy_timeout(std::chrono::milliseconds(200));
  auto data = sh::heal::gather_report(s.db, {}, s.clock.now());
  REQUIRE(data);
  CHECK(data->cases.size() == 1);
  for (const auto& a : data->audit) CHECK(a.action != "other.write");  // not committed: not seen
  auto text = sh::heal::export_prometheus(s.db);
  REQUIRE(text);
  CHECK(text->find("selfheal_deployments_total{status=\"deployed\"} 1") != std::string::npos);
  REQUIRE(writer->exec("COMMIT"));
}

TEST_CASE("report: the latency line breaks where the telemetry has a gap", "[heal][report]") {
  healed_shop s;
  s.parse({80, 90});  // twenty windows without data, then ten more
  auto data = sh::heal::gather_report(s.db, {}, s.clock.now());
  REQUIRE(data);
  const auto html = sh::heal::render_html(*data);
  CHECK(polylines(html, "p50") == std::pair<std::size_t, std::size_t>{70, 2});  // the one-window gap at 45 joins
  CHECK(polylines(html, "p95") == std::pair<std::size_t, std::size_t>{70, 2});
}

TEST_CASE("report and export migrate a store written by an older selfheal", "[heal][report][prometheus]") {
  sh::test::temp_dir dir;
  const auto path = (dir.path() / "old.db").string();
  {
    // the first telemetry schema only, as the first release wrote it
    auto db = sh::store::database::open(path);
    REQUIRE(db);
    REQUIRE(sh::store::migrate(*db, "telemetry",
                               std::span<const std::string_view>(sh::telemetry::telemetry_migrations).first(1)));
  }
  auto db = sh::store::database::open_existing(path);
  REQUIRE(db);
  REQUIRE(sh::heal::export_prometheus(*db));
  REQUIRE(sh::heal::gather_report(*db, {}, sh::time_point{}));
  auto st = db->prepare("SELECT MAX(version) FROM schema_migrations WHERE component = 'telemetry'");
  REQUIRE(st);
  REQUIRE(st->step());
  CHECK(st->column_int(0) == static_cast<std::int64_t>(sh::telemetry::telemetry_migrations.size()));
}

TEST_CASE("report on an empty store says nothing was healed", "[heal][report]") {
  shop s;
  auto data = sh::heal::gather_report(s.db, {}, s.clock.now());
  REQUIRE(data);
  CHECK(data->cases.empty());
  const auto html = sh::heal::render_html(*data);
  CHECK(html.find("No deployment in the store yet") != std::string::npos);
}

namespace {

/// The exposition format read back: `name{labels} value` lines, HELP/TYPE comments checked for order.
struct exposition {
  std::map<std::string, double> samples;       ///< "name{labels}" → value
  std::map<std::string, std::string> types;    ///< family → type
};

exposition parse_exposition(const std::string& text) {
  exposition e;
  std::istringstream in(text);
  std::string family;
  for (std::string line; std::getline(in, line);) {
    REQUIRE(!line.empty());
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string type;
      t >> family >> type;
      REQUIRE((type == "gauge" || type == "counter" || type == "summary"));
      REQUIRE(e.types.emplace(family, type).second);  // each family declared once
      continue;
    }
    // a sample: its metric name starts with the family declared last (summary: _sum/_count too)
    const auto brace = line.find('{');
    const auto space = brace == std::string::npos ? line.find(' ') : line.find(' ', line.rfind('}'));
    REQUIRE(space != std::string::npos);
    const std::string name = line.substr(0, brace == std::string::npos ? space : brace);
    REQUIRE(name.rfind(family, 0) == 0);
    char* end = nullptr;
    const std::string value = line.substr(space + 1);
    const double v = std::strtod(value.c_str(), &end);
    REQUIRE(end != value.c_str());
    REQUIRE(*end == '\0');
    REQUIRE(e.samples.emplace(line.substr(0, space), v).second);  // no duplicate series
  }
  return e;
}

}  // namespace

TEST_CASE("export --prometheus: handler metrics of the latest record and the heal counters", "[heal][prometheus]") {
  healed_shop s;
  auto text = sh::heal::export_prometheus(s.db);
  REQUIRE(text);
  const auto e = parse_exposition(*text);
  CHECK(e.types.at("selfheal_handler_calls") == "gauge");
  CHECK(e.types.at("selfheal_handler_latency_ms") == "summary");
  CHECK(e.types.at("selfheal_deployments_total") == "counter");
  // the latest record is windows 46..60: 15 windows x 40 calls of each handler
  const std::string checkout = "{handler=\"checkout\",record=\"telemetry-3\"}";
  CHECK(e.samples.at("selfheal_handler_calls" + checkout) == 600);
  CHECK(e.samples.at("selfheal_handler_errors" + checkout) == 0);
  CHECK(e.samples.at("selfheal_handler_latency_ms_count" + checkout) == 600);
  const double p50 = e.samples.at("selfheal_handler_latency_ms{handler=\"checkout\",record=\"telemetry-3\",quantile=\"0.5\"}");
  CHECK(p50 >= 10.0);  // checkout takes 10-16 ms in the healthy period
  CHECK(p50 <= 16.0);
  CHECK(e.samples.at("selfheal_deployments_total{status=\"deployed\"}") == 1);
  CHECK(e.samples.at("selfheal_rollbacks_total") == 0);
}

TEST_CASE("export --prometheus escapes label values and works on an empty store", "[heal][prometheus]") {
  shop s;
  auto empty = sh::heal::export_prometheus(s.db);
  REQUIRE(empty);
  const auto e = parse_exposition(*empty);
  CHECK(e.types.count("selfheal_handler_calls") == 0);
  CHECK(e.samples.at("selfheal_deployments_total{status=\"deployed\"}") == 0);

  // a handler name holding a quote, a backslash and a line feed stays one label value
  const fs::path file = s.dir.path() / "hostile.ndjson";
  {
    std::ofstream out(file);
    out << R"({"ts":1767225600000,"handler":"evil\"\\\nselfheal_rollbacks_total 99","durationMs":5,"event":"beat-completed"})" << '\n';
  }
  sh::telemetry::parse_request req;
  req.paths = {file.string()};
  req.threads = 1;
  REQUIRE(sh::run(sh::telemetry::parse_telemetry, s.ctx, std::move(req)));
  auto text = sh::heal::export_prometheus(s.db);
  REQUIRE(text);
  const auto h = parse_exposition(*text);
  CHECK(h.samples.at("selfheal_rollbacks_total") == 0);
  CHECK(h.samples.at("selfheal_handler_calls{handler=\"evil\\\"\\\\\\nselfheal_rollbacks_total 99\",record=\"telemetry-1\"}") == 1);
}

TEST_CASE("report renders in headless Chromium: charts drawn, no console error, a screenshot kept",
          "[heal][report][browser][slow]") {
  healed_shop s;
  auto data = sh::heal::gather_report(s.db, {}, s.clock.now());
  REQUIRE(data);
  const fs::path page = s.dir.path() / "report.html";
  {
    std::ofstream out(page);
    out << sh::heal::render_html(*data);
  }
  // kept as a CI artefact next to the test binaries
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  const fs::path artefacts = fs::path(bin ? bin : ".") / "artifacts";
  fs::create_directories(artefacts);
  const fs::path shot = artefacts / "report.png";
  fs::remove(shot);

  const std::vector<std::string> common{"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                        "--disable-extensions", "--enable-logging=stderr", "--v=0",
                                        "--user-data-dir=" + (s.dir.path() / "profile").string()};
  sh::process_options opts;
  opts.timeout = std::chrono::seconds(90);

  auto dom_args = common;
  dom_args.insert(dom_args.end(), {"--dump-dom", "file://" + page.string()});
  auto dom = sh::run_process(dom_args, opts);
  REQUIRE(dom);
  INFO(dom->err);
  REQUIRE(dom->exit_code == 0);
  // the browser built the SVG elements the page declares
  CHECK(count(dom->out, "<polyline") == 2);  // p50 and p95, no gap in this store
  CHECK(count(dom->out, "<svg") == 2);
  CHECK(count(dom->out, "<rect") >= 2);
  CHECK(dom->err.find("CONSOLE") == std::string::npos);
  CHECK(dom->err.find("Uncaught") == std::string::npos);

  auto shot_args = common;
  shot_args.insert(shot_args.end(), {"--hide-scrollbars", "--window-size=900,2200", "--screenshot=" + shot.string(),
                                     "file://" + page.string()});
  auto png = sh::run_process(shot_args, opts);
  REQUIRE(png);
  INFO(png->err);
  REQUIRE(png->exit_code == 0);
  REQUIRE(fs::exists(shot));
  std::ifstream in(shot, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  CHECK(std::string(magic, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(fs::file_size(shot) > 20'000);  // a drawn page, not a blank one
}
