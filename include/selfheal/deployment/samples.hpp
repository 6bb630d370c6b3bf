#pragma once
/// \file
/// Where the canary judge's samples come from, read with selfheal's own telemetry code.
///
/// - **Baseline**: the stored telemetry windows before the anomaly's onset (every telemetry record,
///   windows starting before the onset); when the store has no such anomaly (a `--patch`
///   validation), the latest telemetry record.
/// - **Canary**: the telemetry appended since the stage began. `mark_telemetry` notes each file's
///   identity and size when a stage starts; `read_since` parses only the bytes appended after that
///   mark (a rotated or truncated file is read whole), in windows of the baseline's width.
///
/// Each window gives one sample per metric: `<handler>.p50_ms`, `<handler>.p95_ms` (windows with
/// timed executions) and `<handler>.error_rate` (windows with executions).

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/anomaly/store.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/deployment/judge.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/ingest.hpp"
#include "selfheal/telemetry/source.hpp"

namespace selfheal::deployment {

/// Per-window samples of one handler.
struct handler_samples {
  std::vector<double> p50_ms, p95_ms, error_rate;
};

/// Samples by handler, plus the window width they were cut with and each handler's sequence.
struct sample_set {
  std::int64_t window_ns = 60'000'000'000;
  std::map<std::string, handler_samples> handlers;
  std::map<std::string, std::string> sequence_of;  ///< handler → its sequence (when known)
  std::string source;                              ///< what was read, for messages
};

/// The files of `globs` (relative to `repo`) and their sizes when a stage began.
struct telemetry_mark {
  std::vector<telemetry::source_plan> files;
};

namespace detail {
inline std::vector<std::string> rooted(const std::filesystem::path& repo, const std::vector<std::string>& globs) {
  std::vector<std::string> out;
  for (const auto& g : globs) out.push_back(std::filesystem::path(g).is_absolute() ? g : (repo / g).string());
  return out;
}
}  // namespace detail

/// Notes where each telemetry file ends now (files that do not exist yet are read whole later).
[[nodiscard]] inline telemetry_mark mark_telemetry(const std::filesystem::path& repo, const std::vector<std::string>& globs) {
  telemetry_mark m;
  if (globs.empty()) return m;
  m.files = telemetry::expand_paths(detail::rooted(repo, globs)).sources;
  return m;
}

/// Adds one window's statistics to a handler's samples.
inline void add_window(handler_samples& h, const telemetry::metric_stats& s) {
  if (s.count == 0) return;
  h.error_rate.push_back(s.error_rate());
  if (s.timed > 0) {
    h.p50_ms.push_back(s.quantile_ms(0.5));
    h.p95_ms.push_back(s.quantile_ms(0.95));
  }
}

/// Parses what was appended to the telemetry files since `mark`, in windows of `window_ns`.
[[nodiscard]] inline result<sample_set> read_since(const telemetry_mark& mark, const std::filesystem::path& repo,
                                                  const std::vector<std::string>& globs, std::int64_t window_ns) {
  sample_set out;
  out.window_ns = window_ns;
  if (globs.empty()) return out;
  auto found = telemetry::expand_paths(detail::rooted(repo, globs));
  for (auto& plan : found.sources) {
    for (const auto& old : mark.files) {
      if (old.path == plan.path && old.identity == plan.identity && !plan.gzip && plan.size >= old.size) {
        plan.start_offset = old.size;
        plan.start_line = 1;
        plan.note = "resumed";
      }
    }
    out.source += (out.source.empty() ? "" : ", ") + plan.path;
  }
  if (found.sources.empty()) return out;
  telemetry::ingest_options opt;
  opt.window_ns = window_ns;
  opt.threads = 1;
  auto ing = telemetry::ingest(std::move(found.sources), opt);
  const auto agg = telemetry::finish_aggregate(ing);
  for (const auto& w : agg.windows)
    if (w.scope == telemetry::metric_scope::handler && !w.name.empty()) add_window(out.handlers[w.name], w.stats);
  return out;
}

/// The baseline: stored windows before the onset of `anomaly_id` ("anomaly-2.1"), or the latest
/// telemetry record when the store has no such anomaly. No telemetry at all → an empty set (every
/// metric will be nodata and the stage held).
[[nodiscard]] inline result<sample_set> baseline_samples(store::database& db, std::string_view anomaly_id) {
  sample_set out;
  anomaly::telemetry_selection sel;
  const auto dot = anomaly_id.rfind('.');
  if (dot != std::string_view::npos) {
    auto list = anomaly::load_anomalies(db, anomaly_id.substr(0, dot));
    if (list)
      for (const auto& a : *list)
        if (a.id == anomaly_id && a.onset_ns != anomaly::no_time_ns) sel.until_ns = a.onset_ns;
  }
  auto data = anomaly::load_telemetry(db, sel);
  if (!data) {
    if (data.error().code == errc::not_found) return out;
    return tl::unexpected(data.error());
  }
  out.window_ns = data->window_ns;
  out.source = sel.until_ns != anomaly::no_time_ns ? "telemetry windows before the onset of " + std::string(anomaly_id)
                                                    : "the latest telemetry record";
  for (const auto& h : data->handlers) {
    auto& s = out.handlers[h.handler];
    if (!h.sequence.empty()) out.sequence_of[h.handler] = h.sequence;
    for (const auto& w : h.windows) {
      if (w.count == 0) continue;
      if (sel.until_ns != anomaly::no_time_ns && w.start_ns >= sel.until_ns) continue;
      s.error_rate.push_back(static_cast<double>(w.errors) / static_cast<double>(w.count));
      s.p50_ms.push_back(w.p50_ms);
      s.p95_ms.push_back(w.p95_ms);
    }
  }
  return out;
}

/// The metrics a stage is judged on: the healed handler's p50, p95 and error rate, the same for
/// every handler of its sequence, and — when no handler is named (a `--patch` validation) — of
/// every handler seen. Critical: the healed handler's latencies and every error rate.
[[nodiscard]] inline std::vector<metric_samples> metrics_to_judge(const sample_set& baseline, const sample_set& canary,
                                                                  std::string_view handler) {
  std::set<std::string> names;
  if (handler.empty()) {
    for (const auto& [h, _] : baseline.handlers) names.insert(h);
    for (const auto& [h, _] : canary.handlers) names.insert(h);
  } else {
    names.insert(std::string(handler));
    const auto seq = baseline.sequence_of.find(std::string(handler));
    if (seq != baseline.sequence_of.end())
      for (const auto& [h, s] : baseline.sequence_of)
        if (s == seq->second) names.insert(h);
  }
  static const handler_samples none;
  std::vector<metric_samples> out;
  for (const auto& h : names) {
    const auto b = baseline.handlers.find(h);
    const auto c = canary.handlers.find(h);
    const auto& bs = b == baseline.handlers.end() ? none : b->second;
    const auto& cs = c == canary.handlers.end() ? none : c->second;
    const bool healed = h == handler;
    out.push_back({h + ".p50_ms", bs.p50_ms, cs.p50_ms, healed});
    out.push_back({h + ".p95_ms", bs.p95_ms, cs.p95_ms, healed});
    out.push_back({h + ".error_rate", bs.error_rate, cs.error_rate, true});
  }
  return out;
}

}  // namespace selfheal::deployment
