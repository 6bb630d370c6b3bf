#pragma once
/// \file
/// The deployment tables of the store (component "deployment") and their readers and writers.
///
/// | table | one row per | columns |
/// |---|---|---|
/// | `deployment_runs` | deployment (= record "deployment-N") | `record_id`, `validation_record`, `mode`, `status`, `reasons` (\n-joined), `handler`, `anomaly_id`, `anomaly_type`, `strategy`, `branch`, `commit_sha`, `merge_commit`, `previous`, `rollback_commit`, `rollback_reason`, `deployed_ns`, `created_at_ns`, `updated_at_ns` |
/// | `deployment_stages` | deploy stage run | `record_id`, `idx`, `stage`, `commit_sha`, `started_ns`, `finished_ns`, `verdict`, `score` |
/// | `deployment_stage_metrics` | judged metric of a stage | `record_id`, `stage_idx`, `idx`, `name`, `baseline`, `canary`, `ratio` (NULL when infinite), `p_value`, `classification`, `critical` |
/// | `deployment_pull_requests` | pull request | `record_id`, `pr_id`, `title`, `url`, `body` (Markdown) |
/// | `deployment_steps` | step of a deployment | `record_id`, `step` ("branch", "commit", "push", "pr", "ci", "merge", "deploy:canary", "verify:canary", "rollback", …), `state` (started / done / failed), `detail` (a sha, a reason), `updated_at_ns` |
/// | `deployment_approvals` | approve / reject | `record_id`, `action`, `actor`, `reason`, `at_ns` |
///
/// Crash safety: a step's row says `started` before it acts and `done` (with what it made) after,
/// each in its own transaction, so a resumed deploy knows what exists: a `done` step is never
/// repeated; a `started` one is checked against the repository before it is redone (a branch that
/// exists is reused, a commit whose tree is already on the branch is not made twice).

#include <array>
#include <cmath>
#include <limits>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/deployment/model.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"

namespace selfheal::deployment {

inline constexpr std::string_view record_kind = "deployment";

/// The deployment migrations, in order. Append, never edit.
inline constexpr std::array<std::string_view, 1> deployment_migrations = {R"sql(
CREATE TABLE deployment_runs(
  record_id TEXT PRIMARY KEY REFERENCES records(id),
  validation_record TEXT NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL, reasons TEXT NOT NULL DEFAULT '',
  handler TEXT, anomaly_id TEXT, anomaly_type TEXT, strategy TEXT,
  branch TEXT, commit_sha TEXT, merge_commit TEXT, previous TEXT,
  rollback_commit TEXT, rollback_reason TEXT, deployed_ns INTEGER NOT NULL DEFAULT 0,
  created_at_ns INTEGER NOT NULL, updated_at_ns INTEGER NOT NULL);
CREATE INDEX deployment_runs_by_validation ON deployment_runs(validation_record);
CREATE INDEX deployment_runs_by_handler ON deployment_runs(handler);
CREATE TABLE deployment_stages(
  record_id TEXT NOT NULL REFERENCES deployment_runs(record_id), idx INTEGER NOT NULL,
  stage TEXT NOT NULL, commit_sha TEXT NOT NULL, started_ns INTEGER NOT NULL, finished_ns INTEGER NOT NULL,
  verdict TEXT NOT NULL, score REAL NOT NULL,
  PRIMARY KEY(record_id, idx));
CREATE TABLE deployment_stage_metrics(
  record_id TEXT NOT NULL REFERENCES deployment_runs(record_id), stage_idx INTEGER NOT NULL, idx INTEGER NOT NULL,
  name TEXT NOT NULL, baseline REAL, canary REAL, ratio REAL, p_value REAL, classification TEXT NOT NULL,
  critical INTEGER NOT NULL, PRIMARY KEY(record_id, stage_idx, idx));
CREATE TABLE deployment_pull_requests(
  record_id TEXT PRIMARY KEY REFERENCES deployment_runs(record_id),
  pr_id TEXT NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE deployment_steps(
  record_id TEXT NOT NULL REFERENCES deployment_runs(record_id), step TEXT NOT NULL,
  state TEXT NOT NULL CHECK(state IN ('started', 'done', 'failed')), detail TEXT NOT NULL DEFAULT '',
  updated_at_ns INTEGER NOT NULL, PRIMARY KEY(record_id, step));
CREATE TABLE deployment_approvals(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  record_id TEXT NOT NULL REFERENCES deployment_runs(record_id),
  action TEXT NOT NULL CHECK(action IN ('approve', 'reject')), actor TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '', at_ns INTEGER NOT NULL);
)sql"};

[[nodiscard]] inline result<void> migrate_deployment(store::database& db) {
  return store::migrate(db, "deployment", std::span<const std::string_view>(deployment_migrations));
}

namespace detail {
inline std::int64_t to_ns(time_point t) {
  return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}
template <class T>
inline tl::unexpected<error> pass(const result<T>& r) { return tl::unexpected(r.error()); }
}  // namespace detail

/// Writes the metrics of a stage as a JSON array (field names as `selfheal deploy --json` prints them).
inline void write_metrics_json(json_writer& w, const std::vector<metric_verdict>& ms) {
  w.begin_array();
  for (const auto& m : ms) {
    w.begin_object();
    w.key("name"); w.value(m.name);
    w.key("baseline"); w.value(m.baseline);
    w.key("canary"); w.value(m.canary);
    w.key("ratio"); w.value(m.ratio);
    w.key("p_value"); w.value(m.p_value);
    w.key("classification"); w.value(m.classification);
    w.key("critical"); w.value(m.critical);
    w.end_object();
  }
  w.end_array();
}

/// Creates the record ("deployment-N", parent = the validation record when it is one) and its run
/// row in one transaction, with an audit row saying who asked for what.
[[nodiscard]] inline result<std::string> create_deployment(store::database& db, const record& r, time_point now,
                                                           std::string_view actor) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  std::optional<std::string_view> parent;
  auto exists = store::record_exists(db, r.validation_record, "validation");
  if (!exists) return detail::pass(exists);
  if (*exists) parent = r.validation_record;
  auto id = store::create_record(db, record_kind, now, parent, r.status + " " + r.handler);
  if (!id) return id;
  auto st = db.prepare(
      "INSERT INTO deployment_runs(record_id, validation_record, mode, status, reasons, handler, anomaly_id, "
      "anomaly_type, strategy, created_at_ns, updated_at_ns) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10)");
  if (!st) return detail::pass(st);
  st->bind(1, *id).bind(2, r.validation_record).bind(3, r.mode).bind(4, r.status).bind(5, store::join_nl(r.reasons))
      .bind(6, r.handler).bind(7, r.anomaly_id).bind(8, r.anomaly_type).bind(9, r.strategy).bind(10, detail::to_ns(now));
  if (auto e = st->exec(); !e) return tl::unexpected(e.error());
  if (auto a = store::audit(db, now, actor, "deploy.requested", r.validation_record, *id,
                            "mode " + r.mode + ", handler " + r.handler + ", strategy " + r.strategy);
      !a)
    return tl::unexpected(a.error());
  if (auto c = tx.commit(); !c) return tl::unexpected(c.error());
  return id;
}

/// Updates the run row from `r` (status, reasons, git facts, rollback) and replaces its stages
/// and pull request, in one transaction, with an optional audit row. Returns the audit row id (0 when none).
[[nodiscard]] inline result<std::int64_t> save_deployment(store::database& db, const record& r, time_point now,
                                                          std::string_view actor = {}, std::string_view action = {},
                                                          std::string_view detail_text = {}) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  auto st = db.prepare(
      "UPDATE deployment_runs SET mode=?2, status=?3, reasons=?4, branch=?5, commit_sha=?6, merge_commit=?7, "
      "previous=?8, rollback_commit=?9, rollback_reason=?10, deployed_ns=?11, updated_at_ns=?12 WHERE record_id=?1");
  if (!st) return detail::pass(st);
  st->bind(1, r.record_id).bind(2, r.mode).bind(3, r.status).bind(4, store::join_nl(r.reasons)).bind(5, r.branch)
      .bind(6, r.commit).bind(7, r.merge_commit).bind(8, r.previous);
  if (r.rolled_back) st->bind(9, r.rolled_back->commit).bind(10, r.rolled_back->reason);
  else st->bind_null(9).bind_null(10);
  st->bind(11, r.deployed_ns).bind(12, detail::to_ns(now));
  if (auto e = st->exec(); !e) return tl::unexpected(e.error());
  for (auto sql : {"DELETE FROM deployment_stage_metrics WHERE record_id=?1", "DELETE FROM deployment_stages WHERE record_id=?1"}) {
    auto del = db.prepare(sql);
    if (!del) return detail::pass(del);
    del->bind(1, r.record_id);
    if (auto e = del->exec(); !e) return tl::unexpected(e.error());
  }
  auto ins = db.prepare(
      "INSERT INTO deployment_stages(record_id, idx, stage, commit_sha, started_ns, finished_ns, verdict, score) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
  auto met = db.prepare(
      "INSERT INTO deployment_stage_metrics(record_id, stage_idx, idx, name, baseline, canary, ratio, p_value, "
      "classification, critical) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  if (!ins) return detail::pass(ins);
  if (!met) return detail::pass(met);
  for (std::size_t i = 0; i < r.stages.size(); ++i) {
    const auto& s = r.stages[i];
    ins->bind(1, r.record_id).bind(2, static_cast<std::int64_t>(i)).bind(3, s.stage).bind(4, s.commit)
        .bind(5, s.started_ns).bind(6, s.finished_ns).bind(7, s.verdict).bind(8, s.score);
    if (auto e = ins->exec(); !e) return tl::unexpected(e.error());
    for (std::size_t k = 0; k < s.metrics.size(); ++k) {
      const auto& m = s.metrics[k];
      met->bind(1, r.record_id).bind(2, static_cast<std::int64_t>(i)).bind(3, static_cast<std::int64_t>(k)).bind(4, m.name)
          .bind(5, m.baseline).bind(6, m.canary);
      if (std::isfinite(m.ratio)) met->bind(7, m.ratio); else met->bind_null(7);
      met->bind(8, m.p_value).bind(9, m.classification).bind(10, static_cast<std::int64_t>(m.critical));
      if (auto e = met->exec(); !e) return tl::unexpected(e.error());
    }
  }
  if (r.pr) {
    auto pr = db.prepare(
        "INSERT INTO deployment_pull_requests(record_id, pr_id, title, url, body) VALUES (?1,?2,?3,?4,?5) "
        "ON CONFLICT(record_id) DO UPDATE SET pr_id=excluded.pr_id, title=excluded.title, url=excluded.url, body=excluded.body");
    if (!pr) return detail::pass(pr);
    pr->bind(1, r.record_id).bind(2, r.pr->id).bind(3, r.pr->title).bind(4, r.pr->url).bind(5, r.pr->body);
    if (auto e = pr->exec(); !e) return tl::unexpected(e.error());
  }
  std::int64_t audit_id = 0;
  if (!action.empty()) {
    if (auto a = store::audit(db, now, actor, action, r.branch.empty() ? r.validation_record : r.branch, r.record_id,
                              detail_text);
        !a)
      return tl::unexpected(a.error());
    audit_id = db.last_insert_rowid();
  }
  if (auto c = tx.commit(); !c) return tl::unexpected(c.error());
  return audit_id;
}

/// One audit row about a deployment, in its own transaction; returns the row id.
[[nodiscard]] inline result<std::int64_t> audit_deployment(store::database& db, time_point now, std::string_view actor,
                                                           std::string_view action, std::string_view target,
                                                           std::string_view record_id, std::string_view detail_text) {
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  if (auto a = store::audit(db, now, actor, action, target, record_id, detail_text); !a) return tl::unexpected(a.error());
  const auto id = db.last_insert_rowid();
  if (auto c = tx.commit(); !c) return tl::unexpected(c.error());
  return id;
}

/// A step's state (see the file comment).
struct step_state {
  std::string state;   ///< started | done | failed; empty when the step never began
  std::string detail;
  std::int64_t at_ns = 0;  ///< when the state was written
};

[[nodiscard]] inline result<void> set_step(store::database& db, std::string_view record_id, std::string_view step,
                                           std::string_view state, std::string_view detail_text, time_point now) {
  if (auto m = migrate_deployment(db); !m) return m;
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  auto st = db.prepare(
      "INSERT INTO deployment_steps(record_id, step, state, detail, updated_at_ns) VALUES (?1,?2,?3,?4,?5) "
      "ON CONFLICT(record_id, step) DO UPDATE SET state=excluded.state, detail=excluded.detail, updated_at_ns=excluded.updated_at_ns");
  if (!st) return detail::pass(st);
  st->bind(1, record_id).bind(2, step).bind(3, state).bind(4, detail_text).bind(5, detail::to_ns(now));
  if (auto e = st->exec(); !e) return e;
  return tx.commit();
}

[[nodiscard]] inline result<step_state> get_step(store::database& db, std::string_view record_id, std::string_view step) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  auto row = db.query_one("SELECT state, detail, updated_at_ns FROM deployment_steps WHERE record_id=?1 AND step=?2",
                          [&](store::statement& q) { q.bind(1, record_id).bind(2, step); },
                          [](const store::statement& st) { return step_state{st.column_text(0), st.column_text(1), st.column_int(2)}; });
  if (!row) return detail::pass(row);
  return row->value_or(step_state{});
}

/// Every step of a deployment, in the order they were first written.
[[nodiscard]] inline result<std::vector<std::pair<std::string, step_state>>> load_steps(store::database& db,
                                                                                       std::string_view record_id) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  return db.query("SELECT step, state, detail, updated_at_ns FROM deployment_steps WHERE record_id=?1 ORDER BY rowid",
                  [&](store::statement& q) { q.bind(1, record_id); }, [](const store::statement& st) {
                    return std::pair<std::string, step_state>{st.column_text(0),
                                                              step_state{st.column_text(1), st.column_text(2), st.column_int(3)}};
                  });
}

/// Reads a stored deployment back (what learning.track reads). `audit` holds the ids of the audit
/// rows whose `record` is this deployment.
[[nodiscard]] inline result<record> load_deployment(store::database& db, std::string_view id) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  const auto by_record = [&](store::statement& q) { q.bind(1, id); };
  auto run = db.query_one(
      "SELECT validation_record, mode, status, reasons, handler, anomaly_id, anomaly_type, strategy, branch, commit_sha, "
      "merge_commit, previous, rollback_commit, rollback_reason, deployed_ns FROM deployment_runs WHERE record_id=?1",
      by_record, [&](const store::statement& st) {
        record r;
        r.record_id = std::string(id);
        r.validation_record = st.column_text(0);
        r.mode = st.column_text(1);
        r.status = st.column_text(2);
        r.reasons = store::split_nl(st.column_text(3));
        r.handler = st.column_text(4);
        r.anomaly_id = st.column_text(5);
        r.anomaly_type = st.column_text(6);
        r.strategy = st.column_text(7);
        r.branch = st.column_text(8);
        r.commit = st.column_text(9);
        r.merge_commit = st.column_text(10);
        r.previous = st.column_text(11);
        if (!st.is_null(12)) r.rolled_back = rollback{st.column_text(12), st.column_text(13)};
        r.deployed_ns = st.column_int(14);
        return r;
      });
  if (!run) return detail::pass(run);
  if (!*run) return fail(errc::not_found, "no deployment record '" + std::string(id) + "' (see `selfheal records --kind deployment`)");
  record& r = **run;
  auto stages = db.each(
      "SELECT stage, commit_sha, started_ns, finished_ns, verdict, score FROM deployment_stages "
      "WHERE record_id=?1 ORDER BY idx",
      by_record, [&](const store::statement& sg) {
        stage_result s;
        s.stage = sg.column_text(0);
        s.commit = sg.column_text(1);
        s.started_ns = sg.column_int(2);
        s.finished_ns = sg.column_int(3);
        s.verdict = sg.column_text(4);
        s.score = sg.column_double(5);
        r.stages.push_back(std::move(s));
      });
  if (!stages) return detail::pass(stages);
  auto metrics = db.each(
      "SELECT stage_idx, name, baseline, canary, ratio, p_value, classification, critical FROM deployment_stage_metrics "
      "WHERE record_id=?1 ORDER BY stage_idx, idx",
      by_record, [&](const store::statement& mt) {
        const auto si = static_cast<std::size_t>(mt.column_int(0));
        if (si >= r.stages.size()) return;
        metric_verdict m;
        m.name = mt.column_text(1);
        m.baseline = mt.column_double(2);
        m.canary = mt.column_double(3);
        m.ratio = mt.is_null(4) ? std::numeric_limits<double>::infinity() : mt.column_double(4);
        m.p_value = mt.column_double(5);
        m.classification = mt.column_text(6);
        m.critical = mt.column_int(7) != 0;
        r.stages[si].metrics.push_back(std::move(m));
      });
  if (!metrics) return detail::pass(metrics);
  auto pr = db.query_one("SELECT pr_id, title, url, body FROM deployment_pull_requests WHERE record_id=?1", by_record,
                         [](const store::statement& q) {
                           return pull_request{q.column_text(0), q.column_text(1), q.column_text(2), q.column_text(3)};
                         });
  if (!pr) return detail::pass(pr);
  if (*pr) r.pr = std::move(**pr);
  auto audit = db.query("SELECT id FROM audit_log WHERE record=?1 ORDER BY id", by_record,
                        [](const store::statement& q) { return q.column_int(0); });
  if (!audit) return detail::pass(audit);
  r.audit = std::move(*audit);
  return std::move(r);
}

/// The newest deployment of `validation_record` that is still open (not deployed, rolled back,
/// dry run, refused or failed): the one a second `deploy` resumes. Empty when none.
[[nodiscard]] inline result<std::string> open_deployment_for(store::database& db, std::string_view validation_record) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  auto row = db.query_one(
      "SELECT d.record_id FROM deployment_runs d JOIN records r ON r.id = d.record_id "
      "WHERE d.validation_record=?1 AND d.status IN ('running', 'blocked') ORDER BY r.seq DESC LIMIT 1",
      [&](store::statement& q) { q.bind(1, validation_record); }, [](const store::statement& q) { return q.column_text(0); });
  if (!row) return detail::pass(row);
  return row->value_or(std::string{});
}

/// The newest finished deployment (deployed or rolled back) of `validation_record`, or empty: a
/// second `deploy` of it reports that one instead of shipping the same fix again.
[[nodiscard]] inline result<std::string> finished_deployment_for(store::database& db, std::string_view validation_record) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  auto row = db.query_one(
      "SELECT d.record_id FROM deployment_runs d JOIN records r ON r.id = d.record_id "
      "WHERE d.validation_record=?1 AND d.status IN ('deployed', 'rolled_back') ORDER BY r.seq DESC LIMIT 1",
      [&](store::statement& q) { q.bind(1, std::string(validation_record)); }, [](const store::statement& q) { return q.column_text(0); });
  if (!row) return detail::pass(row);
  return row->value_or(std::string{});
}

/// When earlier deploys of `handler` (those that merged: deployed, rolled back, or held after
/// a merge) were created, for the rate limit. `except` is left out (the deployment being resumed).
[[nodiscard]] inline result<std::vector<std::int64_t>> deploys_of_handler(store::database& db, std::string_view handler,
                                                                           std::string_view except = {}) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  return db.query(
      "SELECT created_at_ns FROM deployment_runs WHERE handler=?1 AND record_id<>?2 AND "
      "(status IN ('deployed', 'rolled_back') OR merge_commit <> '')",
      // std::string: an empty `except` must bind '' (a default string_view would bind NULL)
      [&](store::statement& q) { q.bind(1, handler).bind(2, std::string(except)); }, [](const store::statement& q) { return q.column_int(0); });
}

/// An approval or rejection by a person.
struct approval {
  std::string action;  ///< approve | reject
  std::string actor, reason;
  std::int64_t at_ns = 0;
};

/// Records `selfheal approve` / `selfheal reject` (one transaction with its audit row).
[[nodiscard]] inline result<std::int64_t> record_approval(store::database& db, std::string_view record_id,
                                                          const approval& a, time_point now) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  auto st = db.prepare("INSERT INTO deployment_approvals(record_id, action, actor, reason, at_ns) VALUES (?1,?2,?3,?4,?5)");
  if (!st) return detail::pass(st);
  st->bind(1, record_id).bind(2, a.action).bind(3, a.actor).bind(4, a.reason).bind(5, detail::to_ns(now));
  if (auto e = st->exec(); !e) return tl::unexpected(e.error());
  if (auto e = store::audit(db, now, a.actor, "deploy." + a.action, record_id, record_id, a.reason); !e)
    return tl::unexpected(e.error());
  const auto id = db.last_insert_rowid();
  if (auto c = tx.commit(); !c) return tl::unexpected(c.error());
  return id;
}

/// Approvals and rejections of a deployment, oldest first.
[[nodiscard]] inline result<std::vector<approval>> load_approvals(store::database& db, std::string_view record_id) {
  if (auto m = migrate_deployment(db); !m) return tl::unexpected(m.error());
  return db.query("SELECT action, actor, reason, at_ns FROM deployment_approvals WHERE record_id=?1 ORDER BY id",
                  [&](store::statement& q) { q.bind(1, record_id); },
                  [](const store::statement& q) { return approval{q.column_text(0), q.column_text(1), q.column_text(2), q.column_int(3)}; });
}

}  // namespace selfheal::deployment
