#pragma once
/// \file
/// The learning tables of the SQLite store (component "learning") and how learning.track reads and
/// writes them. Everything one `learn` writes goes in one transaction (`write_learning`).
///
/// | table | one row per | columns |
/// |---|---|---|
/// | `learning_runs` | learning record | `record_id`, `deployment_record` (UNIQUE: a deployment is learned from once), `anomaly_id`, `anomaly_type`, `strategy`, `handler`, `outcome`, `reasons`, `onset_ns`, `deployed_ns`, `time_to_heal_s`, `baseline_record` (the refreshed one, or NULL), `feedback_through` (the last `anomaly_feedback.id` it reported), `created_at_ns` |
/// | `learning_metrics` | (record, metric) | `name`, `before`, `during`, `after`, `change`, `ci_low`, `ci_high`, `before_n`, `after_n`, `within_normal`, `better`, `worse` |
/// | `learning_strategy_priors` | (anomaly type, strategy) | `successes` = α − 1, `failures` = β − 1 (what `diagnosis::load_priors` reads), `alpha`, `beta`, `prior_mean`, `observations`, `updated_at_ns` |
/// | `learning_insights` | (record, n) | `topic`, `text` |

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/anomaly/store.hpp"
#include "selfheal/anomaly/thresholds.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/diagnosis/recommend.hpp"
#include "selfheal/learning/model.hpp"
#include "selfheal/learning/posterior.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"

namespace selfheal::learning {

inline constexpr std::string_view learning_record_kind = "learning";

inline constexpr std::array<std::string_view, 1> learning_migrations = {R"sql(
CREATE TABLE learning_runs(
  record_id TEXT PRIMARY KEY REFERENCES records(id),
  deployment_record TEXT NOT NULL UNIQUE, anomaly_id TEXT NOT NULL, anomaly_type TEXT NOT NULL,
  strategy TEXT NOT NULL, handler TEXT NOT NULL, outcome TEXT NOT NULL, reasons TEXT NOT NULL,
  onset_ns INTEGER, deployed_ns INTEGER NOT NULL, time_to_heal_s REAL,
  baseline_record TEXT, feedback_through INTEGER NOT NULL, created_at_ns INTEGER NOT NULL);
CREATE TABLE learning_metrics(
  record_id TEXT NOT NULL REFERENCES learning_runs(record_id), name TEXT NOT NULL,
  before REAL NOT NULL, during REAL, after REAL NOT NULL, change REAL NOT NULL,
  ci_low REAL NOT NULL, ci_high REAL NOT NULL, before_n INTEGER NOT NULL, after_n INTEGER NOT NULL,
  within_normal INTEGER NOT NULL, better INTEGER NOT NULL, worse INTEGER NOT NULL,
  PRIMARY KEY(record_id, name));
CREATE TABLE IF NOT EXISTS learning_strategy_priors(
  anomaly_type TEXT NOT NULL, strategy TEXT NOT NULL, successes REAL NOT NULL, failures REAL NOT NULL,
  alpha REAL NOT NULL, beta REAL NOT NULL, prior_mean REAL NOT NULL, observations INTEGER NOT NULL,
  updated_at_ns INTEGER NOT NULL, PRIMARY KEY(anomaly_type, strategy));
CREATE TABLE learning_insights(
  record_id TEXT NOT NULL REFERENCES learning_runs(record_id), n INTEGER NOT NULL,
  topic TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY(record_id, n));
)sql"};

[[nodiscard]] inline result<void> migrate_learning(store::database& db) {
  if (auto a = anomaly::migrate_anomaly(db); !a) return a;
  if (auto t = anomaly::migrate_thresholds(db); !t) return t;
  return store::migrate(db, "learning", std::span<const std::string_view>(learning_migrations));
}

namespace detail {
template <class T>
tl::unexpected<error> pass(const result<T>& r) { return tl::unexpected(r.error()); }
inline std::int64_t to_ns(time_point t) {
  return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}
inline outcome parse_outcome(std::string_view s) {
  return s == "success" ? outcome::success : s == "partial" ? outcome::partial : outcome::failure;
}
}  // namespace detail

/// The anomaly `anomaly_id` ("anomaly-3.1") and the baseline its detection compared against.
[[nodiscard]] inline result<answered_anomaly> load_answered_anomaly(store::database& db, std::string_view anomaly_id) {
  if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
  auto row = db.query_one(
      "SELECT r.record_id, r.type, r.kind, r.handler, r.sequence, r.onset_ns, a.baseline_record "
      "FROM anomaly_results r JOIN anomaly_runs a ON a.record_id = r.record_id WHERE r.anomaly_id = ?1",
      [&](store::statement& q) { q.bind(1, anomaly_id); }, [&](const store::statement& st) {
        answered_anomaly a;
        a.id = std::string(anomaly_id);
        a.detection_record = st.column_text(0);
        a.type = st.column_text(1);
        a.kind = st.column_text(2);
        a.handler = st.column_text(3);
        a.sequence = st.column_text(4);
        a.onset_ns = st.is_null(5) ? anomaly::no_time_ns : st.column_int(5);
        a.baseline_record = st.column_text(6);
        return a;
      });
  if (!row) return detail::pass(row);
  if (!*row) return fail(errc::not_found, "the deployment answered anomaly '" + std::string(anomaly_id) + "', which is not in the store");
  return std::move(**row);
}

/// The stored posterior of (type, strategy), else the prior from diagnosis's current rate.
[[nodiscard]] inline result<std::pair<beta_posterior, bool>> load_posterior(store::database& db, std::string_view type,
                                                                            std::string_view strategy) {
  if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
  auto row = db.query_one(
      "SELECT alpha, beta, prior_mean, observations FROM learning_strategy_priors WHERE anomaly_type = ?1 AND strategy = ?2",
      [&](store::statement& q) { q.bind(1, type).bind(2, strategy); }, [&](const store::statement& st) {
        beta_posterior p;
        p.anomaly_type = std::string(type);
        p.strategy = std::string(strategy);
        p.alpha = st.column_double(0);
        p.beta = st.column_double(1);
        p.prior_mean = st.column_double(2);
        p.observations = static_cast<std::uint64_t>(st.column_int(3));
        return p;
      });
  if (!row) return detail::pass(row);
  if (*row) return std::pair{std::move(**row), true};
  auto rates = diagnosis::load_priors(db);
  if (!rates) return detail::pass(rates);
  return std::pair{prior_from_rate(std::string(type), std::string(strategy), rates->rate(type, strategy)), false};
}

/// Every stored posterior, sorted by (type, strategy).
[[nodiscard]] inline result<std::vector<beta_posterior>> load_posteriors(store::database& db) {
  if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
  return db.query(
      "SELECT anomaly_type, strategy, alpha, beta, prior_mean, observations FROM learning_strategy_priors "
      "ORDER BY anomaly_type, strategy",
      [](store::statement&) {}, [](const store::statement& st) {
        beta_posterior p;
        p.anomaly_type = st.column_text(0);
        p.strategy = st.column_text(1);
        p.alpha = st.column_double(2);
        p.beta = st.column_double(3);
        p.prior_mean = st.column_double(4);
        p.observations = static_cast<std::uint64_t>(st.column_int(5));
        return p;
      });
}

/// The learning record of `deployment_record`, when it was learned from already.
[[nodiscard]] inline result<std::optional<std::string>> learned_record_of(store::database& db, std::string_view deployment_record) {
  return db.query_one("SELECT record_id FROM learning_runs WHERE deployment_record = ?1",
                      [&](store::statement& q) { q.bind(1, deployment_record); }, [](const store::statement& q) { return q.column_text(0); });
}

/// The outcome of learning record `record_id`, or nullopt when there is no such record.
[[nodiscard]] inline result<std::optional<outcome>> learned_outcome(store::database& db, std::string_view record_id) {
  if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
  return db.query_one("SELECT outcome FROM learning_runs WHERE record_id = ?1",
                      [&](store::statement& q) { q.bind(1, record_id); },
                      [](const store::statement& q) { return detail::parse_outcome(q.column_text(0)); });
}

/// Every outcome learned so far, oldest first.
[[nodiscard]] inline result<std::vector<past_outcome>> load_history(store::database& db) {
  if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
  return db.query(
      "SELECT record_id, deployment_record, anomaly_type, strategy, handler, outcome, onset_ns, deployed_ns, "
      "time_to_heal_s FROM learning_runs ORDER BY created_at_ns, record_id",
      [](store::statement&) {}, [](const store::statement& st) {
        past_outcome p;
        p.record_id = st.column_text(0);
        p.deployment_record = st.column_text(1);
        p.anomaly_type = st.column_text(2);
        p.strategy = st.column_text(3);
        p.handler = st.column_text(4);
        p.result = detail::parse_outcome(st.column_text(5));
        p.onset_ns = st.is_null(6) ? anomaly::no_time_ns : st.column_int(6);
        p.deployed_ns = st.column_int(7);
        p.time_to_heal_s = st.is_null(8) ? -1.0 : st.column_double(8);
        return p;
      });
}

/// Per handler: in how many detection records it regressed (performance, slo, error) and whether a
/// coverage gap was ever found on it.
[[nodiscard]] inline result<std::vector<handler_history>> load_handler_history(store::database& db) {
  if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
  std::vector<handler_history> out;
  auto r = db.each(
      "SELECT CASE WHEN handler = '' THEN sequence ELSE handler END AS h, "
      "COUNT(DISTINCT CASE WHEN type IN ('performance', 'slo', 'error') THEN record_id END), "
      "MAX(CASE WHEN type = 'coverage' THEN 1 ELSE 0 END) FROM anomaly_results GROUP BY h ORDER BY h",
      [](store::statement&) {}, [&](const store::statement& st) {
        handler_history h;
        h.handler = st.column_text(0);
        h.regressions = static_cast<std::size_t>(st.column_int(1));
        h.coverage_gap = st.column_int(2) != 0;
        if (!h.handler.empty()) out.push_back(std::move(h));
      });
  if (!r) return detail::pass(r);
  return out;
}

/// The telemetry records holding windows that start at or after `since_ns`, in record order.
[[nodiscard]] inline result<std::vector<std::string>> telemetry_records_since(store::database& db, std::int64_t since_ns) {
  if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
  return db.query(
      "SELECT r.id FROM records r WHERE r.kind = 'telemetry' AND EXISTS (SELECT 1 FROM telemetry_window_metrics m "
      "WHERE m.record_id = r.id AND m.window_start_ns >= ?1) ORDER BY r.seq",
      [&](store::statement& q) { q.bind(1, since_ns); }, [](const store::statement& q) { return q.column_text(0); });
}

/// The last feedback id an earlier learning record reported (0 when none).
[[nodiscard]] inline result<std::int64_t> feedback_reported_through(store::database& db) {
  auto r = db.query_one("SELECT COALESCE(MAX(feedback_through), 0) FROM learning_runs", [](store::statement&) {},
                        [](const store::statement& q) { return q.column_int(0); });
  if (!r) return detail::pass(r);
  return r->value_or(0);
}

/// What one `learn` writes.
struct learning_write {
  std::string deployment_record;
  std::string anomaly_id, anomaly_type, strategy, handler;
  outcome result = outcome::failure;
  std::vector<std::string> reasons;
  std::int64_t onset_ns = anomaly::no_time_ns, deployed_ns = 0;
  double time_to_heal_s = -1;
  std::vector<metric_change> metrics;
  std::vector<metric_improvement> improvements;  ///< parallel to `metrics`
  std::optional<beta_posterior> posterior;       ///< the pair's updated posterior
  const anomaly::baseline* new_baseline = nullptr;
  std::int64_t feedback_through = 0;
  std::vector<insight> insights;
};

/// What `write_learning` did.
struct learning_written {
  std::string record_id;
  bool already_learned = false;              ///< the deployment had a learning record: nothing written
  std::optional<std::string> baseline_record;
};

/// Writes a learning record, its metrics and insights, the updated posterior and the refreshed
/// baseline in ONE transaction with an audit row. A deployment already learned from is not counted
/// again: its existing record id comes back with `already_learned` and nothing is written.
[[nodiscard]] inline result<learning_written> write_learning(store::database& db, const learning_write& w, time_point now) {
  if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  learning_written out;
  if (auto prev = learned_record_of(db, w.deployment_record); !prev) {
    return detail::pass(prev);
  } else if (*prev) {
    out.record_id = **prev;
    out.already_learned = true;
    return out;  // the transaction rolls back: nothing was written
  }
  std::optional<std::string_view> parent;
  auto exists = store::record_exists(db, w.deployment_record);
  if (!exists) return detail::pass(exists);
  if (*exists) parent = w.deployment_record;
  const std::string summary = std::string(to_string(w.result)) + ": " + w.strategy + " for " + w.anomaly_type + " on " + w.handler;
  auto id = store::create_record(db, learning_record_kind, now, parent, summary);
  if (!id) return detail::pass(id);
  out.record_id = *id;
  if (w.new_baseline) {
    auto b = anomaly::write_baseline_record(db, *w.new_baseline, now);
    if (!b) return detail::pass(b);
    out.baseline_record = *b;
  }
  std::string reasons;
  for (const auto& r : w.reasons) reasons += (reasons.empty() ? "" : "\n") + r;
  auto run = db.prepare(
      "INSERT INTO learning_runs(record_id, deployment_record, anomaly_id, anomaly_type, strategy, handler, outcome, "
      "reasons, onset_ns, deployed_ns, time_to_heal_s, baseline_record, feedback_through, created_at_ns) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
  if (!run) return detail::pass(run);
  run->bind(1, *id).bind(2, w.deployment_record).bind(3, w.anomaly_id).bind(4, w.anomaly_type).bind(5, w.strategy)
      .bind(6, w.handler).bind(7, to_string(w.result)).bind(8, reasons);
  if (w.onset_ns == anomaly::no_time_ns) run->bind_null(9); else run->bind(9, w.onset_ns);
  run->bind(10, w.deployed_ns);
  if (w.time_to_heal_s < 0) run->bind_null(11); else run->bind(11, w.time_to_heal_s);
  run->bind(12, out.baseline_record).bind(13, w.feedback_through).bind(14, detail::to_ns(now));
  if (auto r = run->exec(); !r) return tl::unexpected(r.error());
  auto ms = db.prepare(
      "INSERT INTO learning_metrics(record_id, name, before, during, after, change, ci_low, ci_high, before_n, after_n, "
      "within_normal, better, worse) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  if (!ms) return detail::pass(ms);
  for (std::size_t i = 0; i < w.metrics.size(); ++i) {
    const auto& m = w.metrics[i];
    if (!m.has_data) continue;
    const metric_improvement none{};
    const auto& imp = i < w.improvements.size() ? w.improvements[i] : none;
    ms->bind(1, *id).bind(2, m.name).bind(3, m.before).bind(4, m.during).bind(5, m.after).bind(6, m.change)
        .bind(7, m.ci_low).bind(8, m.ci_high).bind(9, static_cast<std::uint64_t>(m.before_n))
        .bind(10, static_cast<std::uint64_t>(m.after_n)).bind(11, imp.within_normal ? 1 : 0).bind(12, imp.better ? 1 : 0)
        .bind(13, imp.worse ? 1 : 0);
    if (auto r = ms->exec(); !r) return tl::unexpected(r.error());
  }
  if (w.posterior) {
    const auto& p = *w.posterior;
    auto up = db.prepare(
        "INSERT INTO learning_strategy_priors(anomaly_type, strategy, successes, failures, alpha, beta, prior_mean, "
        "observations, updated_at_ns) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(anomaly_type, strategy) DO UPDATE SET "
        "successes = excluded.successes, failures = excluded.failures, alpha = excluded.alpha, beta = excluded.beta, "
        "observations = excluded.observations, updated_at_ns = excluded.updated_at_ns");
    if (!up) return detail::pass(up);
    up->bind(1, p.anomaly_type).bind(2, p.strategy).bind(3, p.alpha - 1.0).bind(4, p.beta - 1.0).bind(5, p.alpha)
        .bind(6, p.beta).bind(7, p.prior_mean).bind(8, p.observations).bind(9, detail::to_ns(now));
    if (auto r = up->exec(); !r) return tl::unexpected(r.error());
  }
  auto in = db.prepare("INSERT INTO learning_insights(record_id, n, topic, text) VALUES (?1,?2,?3,?4)");
  if (!in) return detail::pass(in);
  for (std::size_t i = 0; i < w.insights.size(); ++i) {
    in->bind(1, *id).bind(2, static_cast<std::uint64_t>(i + 1)).bind(3, w.insights[i].topic).bind(4, w.insights[i].text);
    if (auto r = in->exec(); !r) return tl::unexpected(r.error());
  }
  if (auto r = store::audit(db, now, "selfheal", "learn", w.handler, *id,
                            w.deployment_record + ": " + summary + (out.baseline_record ? ", new baseline " + *out.baseline_record : ""));
      !r)
    return tl::unexpected(r.error());
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return out;
}

}  // namespace selfheal::learning
