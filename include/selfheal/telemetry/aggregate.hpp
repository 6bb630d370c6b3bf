#pragma once
/// \file
/// Aggregation (beat 5's concern): per handler, per sequence and per time window — executions,
/// errors, min/max/sum and a quantile sketch — plus release markers and error samples.
///
/// `partial_aggregate` is thread-local: it is fed `normalized_event`s with the worker's interned ids.
/// `merge_partials` folds any number of partials into one `telemetry_aggregate` by name. Every
/// field merges exactly (integer counts and nanosecond sums, integer-count sketches), so the result
/// does not depend on the number of threads or the order of merging.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "selfheal/telemetry/metrics.hpp"
#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/normalize.hpp"

namespace selfheal::telemetry {

/// Thread-local aggregates; ids refer to `names`.
struct partial_aggregate {
  struct key {
    std::int64_t window;
    std::uint32_t name;
    metric_scope scope;
    friend bool operator==(const key&, const key&) = default;
  };
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept {
      return std::hash<std::int64_t>{}(k.window) * 31u + std::hash<std::uint32_t>{}(k.name) * 7u +
             static_cast<std::size_t>(k.scope);
    }
  };
  struct error_key {
    std::uint32_t handler;
    std::string message;
    friend bool operator==(const error_key&, const error_key&) = default;
  };
  struct error_key_hash {
    std::size_t operator()(const error_key& k) const noexcept {
      return std::hash<std::string>{}(k.message) ^ (std::hash<std::uint32_t>{}(k.handler) << 1);
    }
  };

  /// A direct-mapped cache of map entries by key, in front of `metrics` and `releases` (the same
  /// few names recur window after window). Holds pointers into the maps, whose nodes never move:
  /// copies start empty, and `clear()` must follow any replacement of the maps.
  template <class V>
  struct entry_cache {
    struct slot {
      key k{};
      V* v = nullptr;
    };
    static constexpr unsigned size = 1024;  // more than the handlers of a large service: no thrashing
    slot slots[size];
    entry_cache() = default;
    entry_cache(const entry_cache&) noexcept {}
    entry_cache& operator=(const entry_cache&) noexcept {
      clear();
      return *this;
    }
    void clear() noexcept {
      for (auto& sl : slots) sl.v = nullptr;
    }
    template <class Map>
    V& get(Map& map, const key& k) {
      auto& sl = slots[(k.name * 2u + static_cast<unsigned>(k.scope)) & (size - 1)];
      if (sl.v != nullptr && sl.k == k) return *sl.v;
      V& v = map[k];
      sl = {k, &v};
      return v;
    }
  };

  interner names;
  std::int64_t window_ns = 60'000'000'000;
  std::unordered_map<key, metric_stats, key_hash> metrics;
  std::unordered_map<key, release_marker, key_hash> releases;  // key.name = release id
  std::unordered_map<error_key, error_sample, error_key_hash> errors;
  std::uint64_t events = 0;
  std::uint64_t error_samples_dropped = 0;
  std::int64_t first_event_ns = no_time;
  std::int64_t last_event_ns = no_time;
  entry_cache<metric_stats> metric_cache;
  entry_cache<release_marker> release_cache;

  /// Counts one event (time span, release marker, error sample). Executions are added separately
  /// (`add_execution`), because a deferred completion gets its duration later.
  void add_event(const normalized_event& e) {
    ++events;
    first_event_ns = earliest(first_event_ns, e.ts_ns);
    last_event_ns = latest(last_event_ns, e.ts_ns);
    if (e.release != no_name) {
      auto& r = release_cache.get(releases, key{window_start(e.ts_ns, window_ns), e.release, metric_scope::handler});
      ++r.count;
      r.first_seen_ns = earliest(r.first_seen_ns, e.ts_ns);
      r.last_seen_ns = latest(r.last_seen_ns, e.ts_ns);
    }
    if (e.failed) add_error(e.handler, e.error_message, e.ts_ns);
  }

  void add_error(std::uint32_t handler, std::string_view message, std::int64_t ts) {
    message = trim(message.substr(0, max_error_message));
    error_key k{handler, std::string(message)};
    auto it = errors.find(k);
    if (it == errors.end()) {
      if (errors.size() >= max_error_samples) {
        ++error_samples_dropped;
        return;
      }
      it = errors.emplace(std::move(k), error_sample{}).first;
    }
    ++it->second.count;
    it->second.first_seen_ns = earliest(it->second.first_seen_ns, ts);
    it->second.last_seen_ns = latest(it->second.last_seen_ns, ts);
  }

  /// One execution of `name` (a handler or a sequence id) at `ts`; `duration_ns` < 0 for none.
  void add_execution(metric_scope scope, std::uint32_t name, std::int64_t ts, bool failed, std::int64_t duration_ns) {
    metric_cache.get(metrics, key{window_start(ts, window_ns), name, scope}).add(failed, duration_ns);
  }

  /// The executions of a normalized (non-deferred) event.
  void add_executions(const normalized_event& e) {
    if (e.execution) add_execution(metric_scope::handler, e.handler == no_name ? names.intern("(none)") : e.handler,
                                   e.ts_ns, e.failed, e.duration_ns);
    if (e.sequence_execution)
      add_execution(metric_scope::sequence, e.sequence == no_name ? names.intern("(none)") : e.sequence, e.ts_ns,
                    e.failed, e.duration_ns);
  }
};

/// One interner for every partial: all names, sorted, ids in that order (beat 4's global interning).
[[nodiscard]] inline interner global_names(const std::vector<partial_aggregate*>& parts) {
  std::vector<std::string> all;
  for (const auto* p : parts)
    for (std::uint32_t i = 0; i < p->names.size(); ++i) all.push_back(p->names.name(i));
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  interner g;
  for (const auto& n : all) static_cast<void>(g.intern(n));
  return g;
}

/// Rewrites a partial's thread-local ids into `global`'s ids (which must know every name).
inline void adopt_names(partial_aggregate& p, const interner& global) {
  std::vector<std::uint32_t> map(p.names.size());
  for (std::uint32_t i = 0; i < p.names.size(); ++i) map[i] = global.find(p.names.name(i)).value_or(no_name);
  auto remap = [&](std::uint32_t id) { return id == no_name ? no_name : map[id]; };
  decltype(p.metrics) metrics;
  for (auto& [k, v] : p.metrics) metrics.emplace(partial_aggregate::key{k.window, remap(k.name), k.scope}, std::move(v));
  decltype(p.releases) releases;
  for (auto& [k, v] : p.releases) releases.emplace(partial_aggregate::key{k.window, remap(k.name), k.scope}, std::move(v));
  decltype(p.errors) errors;
  for (auto& [k, v] : p.errors) errors.emplace(partial_aggregate::error_key{remap(k.handler), k.message}, std::move(v));
  p.metrics = std::move(metrics);
  p.releases = std::move(releases);
  p.metric_cache.clear();
  p.release_cache.clear();
  p.errors = std::move(errors);
  p.names = global;
}

namespace detail {
inline bool by_count_then_name(const named_metric& a, const named_metric& b) {
  if (a.stats.count != b.stats.count) return a.stats.count > b.stats.count;
  return a.name < b.name;
}
}  // namespace detail

/// Folds partials into one aggregate (windows sorted, totals computed). Counters not held by
/// partials (bad lines, sources, unmatched starts …) are the caller's to fill in.
[[nodiscard]] inline telemetry_aggregate merge_partials(const std::vector<const partial_aggregate*>& parts,
                                                        std::int64_t window_ns) {
  telemetry_aggregate out;
  out.window_ns = window_ns;
  std::map<std::tuple<metric_scope, std::string, std::int64_t>, metric_stats> windows;
  std::map<std::pair<std::int64_t, std::string>, release_marker> releases;
  std::map<std::pair<std::string, std::string>, error_sample> errors;
  for (const auto* p : parts) {
    out.events += p->events;
    out.error_samples_dropped += p->error_samples_dropped;
    out.first_event_ns = earliest(out.first_event_ns, p->first_event_ns);
    out.last_event_ns = latest(out.last_event_ns, p->last_event_ns);
    for (const auto& [k, st] : p->metrics) windows[{k.scope, p->names.name(k.name), k.window}].merge(st);
    for (const auto& [k, r] : p->releases) {
      auto& m = releases[{k.window, p->names.name(k.name)}];
      m.count += r.count;
      m.first_seen_ns = earliest(m.first_seen_ns, r.first_seen_ns);
      m.last_seen_ns = latest(m.last_seen_ns, r.last_seen_ns);
    }
    for (const auto& [k, e] : p->errors) {
      auto& m = errors[{k.handler == no_name ? std::string() : p->names.name(k.handler), k.message}];
      m.count += e.count;
      m.first_seen_ns = earliest(m.first_seen_ns, e.first_seen_ns);
      m.last_seen_ns = latest(m.last_seen_ns, e.last_seen_ns);
    }
  }
  std::map<std::string, metric_stats> handler_totals, sequence_totals;
  out.windows.reserve(windows.size());
  for (auto& [k, st] : windows) {
    const auto& [scope, name, window] = k;
    auto& totals = scope == metric_scope::handler ? handler_totals : sequence_totals;
    totals[name].merge(st);
    if (scope == metric_scope::handler) out.executions += st.count;
    else out.sequence_executions += st.count;
    out.windows.push_back({scope, name, window, std::move(st)});
  }
  for (auto& [name, st] : handler_totals) out.handlers.push_back({name, std::move(st)});
  for (auto& [name, st] : sequence_totals) out.sequences.push_back({name, std::move(st)});
  std::sort(out.handlers.begin(), out.handlers.end(), detail::by_count_then_name);
  std::sort(out.sequences.begin(), out.sequences.end(), detail::by_count_then_name);
  for (auto& [k, r] : releases) {
    r.window_start_ns = k.first;
    r.release = k.second;
    out.releases.push_back(std::move(r));
  }
  for (auto& [k, e] : errors) {
    e.handler = k.first;
    e.message = k.second;
    out.errors.push_back(std::move(e));
  }
  return out;
}

}  // namespace selfheal::telemetry
