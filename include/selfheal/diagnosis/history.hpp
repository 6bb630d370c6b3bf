#pragma once
/// \file
/// The git history of the monitored repository is the source layer's (source/history.hpp: commits,
/// structured hunks, shallow and blob-less clones, the history cache); diagnosis names it here, and
/// keeps its own store component "diagnosis" (the results tables, see store.hpp).

#include <array>
#include <span>
#include <string_view>

#include "selfheal/core/result.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/source/history.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::diagnosis {

using source::commits_between;
using source::history_options;
using source::read_history;
using source::tracked_files;

/// The migrations of component "diagnosis", in order (append, never edit). The caches of 1, 3 and
/// 4 moved to the source layer (component "source", source/history.hpp); their tables stay in old
/// stores and are created, unused, in new ones (a migration is never edited). 1 = the git history
/// cache (`diagnosis_git_repos`, `diagnosis_git_commits`, `diagnosis_git_tips`), 2 = the diagnosis
/// results (tables documented in store.hpp), 3 = the symbol cache (`diagnosis_symbol_files`: the
/// size and mtime of each file indexed by ctags; `diagnosis_symbols`: its symbols; see codebase.hpp),
/// 4 = `diagnosis_git_commits.state` (0 complete, 1 a shallow boundary, 2 objects missing: such
/// commits are read again from git on every run, so an unshallow or a fetch of blobs is seen).
/// 5 = `diagnosis_recommendations.old_value`/`new_value` (a config_change restoring a value).
inline constexpr std::array<std::string_view, 5> diagnosis_migrations = {
    R"sql(
    CREATE TABLE diagnosis_git_repos(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
    CREATE TABLE diagnosis_git_commits(
      repo INTEGER NOT NULL REFERENCES diagnosis_git_repos(id), sha TEXT NOT NULL,
      author TEXT, email TEXT, time INTEGER, commit_time INTEGER, summary TEXT, message TEXT,
      parents TEXT, changes TEXT, PRIMARY KEY(repo, sha)) WITHOUT ROWID;
    CREATE TABLE diagnosis_git_tips(
      repo INTEGER NOT NULL REFERENCES diagnosis_git_repos(id), sha TEXT NOT NULL, PRIMARY KEY(repo, sha));
    )sql",
    R"sql(
    CREATE TABLE diagnosis_runs(
      record_id TEXT PRIMARY KEY REFERENCES records(id), anomaly_record TEXT, repo TEXT NOT NULL, head TEXT,
      symbols INTEGER, symbol_source TEXT, commits INTEGER, commits_from_git INTEGER, created_at_ns INTEGER NOT NULL);
    CREATE TABLE diagnosis_items(
      record_id TEXT NOT NULL REFERENCES records(id), idx INTEGER NOT NULL, anomaly_id TEXT, type TEXT, handler TEXT,
      root_cause TEXT, confidence REAL, file TEXT, line INTEGER, end_line INTEGER, symbol TEXT, shape TEXT,
      severity TEXT, traffic_share REAL, slo_budget_burn REAL, sequences TEXT, evidence TEXT, json TEXT,
      PRIMARY KEY(record_id, idx));
    CREATE TABLE diagnosis_suspects(
      record_id TEXT NOT NULL REFERENCES records(id), item_idx INTEGER NOT NULL, rank INTEGER NOT NULL,
      commit_id TEXT NOT NULL, summary TEXT, author TEXT, time INTEGER, score REAL, in_release INTEGER,
      overlaps INTEGER, file TEXT, hunks TEXT, reasons TEXT, PRIMARY KEY(record_id, item_idx, rank));
    CREATE TABLE diagnosis_recommendations(
      record_id TEXT NOT NULL REFERENCES records(id), item_idx INTEGER NOT NULL, priority INTEGER NOT NULL,
      strategy TEXT NOT NULL, expected_benefit REAL, rationale TEXT, commit_id TEXT, file TEXT, config_key TEXT,
      hunks TEXT, PRIMARY KEY(record_id, item_idx, priority));
    )sql",
    R"sql(
    CREATE TABLE diagnosis_symbol_files(
      repo INTEGER NOT NULL REFERENCES diagnosis_git_repos(id), path TEXT NOT NULL, size INTEGER NOT NULL,
      mtime_ns INTEGER NOT NULL, PRIMARY KEY(repo, path)) WITHOUT ROWID;
    CREATE TABLE diagnosis_symbols(
      repo INTEGER NOT NULL REFERENCES diagnosis_git_repos(id), path TEXT NOT NULL, name TEXT NOT NULL,
      scope TEXT NOT NULL, kind TEXT NOT NULL, language TEXT NOT NULL, line INTEGER NOT NULL,
      end_line INTEGER NOT NULL, end_scanned INTEGER NOT NULL);
    CREATE INDEX diagnosis_symbols_by_file ON diagnosis_symbols(repo, path);
    )sql",
    R"sql(
    ALTER TABLE diagnosis_git_commits ADD COLUMN state INTEGER NOT NULL DEFAULT 0;
    )sql",
    R"sql(
    ALTER TABLE diagnosis_recommendations ADD COLUMN old_value TEXT;
    ALTER TABLE diagnosis_recommendations ADD COLUMN new_value TEXT;
    )sql",
};

/// Creates or upgrades the diagnosis tables (history cache and results; idempotent).
[[nodiscard]] inline result<void> migrate_diagnosis(store::database& db) {
  return store::migrate(db, "diagnosis", std::span<const std::string_view>(diagnosis_migrations));
}

}  // namespace selfheal::diagnosis
