#pragma once
/// \file
/// detectBehavioralAnomalies: executions against the monitored application's sequence definitions,
/// handlers never seen in the baseline, and traffic surges and drops.
///
/// **Executions** come as counted paths (telemetry.parse stores them per record, see
/// `telemetry/traces.hpp`; raw observations are folded into paths by correlation id). Each step is
/// matched to a beat of its sequence's definition by event (topic), else handler, else beat number.
/// Per execution: `unexpected_beat` for an observation that matches no beat; `out_of_order` when a beat
/// comes after a later one; `missing_beat` for a beat absent while a later beat of the same execution
/// was seen (an execution still running or stopped by a failure is not "missing" its tail). Each
/// finding is counted once per execution and flagged when its share of that sequence's executions
/// reaches `min_share` and it affects at least `min_executions`.
///
/// **Traffic.** Calls per active window (a window in which other handlers ran but this one did not
/// counts 0; one in which nothing ran at all is not compared) against the baseline's per-window counts:
/// onset by `stats::change_onset` (CUSUM alarm, then the likelihood-ratio shift point; upper for
/// surges, lower for drops; sigma = max(1.4826·MAD, √median, 1) — Poisson noise at least), ratio of post-onset median to baseline median, and a one-sided Mann-Whitney U at
/// `alpha`. A drop needs a baseline of at least `min_baseline_rate` calls per window.
///
/// **Definitions** are JSON files like selfheal's own `sequences/` (an object with `id`/`name`,
/// `movements[].beats[]` or `beats[]`, each beat with `beat`, `event`, `handler`). A file that does
/// not parse is reported with its path and reason; the others are still used.

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "selfheal/anomaly/baseline.hpp"
#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/performance.hpp"
#include "selfheal/anomaly/stats.hpp"
#include "selfheal/core/result.hpp"

namespace selfheal::anomaly {

struct beat_definition {
  std::int64_t number = 0;
  std::string event;
  std::string handler;
};

struct sequence_definition {
  std::string id;
  std::string name;
  std::string source;  ///< file it came from
  std::vector<beat_definition> beats;
};

/// Parses one definition; `source` names it in errors.
[[nodiscard]] inline result<sequence_definition> parse_sequence_definition(std::string_view json,
                                                                           std::string_view source) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc))
    return fail(errc::parse_error, std::string(source) + ": not valid JSON: " + simdjson::error_message(err));
  simdjson::dom::object root;
  if (doc.get(root)) return fail(errc::parse_error, std::string(source) + ": the top level must be an object");
  sequence_definition def;
  def.source = std::string(source);
  std::string_view sv;
  if (!root["id"].get(sv)) def.id = std::string(sv);
  else if (!root["sequenceId"].get(sv)) def.id = std::string(sv);
  if (!root["name"].get(sv)) def.name = std::string(sv);
  if (def.id.empty() && def.name.empty())
    return fail(errc::parse_error, std::string(source) + ": no \"id\" or \"name\"");
  const auto read_beats = [&](simdjson::dom::array beats, std::string_view where) -> result<void> {
    std::size_t i = 0;
    for (auto el : beats) {
      simdjson::dom::object b;
      if (el.get(b))
        return fail(errc::parse_error, std::string(source) + ": " + std::string(where) + "[" + std::to_string(i) + "] is not an object");
      beat_definition bd;
      std::int64_t num = 0;
      if (!b["beat"].get(num)) bd.number = num;
      if (!b["event"].get(sv)) bd.event = std::string(sv);
      if (!b["handler"].get(sv)) bd.handler = std::string(sv);
      if (bd.event.empty() && bd.handler.empty())
        return fail(errc::parse_error, std::string(source) + ": " + std::string(where) + "[" + std::to_string(i) +
                                           "] has neither \"event\" nor \"handler\"");
      if (bd.number == 0) bd.number = static_cast<std::int64_t>(def.beats.size() + 1);
      def.beats.push_back(std::move(bd));
      ++i;
    }
    return {};
  };
  simdjson::dom::array movements, beats;
  if (!root["movements"].get(movements)) {
    std::size_t m = 0;
    for (auto el : movements) {
      simdjson::dom::array mb;
      if (el["beats"].get(mb))
        return fail(errc::parse_error, std::string(source) + ": movements[" + std::to_string(m) + "] has no \"beats\" array");
      if (auto r = read_beats(mb, "movements[" + std::to_string(m) + "].beats"); !r) return tl::unexpected(r.error());
      ++m;
    }
  } else if (!root["beats"].get(beats)) {
    if (auto r = read_beats(beats, "beats"); !r) return tl::unexpected(r.error());
  } else {
    return fail(errc::parse_error, std::string(source) + ": no \"movements\" or \"beats\" array");
  }
  if (def.beats.empty()) return fail(errc::parse_error, std::string(source) + ": the sequence has no beats");
  return def;
}

/// Definitions found in a directory (recursively, `*.json`), with the files that failed.
struct definitions_load {
  std::vector<sequence_definition> definitions;
  std::vector<std::string> errors;  ///< "path: reason", one per file that could not be used
};

[[nodiscard]] inline definitions_load load_sequence_definitions(const std::string& dir) {
  definitions_load out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    out.errors.push_back(dir + ": not a directory");
    return out;
  }
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec) out.errors.push_back(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) { out.errors.push_back(f.string() + ": cannot read"); continue; }
    std::stringstream ss;
    ss << in.rdbuf();
    auto def = parse_sequence_definition(ss.str(), f.string());
    if (!def) { out.errors.push_back(def.error().detail); continue; }
    out.definitions.push_back(std::move(*def));
  }
  return out;
}

namespace detail {
struct finding_key {
  std::string sequence;
  anomaly_kind kind;
  std::string beat;     // event or handler
  std::string handler;
  bool operator<(const finding_key& o) const {
    return std::tie(sequence, kind, beat, handler) < std::tie(o.sequence, o.kind, o.beat, o.handler);
  }
};
}  // namespace detail

/// Raw observations folded into execution paths: grouped by correlation id (observations without
/// one are skipped), put in time order when every one has a time, each beat once (its first
/// occurrence), then counted by (sequence, beats). Executions are complete as far as anyone knows.
[[nodiscard]] inline std::vector<execution_path> paths_from_observations(std::span<const beat_observation> beats) {
  std::unordered_map<std::string, std::size_t> exec_index;
  std::vector<std::vector<const beat_observation*>> execs;
  for (const auto& b : beats) {
    if (b.correlation_id.empty()) continue;
    auto [it, fresh] = exec_index.emplace(b.correlation_id, execs.size());
    if (fresh) execs.emplace_back();
    execs[it->second].push_back(&b);
  }
  std::map<std::pair<std::string, std::vector<path_step>>, execution_path> paths;
  for (auto& ex : execs) {
    if (std::all_of(ex.begin(), ex.end(), [](const beat_observation* b) { return b->ts_ns != no_time_ns; }))
      std::stable_sort(ex.begin(), ex.end(), [](const beat_observation* a, const beat_observation* b) { return a->ts_ns < b->ts_ns; });
    std::string sequence;
    std::vector<path_step> steps;
    for (const auto* b : ex) {
      if (sequence.empty()) sequence = b->sequence;
      path_step st{b->beat >= 0 ? std::to_string(b->beat) : std::string(), b->event, b->handler};
      if (std::find(steps.begin(), steps.end(), st) == steps.end()) steps.push_back(std::move(st));
    }
    auto& p = paths[{sequence, steps}];
    if (p.executions == 0) {
      p.sequence = sequence;
      p.steps = std::move(steps);
    }
    ++p.executions;
    p.first_ns = telemetry::earliest(p.first_ns, ex.front()->ts_ns);
    p.last_ns = telemetry::latest(p.last_ns, ex.front()->ts_ns);
  }
  std::vector<execution_path> out;
  out.reserve(paths.size());
  for (auto& [k, p] : paths) out.push_back(std::move(p));
  return out;
}

namespace detail {
/// The definition beat a logged step is: by event (topic) when both have one, else by handler,
/// else by beat number; `def.beats.size()` when none.
[[nodiscard]] inline std::size_t match_step(const path_step& st, const sequence_definition& def) {
  std::int64_t number = -1;
  if (!st.beat.empty()) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(st.beat.data(), st.beat.data() + st.beat.size(), n);
    if (ec == std::errc{} && p == st.beat.data() + st.beat.size()) number = n;
  }
  for (std::size_t i = 0; i < def.beats.size(); ++i) {
    const auto& bd = def.beats[i];
    if (!st.topic.empty() && !bd.event.empty()) {
      if (st.topic == bd.event) return i;
    } else if (!st.handler.empty() && !bd.handler.empty()) {
      if (st.handler == bd.handler) return i;
    } else if (number >= 0 && number == bd.number) {
      return i;
    }
  }
  return def.beats.size();
}
}  // namespace detail

/// Execution checks of counted paths against definitions. Per path (weighted by its executions):
/// `unexpected_beat` for a step that matches no beat of its sequence's definition; `out_of_order`
/// when a beat comes after a later one; `missing_beat` for a beat absent while a later beat of the
/// same execution was seen (an execution still running or stopped by a failure is not "missing"
/// its tail). Shares are over all executions of the sequence (a `rest` row counts, unchecked).
[[nodiscard]] inline std::vector<anomaly> detect_execution_anomalies(std::span<const execution_path> paths,
                                                                     std::span<const sequence_definition> defs,
                                                                     const behavioral_options& o = {}) {
  std::vector<anomaly> out;
  if (paths.empty() || defs.empty()) return out;
  std::unordered_map<std::string, const sequence_definition*> by_name;
  for (const auto& d : defs) {
    if (!d.id.empty()) by_name.emplace(d.id, &d);
    if (!d.name.empty()) by_name.emplace(d.name, &d);
  }
  std::map<std::string, std::uint64_t> executions_per_sequence;
  std::map<detail::finding_key, std::uint64_t> affected;
  std::map<detail::finding_key, std::int64_t> first_seen;
  const auto name_of = [](const beat_definition& bd) { return bd.event.empty() ? bd.handler : bd.event; };
  for (const auto& path : paths) {
    const auto d = by_name.find(path.sequence);
    if (d == by_name.end() || path.executions == 0) continue;
    const sequence_definition& def = *d->second;
    const std::string seq_name = def.id.empty() ? def.name : def.id;
    executions_per_sequence[seq_name] += path.executions;
    if (path.rest) continue;
    std::vector<bool> seen(def.beats.size(), false);
    std::vector<detail::finding_key> found;
    std::size_t max_idx = 0;
    bool any = false, reported_order = false;
    for (const auto& st : path.steps) {
      const std::size_t idx = detail::match_step(st, def);
      if (idx == def.beats.size()) {
        found.push_back({seq_name, anomaly_kind::unexpected_beat, st.topic.empty() ? st.handler : st.topic, st.handler});
        continue;
      }
      if (seen[idx]) continue;  // the same beat logged twice under different names
      seen[idx] = true;
      if (any && idx < max_idx && !reported_order) {
        found.push_back({seq_name, anomaly_kind::out_of_order, name_of(def.beats[idx]), def.beats[idx].handler});
        reported_order = true;
      }
      if (!any || idx > max_idx) max_idx = idx;
      any = true;
    }
    if (any)
      for (std::size_t i = 0; i < max_idx; ++i)
        if (!seen[i]) found.push_back({seq_name, anomaly_kind::missing_beat, name_of(def.beats[i]), def.beats[i].handler});
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end(), [](const auto& a, const auto& b) { return !(a < b) && !(b < a); }),
                found.end());
    for (const auto& f : found) {
      affected[f] += path.executions;
      auto [it, fresh] = first_seen.emplace(f, path.first_ns);
      if (!fresh) it->second = telemetry::earliest(it->second, path.first_ns);
    }
  }
  for (const auto& [key, count] : affected) {
    const double total = static_cast<double>(executions_per_sequence[key.sequence]);
    const double share = total > 0 ? static_cast<double>(count) / total : 0;
    if (count < o.min_executions || share < o.min_share) continue;
    anomaly a;
    a.kind = key.kind;
    a.kinds = {a.kind};
    a.handler = key.handler;
    a.sequence = key.sequence;
    a.onset_ns = first_seen[key];
    a.level = share >= 0.5 ? severity::critical : share >= 0.2 ? severity::high : share >= 0.05 ? severity::medium : severity::low;
    // confidence: the lower bound of a Wilson 95% interval on the share, relative to min_share
    const double z = 1.96, n = total, p = share;
    const double lower = (p + z * z / (2 * n) - z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n);
    a.confidence = std::clamp(lower >= o.min_share ? 0.95 + 0.05 * std::min(1.0, static_cast<double>(count) / 100.0)
                                                   : 0.5 + 0.45 * lower / o.min_share,
                              0.0, 1.0);
    const std::string what = key.kind == anomaly_kind::missing_beat ? "missing beat "
                             : key.kind == anomaly_kind::out_of_order ? "beat out of order "
                                                                      : "unexpected beat ";
    a.description = what + key.beat + " in " + detail::fmt_num(share * 100, 3) + "% of " + key.sequence +
                    " executions (" + std::to_string(count) + " of " + std::to_string(executions_per_sequence[key.sequence]) + ")";
    a.text("beat", key.beat).number("executions_affected", static_cast<double>(count));
    a.number("executions", total).number("share", share);
    out.push_back(std::move(a));
  }
  return out;
}

/// Execution checks of raw observations (see `paths_from_observations`).
[[nodiscard]] inline std::vector<anomaly> detect_execution_anomalies(std::span<const beat_observation> beats,
                                                                     std::span<const sequence_definition> defs,
                                                                     const behavioral_options& o = {}) {
  const auto paths = paths_from_observations(beats);
  return detect_execution_anomalies(std::span<const execution_path>(paths), defs, o);
}

/// Handlers with traffic in the current period but none in the baseline.
[[nodiscard]] inline std::vector<anomaly> detect_new_handlers(const telemetry_data& cur, const baseline& base,
                                                              const traffic_options& o = {}) {
  std::vector<anomaly> out;
  for (const auto& s : cur.handlers) {
    if (base.find(s.handler)) continue;
    const auto n = s.total_count();
    if (n < o.new_handler_min_count) continue;
    anomaly a;
    a.kind = anomaly_kind::new_handler;
    a.kinds = {a.kind};
    a.handler = s.handler;
    a.sequence = s.sequence;
    a.level = severity::low;
    a.confidence = 1.0 - std::exp(-static_cast<double>(n) / static_cast<double>(o.new_handler_min_count));
    for (const auto& w : s.windows)
      if (w.count) { a.onset_ns = w.start_ns; break; }
    a.description = "handler " + s.handler + " never seen in baseline " + base.id + " now has " + std::to_string(n) + " calls";
    a.number("calls", static_cast<double>(n)).number("errors", static_cast<double>(s.total_errors()));
    out.push_back(std::move(a));
  }
  return out;
}

/// Surge or drop of one handler's calls per window against its baseline.
[[nodiscard]] inline std::optional<anomaly> detect_traffic_change(const handler_series& s, const handler_baseline& b,
                                                                  const window_grid& grid, const traffic_options& o = {}) {
  if (grid.size < o.min_windows || b.window_counts.size() < o.min_windows) return std::nullopt;
  const std::vector<double> counts = counts_on_grid(s, grid);
  const double base_median = b.rate_windows.median;
  const double sigma = std::max({1.482602218505602 * b.rate_windows.mad, std::sqrt(std::max(base_median, 0.0)), 1.0});
  for (const bool surge : {true, false}) {
    if (!surge && base_median < o.min_baseline_rate) continue;
    const std::size_t onset = stats::change_onset(counts, base_median, sigma, surge, 0.5, 5.0, o.min_windows).value_or(0);
    const std::span<const double> post(counts.data() + onset, counts.size() - onset);
    const double cur_median = stats::median(post);
    const double ratio = surge ? (base_median > 0 ? cur_median / base_median : (cur_median > 0 ? 1e9 : 0))
                               : (cur_median > 0 ? base_median / cur_median : 1e9);
    if (ratio < (surge ? o.surge_ratio : o.drop_ratio)) continue;
    if (surge && cur_median < o.min_baseline_rate) continue;  // 0 → 2 calls is not a surge worth a page
    const auto mw = stats::mann_whitney_u(post, b.window_counts);
    const double p = surge ? mw.p_greater : mw.p_less;
    if (p >= o.alpha) continue;
    anomaly a;
    a.kind = surge ? anomaly_kind::traffic_surge : anomaly_kind::traffic_drop;
    a.kinds = {a.kind};
    a.handler = s.handler;
    a.sequence = s.sequence.empty() ? b.sequence : s.sequence;
    a.onset_ns = grid.start_of(onset);
    a.level = severity_from_ratio(std::min(ratio, 1e3));
    if (!surge && cur_median == 0) a.level = severity::critical;
    a.confidence = std::clamp((1.0 - p) * std::sqrt(b.confidence), 0.0, 1.0);
    a.description = std::string(surge ? "traffic surge: " : "traffic drop: ") + detail::fmt_num(cur_median) +
                    " calls per window vs " + detail::fmt_num(base_median) + " in the baseline since " +
                    iso8601(a.onset_ns) + "; Mann-Whitney p=" + detail::fmt_num(p, 2);
    a.number("calls_per_window", cur_median).number("baseline_calls_per_window", base_median);
    a.number("ratio", ratio).number("p_value", p).number("windows", static_cast<double>(post.size()));
    return a;
  }
  return std::nullopt;
}

/// Traffic changes of every handler that has a baseline (on the current data's window grid).
[[nodiscard]] inline std::vector<anomaly> detect_traffic(const telemetry_data& cur, const baseline& base,
                                                         const traffic_options& o = {}) {
  std::vector<anomaly> out;
  const window_grid grid = active_grid_of(cur.handlers, cur.window_ns);
  for (const auto& s : cur.handlers) {
    const auto* b = base.find(s.handler);
    if (!b) continue;
    if (auto a = detect_traffic_change(s, *b, grid, o)) out.push_back(std::move(*a));
  }
  for (const auto& s : cur.sequences) {
    const auto* b = base.find_sequence(s.handler);
    if (!b) continue;
    if (auto a = detect_traffic_change(s, *b, grid, o)) {
      as_sequence_anomaly(*a);
      out.push_back(std::move(*a));
    }
  }
  // handlers of the baseline that vanished: every current window is 0
  if (grid.size >= o.min_windows) {
    std::vector<std::string_view> present;
    present.reserve(cur.handlers.size());
    for (const auto& s : cur.handlers) present.push_back(s.handler);
    std::sort(present.begin(), present.end());
    for (const auto& b : base.handlers) {
      if (std::binary_search(present.begin(), present.end(), std::string_view(b.handler))) continue;
      handler_series empty;
      empty.handler = b.handler;
      empty.sequence = b.sequence;
      if (auto a = detect_traffic_change(empty, b, grid, o)) out.push_back(std::move(*a));
    }
  }
  return out;
}

}  // namespace selfheal::anomaly
