#pragma once
/// \file
/// The fix tables of the store (component "fix") and their one-transaction writer and readers.
/// validation.run reads a patch back with `load_patch(db, "fix-3")` (its first patch) or
/// `load_patch(db, "fix-3.2")`.
///
/// | table | one row per | columns |
/// |---|---|---|
/// | `fix_runs` | run (record "fix-N") | `record_id`, `diagnosis_record`, `repo`, `base_commit`, `created_at_ns` |
/// | `fix_patches` | patch | `patch_id` ("fix-N.k"), `record_id`, `idx` (k), `diagnosis_record`, `anomaly_id`, `anomaly_type`, `handler`, `strategy`, `suspect_commit`, `base_commit`, `test_framework`, `tests_added`, `docs_added`, `notes` (\n-joined), `diff`, `json` |
/// | `fix_patch_files` | changed file | `patch_id`, `path`, `additions`, `deletions` |
/// | `fix_syntax` | syntax check | `patch_id`, `path`, `tool`, `ok`, `message` |
/// | `fix_skipped` | refused strategy | `record_id`, `anomaly_id`, `handler`, `strategy`, `reason` |

#include <array>
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
#include "selfheal/fix/model.hpp"
#include "selfheal/fix/report.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"

namespace selfheal::fix {

inline constexpr std::string_view record_kind = "fix";

/// The fix migrations, in order. Append, never edit.
inline constexpr std::array<std::string_view, 1> fix_migrations = {R"sql(
CREATE TABLE fix_runs (
  record_id TEXT PRIMARY KEY REFERENCES records(id),
  diagnosis_record TEXT NOT NULL,
  repo TEXT NOT NULL,
  base_commit TEXT NOT NULL,
  created_at_ns INTEGER NOT NULL
);
CREATE TABLE fix_patches (
  patch_id TEXT PRIMARY KEY,
  record_id TEXT NOT NULL REFERENCES records(id),
  idx INTEGER NOT NULL,
  diagnosis_record TEXT NOT NULL,
  anomaly_id TEXT NOT NULL,
  anomaly_type TEXT NOT NULL,
  handler TEXT NOT NULL,
  strategy TEXT NOT NULL,
  suspect_commit TEXT NOT NULL,
  base_commit TEXT NOT NULL,
  test_framework TEXT NOT NULL,
  tests_added TEXT NOT NULL,
  docs_added TEXT NOT NULL,
  notes TEXT NOT NULL,
  diff TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX fix_patches_record ON fix_patches(record_id, idx);
CREATE TABLE fix_patch_files (
  patch_id TEXT NOT NULL REFERENCES fix_patches(patch_id),
  path TEXT NOT NULL,
  additions INTEGER NOT NULL,
  deletions INTEGER NOT NULL
);
CREATE INDEX fix_patch_files_patch ON fix_patch_files(patch_id);
CREATE TABLE fix_syntax (
  patch_id TEXT NOT NULL REFERENCES fix_patches(patch_id),
  path TEXT NOT NULL,
  tool TEXT NOT NULL,
  ok INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX fix_syntax_patch ON fix_syntax(patch_id);
CREATE TABLE fix_skipped (
  record_id TEXT NOT NULL REFERENCES records(id),
  anomaly_id TEXT NOT NULL,
  handler TEXT NOT NULL,
  strategy TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql"};

[[nodiscard]] inline result<void> migrate_fix(store::database& db) {
  return store::migrate(db, "fix", std::span<const std::string_view>(fix_migrations));
}

/// What a fix run stores besides its patches.
struct fix_run_info {
  std::string diagnosis_record;
  std::string repo;
  std::string base_commit;
};

/// One transaction: a `records` row "fix-N" (parent: the diagnosis record), the run, each patch
/// (ids "fix-N.1", "fix-N.2", … written back into `patches`), its files and syntax checks, and the
/// refused strategies. Returns the record id; on error nothing is written.
[[nodiscard]] inline result<std::string> store_patches(store::database& db, const fix_run_info& run, std::vector<patch>& patches,
                                                       const std::vector<skipped_strategy>& skipped, time_point now) {
  if (auto r = migrate_fix(db); !r) return tl::unexpected(r.error());
  store::transaction tx(db);
  std::optional<std::string_view> parent;
  {
    auto ok = store::record_exists(db, run.diagnosis_record, "diagnosis");
    if (!ok) return tl::unexpected(ok.error());
    if (*ok) parent = run.diagnosis_record;
  }
  auto id = store::create_record(db, record_kind, now, parent, std::to_string(patches.size()) + " patch(es)");
  if (!id) return tl::unexpected(id.error());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  auto r1 = db.prepare("INSERT INTO fix_runs(record_id, diagnosis_record, repo, base_commit, created_at_ns) VALUES (?1,?2,?3,?4,?5)");
  if (!r1) return tl::unexpected(r1.error());
  r1->bind(1, *id).bind(2, run.diagnosis_record).bind(3, run.repo).bind(4, run.base_commit).bind(5, static_cast<std::int64_t>(ns));
  if (auto r = r1->exec(); !r) return tl::unexpected(r.error());
  auto pi = db.prepare(
      "INSERT INTO fix_patches(patch_id, record_id, idx, diagnosis_record, anomaly_id, anomaly_type, handler, strategy, "
      "suspect_commit, base_commit, test_framework, tests_added, docs_added, notes, diff, json) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)");
  auto fi = db.prepare("INSERT INTO fix_patch_files(patch_id, path, additions, deletions) VALUES (?1,?2,?3,?4)");
  auto si = db.prepare("INSERT INTO fix_syntax(patch_id, path, tool, ok, message) VALUES (?1,?2,?3,?4,?5)");
  auto ki = db.prepare("INSERT INTO fix_skipped(record_id, anomaly_id, handler, strategy, reason) VALUES (?1,?2,?3,?4,?5)");
  if (!pi) return tl::unexpected(pi.error());
  if (!fi) return tl::unexpected(fi.error());
  if (!si) return tl::unexpected(si.error());
  if (!ki) return tl::unexpected(ki.error());
  for (std::size_t i = 0; i < patches.size(); ++i) {
    auto& p = patches[i];
    p.fix_record = *id;
    p.id = *id + "." + std::to_string(i + 1);
    p.diagnosis_record = run.diagnosis_record;
    std::string json;
    json_writer w(json);
    write_json(w, p);
    pi->bind(1, p.id).bind(2, *id).bind(3, static_cast<std::int64_t>(i + 1)).bind(4, p.diagnosis_record).bind(5, p.anomaly_id)
        .bind(6, p.anomaly_type).bind(7, p.handler).bind(8, p.strategy).bind(9, p.suspect_commit).bind(10, p.base_commit)
        .bind(11, p.test_framework).bind(12, store::join_nl(p.tests_added)).bind(13, store::join_nl(p.docs_added))
        .bind(14, store::join_nl(p.notes)).bind(15, p.diff).bind(16, json);
    if (auto r = pi->exec(); !r) return tl::unexpected(r.error());
    for (const auto& f : p.files) {
      fi->bind(1, p.id).bind(2, f.path).bind(3, static_cast<std::int64_t>(f.additions)).bind(4, static_cast<std::int64_t>(f.deletions));
      if (auto r = fi->exec(); !r) return tl::unexpected(r.error());
    }
    for (const auto& s : p.syntax) {
      si->bind(1, p.id).bind(2, s.path).bind(3, s.tool).bind(4, static_cast<std::int64_t>(s.ok)).bind(5, s.message);
      if (auto r = si->exec(); !r) return tl::unexpected(r.error());
    }
  }
  for (const auto& s : skipped) {
    ki->bind(1, *id).bind(2, s.anomaly_id).bind(3, s.handler).bind(4, s.strategy).bind(5, s.reason);
    if (auto r = ki->exec(); !r) return tl::unexpected(r.error());
  }
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return *id;
}

namespace detail {

inline result<std::vector<patch>> load_where(store::database& db, std::string_view column, std::string_view value) {
  auto out = db.query(
      "SELECT patch_id, record_id, diagnosis_record, anomaly_id, anomaly_type, handler, strategy, suspect_commit, base_commit, "
      "test_framework, tests_added, docs_added, notes, diff FROM fix_patches WHERE " +
          std::string(column) + " = ?1 ORDER BY idx",
      [&](store::statement& q) { q.bind(1, value); },
      [](const store::statement& st) {
        patch p;
        p.id = st.column_text(0);
        p.fix_record = st.column_text(1);
        p.diagnosis_record = st.column_text(2);
        p.anomaly_id = st.column_text(3);
        p.anomaly_type = st.column_text(4);
        p.handler = st.column_text(5);
        p.strategy = st.column_text(6);
        p.suspect_commit = st.column_text(7);
        p.base_commit = st.column_text(8);
        p.test_framework = st.column_text(9);
        p.tests_added = store::split_nl(st.column_text(10));
        p.docs_added = store::split_nl(st.column_text(11));
        p.notes = store::split_nl(st.column_text(12));
        p.diff = st.column_text(13);
        return p;
      });
  if (!out) return tl::unexpected(out.error());
  auto fs = db.prepare("SELECT path, additions, deletions FROM fix_patch_files WHERE patch_id = ?1 ORDER BY rowid");
  auto ss = db.prepare("SELECT path, tool, ok, message FROM fix_syntax WHERE patch_id = ?1 ORDER BY rowid");
  if (!fs) return tl::unexpected(fs.error());
  if (!ss) return tl::unexpected(ss.error());
  for (auto& p : *out) {
    fs->bind(1, p.id);
    auto files = fs->each([&](const store::statement& f) {
      p.files.push_back({f.column_text(0), static_cast<std::size_t>(f.column_int(1)), static_cast<std::size_t>(f.column_int(2))});
    });
    if (!files) return tl::unexpected(files.error());
    ss->bind(1, p.id);
    auto checks = ss->each([&](const store::statement& c) {
      p.syntax.push_back({c.column_text(0), c.column_text(1), c.column_int(2) != 0, c.column_text(3)});
    });
    if (!checks) return tl::unexpected(checks.error());
  }
  return out;
}

}  // namespace detail

/// The patches of fix record `fix_record` ("fix-3"), in order; `errc::not_found` when there is no such record.
[[nodiscard]] inline result<std::vector<patch>> load_patches(store::database& db, std::string_view fix_record) {
  if (auto r = migrate_fix(db); !r) return tl::unexpected(r.error());
  auto ok = store::record_exists(db, fix_record, record_kind);
  if (!ok) return tl::unexpected(ok.error());
  if (!*ok) return fail(errc::not_found, "no fix record '" + std::string(fix_record) + "' (run `selfheal fix` first)");
  return detail::load_where(db, "record_id", fix_record);
}

/// One patch: "fix-3.2", or "fix-3" for the first patch of record fix-3. `errc::not_found` otherwise.
[[nodiscard]] inline result<patch> load_patch(store::database& db, std::string_view id) {
  if (auto r = migrate_fix(db); !r) return tl::unexpected(r.error());
  if (id.find('.') == std::string_view::npos) {
    auto all = load_patches(db, id);
    if (!all) return tl::unexpected(all.error());
    if (all->empty()) return fail(errc::not_found, "fix record '" + std::string(id) + "' has no patch");
    return std::move(all->front());
  }
  auto one = detail::load_where(db, "patch_id", id);
  if (!one) return tl::unexpected(one.error());
  if (one->empty()) return fail(errc::not_found, "no patch '" + std::string(id) + "'");
  return std::move(one->front());
}

/// The newest fix record, or `errc::not_found`.
[[nodiscard]] inline result<std::string> latest_fix_record(store::database& db) { return store::latest_record(db, record_kind); }

}  // namespace selfheal::fix
