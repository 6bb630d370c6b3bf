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
/// - a whole sequence's latency regression (or error-rate rise) into the strongest latency
///   regression (error-rate rise) of a handler of that sequence that began no later: the handler
///   is the root, the sequence's slowdown its consequence;
/// - a handler's traffic surge (drop) into its sequence's surge (drop): the sequence's traffic is
///   the root, every handler in it follows;
/// - exact duplicates (same kind, handler, sequence and beat/template/SLI).
///
/// A handler belongs to a sequence when its anomaly names it (telemetry's execution paths).

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "selfheal/anomaly/model.hpp"

namespace selfheal::anomaly {


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
  // 3. a sequence and its handlers
  const auto latency = [](anomaly_kind k) { return k == anomaly_kind::latency_shift || k == anomaly_kind::latency_tail; };
  const auto traffic = [](anomaly_kind k) { return k == anomaly_kind::traffic_surge || k == anomaly_kind::traffic_drop; };
  const auto not_later = [](const anomaly& a, const anomaly& b) {  // a began no later than b
    return a.onset_ns == no_time_ns || b.onset_ns == no_time_ns || a.onset_ns <= b.onset_ns;
  };
  for (std::size_t i = 0; i < uniq.size(); ++i) {
    auto& s = uniq[i];
    if (gone[i] || !s.handler.empty() || s.sequence.empty()) continue;
    if (latency(s.kind) || s.kind == anomaly_kind::error_rate) {
      std::ptrdiff_t root = -1;
      for (std::size_t j = 0; j < uniq.size(); ++j) {
        const auto& h = uniq[j];
        if (gone[j] || h.handler.empty() || h.sequence != s.sequence || !not_later(h, s)) continue;
        if (latency(s.kind) ? !latency(h.kind) : h.kind != anomaly_kind::error_rate) continue;
        if (root < 0 || weight(h.level) * h.confidence > weight(uniq[static_cast<std::size_t>(root)].level) * uniq[static_cast<std::size_t>(root)].confidence)
          root = static_cast<std::ptrdiff_t>(j);
      }
      if (root < 0) continue;
      detail::absorb(uniq[static_cast<std::size_t>(root)], s);
      gone[i] = true;
    } else if (traffic(s.kind)) {
      for (std::size_t j = 0; j < uniq.size(); ++j) {
        const auto& h = uniq[j];
        if (gone[j] || h.handler.empty() || h.sequence != s.sequence || h.kind != s.kind) continue;
        detail::absorb(s, h);
        gone[j] = true;
      }
    }
  }
  std::vector<anomaly> out;
  for (std::size_t i = 0; i < uniq.size(); ++i)
    if (!gone[i]) out.push_back(std::move(uniq[i]));
  // 4. score and rank
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
