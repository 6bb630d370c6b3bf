#pragma once
/// \file
/// `selfheal report --html`: what selfheal saw and did, as one self-contained HTML file.
///
/// `gather_report` reads the store: for each deployment (or each one a heal run or the caller names)
/// it follows the records back — deployment → validation → fix patch → diagnosis — and collects the
/// handler's latency per telemetry window over every telemetry record, with the anomaly's onset, the
/// stages and the rollback as markers, the per-window p50s before and after the deploy, and the
/// audit trail. `render_html` draws it with inline SVG and inline CSS: no script, no network, so the
/// file opens anywhere and archives as it is. Every string from the store is escaped.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "selfheal/anomaly/store.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/deployment/store.hpp"
#include "selfheal/diagnosis/store.hpp"
#include "selfheal/fix/store.hpp"
#include "selfheal/heal/store.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/store.hpp"
#include "selfheal/validation/store.hpp"

namespace selfheal::heal {

/// One telemetry window of a handler, merged over every record that holds part of it.
struct series_point {
  std::int64_t t_ns = 0;
  double p50_ms = 0, p95_ms = 0;
  std::uint64_t count = 0, errors = 0;
};

/// A moment worth a vertical line on the chart.
struct chart_marker {
  std::int64_t t_ns = 0;
  std::string kind;   ///< onset | stage | rollback
  std::string label;
};

/// One row of the append-only audit log.
struct audit_row {
  std::int64_t at_ns = 0;
  std::string actor, action, target, record, detail;
};

/// One deployment and everything behind it.
struct report_case {
  std::string handler;
  deployment::record deploy;
  std::optional<validation::report> validation;
  std::optional<fix::patch> patch;
  std::optional<diagnosis::diagnosis_item> diagnosis;
  std::string story;  ///< the heal run's account, when a heal run made this deployment
  std::vector<series_point> series;
  std::vector<chart_marker> markers;
  std::vector<double> before_p50_ms, after_p50_ms;  ///< per window, before the first stage / after the last
  std::vector<std::string> warnings;  ///< links that could not be followed (a pruned record, ...)
};

struct report_data {
  std::vector<report_case> cases;
  std::vector<audit_row> audit;
  std::int64_t generated_ns = 0;
};

namespace detail_report {

[[nodiscard]] inline result<std::vector<std::string>> ids_of_kind(store::database& db, std::string_view kind) {
  auto st = db.prepare("SELECT id FROM records WHERE kind = ?1 ORDER BY seq");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, kind);
  std::vector<std::string> out;
  for (;;) {
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    out.push_back(st->column_text(0));
  }
  return out;
}

[[nodiscard]] inline result<std::optional<std::string>> kind_of(store::database& db, std::string_view id) {
  auto st = db.prepare("SELECT kind FROM records WHERE id = ?1");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, id);
  auto row = st->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<std::string>{};
  return std::optional<std::string>(st->column_text(0));
}

/// The handler's windows over every telemetry record, merged by window start (a window that an
/// incremental parse split over two records is one point).
[[nodiscard]] inline result<std::vector<series_point>> handler_series(store::database& db, std::string_view handler,
                                                                      std::span<const std::string> telemetry_records) {
  std::map<std::int64_t, telemetry::metric_stats> windows;
  for (const auto& rec : telemetry_records) {
    auto ms = telemetry::load_window_metrics(db, rec);
    if (!ms) return tl::unexpected(ms.error());
    for (auto& m : *ms)
      if (m.scope == telemetry::metric_scope::handler && m.name == handler && m.window_start_ns != telemetry::no_time)
        windows[m.window_start_ns].merge(m.stats);
  }
  std::vector<series_point> out;
  out.reserve(windows.size());
  for (const auto& [t, s] : windows)
    out.push_back({t, s.timed ? s.quantile_ms(0.5) : 0.0, s.timed ? s.quantile_ms(0.95) : 0.0, s.count, s.errors});
  return out;
}

[[nodiscard]] inline result<std::vector<audit_row>> load_audit(store::database& db, std::size_t limit) {
  auto st = db.prepare(
      "SELECT at_ns, actor, action, COALESCE(target,''), COALESCE(record,''), COALESCE(detail,'') "
      "FROM audit_log ORDER BY id DESC LIMIT ?1");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, static_cast<std::int64_t>(limit));
  std::vector<audit_row> out;
  for (;;) {
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    out.push_back({st->column_int(0), st->column_text(1), st->column_text(2), st->column_text(3), st->column_text(4),
                   st->column_text(5)});
  }
  std::reverse(out.begin(), out.end());  // oldest first: the trail reads as a story
  return out;
}

}  // namespace detail_report

/// Reads what the report shows. `records` names deployment or heal records (a heal record stands for
/// the deployments its anomalies made); empty means every deployment in the store.
[[nodiscard]] inline result<report_data> gather_report(store::database& db, std::span<const std::string> records,
                                                       time_point now, std::size_t audit_limit = 500) {
  report_data out;
  out.generated_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  if (auto m = heal::migrate(db); !m) return tl::unexpected(m.error());

  // which deployments, and the heal story of each when a heal run made it
  std::vector<std::string> deployments;
  std::map<std::string, anomaly_progress> progress_of;  // deployment record → the heal step that made it
  auto heal_runs = detail_report::ids_of_kind(db, "heal");
  if (!heal_runs) return tl::unexpected(heal_runs.error());
  for (const auto& h : *heal_runs) {
    auto run = load_run(db, h);
    if (!run) return tl::unexpected(run.error());
    for (const auto& a : run->anomalies)
      if (!a.deployment.empty()) progress_of[a.deployment] = a;
  }
  if (records.empty()) {
    auto all = detail_report::ids_of_kind(db, deployment::record_kind);
    if (!all) return tl::unexpected(all.error());
    deployments = std::move(*all);
  } else {
    for (const auto& id : records) {
      auto kind = detail_report::kind_of(db, id);
      if (!kind) return tl::unexpected(kind.error());
      if (!*kind) return fail(errc::not_found, "no record '" + id + "' in the store");
      if (**kind == deployment::record_kind) {
        deployments.push_back(id);
      } else if (**kind == "heal") {
        auto run = load_run(db, id);
        if (!run) return tl::unexpected(run.error());
        for (const auto& a : run->anomalies)
          if (!a.deployment.empty()) deployments.push_back(a.deployment);
      } else {
        return fail(errc::invalid_request,
                    "record '" + id + "' is a " + **kind + " record; the report starts from deployment or heal records");
      }
    }
  }

  auto telemetry_records = detail_report::ids_of_kind(db, telemetry::record_kind);
  if (!telemetry_records) return tl::unexpected(telemetry_records.error());

  for (const auto& dep_id : deployments) {
    report_case c;
    auto dep = deployment::load_deployment(db, dep_id);
    if (!dep) return tl::unexpected(dep.error());
    c.deploy = std::move(*dep);
    c.handler = c.deploy.handler;
    if (auto it = progress_of.find(dep_id); it != progress_of.end()) c.story = it->second.story;

    // deployment → validation → patch → diagnosis; a link that is gone is a warning, not a failure
    if (!c.deploy.validation_record.empty()) {
      if (auto v = validation::load_validation(db, c.deploy.validation_record)) c.validation = std::move(*v);
      else c.warnings.push_back(v.error().message());
    }
    if (c.validation && !c.validation->patch_id.empty() && c.validation->patch_id.rfind("file:", 0) != 0) {
      if (auto p = fix::load_patch(db, c.validation->patch_id)) c.patch = std::move(*p);
      else c.warnings.push_back(p.error().message());
    }
    if (c.patch && !c.patch->diagnosis_record.empty()) {
      if (auto ds = diagnosis::load_diagnoses(db, c.patch->diagnosis_record)) {
        for (auto& d : *ds)
          if (d.anomaly_id == c.patch->anomaly_id) c.diagnosis = std::move(d);
      } else {
        c.warnings.push_back(ds.error().message());
      }
    }

    auto series = detail_report::handler_series(db, c.handler, *telemetry_records);
    if (!series) return tl::unexpected(series.error());
    c.series = std::move(*series);

    // markers: the anomaly's onset, each stage's start, the rollback
    std::int64_t onset = telemetry::no_time;
    if (auto it = progress_of.find(dep_id); it != progress_of.end() && it->second.onset_ns) onset = it->second.onset_ns;
    if (onset == telemetry::no_time && !c.deploy.anomaly_id.empty()) {
      const auto record = anomaly::record_of_anomaly(c.deploy.anomaly_id);
      if (auto as = record ? anomaly::load_anomalies(db, *record) : result<std::vector<anomaly::stored_anomaly>>{}) {
        for (const auto& a : *as)
          if (a.id == c.deploy.anomaly_id && a.onset_ns != anomaly::no_time_ns) onset = a.onset_ns;
      }
    }
    if (onset != telemetry::no_time) c.markers.push_back({onset, "onset", "onset"});
    std::int64_t first_stage = 0, last_stage = 0;
    for (const auto& s : c.deploy.stages) {
      if (!s.started_ns) continue;
      c.markers.push_back({s.started_ns, "stage", s.stage + " (" + s.verdict + ")"});
      if (!first_stage || s.started_ns < first_stage) first_stage = s.started_ns;
      last_stage = std::max(last_stage, s.finished_ns ? s.finished_ns : s.started_ns);
    }
    if (c.deploy.rolled_back && last_stage) c.markers.push_back({last_stage, "rollback", "rollback"});

    // before: windows between the onset and the first stage (the regression the fix answered);
    // after: windows that start after the last stage finished
    for (const auto& p : c.series) {
      if (!p.count || p.p50_ms <= 0) continue;
      if (first_stage && p.t_ns < first_stage && (onset == telemetry::no_time || p.t_ns >= onset))
        c.before_p50_ms.push_back(p.p50_ms);
      else if (last_stage && p.t_ns >= last_stage)
        c.after_p50_ms.push_back(p.p50_ms);
    }
    out.cases.push_back(std::move(c));
  }

  auto audit = detail_report::load_audit(db, audit_limit);
  if (!audit) return tl::unexpected(audit.error());
  out.audit = std::move(*audit);
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTML

namespace detail_report {

/// HTML-escapes text; control characters become U+FFFD so nothing from a log drives the page.
inline void escape(std::string& out, std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((c < 0x20 && ch != '\n' && ch != '\t') || c == 0x7f) out += "\xEF\xBF\xBD";
        else out.push_back(ch);
    }
  }
}

[[nodiscard]] inline std::string esc(std::string_view s) {
  std::string out;
  escape(out, s);
  return out;
}

[[nodiscard]] inline std::string num(double v, int precision = 2) {
  return fmt::format("{:.{}f}", v, precision);
}

/// A duration in ms with three significant digits: 0.000547, 6.42, 1.17e+04.
[[nodiscard]] inline std::string ms(double v) {
  return fmt::format("{:.3g}", v);
}

[[nodiscard]] inline std::string when(std::int64_t ns) {
  return format_iso8601_ms(time_point(std::chrono::nanoseconds(ns)));
}

/// Maps values to pixels, linearly or (for ranges over 30×) on a log scale.
struct axis {
  double lo = 0, hi = 1;
  bool log = false;
  double px0 = 0, px1 = 1;  ///< pixel of lo, pixel of hi

  [[nodiscard]] double operator()(double v) const {
    const double a = log ? std::log10(std::max(v, lo)) : v;
    const double l = log ? std::log10(lo) : lo;
    const double h = log ? std::log10(hi) : hi;
    return h > l ? px0 + (a - l) / (h - l) * (px1 - px0) : (px0 + px1) / 2;
  }
};

inline constexpr int chart_w = 760, chart_h = 260, pad_l = 64, pad_r = 16, pad_t = 16, pad_b = 40;

/// Latency per window (p50 and p95) with the markers as vertical lines.
inline void latency_chart(std::string& out, const report_case& c) {
  out += "<svg class=\"chart latency\" role=\"img\" viewBox=\"0 0 " + std::to_string(chart_w) + " " +
         std::to_string(chart_h) + "\" width=\"" + std::to_string(chart_w) + "\" height=\"" + std::to_string(chart_h) +
         "\"><title>" + esc(c.handler) + ": latency per window</title>";
  std::vector<const series_point*> pts;
  for (const auto& p : c.series)
    if (p.count && p.p50_ms > 0) pts.push_back(&p);
  if (pts.empty()) {
    out += "<text x=\"20\" y=\"40\">no timed telemetry for this handler</text></svg>";
    return;
  }
  std::int64_t t0 = pts.front()->t_ns, t1 = pts.back()->t_ns;
  for (const auto& m : c.markers) {
    t0 = std::min(t0, m.t_ns);
    t1 = std::max(t1, m.t_ns);
  }
  if (t1 == t0) t1 = t0 + 1;
  double lo = pts.front()->p50_ms, hi = lo;
  for (const auto* p : pts) {
    lo = std::min(lo, p->p50_ms);
    hi = std::max({hi, p->p50_ms, p->p95_ms});
  }
  axis y{lo, hi, hi / lo > 30.0, static_cast<double>(chart_h - pad_b), static_cast<double>(pad_t)};
  if (!y.log) {
    y.lo = 0;
    y.hi = hi * 1.1;
  } else {
    y.lo = lo / 1.5;
    y.hi = hi * 1.5;
  }
  const auto x = [&](std::int64_t t) {
    return pad_l + static_cast<double>(t - t0) / static_cast<double>(t1 - t0) * (chart_w - pad_l - pad_r);
  };
  // axes and y ticks
  out += "<line class=\"axis\" x1=\"" + std::to_string(pad_l) + "\" y1=\"" + std::to_string(chart_h - pad_b) + "\" x2=\"" +
         std::to_string(chart_w - pad_r) + "\" y2=\"" + std::to_string(chart_h - pad_b) + "\"/>";
  out += "<line class=\"axis\" x1=\"" + std::to_string(pad_l) + "\" y1=\"" + std::to_string(pad_t) + "\" x2=\"" +
         std::to_string(pad_l) + "\" y2=\"" + std::to_string(chart_h - pad_b) + "\"/>";
  for (int i = 0; i <= 4; ++i) {
    const double v = y.log ? std::pow(10.0, std::log10(y.lo) + (std::log10(y.hi) - std::log10(y.lo)) * i / 4.0)
                           : y.lo + (y.hi - y.lo) * i / 4.0;
    out += "<text class=\"tick\" x=\"" + std::to_string(pad_l - 6) + "\" y=\"" + num(y(v) + 4, 1) +
           "\" text-anchor=\"end\">" + ms(v) + "</text>";
  }
  out += "<text class=\"tick\" x=\"" + std::to_string(pad_l) + "\" y=\"" + std::to_string(chart_h - 8) + "\">" +
         esc(when(t0)) + "</text><text class=\"tick\" x=\"" + std::to_string(chart_w - pad_r) + "\" y=\"" +
         std::to_string(chart_h - 8) + "\" text-anchor=\"end\">" + esc(when(t1)) + "</text>";
  out += std::string("<text class=\"tick\" x=\"4\" y=\"") + std::to_string(chart_h - pad_b + 14) + "\">ms" +
         (y.log ? " (log)" : "") + "</text>";
  // markers
  for (const auto& m : c.markers) {
    const std::string xs = num(x(m.t_ns), 1);
    out += "<line class=\"marker " + esc(m.kind) + "\" x1=\"" + xs + "\" y1=\"" + std::to_string(pad_t) + "\" x2=\"" + xs +
           "\" y2=\"" + std::to_string(chart_h - pad_b) + "\"><title>" + esc(m.label) + " " + esc(when(m.t_ns)) +
           "</title></line><text class=\"marker-label " + esc(m.kind) + "\" x=\"" + num(x(m.t_ns) + 3, 1) + "\" y=\"" +
           std::to_string(pad_t + 12) + "\">" + esc(m.label) + "</text>";
  }
  // the two series, broken where the telemetry has a gap (more than three windows without data:
  // selfheal was not watching, or the service was down), so no line claims what was not measured
  std::vector<std::int64_t> steps;
  for (std::size_t i = 1; i < pts.size(); ++i) steps.push_back(pts[i]->t_ns - pts[i - 1]->t_ns);
  std::int64_t window = 0;
  if (!steps.empty()) {
    std::nth_element(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(steps.size() / 2), steps.end());
    window = steps[steps.size() / 2];
  }
  for (const bool p95 : {true, false}) {
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const bool gap = i > 0 && window > 0 && pts[i]->t_ns - pts[i - 1]->t_ns > 3 * window;
      if (i == 0 || gap) {
        if (i) out += "\"/>";
        out += std::string("<polyline class=\"") + (p95 ? "p95" : "p50") + "\" fill=\"none\" points=\"";
      }
      out += num(x(pts[i]->t_ns), 1) + "," + num(y(p95 ? std::max(pts[i]->p95_ms, y.lo) : pts[i]->p50_ms), 1) + " ";
    }
    out += "\"/>";
  }
  out += "</svg>";
}

/// Per-window p50s before and after the deploy, as two histograms over shared bins.
inline void distribution_chart(std::string& out, const report_case& c) {
  if (c.before_p50_ms.empty() && c.after_p50_ms.empty()) {
    out += "<p class=\"muted\">No windows before or after the deploy to compare.</p>";
    return;
  }
  double lo = 0, hi = 0;
  bool first = true;
  for (const auto* v : {&c.before_p50_ms, &c.after_p50_ms})
    for (double x : *v) {
      lo = first ? x : std::min(lo, x);
      hi = first ? x : std::max(hi, x);
      first = false;
    }
  const bool log = lo > 0 && hi / lo > 30.0;
  const double l = log ? std::log10(lo) : lo, h = (log ? std::log10(hi) : hi) + 1e-9;
  constexpr int bins = 24, w = 760, ht = 180, pl = 40, pb = 30;
  std::vector<int> before(bins), after(bins);
  const auto bin = [&](double v) {
    const double a = log ? std::log10(v) : v;
    return std::clamp(static_cast<int>((a - l) / (h - l + 1e-12) * bins), 0, bins - 1);
  };
  for (double v : c.before_p50_ms) ++before[static_cast<std::size_t>(bin(v))];
  for (double v : c.after_p50_ms) ++after[static_cast<std::size_t>(bin(v))];
  int top = 1;
  for (int i = 0; i < bins; ++i) top = std::max({top, before[static_cast<std::size_t>(i)], after[static_cast<std::size_t>(i)]});
  out += "<svg class=\"chart distribution\" role=\"img\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(ht) +
         "\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(ht) + "\"><title>" + esc(c.handler) +
         ": p50 per window before and after the deploy</title>";
  const double bw = static_cast<double>(w - pl - 10) / bins;
  for (int i = 0; i < bins; ++i)
    for (const bool is_after : {false, true}) {
      const int n = (is_after ? after : before)[static_cast<std::size_t>(i)];
      if (!n) continue;
      const double bh = static_cast<double>(n) / top * (ht - pb - 10);
      out += std::string("<rect class=\"") + (is_after ? "bar-after" : "bar-before") + "\" x=\"" +
             num(pl + i * bw + (is_after ? bw / 2 : 0), 1) + "\" y=\"" + num(ht - pb - bh, 1) + "\" width=\"" +
             num(bw / 2 - 1, 1) + "\" height=\"" + num(bh, 1) + "\"><title>" + std::to_string(n) + " windows</title></rect>";
    }
  const auto val = [&](double a) { return log ? std::pow(10.0, a) : a; };
  out += "<text class=\"tick\" x=\"" + std::to_string(pl) + "\" y=\"" + std::to_string(ht - 8) + "\">" + ms(val(l)) +
         " ms</text><text class=\"tick\" x=\"" + std::to_string(w - 10) + "\" y=\"" + std::to_string(ht - 8) +
         "\" text-anchor=\"end\">" + ms(val(h)) + " ms" + (log ? " (log bins)" : "") + "</text></svg>";
  const auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  out += "<p class=\"legend\"><span class=\"swatch before\"></span>before: " + std::to_string(c.before_p50_ms.size()) +
         " windows, median p50 " + ms(median(c.before_p50_ms)) + " ms &nbsp; <span class=\"swatch after\"></span>after: " +
         std::to_string(c.after_p50_ms.size()) + " windows, median p50 " + ms(median(c.after_p50_ms)) + " ms</p>";
}

inline void diff_block(std::string& out, std::string_view diff) {
  out += "<pre class=\"diff\">";
  std::size_t i = 0;
  while (i < diff.size()) {
    auto nl = diff.find('\n', i);
    if (nl == std::string_view::npos) nl = diff.size();
    const std::string_view line = diff.substr(i, nl - i);
    const char* cls = line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") ? "file"
                      : line.starts_with("@@")                                                          ? "hunk"
                      : line.starts_with("+")                                                           ? "add"
                      : line.starts_with("-")                                                           ? "del"
                                                                                                        : "ctx";
    out += std::string("<span class=\"") + cls + "\">";
    escape(out, line);
    out += "</span>\n";
    i = nl + 1;
  }
  out += "</pre>";
}

inline constexpr std::string_view style = R"css(
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:820px;color:#1d2430}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccd}h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #e4e6ee;padding:3px 6px;text-align:left;vertical-align:top}
.muted{color:#6a7080}.pass{color:#1a7f37}.fail{color:#c62828}.marginal,.skipped{color:#9a6700}
.story{background:#f4f6fb;border-left:3px solid #4c6ef5;padding:.6em 1em;white-space:pre-wrap}
svg.chart{background:#fbfcfe;border:1px solid #e4e6ee;margin:.5em 0}
.axis{stroke:#8a90a0}.tick{font-size:11px;fill:#6a7080}
polyline.p50{stroke:#4c6ef5;stroke-width:2}polyline.p95{stroke:#a5b4fc;stroke-width:1.5;stroke-dasharray:4 3}
.marker{stroke-width:1.5}.marker.onset{stroke:#c62828;stroke-dasharray:5 3}.marker.stage{stroke:#1a7f37}.marker.rollback{stroke:#e8590c}
.marker-label{font-size:11px}.marker-label.onset{fill:#c62828}.marker-label.stage{fill:#1a7f37}.marker-label.rollback{fill:#e8590c}
.bar-before{fill:#f59f9f}.bar-after{fill:#74c69d}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
.swatch.before{background:#f59f9f}.swatch.after{background:#74c69d}.swatch.p50{background:#4c6ef5}.swatch.p95{background:#a5b4fc}
.swatch.onset{background:#c62828}.swatch.stage{background:#1a7f37}.swatch.rollback{background:#e8590c}.legend{font-size:12px;color:#6a7080}
pre.diff{background:#fafbfc;border:1px solid #e4e6ee;padding:.6em;overflow-x:auto;font-size:12px;line-height:1.35}
.diff .add{color:#1a7f37;background:#e6ffec}.diff .del{color:#c62828;background:#ffebe9}.diff .hunk{color:#6f42c1}.diff .file{font-weight:bold}
code{font-size:12px}
)css";

}  // namespace detail_report

/// The report as one HTML document.
[[nodiscard]] inline std::string render_html(const report_data& d) {
  using detail_report::esc;
  using detail_report::num;
  using detail_report::when;
  std::string out;
  out.reserve(64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>selfheal report</title><style>";
  out += detail_report::style;
  out += "</style></head><body>\n<h1>selfheal report</h1>\n<p class=\"muted\">Generated " + esc(when(d.generated_ns)) + " · " +
         std::to_string(d.cases.size()) + " deployment" + (d.cases.size() == 1 ? "" : "s") + " · " +
         std::to_string(d.audit.size()) + " audit entries</p>\n";
  if (d.cases.empty()) out += "<p>No deployment in the store yet: nothing was healed.</p>\n";

  for (const auto& c : d.cases) {
    const auto& dep = c.deploy;
    out += "<section class=\"case\" id=\"" + esc(dep.record_id) + "\">\n<h2>" + esc(c.handler.empty() ? "(no handler)" : c.handler) +
           " — <span class=\"" + esc(dep.status == "deployed" ? "pass" : dep.status == "rolled_back" ? "fail" : "marginal") +
           "\">" + esc(dep.status) + "</span></h2>\n";
    out += "<p class=\"muted\">" + esc(dep.record_id) + " · anomaly " + esc(dep.anomaly_id) + " (" + esc(dep.anomaly_type) +
           ") · strategy " + esc(dep.strategy) + (dep.deployed_ns ? " · deployed " + esc(when(dep.deployed_ns)) : "") + "</p>\n";
    if (!c.story.empty()) out += "<div class=\"story\">" + esc(c.story) + "</div>\n";
    for (const auto& w : c.warnings) out += "<p class=\"fail\">" + esc(w) + "</p>\n";

    out += "<h3>Latency per window</h3>\n";
    detail_report::latency_chart(out, c);
    out += "\n<p class=\"legend\"><span class=\"swatch p50\"></span>p50 <span class=\"swatch p95\"></span>p95 per window; "
           "<span class=\"swatch onset\"></span>onset <span class=\"swatch stage\"></span>stage "
           "<span class=\"swatch rollback\"></span>rollback</p>\n<h3>Before and after</h3>\n";
    detail_report::distribution_chart(out, c);

    if (c.diagnosis) {
      const auto& g = *c.diagnosis;
      out += "\n<h3>Diagnosis</h3>\n<p>" + esc(g.root_cause) + " <span class=\"muted\">(confidence " + num(g.confidence) +
             ")</span></p>\n";
      if (g.where) out += "<p>Location: <code>" + esc(g.where->file) + ":" + std::to_string(g.where->line) + "</code> " +
                          esc(g.where->symbol) + "</p>\n";
      if (!g.suspects.empty()) {
        out += "<table class=\"suspects\"><tr><th>commit</th><th>summary</th><th>author</th><th>score</th></tr>";
        for (std::size_t i = 0; i < g.suspects.size() && i < 5; ++i) {
          const auto& s = g.suspects[i];
          out += std::string("<tr") + (i == 0 ? " class=\"blamed\"" : "") + "><td><code>" + esc(s.commit.substr(0, 12)) +
                 "</code></td><td>" + esc(s.summary) + "</td><td>" + esc(s.author) + "</td><td>" + num(s.score, 3) + "</td></tr>";
        }
        out += "</table>\n";
      }
      if (!g.evidence.empty()) {
        out += "<ul class=\"evidence\">";
        for (const auto& e : g.evidence) out += "<li>" + esc(e) + "</li>";
        out += "</ul>\n";
      }
    }
    if (c.patch) {
      out += "<h3>Patch " + esc(c.patch->id) + " (" + esc(c.patch->strategy) + ")</h3>\n";
      detail_report::diff_block(out, c.patch->diff);
    } else if (c.validation && !c.validation->diff.empty()) {
      out += "<h3>Patch</h3>\n";
      detail_report::diff_block(out, c.validation->diff);
    }
    if (c.validation) {
      out += "\n<h3>Validation " + esc(c.validation->record_id) + ": <span class=\"" + esc(c.validation->verdict) + "\">" +
             esc(c.validation->verdict) + "</span></h3>\n<table class=\"checks\"><tr><th>check</th><th>status</th><th>s</th><th>detail</th></tr>";
      for (const auto& k : c.validation->checks)
        out += "<tr><td>" + esc(k.name) + "</td><td class=\"" + esc(k.status) + "\">" + esc(k.status) + "</td><td>" +
               num(k.seconds, 1) + "</td><td>" + esc(k.detail) + "</td></tr>";
      out += "</table>\n";
    }
    if (!dep.stages.empty()) {
      out += "<h3>Stages</h3>\n<table class=\"stages\"><tr><th>stage</th><th>verdict</th><th>score</th><th>started</th><th>metrics</th></tr>";
      for (const auto& s : dep.stages) {
        out += "<tr><td>" + esc(s.stage) + "</td><td class=\"" + esc(s.verdict) + "\">" + esc(s.verdict) + "</td><td>" +
               num(s.score, 0) + "</td><td>" + (s.started_ns ? esc(when(s.started_ns)) : std::string("—")) + "</td><td>";
        for (const auto& m : s.metrics)
          out += "<div>" + esc(m.name) + ": <span class=\"" + esc(m.classification == "pass" ? "pass" : m.classification == "nodata" ? "skipped" : "fail") +
                 "\">" + esc(m.classification) + "</span> " + num(m.baseline) + " → " + num(m.canary) + "</div>";
        out += "</td></tr>";
      }
      out += "</table>\n";
      if (dep.rolled_back)
        out += "<p class=\"fail\">Rolled back by <code>" + esc(dep.rolled_back->commit.substr(0, 12)) + "</code>: " +
               esc(dep.rolled_back->reason) + "</p>\n";
    }
    out += "</section>\n";
  }

  out += "<h2>Audit trail</h2>\n";
  if (d.audit.empty()) {
    out += "<p class=\"muted\">The audit log is empty.</p>\n";
  } else {
    out += "<table class=\"audit\"><tr><th>at</th><th>actor</th><th>action</th><th>target</th><th>record</th><th>detail</th></tr>";
    for (const auto& a : d.audit)
      out += "<tr><td>" + esc(when(a.at_ns)) + "</td><td>" + esc(a.actor) + "</td><td>" + esc(a.action) + "</td><td>" +
             esc(a.target) + "</td><td>" + esc(a.record) + "</td><td>" + esc(a.detail) + "</td></tr>";
    out += "</table>\n";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace selfheal::heal
