#pragma once
/// \file
/// Per-handler detection thresholds tuned by people: `selfheal feedback ANOMALY_ID --verdict
/// false-positive|true-positive` writes them, anomaly.detect reads them (beat 2 loads, beat 7
/// applies), learning.track reports the changes.
///
/// Each handler (or whole sequence) has a threshold *factor* f ≥ 1 (1 when never tuned). A finding
/// about it survives only when its effect reaches f times the detector's own threshold:
///
/// | kind | effect (evidence) | threshold |
/// |---|---|---|
/// | latency_shift | `p50_ratio` | `performance.ratio` × f |
/// | latency_tail | `p95_ratio` | `performance.ratio` × f |
/// | error_rate | `error_rate − baseline_error_rate` | `errors.min_rate_increase` × f |
/// | error_template_spike | `ratio` | `errors.spike_ratio` × f |
/// | traffic_surge / traffic_drop | `ratio` | `traffic.surge_ratio` / `drop_ratio` × f |
/// | slo_burn | `burn_rate_long` | `rule_factor` × f |
/// | missing_beat / out_of_order / unexpected_beat | `share` | `behavioral.min_share` × f |
///
/// Kinds without a continuous effect (new_handler, new_error_template, coverage_gap) are not tuned.
/// A false positive multiplies f by `false_positive_step` (1.25, at most `max_factor`); a true
/// positive multiplies it by `true_positive_step` (0.9), never below 1: feedback only ever makes a
/// detector stricter than its configured thresholds, or relaxes it back towards them. With the default
/// ratio 1.3 a handler's latency threshold becomes 1.625 after one false positive and 2.03 after two.
///
/// Tables (component "anomaly_thresholds", so its migrations never collide with "anomaly"):
/// `anomaly_thresholds(handler PK, factor, false_positives, true_positives, updated_at_ns)` and the
/// append-only history `anomaly_feedback(id, anomaly_id, handler, kind, verdict, factor_before,
/// factor_after, at_ns)`. `record_feedback` writes both and an audit row in one transaction.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "selfheal/anomaly/detectors.hpp"
#include "selfheal/anomaly/model.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"

namespace selfheal::anomaly {

inline constexpr std::array<std::string_view, 1> threshold_migrations = {R"sql(
CREATE TABLE anomaly_thresholds(
  handler TEXT PRIMARY KEY, factor REAL NOT NULL, false_positives INTEGER NOT NULL,
  true_positives INTEGER NOT NULL, updated_at_ns INTEGER NOT NULL);
CREATE TABLE anomaly_feedback(
  id INTEGER PRIMARY KEY AUTOINCREMENT, anomaly_id TEXT NOT NULL, handler TEXT NOT NULL, kind TEXT NOT NULL,
  verdict TEXT NOT NULL CHECK(verdict IN ('false-positive', 'true-positive')),
  factor_before REAL NOT NULL, factor_after REAL NOT NULL, at_ns INTEGER NOT NULL);
)sql"};

[[nodiscard]] inline result<void> migrate_thresholds(store::database& db) {
  return store::migrate(db, "anomaly_thresholds", std::span<const std::string_view>(threshold_migrations));
}

/// How feedback moves a factor.
struct threshold_tuning {
  double false_positive_step = 1.25;
  double true_positive_step = 0.9;
  double max_factor = 8.0;
};

enum class verdict : std::uint8_t { false_positive, true_positive };

[[nodiscard]] constexpr std::string_view to_string(verdict v) noexcept {
  return v == verdict::false_positive ? "false-positive" : "true-positive";
}
[[nodiscard]] inline std::optional<verdict> parse_verdict(std::string_view s) noexcept {
  if (s == "false-positive") return verdict::false_positive;
  if (s == "true-positive") return verdict::true_positive;
  return std::nullopt;
}

/// The next factor after one verdict.
[[nodiscard]] inline double tuned_factor(double factor, verdict v, const threshold_tuning& t = {}) noexcept {
  factor = std::max(1.0, factor);
  return v == verdict::false_positive ? std::min(t.max_factor, factor * t.false_positive_step)
                                      : std::max(1.0, factor * t.true_positive_step);
}

/// The factors of every tuned handler (a handler absent here has factor 1).
struct handler_thresholds {
  std::map<std::string, double, std::less<>> factors;
  [[nodiscard]] double factor_of(std::string_view handler) const {
    auto it = factors.find(handler);
    return it == factors.end() ? 1.0 : it->second;
  }
};

/// One feedback as stored: what it was about and how it moved the factor.
struct feedback_entry {
  std::int64_t id = 0;
  std::string anomaly_id, handler, kind;
  verdict given = verdict::false_positive;
  double factor_before = 1, factor_after = 1;
  std::int64_t at_ns = 0;
};

/// The tuned factors (empty when nobody gave feedback yet).
[[nodiscard]] inline result<handler_thresholds> load_thresholds(store::database& db) {
  if (auto m = migrate_thresholds(db); !m) return tl::unexpected(m.error());
  handler_thresholds out;
  auto st = db.prepare("SELECT handler, factor FROM anomaly_thresholds");
  if (!st) return tl::unexpected(st.error());
  for (;;) {
    auto r = st->step();
    if (!r) return tl::unexpected(r.error());
    if (!*r) break;
    out.factors[st->column_text(0)] = st->column_double(1);
  }
  return out;
}

/// Feedback entries with id > `after_id`, oldest first.
[[nodiscard]] inline result<std::vector<feedback_entry>> load_feedback(store::database& db, std::int64_t after_id = 0) {
  if (auto m = migrate_thresholds(db); !m) return tl::unexpected(m.error());
  auto st = db.prepare(
      "SELECT id, anomaly_id, handler, kind, verdict, factor_before, factor_after, at_ns FROM anomaly_feedback "
      "WHERE id > ?1 ORDER BY id");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, after_id);
  std::vector<feedback_entry> out;
  for (;;) {
    auto r = st->step();
    if (!r) return tl::unexpected(r.error());
    if (!*r) break;
    feedback_entry e;
    e.id = st->column_int(0);
    e.anomaly_id = st->column_text(1);
    e.handler = st->column_text(2);
    e.kind = st->column_text(3);
    e.given = st->column_text(4) == "true-positive" ? verdict::true_positive : verdict::false_positive;
    e.factor_before = st->column_double(5);
    e.factor_after = st->column_double(6);
    e.at_ns = st->column_int(7);
    out.push_back(std::move(e));
  }
  return out;
}

/// Records a person's verdict on stored anomaly `anomaly_id` ("anomaly-3.1") and tunes its handler's
/// factor, in one transaction with an audit row. `errc::not_found` when no detection stored that id.
[[nodiscard]] inline result<feedback_entry> record_feedback(store::database& db, std::string_view anomaly_id, verdict v,
                                                           time_point now, std::string_view actor = "user",
                                                           const threshold_tuning& tuning = {}) {
  if (auto m = migrate_thresholds(db); !m) return tl::unexpected(m.error());
  auto has_results = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'anomaly_results'");
  if (!has_results) return tl::unexpected(has_results.error());
  auto hr = has_results->step();
  if (!hr) return tl::unexpected(hr.error());
  if (!*hr) return fail(errc::not_found, "no anomaly '" + std::string(anomaly_id) + "': the store has no detection yet (run `selfheal detect`)");
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  auto find = db.prepare("SELECT handler, sequence, kind FROM anomaly_results WHERE anomaly_id = ?1");
  if (!find) return tl::unexpected(find.error());
  find->bind(1, anomaly_id);
  auto row = find->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(errc::not_found, "no anomaly '" + std::string(anomaly_id) + "' in the store (ids look like anomaly-3.1; see `selfheal detect`)");
  feedback_entry e;
  e.anomaly_id = std::string(anomaly_id);
  e.handler = find->column_text(0);
  if (e.handler.empty()) e.handler = find->column_text(1);  // a whole-sequence anomaly: tune the sequence
  e.kind = find->column_text(2);
  e.given = v;
  e.at_ns = static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  if (e.handler.empty()) return fail(errc::invalid_request, "anomaly " + e.anomaly_id + " names no handler or sequence: nothing to tune");
  auto cur = db.prepare("SELECT factor FROM anomaly_thresholds WHERE handler = ?1");
  if (!cur) return tl::unexpected(cur.error());
  cur->bind(1, e.handler);
  auto c = cur->step();
  if (!c) return tl::unexpected(c.error());
  e.factor_before = *c ? cur->column_double(0) : 1.0;
  e.factor_after = tuned_factor(e.factor_before, v, tuning);
  auto up = db.prepare(
      "INSERT INTO anomaly_thresholds(handler, factor, false_positives, true_positives, updated_at_ns) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(handler) DO UPDATE SET factor = excluded.factor, "
      "false_positives = anomaly_thresholds.false_positives + excluded.false_positives, "  // qualified: PostgreSQL
      "true_positives = anomaly_thresholds.true_positives + excluded.true_positives, updated_at_ns = excluded.updated_at_ns");
  if (!up) return tl::unexpected(up.error());
  const bool fp = v == verdict::false_positive;
  up->bind(1, e.handler).bind(2, e.factor_after).bind(3, fp ? 1 : 0).bind(4, fp ? 0 : 1).bind(5, e.at_ns);
  if (auto r = up->exec(); !r) return tl::unexpected(r.error());
  auto ins = db.prepare(
      "INSERT INTO anomaly_feedback(anomaly_id, handler, kind, verdict, factor_before, factor_after, at_ns) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7)");
  if (!ins) return tl::unexpected(ins.error());
  ins->bind(1, e.anomaly_id).bind(2, e.handler).bind(3, e.kind).bind(4, to_string(v)).bind(5, e.factor_before)
      .bind(6, e.factor_after).bind(7, e.at_ns);
  if (auto r = ins->exec(); !r) return tl::unexpected(r.error());
  e.id = db.last_insert_rowid();
  const std::string detail_text = std::string(to_string(v)) + ": threshold factor of " + e.handler + " " +
                                  detail::fmt_num(e.factor_before) + " -> " + detail::fmt_num(e.factor_after);
  if (auto r = store::audit(db, now, actor, "feedback", e.handler, e.anomaly_id, detail_text); !r)
    return tl::unexpected(r.error());
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return e;
}

/// A finding's effect and the detector threshold it is compared with (see the table above), or
/// nullopt for kinds that are not tuned.
struct tunable_effect {
  double effect = 0;
  double threshold = 0;
};

[[nodiscard]] inline std::optional<tunable_effect> effect_of(const anomaly& a, const all_options& o = {}) {
  const auto num = [&](std::string_view key) -> std::optional<double> {
    const auto* e = a.find(key);
    if (!e || e->is_text) return std::nullopt;
    return e->number;
  };
  std::optional<double> v;
  double threshold = 0;
  switch (a.kind) {
    case anomaly_kind::latency_shift: v = num("p50_ratio"); threshold = o.detect.performance.ratio; break;
    case anomaly_kind::latency_tail: v = num("p95_ratio"); threshold = o.detect.performance.ratio; break;
    case anomaly_kind::error_rate: {
      auto now = num("error_rate"), before = num("baseline_error_rate");
      if (now && before) v = *now - *before;
      threshold = o.detect.errors.min_rate_increase;
      break;
    }
    case anomaly_kind::error_template_spike: v = num("ratio"); threshold = o.detect.errors.spike_ratio; break;
    case anomaly_kind::traffic_surge: v = num("ratio"); threshold = o.detect.traffic.surge_ratio; break;
    case anomaly_kind::traffic_drop: v = num("ratio"); threshold = o.detect.traffic.drop_ratio; break;
    case anomaly_kind::slo_burn: {
      v = num("burn_rate_long");
      auto f = num("rule_factor");
      threshold = f ? *f : 0;
      break;
    }
    case anomaly_kind::missing_beat:
    case anomaly_kind::out_of_order:
    case anomaly_kind::unexpected_beat: v = num("share"); threshold = o.detect.behavioral.min_share; break;
    default: break;
  }
  if (!v || !(threshold > 0)) return std::nullopt;
  return tunable_effect{*v, threshold};
}

/// Drops the findings whose effect does not reach their handler's tuned threshold; a kept finding
/// about a tuned handler carries `threshold_factor` in its evidence. Pure.
[[nodiscard]] inline std::vector<anomaly> apply_thresholds(std::vector<anomaly> found, const handler_thresholds& t,
                                                           const all_options& o = {}) {
  if (t.factors.empty()) return found;
  std::vector<anomaly> out;
  out.reserve(found.size());
  for (auto& a : found) {
    const double f = t.factor_of(a.handler.empty() ? std::string_view(a.sequence) : std::string_view(a.handler));
    if (f > 1.0) {
      if (auto e = effect_of(a, o)) {
        if (e->effect < e->threshold * f) continue;
        a.number("threshold_factor", f);
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace selfheal::anomaly
