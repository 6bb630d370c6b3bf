#pragma once
/// \file
/// aggregateAnomalyResults: one root symptom, one anomaly; score = weight(severity) × confidence;
/// ranked by score.
///
/// Merges (the surviving anomaly keeps its kind, gains the other's kind in `kinds`, its evidence
/// under a `<kind>.` prefix, the higher severity and confidence and the earlier onset):
/// - an `slo_burn` on a latency SLI (`p95_ms`, `p99_ms`) into a latency regression of the handler;
/// - an `slo_burn` on an error SLI (`error_rate`, `availability`) into an `error_rate` rise of the
///   handler;
/// - `new_error_template` / `error_template_spike` into an `error_rate` rise of the same handler;
/// - exact duplicates (same kind, handler, sequence and beat/template/SLI).

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "selfheal/anomaly/model.hpp"

namespace selfheal::anomaly {

struct anomaly_counts {
  std::map<std::string, std::uint64_t> by_type;
  std::map<std::string, std::uint64_t> by_severity;
  std::map<std::string, std::uint64_t> by_kind;
};

namespace detail {
inline std::string evidence_text(const anomaly& a, std::string_view key) {
  const auto* e = a.find(key);
  if (!e) return {};
  return e->is_text ? e->text : fmt_num(e->number, 6);
}
inline std::string identity(const anomaly& a) {
  std::string k(to_string(a.kind));
  k += '\x1f' + a.handler + '\x1f' + a.sequence + '\x1f' + evidence_text(a, "beat") + '\x1f' +
       evidence_text(a, "template") + '\x1f' + evidence_text(a, "sli");
  return k;
}
inline void absorb(anomaly& into, const anomaly& from) {
  if (!into.has_kind(from.kind)) into.kinds.push_back(from.kind);
  for (const auto& e : from.evidence) {
    evidence_item copy = e;
    copy.key = std::string(to_string(from.kind)) + "." + e.key;
    into.evidence.push_back(std::move(copy));
  }
  into.level = std::max(into.level, from.level);
  into.confidence = std::max(into.confidence, from.confidence);
  if (from.onset_ns != no_time_ns && (into.onset_ns == no_time_ns || from.onset_ns < into.onset_ns)) into.onset_ns = from.onset_ns;
  into.description += "; also " + from.description;
}
}  // namespace detail

/// Merges, scores, ranks and numbers the anomalies (`<id_prefix><rank>`, rank from 1).
[[nodiscard]] inline std::vector<anomaly> aggregate_anomalies(std::vector<anomaly> in, std::string_view id_prefix = "A") {
  // 1. exact duplicates
  std::vector<anomaly> uniq;
  std::map<std::string, std::size_t> seen;
  for (auto& a : in) {
    if (a.kinds.empty()) a.kinds = {a.kind};
    const auto key = detail::identity(a);
    if (auto it = seen.find(key); it != seen.end()) {
      auto& into = uniq[it->second];
      into.level = std::max(into.level, a.level);
      into.confidence = std::max(into.confidence, a.confidence);
      continue;
    }
    seen.emplace(key, uniq.size());
    uniq.push_back(std::move(a));
  }
  // 2. root symptoms per handler
  std::vector<bool> gone(uniq.size(), false);
  const auto find_root = [&](const anomaly& a, bool latency) -> std::ptrdiff_t {
    for (std::size_t i = 0; i < uniq.size(); ++i) {
      if (gone[i] || uniq[i].handler != a.handler || &uniq[i] == &a) continue;
      const auto k = uniq[i].kind;
      if (latency && (k == anomaly_kind::latency_shift || k == anomaly_kind::latency_tail)) return static_cast<std::ptrdiff_t>(i);
      if (!latency && k == anomaly_kind::error_rate) return static_cast<std::ptrdiff_t>(i);
    }
    return -1;
  };
  for (std::size_t i = 0; i < uniq.size(); ++i) {
    auto& a = uniq[i];
    std::ptrdiff_t root = -1;
    if (a.kind == anomaly_kind::slo_burn) {
      const auto sli = detail::evidence_text(a, "sli");
      root = find_root(a, sli == "p95_ms" || sli == "p99_ms");
    } else if (a.kind == anomaly_kind::new_error_template || a.kind == anomaly_kind::error_template_spike) {
      root = find_root(a, false);
    }
    if (root < 0) continue;
    detail::absorb(uniq[static_cast<std::size_t>(root)], a);
    gone[i] = true;
  }
  std::vector<anomaly> out;
  for (std::size_t i = 0; i < uniq.size(); ++i)
    if (!gone[i]) out.push_back(std::move(uniq[i]));
  // 3. score and rank
  for (auto& a : out) a.score = weight(a.level) * std::clamp(a.confidence, 0.0, 1.0);
  std::stable_sort(out.begin(), out.end(), [](const anomaly& x, const anomaly& y) {
    if (x.score != y.score) return x.score > y.score;
    if (x.handler != y.handler) return x.handler < y.handler;
    return x.kind < y.kind;
  });
  for (std::size_t i = 0; i < out.size(); ++i) out[i].id = std::string(id_prefix) + std::to_string(i + 1);
  return out;
}

/// Counts by type, severity and kind (the `counts` of the CLI's JSON).
[[nodiscard]] inline anomaly_counts count_anomalies(const std::vector<anomaly>& xs) {
  anomaly_counts c;
  for (const auto& a : xs) {
    ++c.by_type[std::string(to_string(a.type()))];
    ++c.by_severity[std::string(to_string(a.level))];
    ++c.by_kind[std::string(to_string(a.kind))];
  }
  return c;
}

}  // namespace selfheal::anomaly
