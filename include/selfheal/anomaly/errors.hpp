#pragma once
/// \file
/// detectErrorPatterns: error-rate rises and error-template changes.
///
/// **Error rate.** Per handler, the onset of a rise in the per-window error rate
/// (`stats::change_onset`: CUSUM alarm against the baseline rate with binomial noise, then the
/// likelihood-ratio shift point; no alarm → the whole period), then a pooled two-proportion z-test
/// of the error share since the onset against the baseline's (one-sided, H1: it rose) at `alpha`;
/// flagged only with at least `min_errors` failed calls and a rise of at least `min_rate_increase`
/// (absolute), so a large but harmless volume cannot make 0.10% → 0.11% "significant". (The onset
/// is chosen on the same data that is tested; the strict `alpha` absorbs that selection.)
///
/// **Templates.** One `template_miner` learns the baseline's error messages first, then the
/// current ones. A template with no baseline messages and at least `new_template_min_count`
/// current ones is `new_error_template`. A known template is `error_template_spike` when its
/// current count, against its baseline count on the same handlers scaled by exposure
/// (current/baseline executions of those handlers, or of everything), is at least `spike_ratio`
/// times that expectation, at least `spike_min_count`, unlikely under Poisson(expectation) at
/// `alpha`, and its share of those handlers' errors rose too (two-proportion test at `spike_share_alpha`): a
/// template that grows only because its handler fails more often is that handler's `error_rate`.

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/performance.hpp"
#include "selfheal/anomaly/stats.hpp"
#include "selfheal/anomaly/templates.hpp"

namespace selfheal::anomaly {

/// Error-rate rise of one handler, or nullopt.
[[nodiscard]] inline std::optional<anomaly> detect_error_rate(const handler_series& s, const handler_baseline& b,
                                                              const error_options& o = {}) {
  if (b.samples == 0 || s.total_errors() < o.min_errors) return std::nullopt;
  const double p1 = b.error_rate();
  std::vector<double> rates;
  std::vector<std::int64_t> starts;
  std::vector<const window_point*> ws;
  double calls = 0;
  for (const auto& w : s.windows)
    if (w.count) {
      rates.push_back(static_cast<double>(w.errors) / static_cast<double>(w.count));
      starts.push_back(w.start_ns);
      ws.push_back(&w);
      calls += static_cast<double>(w.count);
    }
  if (rates.empty()) return std::nullopt;
  // binomial noise of a window's rate at the baseline rate, or the baseline's own spread if larger
  const double per_window = calls / static_cast<double>(rates.size());
  const double sigma = std::max({1.482602218505602 * b.error_rate_windows.mad,
                                 std::sqrt(std::max(p1, 1e-3) * (1 - p1) / std::max(1.0, per_window)), 1e-4});
  const std::size_t onset = stats::change_onset(rates, p1, sigma, true, 0.5, 5.0, 3).value_or(0);
  std::uint64_t n = 0, x = 0;
  for (std::size_t i = onset; i < ws.size(); ++i) { n += ws[i]->count; x += ws[i]->errors; }
  if (n == 0 || x < o.min_errors) return std::nullopt;
  const auto t = stats::two_proportion_z(b.errors, b.samples, x, n);
  if (t.p_greater >= o.alpha || t.p2 - t.p1 < o.min_rate_increase) return std::nullopt;
  anomaly a;
  a.kind = anomaly_kind::error_rate;
  a.kinds = {a.kind};
  a.handler = s.handler;
  a.sequence = s.sequence.empty() ? b.sequence : s.sequence;
  a.onset_ns = starts[onset];
  const double ratio = t.p1 > 0 ? t.p2 / t.p1 : 1e3;
  a.level = t.p2 >= 0.25 ? severity::critical : t.p2 >= 0.10 ? severity::high : t.p2 >= 0.03 ? severity::medium : severity::low;
  a.confidence = std::clamp((1.0 - t.p_greater) * std::sqrt(std::max(b.confidence, 0.25)), 0.0, 1.0);
  a.description = "error rate " + detail::fmt_num(t.p2 * 100) + "% vs " + detail::fmt_num(t.p1 * 100) +
                  "% in the baseline (" + std::to_string(x) + " of " + std::to_string(n) +
                  " calls since " + iso8601(a.onset_ns) + "); two-proportion z=" + detail::fmt_num(t.z) + ", p=" + detail::fmt_num(t.p_greater, 2);
  a.number("error_rate", t.p2).number("baseline_error_rate", t.p1).number("ratio", ratio);
  a.number("errors", static_cast<double>(x)).number("calls", static_cast<double>(n));
  a.number("z", t.z).number("p_value", t.p_greater);
  return a;
}

namespace detail {
struct template_tally {
  std::uint64_t baseline = 0;
  std::uint64_t current = 0;
  std::map<std::string, std::uint64_t> handlers;  // current count per handler
  std::map<std::string, std::uint64_t> baseline_by_handler;
  std::int64_t first_seen = no_time_ns;
  std::string example;
};
}  // namespace detail

/// Template changes between the baseline's error samples and the current ones.
[[nodiscard]] inline std::vector<anomaly> detect_error_templates(const telemetry_data& cur, const baseline& base,
                                                                 const error_options& o = {},
                                                                 const template_options& mining = {}) {
  std::vector<anomaly> out;
  if (cur.errors.empty()) return out;
  template_miner miner(mining);
  std::unordered_map<std::size_t, detail::template_tally> tally;
  for (const auto& e : base.errors) {
    const auto m = miner.add(e.message);
    auto& t = tally[m.id];
    t.baseline += e.count;
    t.baseline_by_handler[e.handler] += e.count;
  }
  for (const auto& e : cur.errors) {
    const auto m = miner.add(e.message);
    auto& t = tally[m.id];
    t.current += e.count;
    t.handlers[e.handler] += e.count;
    if (e.first_seen_ns != no_time_ns && (t.first_seen == no_time_ns || e.first_seen_ns < t.first_seen)) t.first_seen = e.first_seen_ns;
    if (t.example.empty()) t.example = e.message;
  }
  // error messages per handler (the share test counts within the samples, consistently)
  std::unordered_map<std::string, std::uint64_t> base_messages, current_messages;
  for (const auto& e : base.errors) base_messages[e.handler] += e.count;
  for (const auto& e : cur.errors) current_messages[e.handler] += e.count;
  std::unordered_map<std::string_view, const handler_series*> current_index;
  for (const auto& s : cur.handlers) current_index.emplace(s.handler, &s);
  const auto current_by_name = [&](const std::string& h) -> const handler_series* {
    auto it = current_index.find(h);
    return it == current_index.end() ? nullptr : it->second;
  };
  // exposure: executions, current over baseline
  std::uint64_t cur_calls = 0;
  for (const auto& s : cur.handlers) cur_calls += s.total_count();
  const double exposure_all = base.total_samples ? static_cast<double>(cur_calls) / static_cast<double>(base.total_samples) : 1.0;
  std::vector<std::size_t> ids;
  for (const auto& [id, t] : tally) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (std::size_t id : ids) {
    const auto& t = tally[id];
    if (t.current == 0) continue;
    std::string top_handler;
    std::uint64_t top = 0;
    for (const auto& [h, c] : t.handlers)
      if (c > top) { top = c; top_handler = h; }
    anomaly a;
    a.handler = top_handler;
    for (const auto& s : cur.handlers)
      if (s.handler == top_handler) { a.sequence = s.sequence; break; }
    a.onset_ns = t.first_seen;
    const std::string text = miner.get(id).text();
    if (t.baseline == 0) {
      if (t.current < o.new_template_min_count) continue;
      a.kind = anomaly_kind::new_error_template;
      a.level = t.current >= 100 ? severity::high : severity::medium;
      a.confidence = 1.0 - std::exp(-static_cast<double>(t.current) / static_cast<double>(o.new_template_min_count));
      a.description = "new error template (" + std::to_string(t.current) + " messages): " + text;
    } else {
      // exposure of the handlers that produced it, when the baseline knows them
      double exposure = exposure_all;
      std::uint64_t hb = 0, hc = 0, eb = 0, ec = 0, tb = 0;
      for (const auto& [h, c] : t.handlers) {
        (void)c;
        if (const auto* b = base.find(h)) hb += b->samples;
        if (const auto* s = current_by_name(h)) hc += s->total_count();
        if (auto it = base_messages.find(h); it != base_messages.end()) eb += it->second;
        if (auto it = current_messages.find(h); it != current_messages.end()) ec += it->second;
        if (auto it = t.baseline_by_handler.find(h); it != t.baseline_by_handler.end()) tb += it->second;
      }
      if (hb > 0 && hc > 0) exposure = static_cast<double>(hc) / static_cast<double>(hb);
      else tb = t.baseline;
      const double expected = static_cast<double>(tb) * exposure;
      const double ratio = expected > 0 ? static_cast<double>(t.current) / expected : 1e3;
      if (t.current < o.spike_min_count || ratio < o.spike_ratio) continue;
      const double p = stats::poisson_sf(t.current, std::max(expected, 1e-9));
      if (p >= o.alpha) continue;
      // the template's share of its handlers' errors must rise too: a template that grows only
      // because its handler fails more often belongs to that handler's error-rate rise
      double share_p = 0;
      if (eb > 0 && ec > 0) {
        const auto sh = stats::two_proportion_z(std::min(tb, eb), eb, std::min(t.current, ec), ec);
        share_p = sh.p_greater;
        if (share_p >= o.spike_share_alpha) continue;
      }
      a.kind = anomaly_kind::error_template_spike;
      a.level = severity_from_ratio(ratio);
      a.confidence = std::clamp(1.0 - p, 0.0, 1.0);
      a.description = "error template spike: " + std::to_string(t.current) + " messages vs " +
                      detail::fmt_num(expected) + " expected (" + detail::fmt_num(ratio) + "x, Poisson p=" +
                      detail::fmt_num(p, 2) + "): " + text;
      a.number("expected", expected).number("ratio", ratio).number("p_value", p).number("share_p_value", share_p);
    }
    a.kinds = {a.kind};
    a.text("template", text).number("template_id", static_cast<double>(id));
    a.number("count", static_cast<double>(t.current)).number("baseline_count", static_cast<double>(t.baseline));
    a.text("example", t.example);
    out.push_back(std::move(a));
  }
  return out;
}

/// Error-rate rises of every handler with a baseline, then template changes.
[[nodiscard]] inline std::vector<anomaly> detect_errors(const telemetry_data& cur, const baseline& base,
                                                        const error_options& o = {}) {
  std::vector<anomaly> out;
  for (const auto& s : cur.handlers) {
    const auto* b = base.find(s.handler);
    if (!b) continue;
    if (auto a = detect_error_rate(s, *b, o)) out.push_back(std::move(*a));
  }
  for (const auto& s : cur.sequences) {  // failed whole-sequence executions
    const auto* b = base.find_sequence(s.handler);
    if (!b) continue;
    if (auto a = detect_error_rate(s, *b, o)) {
      as_sequence_anomaly(*a);
      out.push_back(std::move(*a));
    }
  }
  auto t = detect_error_templates(cur, base, o);
  out.insert(out.end(), std::make_move_iterator(t.begin()), std::make_move_iterator(t.end()));
  return out;
}

}  // namespace selfheal::anomaly
