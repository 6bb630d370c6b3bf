#pragma once
/// \file
/// Git history of the monitored repository through libgit2: commits (full id, author, time,
/// message), the files and line hunks each touched (against its first parent, zero context lines),
/// and tags. Incremental: commits are cached in the store by commit id (component "source":
/// `source_commits`, their files in `source_commit_files` and hunks in `source_commit_hunks` as
/// rows, and the tips already walked), so a second run walks only commits that are new since.
///
/// Real clones: a shallow clone's boundary commit (its parent is absent) gets no changes and is
/// never blamed for adding files; a diff whose blobs are missing (blob-less `--filter=blob:none`
/// clone) keeps its paths with `hunks_known = false`. Both are named in `history::warnings`, cached
/// with their state and read again on every run (an unshallow or a blob fetch is then seen).
///
/// ```cpp
/// auto db = selfheal::store::database::open("selfheal.db");
/// auto h = selfheal::source::read_history("/path/to/repo", &*db);  // result<history>
/// for (const auto& c : h->commits) ...                              // newest first
/// ```
/// libgit2's errors become `errc::git_error` with its message; the store's stay `errc::store_error`.

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <git2.h>

#include "selfheal/core/result.hpp"
#include "selfheal/source/git.hpp"
#include "selfheal/source/model.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::source {

/// The migrations of component "source", in order (append, never edit): 1 = the git history
/// cache (`source_repos`, `source_commits` with `state` 0 complete / 1 a shallow boundary / 2
/// objects missing, `source_commit_files`, `source_commit_hunks`, `source_tips`) and the symbol
/// cache (`source_symbol_files`: size and mtime of each file indexed by ctags; `source_symbols`).
inline constexpr std::array<std::string_view, 1> source_migrations = {
    R"sql(
    CREATE TABLE source_repos(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
    CREATE TABLE source_commits(
      repo INTEGER NOT NULL REFERENCES source_repos(id), sha TEXT NOT NULL,
      author TEXT, email TEXT, time INTEGER, commit_time INTEGER, summary TEXT, message TEXT,
      parents TEXT, state INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(repo, sha)) WITHOUT ROWID;
    CREATE TABLE source_commit_files(
      repo INTEGER NOT NULL, sha TEXT NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL, path TEXT NOT NULL,
      old_path TEXT NOT NULL, additions INTEGER NOT NULL, deletions INTEGER NOT NULL, hunks_known INTEGER NOT NULL,
      PRIMARY KEY(repo, sha, idx)) WITHOUT ROWID;
    CREATE TABLE source_commit_hunks(
      repo INTEGER NOT NULL, sha TEXT NOT NULL, file_idx INTEGER NOT NULL, idx INTEGER NOT NULL,
      old_start INTEGER NOT NULL, old_lines INTEGER NOT NULL, new_start INTEGER NOT NULL, new_lines INTEGER NOT NULL,
      PRIMARY KEY(repo, sha, file_idx, idx)) WITHOUT ROWID;
    CREATE TABLE source_tips(
      repo INTEGER NOT NULL REFERENCES source_repos(id), sha TEXT NOT NULL, PRIMARY KEY(repo, sha));
    CREATE TABLE source_symbol_files(
      repo INTEGER NOT NULL REFERENCES source_repos(id), path TEXT NOT NULL, size INTEGER NOT NULL,
      mtime_ns INTEGER NOT NULL, PRIMARY KEY(repo, path)) WITHOUT ROWID;
    CREATE TABLE source_symbols(
      repo INTEGER NOT NULL REFERENCES source_repos(id), path TEXT NOT NULL, name TEXT NOT NULL,
      scope TEXT NOT NULL, kind TEXT NOT NULL, language TEXT NOT NULL, line INTEGER NOT NULL,
      end_line INTEGER NOT NULL, end_scanned INTEGER NOT NULL);
    CREATE INDEX source_symbols_by_file ON source_symbols(repo, path);
    )sql",
};

/// Creates or upgrades the source tables (history and symbol caches; idempotent).
[[nodiscard]] inline result<void> migrate_source(store::database& db) {
  return store::migrate(db, "source", std::span<const std::string_view>(source_migrations));
}

namespace detail {

/// The commits a shallow clone was cut at (`.git/shallow`): their parents are not in the clone.
inline std::unordered_set<std::string> shallow_boundaries(git_repository* repo) {
  std::unordered_set<std::string> out;
  if (!git_repository_is_shallow(repo)) return out;
  const char* common = git_repository_commondir(repo);
  std::ifstream in(std::filesystem::path(common ? common : git_repository_path(repo)) / "shallow");
  std::string line;
  while (std::getline(in, line))
    if (line.size() >= GIT_OID_HEXSZ) out.insert(line.substr(0, GIT_OID_HEXSZ));
  return out;
}

using patch_ptr = git_ptr<git_patch, git_patch_free>;

/// One commit with its changes against its first parent. A shallow clone's boundary commit (listed
/// in `boundaries`, or whose parent is absent) gets no changes at all: diffing it against nothing
/// would blame it for adding every file. A file whose blobs are missing (a blob-less or partial
/// clone) keeps its path and status with `hunks_known = false`, and the commit is `incomplete`.
inline result<commit_info> read_commit(git_repository* repo, const git_oid* id,
                                       const std::unordered_set<std::string>& boundaries = {}) {
  commit_ptr c;
  if (git_commit_lookup(c.out(), repo, id) != 0) return git_fail("commit lookup " + oid_hex(id));
  commit_info info;
  info.id = oid_hex(id);
  const git_signature* a = git_commit_author(c.get());
  if (a) {
    info.author = a->name ? a->name : "";
    info.email = a->email ? a->email : "";
    info.time = static_cast<std::int64_t>(a->when.time);
  }
  info.commit_time = static_cast<std::int64_t>(git_commit_time(c.get()));
  const char* msg = git_commit_message(c.get());
  info.message = msg ? msg : "";
  const char* sum = git_commit_summary(c.get());
  info.summary = sum ? sum : "";
  const unsigned np = git_commit_parentcount(c.get());
  for (unsigned i = 0; i < np; ++i) info.parents.push_back(oid_hex(git_commit_parent_id(c.get(), i)));

  tree_ptr tree, parent_tree;
  if (np > 0) {
    commit_ptr parent;
    if (boundaries.contains(info.id) || git_commit_parent(parent.out(), c.get(), 0) != 0) {
      git_error_clear();
      info.shallow_boundary = true;
      return info;
    }
    if (git_commit_tree(parent_tree.out(), parent.get()) != 0) return git_fail("tree of parent of " + info.id);
  }
  if (git_commit_tree(tree.out(), c.get()) != 0) return git_fail("tree of " + info.id);
  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  opts.context_lines = 0;
  opts.interhunk_lines = 0;
  diff_ptr diff;
  if (git_diff_tree_to_tree(diff.out(), repo, parent_tree.get(), tree.get(), &opts) != 0)
    return git_fail("diff of " + info.id);
  const std::size_t n = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    if (!delta) continue;
    file_change f;
    f.path = delta->new_file.path ? delta->new_file.path : "";
    f.old_path = delta->old_file.path ? delta->old_file.path : "";
    switch (delta->status) {
      case GIT_DELTA_ADDED: f.status = 'A'; break;
      case GIT_DELTA_DELETED: f.status = 'D'; f.path = f.old_path; break;
      case GIT_DELTA_RENAMED: f.status = 'R'; break;
      default: f.status = 'M'; break;
    }
    patch_ptr patch;
    if (const int rc = git_patch_from_diff(patch.out(), diff.get(), i); rc != 0) {
      const git_error* e = git_error_last();
      const bool missing = rc == GIT_ENOTFOUND || (e && e->klass == GIT_ERROR_ODB);
      if (!missing) return git_fail("hunks of " + info.id + " in " + f.path);
      git_error_clear();
      f.hunks_known = false;
      info.incomplete = true;
      info.files.push_back(std::move(f));
      continue;
    }
    const std::size_t nh = patch.get() ? git_patch_num_hunks(patch.get()) : 0;
    for (std::size_t k = 0; k < nh; ++k) {
      const git_diff_hunk* h = nullptr;
      std::size_t lines = 0;
      if (git_patch_get_hunk(&h, &lines, patch.get(), k) != 0 || !h) continue;
      f.hunks.push_back(hunk{static_cast<std::uint32_t>(std::max(h->old_start, 0)), static_cast<std::uint32_t>(std::max(h->old_lines, 0)),
                             static_cast<std::uint32_t>(std::max(h->new_start, 0)), static_cast<std::uint32_t>(std::max(h->new_lines, 0))});
      f.additions += static_cast<std::uint32_t>(std::max(h->new_lines, 0));
      f.deletions += static_cast<std::uint32_t>(std::max(h->old_lines, 0));
    }
    info.files.push_back(std::move(f));
  }
  return info;
}

}  // namespace detail

struct history_options {
  std::size_t max_new_commits = 0;  ///< stop walking after this many new commits (0 = no limit)
};

/// The files tracked in the repository's index, relative with '/', sorted.
[[nodiscard]] inline result<std::vector<std::string>> tracked_files(const std::filesystem::path& root) {
  git_library lib;
  repo_ptr repo;
  if (auto r = open_repository(repo, root); !r) return tl::unexpected(r.error());
  index_ptr index;
  if (git_repository_index(index.out(), repo.get()) != 0) return git_fail("index of " + root.string());
  std::vector<std::string> files;
  const std::size_t n = git_index_entrycount(index.get());
  files.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const git_index_entry* e = git_index_get_byindex(index.get(), i);
    if (e && e->path) files.emplace_back(e->path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Reads the history reachable from HEAD, newest first. With `cache`, commits already stored are
/// read back from it and only new ones are read through libgit2; the new ones are stored in one
/// transaction. An empty repository (no HEAD) gives an empty history.
[[nodiscard]] inline result<history> read_history(const std::filesystem::path& root, store::database* cache = nullptr,
                                                  const history_options& opts = {}) {
  git_library lib;
  repo_ptr repo;
  if (auto r = open_repository(repo, root); !r) return tl::unexpected(r.error());
  history h;

  // Tags (peeled to commits).
  git_strarray names{nullptr, 0};
  if (git_tag_list(&names, repo.get()) == 0) {
    for (std::size_t i = 0; i < names.count; ++i) {
      const std::string ref = std::string("refs/tags/") + names.strings[i];
      object_ptr obj, peeled;
      if (git_revparse_single(obj.out(), repo.get(), ref.c_str()) != 0) continue;
      if (git_object_peel(peeled.out(), obj.get(), GIT_OBJECT_COMMIT) != 0) continue;
      h.tags.push_back(tag_info{names.strings[i], oid_hex(git_object_id(peeled.get()))});
    }
    git_strarray_dispose(&names);
  }

  git_oid head_oid;
  if (git_reference_name_to_id(&head_oid, repo.get(), "HEAD") != 0) return h;  // unborn: no commits
  h.head = oid_hex(&head_oid);

  std::int64_t repo_id = 0;
  std::unordered_map<std::string, commit_info> by_id;
  std::vector<std::string> old_tips;
  std::vector<std::string> recheck;  // cached commits that were a boundary or incomplete
  const auto boundaries = detail::shallow_boundaries(repo.get());
  std::string canonical;
  {
    std::error_code ec;
    canonical = std::filesystem::weakly_canonical(root, ec).string();
    if (ec) canonical = root.string();
  }
  if (cache) {
    if (auto r = migrate_source(*cache); !r) return tl::unexpected(r.error());
    auto ins = cache->prepare("INSERT INTO source_repos(path) VALUES (?1) ON CONFLICT(path) DO NOTHING");
    if (!ins) return tl::unexpected(ins.error());
    ins->bind(1, canonical);
    if (auto r = ins->exec(); !r) return tl::unexpected(r.error());
    auto sel = cache->prepare("SELECT id FROM source_repos WHERE path = ?1");
    if (!sel) return tl::unexpected(sel.error());
    sel->bind(1, canonical);
    auto row = sel->step();
    if (!row) return tl::unexpected(row.error());
    repo_id = sel->column_int(0);
    auto tips = cache->prepare("SELECT sha FROM source_tips WHERE repo = ?1");
    if (!tips) return tl::unexpected(tips.error());
    tips->bind(1, repo_id);
    for (auto s = tips->step(); ; s = tips->step()) {
      if (!s) return tl::unexpected(s.error());
      if (!*s) break;
      old_tips.push_back(tips->column_text(0));
    }
  }

  if (cache) {
    // Read back the cached commits, their files and hunks (structured rows, joined here).
    auto sel = cache->prepare(
        "SELECT sha, author, email, time, commit_time, summary, message, parents, state "
        "FROM source_commits WHERE repo = ?1");
    if (!sel) return tl::unexpected(sel.error());
    sel->bind(1, repo_id);
    for (auto s = sel->step(); ; s = sel->step()) {
      if (!s) return tl::unexpected(s.error());
      if (!*s) break;
      commit_info c;
      c.id = sel->column_text(0);
      c.author = sel->column_text(1);
      c.email = sel->column_text(2);
      c.time = sel->column_int(3);
      c.commit_time = sel->column_int(4);
      c.summary = sel->column_text(5);
      c.message = sel->column_text(6);
      const std::string parents = sel->column_text(7);
      for (std::size_t p = 0; p + 40 <= parents.size(); p += 41) c.parents.push_back(parents.substr(p, 40));
      if (sel->column_int(8) != 0) {  // a boundary or incomplete commit: read again below
        recheck.push_back(c.id);
        continue;
      }
      std::string key = c.id;
      by_id.emplace(std::move(key), std::move(c));
    }
    auto files = cache->prepare(
        "SELECT sha, idx, status, path, old_path, additions, deletions, hunks_known FROM source_commit_files "
        "WHERE repo = ?1 ORDER BY sha, idx");
    if (!files) return tl::unexpected(files.error());
    files->bind(1, repo_id);
    for (auto s = files->step(); ; s = files->step()) {
      if (!s) return tl::unexpected(s.error());
      if (!*s) break;
      const auto it = by_id.find(files->column_text(0));
      if (it == by_id.end()) continue;
      file_change f;
      const std::string status = files->column_text(2);
      f.status = status.empty() ? 'M' : status[0];
      f.path = files->column_text(3);
      f.old_path = files->column_text(4);
      f.additions = static_cast<std::uint32_t>(files->column_int(5));
      f.deletions = static_cast<std::uint32_t>(files->column_int(6));
      f.hunks_known = files->column_int(7) != 0;
      it->second.files.push_back(std::move(f));
    }
    auto hunks = cache->prepare(
        "SELECT sha, file_idx, old_start, old_lines, new_start, new_lines FROM source_commit_hunks "
        "WHERE repo = ?1 ORDER BY sha, file_idx, idx");
    if (!hunks) return tl::unexpected(hunks.error());
    hunks->bind(1, repo_id);
    for (auto s = hunks->step(); ; s = hunks->step()) {
      if (!s) return tl::unexpected(s.error());
      if (!*s) break;
      const auto it = by_id.find(hunks->column_text(0));
      if (it == by_id.end()) continue;
      const auto fi = static_cast<std::size_t>(hunks->column_int(1));
      if (fi >= it->second.files.size()) continue;
      it->second.files[fi].hunks.push_back(hunk{static_cast<std::uint32_t>(hunks->column_int(2)),
                                                static_cast<std::uint32_t>(hunks->column_int(3)),
                                                static_cast<std::uint32_t>(hunks->column_int(4)),
                                                static_cast<std::uint32_t>(hunks->column_int(5))});
    }
    h.read_from_cache = by_id.size();
  }

  // Walk the new commits newest first (by committer time) from HEAD, stopping at commits already
  // cached (their ancestry is cached too) and at parents that are not in the object database (the
  // boundary of a shallow clone).
  std::vector<commit_info> fresh;
  {
    struct queued {
      std::int64_t time;
      git_oid id;
      bool operator<(const queued& o) const { return time < o.time; }
    };
    std::priority_queue<queued> todo;
    std::unordered_set<std::string> queued_ids;
    auto enqueue = [&](const git_oid& oid) {
      std::string hex = oid_hex(&oid);
      if (by_id.count(hex) || !queued_ids.insert(hex).second) return;
      commit_ptr c;
      if (git_commit_lookup(c.out(), repo.get(), &oid) != 0) { git_error_clear(); return; }
      todo.push(queued{static_cast<std::int64_t>(git_commit_time(c.get())), oid});
    };
    enqueue(head_oid);
    // Commits cached as a boundary or incomplete are read again (and their parents walked, when
    // an unshallow has brought them).
    for (const auto& id : recheck) {
      git_oid oid;
      if (git_oid_fromstr(&oid, id.c_str()) != 0) continue;
      enqueue(oid);
    }
    bool limited = false;
    while (!todo.empty()) {
      const git_oid oid = todo.top().id;
      todo.pop();
      auto c = detail::read_commit(repo.get(), &oid, boundaries);
      if (!c) return tl::unexpected(c.error());
      for (const auto& p : c->parents) {
        git_oid pid;
        if (git_oid_fromstr(&pid, p.c_str()) == 0) enqueue(pid);
      }
      fresh.push_back(std::move(*c));
      if (opts.max_new_commits && fresh.size() >= opts.max_new_commits) { limited = true; break; }
    }
    // A limited walk leaves gaps in the ancestry: it is not cached (the cache must stay closed
    // under "parent of").
    if (limited) cache = nullptr;
  }
  h.read_from_git = fresh.size();
  {
    std::size_t incomplete = 0;
    for (const auto& c : fresh) {
      if (c.shallow_boundary)
        h.warnings.push_back("commit " + c.id.substr(0, 7) + " is the boundary of a shallow clone: its parent is absent, "
                             "so its changes are unknown and it is not blamed for them");
      if (c.incomplete) ++incomplete;
    }
    if (incomplete)
      h.warnings.push_back(std::to_string(incomplete) + " commit(s) have diffs with missing objects (a blob-less or partial "
                           "clone): only the names of the files they changed are known");
  }

  if (cache) {
    // Store the new ones and the new tip set in one transaction.
    if (!fresh.empty() || std::find(old_tips.begin(), old_tips.end(), h.head) == old_tips.end()) {
      store::transaction tx(*cache);
      auto put = cache->prepare(
          "INSERT INTO source_commits(repo, sha, author, email, time, commit_time, summary, "
          "message, parents, state) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(repo, sha) DO UPDATE SET "
          "author = excluded.author, email = excluded.email, time = excluded.time, commit_time = excluded.commit_time, "
          "summary = excluded.summary, message = excluded.message, parents = excluded.parents, state = excluded.state");
      auto del_files = cache->prepare("DELETE FROM source_commit_files WHERE repo = ?1 AND sha = ?2");
      auto del_hunks = cache->prepare("DELETE FROM source_commit_hunks WHERE repo = ?1 AND sha = ?2");
      auto put_file = cache->prepare(
          "INSERT INTO source_commit_files(repo, sha, idx, status, path, old_path, additions, deletions, hunks_known) "
          "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
      auto put_hunk = cache->prepare(
          "INSERT INTO source_commit_hunks(repo, sha, file_idx, idx, old_start, old_lines, new_start, new_lines) "
          "VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
      for (auto* st : {&put, &del_files, &del_hunks, &put_file, &put_hunk})
        if (!*st) return tl::unexpected(st->error());
      for (const auto& c : fresh) {
        std::string parents;
        for (const auto& p : c.parents) { if (!parents.empty()) parents += ' '; parents += p; }
        put->bind(1, repo_id).bind(2, c.id).bind(3, c.author).bind(4, c.email).bind(5, c.time)
            .bind(6, c.commit_time).bind(7, c.summary).bind(8, c.message).bind(9, parents)
            .bind(10, c.shallow_boundary ? 1 : c.incomplete ? 2 : 0);
        if (auto r = put->exec(); !r) return tl::unexpected(r.error());
        del_files->bind(1, repo_id).bind(2, c.id);
        if (auto r = del_files->exec(); !r) return tl::unexpected(r.error());
        del_hunks->bind(1, repo_id).bind(2, c.id);
        if (auto r = del_hunks->exec(); !r) return tl::unexpected(r.error());
        for (std::size_t fi = 0; fi < c.files.size(); ++fi) {
          const auto& f = c.files[fi];
          put_file->bind(1, repo_id).bind(2, c.id).bind(3, static_cast<std::int64_t>(fi)).bind(4, std::string(1, f.status))
              .bind(5, f.path).bind(6, f.old_path).bind(7, static_cast<std::int64_t>(f.additions))
              .bind(8, static_cast<std::int64_t>(f.deletions)).bind(9, f.hunks_known ? 1 : 0);
          if (auto r = put_file->exec(); !r) return tl::unexpected(r.error());
          for (std::size_t k = 0; k < f.hunks.size(); ++k) {
            const auto& hk = f.hunks[k];
            put_hunk->bind(1, repo_id).bind(2, c.id).bind(3, static_cast<std::int64_t>(fi)).bind(4, static_cast<std::int64_t>(k))
                .bind(5, static_cast<std::int64_t>(hk.old_start)).bind(6, static_cast<std::int64_t>(hk.old_lines))
                .bind(7, static_cast<std::int64_t>(hk.new_start)).bind(8, static_cast<std::int64_t>(hk.new_lines));
            if (auto r = put_hunk->exec(); !r) return tl::unexpected(r.error());
          }
        }
      }
      if (!opts.max_new_commits || fresh.size() < opts.max_new_commits) {
        auto tip = cache->prepare("INSERT INTO source_tips(repo, sha) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
        if (!tip) return tl::unexpected(tip.error());
        tip->bind(1, repo_id).bind(2, h.head);
        if (auto r = tip->exec(); !r) return tl::unexpected(r.error());
      }
      if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
    }
  }

  if (by_id.empty()) {
    h.commits = std::move(fresh);
    return h;
  }
  for (auto& c : fresh) {
    std::string key = c.id;
    by_id.insert_or_assign(std::move(key), std::move(c));
  }
  // Keep only what HEAD reaches (the cache may hold other branches), newest first.
  std::unordered_set<std::string> seen;
  std::vector<std::string> stack{h.head};
  while (!stack.empty()) {
    std::string cur = std::move(stack.back());
    stack.pop_back();
    auto it = by_id.find(cur);
    if (it == by_id.end() || !seen.insert(cur).second) continue;
    for (const auto& p : it->second.parents) stack.push_back(p);
  }
  h.commits.reserve(seen.size());
  for (auto& [k, c] : by_id)
    if (seen.count(k)) h.commits.push_back(std::move(c));
  std::sort(h.commits.begin(), h.commits.end(), [](const commit_info& a, const commit_info& b) {
    if (a.commit_time != b.commit_time) return a.commit_time > b.commit_time;
    if (a.time != b.time) return a.time > b.time;
    return a.id < b.id;
  });
  return h;
}

/// The commits reachable from `to` but not from `from` (git's `from..to`), by id. Both are
/// commit ids present in `h`; an unknown `from` means "everything reachable from `to`".
[[nodiscard]] inline std::unordered_set<std::string> commits_between(const history& h, std::string_view from,
                                                                     std::string_view to) {
  std::unordered_map<std::string_view, const commit_info*> by_id;
  for (const auto& c : h.commits) by_id.emplace(c.id, &c);
  auto reach = [&](std::string_view start) {
    std::unordered_set<std::string> out;
    std::vector<std::string_view> stack{start};
    while (!stack.empty()) {
      auto cur = stack.back();
      stack.pop_back();
      auto it = by_id.find(cur);
      if (it == by_id.end() || !out.insert(std::string(cur)).second) continue;
      for (const auto& p : it->second->parents) stack.push_back(p);
    }
    return out;
  };
  auto result_set = reach(to);
  if (!from.empty())
    for (const auto& id : reach(from)) result_set.erase(id);
  return result_set;
}

}  // namespace selfheal::source
