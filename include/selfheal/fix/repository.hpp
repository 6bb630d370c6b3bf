#pragma once
/// \file
/// What fix.generate reads from the monitored repository, all through libgit2's object database
/// (never the work tree, the index, HEAD or a ref: nothing the user has is touched):
/// the head of `service.main`, tracked files and symlinks at that commit, file texts at a commit, a
/// suspect commit's parent, and a whole-commit revert made three-way onto the base in an in-memory
/// index (`git_revert_commit`). Conflicts are a refusal naming the files, never conflict markers.
///
/// ```cpp
/// auto base = selfheal::fix::resolve_commit("/repo", "main");               // result<std::string> sha
/// auto text = selfheal::fix::read_file_at("/repo", *base, "src/cart.js");   // result<std::optional<std::string>>
/// auto edits = selfheal::fix::revert_edits("/repo", suspect_sha, *base);     // result<std::vector<file_edit>>
/// ```
/// Errors: `errc::git_error` (libgit2's message), `errc::not_found` (no such branch or commit),
/// `errc::failed` (a revert that conflicts: "conflicts in src/a.js, src/b.js").

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <git2.h>

#include "selfheal/core/result.hpp"
#include "selfheal/source/git.hpp"
#include "selfheal/fix/edits.hpp"

namespace selfheal::fix {

namespace detail {

namespace gd = ::selfheal::source;

struct blob_ptr_t : gd::git_ptr<git_blob, git_blob_free> {};

/// An open repository with libgit2 initialised for as long as it lives.
class repo_handle {
 public:
  static result<repo_handle> open(const std::filesystem::path& root) {
    repo_handle h;
    if (auto r = gd::open_repository(h.repo_, root); !r) return tl::unexpected(r.error());
    return h;
  }
  repo_handle(repo_handle&& o) noexcept : lib_(), repo_() { std::swap(repo_.p, o.repo_.p); }
  repo_handle(const repo_handle&) = delete;
  repo_handle& operator=(const repo_handle&) = delete;
  repo_handle& operator=(repo_handle&&) = delete;
  ~repo_handle() = default;
  [[nodiscard]] git_repository* get() const { return repo_.get(); }

 private:
  repo_handle() = default;
  gd::git_library lib_;
  gd::repo_ptr repo_;
};

inline result<git_oid> resolve_oid(git_repository* repo, std::string_view spec) {
  gd::object_ptr obj;
  const std::string s(spec);
  // A branch name first (refs/heads/<name>), then anything git's revparse takes.
  if (git_revparse_single(obj.out(), repo, ("refs/heads/" + s).c_str()) != 0 &&
      git_revparse_single(obj.out(), repo, s.c_str()) != 0)
    return fail(errc::not_found, "no branch or commit '" + s + "' in the repository");
  gd::object_ptr peeled;
  if (git_object_peel(peeled.out(), obj.get(), GIT_OBJECT_COMMIT) != 0) return gd::git_fail("'" + s + "' is not a commit");
  return *git_object_id(peeled.get());
}

inline result<std::optional<std::string>> read_at(git_repository* repo, const git_oid& commit, std::string_view path) {
  gd::commit_ptr c;
  if (git_commit_lookup(c.out(), repo, &commit) != 0) return gd::git_fail("cannot read commit " + gd::oid_hex(&commit));
  gd::tree_ptr t;
  if (git_commit_tree(t.out(), c.get()) != 0) return gd::git_fail("cannot read the tree of " + gd::oid_hex(&commit));
  git_tree_entry* entry = nullptr;
  if (git_tree_entry_bypath(&entry, t.get(), std::string(path).c_str()) != 0) return std::optional<std::string>{};
  const bool is_blob = git_tree_entry_type(entry) == GIT_OBJECT_BLOB;
  git_oid id = *git_tree_entry_id(entry);
  git_tree_entry_free(entry);
  if (!is_blob) return std::optional<std::string>{};
  blob_ptr_t b;
  if (git_blob_lookup(b.out(), repo, &id) != 0) return gd::git_fail("cannot read " + std::string(path));
  const auto* data = static_cast<const char*>(git_blob_rawcontent(b.get()));
  return std::optional<std::string>(std::string(data, static_cast<std::size_t>(git_blob_rawsize(b.get()))));
}

inline result<std::optional<std::string>> read_blob(git_repository* repo, const git_oid& id) {
  if (git_oid_is_zero(&id)) return std::optional<std::string>{};
  blob_ptr_t b;
  if (git_blob_lookup(b.out(), repo, &id) != 0) return gd::git_fail("cannot read blob " + gd::oid_hex(&id));
  const auto* data = static_cast<const char*>(git_blob_rawcontent(b.get()));
  return std::optional<std::string>(std::string(data, static_cast<std::size_t>(git_blob_rawsize(b.get()))));
}

}  // namespace detail

/// The full sha of a branch (`main`) or a commit spec.
[[nodiscard]] inline result<std::string> resolve_commit(const std::filesystem::path& root, std::string_view spec) {
  auto repo = detail::repo_handle::open(root);
  if (!repo) return tl::unexpected(repo.error());
  auto oid = detail::resolve_oid(repo->get(), spec);
  if (!oid) return tl::unexpected(oid.error());
  return detail::gd::oid_hex(&*oid);
}

/// A tracked path of a commit's tree.
struct tree_file {
  std::string path;
  bool symlink = false;
};

/// Every blob path of `commit`'s tree (symlinks marked), sorted.
[[nodiscard]] inline result<std::vector<tree_file>> list_files_at(const std::filesystem::path& root, std::string_view commit) {
  auto repo = detail::repo_handle::open(root);
  if (!repo) return tl::unexpected(repo.error());
  auto oid = detail::resolve_oid(repo->get(), commit);
  if (!oid) return tl::unexpected(oid.error());
  namespace gd = detail::gd;
  gd::commit_ptr c;
  if (git_commit_lookup(c.out(), repo->get(), &*oid) != 0) return gd::git_fail("cannot read commit");
  gd::tree_ptr t;
  if (git_commit_tree(t.out(), c.get()) != 0) return gd::git_fail("cannot read a tree");
  std::vector<tree_file> out;
  auto cb = [](const char* dir, const git_tree_entry* e, void* payload) -> int {
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) return 0;
    auto* v = static_cast<std::vector<tree_file>*>(payload);
    v->push_back({std::string(dir) + git_tree_entry_name(e), git_tree_entry_filemode(e) == GIT_FILEMODE_LINK});
    return 0;
  };
  if (git_tree_walk(t.get(), GIT_TREEWALK_PRE, cb, &out) != 0) return gd::git_fail("cannot walk a tree");
  std::sort(out.begin(), out.end(), [](const tree_file& a, const tree_file& b) { return a.path < b.path; });
  return out;
}

/// The text of `path` at `commit`, or nullopt when the commit has no such file.
[[nodiscard]] inline result<std::optional<std::string>> read_file_at(const std::filesystem::path& root, std::string_view commit,
                                                                    std::string_view path) {
  auto repo = detail::repo_handle::open(root);
  if (!repo) return tl::unexpected(repo.error());
  auto oid = detail::resolve_oid(repo->get(), commit);
  if (!oid) return tl::unexpected(oid.error());
  return detail::read_at(repo->get(), *oid, path);
}

/// The texts of `paths` at `commit` (one repository open); paths the commit lacks, and blobs larger
/// than `max_bytes`, are left out.
[[nodiscard]] inline result<std::map<std::string, std::string, std::less<>>> read_files_at(
    const std::filesystem::path& root, std::string_view commit, const std::vector<std::string>& paths,
    std::size_t max_bytes = std::size_t{4} << 20) {
  auto repo = detail::repo_handle::open(root);
  if (!repo) return tl::unexpected(repo.error());
  auto oid = detail::resolve_oid(repo->get(), commit);
  if (!oid) return tl::unexpected(oid.error());
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& p : paths) {
    auto t = detail::read_at(repo->get(), *oid, p);
    if (!t) return tl::unexpected(t.error());
    if (*t && (*t)->size() <= max_bytes) out.emplace(p, std::move(**t));
  }
  return out;
}

/// A commit as fix.generate needs it: its first parent and each file's text before and after.
struct commit_change {
  std::string commit;
  std::string parent;  ///< empty for a root commit
  std::string summary;
  std::vector<file_edit> files;  ///< before = at the parent, after = at the commit
};

[[nodiscard]] inline result<commit_change> read_commit_change(const std::filesystem::path& root, std::string_view commit) {
  namespace gd = detail::gd;
  auto repo = detail::repo_handle::open(root);
  if (!repo) return tl::unexpected(repo.error());
  auto oid = detail::resolve_oid(repo->get(), commit);
  if (!oid) return tl::unexpected(oid.error());
  gd::commit_ptr c;
  if (git_commit_lookup(c.out(), repo->get(), &*oid) != 0) return gd::git_fail("cannot read commit");
  commit_change out;
  out.commit = gd::oid_hex(&*oid);
  out.summary = git_commit_summary(c.get()) ? git_commit_summary(c.get()) : "";
  gd::tree_ptr new_tree, old_tree;
  if (git_commit_tree(new_tree.out(), c.get()) != 0) return gd::git_fail("cannot read a tree");
  if (git_commit_parentcount(c.get()) > 0) {
    gd::commit_ptr p;
    if (git_commit_parent(p.out(), c.get(), 0) != 0) return gd::git_fail("cannot read the parent of " + out.commit);
    out.parent = gd::oid_hex(git_commit_id(p.get()));
    if (git_commit_tree(old_tree.out(), p.get()) != 0) return gd::git_fail("cannot read a tree");
  }
  gd::diff_ptr diff;
  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  if (git_diff_tree_to_tree(diff.out(), repo->get(), old_tree.get(), new_tree.get(), &opts) != 0)
    return gd::git_fail("cannot diff " + out.commit);
  const std::size_t n = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    file_edit e;
    e.path = d->new_file.path ? d->new_file.path : d->old_file.path;
    auto before = detail::read_blob(repo->get(), d->old_file.id);
    if (!before) return tl::unexpected(before.error());
    auto after = detail::read_blob(repo->get(), d->new_file.id);
    if (!after) return tl::unexpected(after.error());
    e.before = std::move(*before);
    e.after = std::move(*after);
    out.files.push_back(std::move(e));
  }
  return out;
}

/// The whole of `commit` reverted three-way onto `base` (libgit2 revert into an in-memory index):
/// the files that differ from `base`, before = at `base`, after = reverted. Conflicts → `errc::failed`
/// naming the conflicting files.
[[nodiscard]] inline result<std::vector<file_edit>> revert_edits(const std::filesystem::path& root, std::string_view commit,
                                                                 std::string_view base) {
  namespace gd = detail::gd;
  auto repo = detail::repo_handle::open(root);
  if (!repo) return tl::unexpected(repo.error());
  auto coid = detail::resolve_oid(repo->get(), commit);
  if (!coid) return tl::unexpected(coid.error());
  auto boid = detail::resolve_oid(repo->get(), base);
  if (!boid) return tl::unexpected(boid.error());
  gd::commit_ptr revert_c, base_c;
  if (git_commit_lookup(revert_c.out(), repo->get(), &*coid) != 0) return gd::git_fail("cannot read the suspect commit");
  if (git_commit_lookup(base_c.out(), repo->get(), &*boid) != 0) return gd::git_fail("cannot read the base commit");
  if (git_commit_parentcount(revert_c.get()) == 0)
    return fail(errc::failed, "the suspect commit " + std::string(commit) + " is a root commit: nothing to revert onto");
  const unsigned mainline = git_commit_parentcount(revert_c.get()) > 1 ? 1u : 0u;
  git_merge_options mopts;
  git_merge_options_init(&mopts, GIT_MERGE_OPTIONS_VERSION);
  gd::index_ptr index;
  if (git_revert_commit(index.out(), repo->get(), revert_c.get(), base_c.get(), mainline, &mopts) != 0)
    return gd::git_fail("cannot revert " + std::string(commit));
  if (git_index_has_conflicts(index.get())) {
    git_index_conflict_iterator* it = nullptr;
    std::vector<std::string> files;
    if (git_index_conflict_iterator_new(&it, index.get()) == 0) {
      const git_index_entry *anc = nullptr, *ours = nullptr, *theirs = nullptr;
      while (git_index_conflict_next(&anc, &ours, &theirs, it) == 0) {
        const git_index_entry* e = ours ? ours : theirs ? theirs : anc;
        if (e && e->path) files.emplace_back(e->path);
      }
      git_index_conflict_iterator_free(it);
    }
    std::string list;
    for (std::size_t i = 0; i < files.size(); ++i) list += (i ? ", " : "") + files[i];
    return fail(errc::failed, "reverting " + std::string(commit).substr(0, 12) + " onto the base conflicts in " + list +
                                  " (later commits changed the same lines)");
  }
  gd::tree_ptr base_tree;
  if (git_commit_tree(base_tree.out(), base_c.get()) != 0) return gd::git_fail("cannot read the base tree");
  gd::diff_ptr diff;
  git_diff_options dopts;
  git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
  if (git_diff_tree_to_index(diff.out(), repo->get(), base_tree.get(), index.get(), &dopts) != 0)
    return gd::git_fail("cannot diff the revert");
  std::vector<file_edit> out;
  const std::size_t n = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    file_edit e;
    e.path = d->new_file.path ? d->new_file.path : d->old_file.path;
    auto before = detail::read_blob(repo->get(), d->old_file.id);
    if (!before) return tl::unexpected(before.error());
    auto after = detail::read_blob(repo->get(), d->new_file.id);
    if (!after) return tl::unexpected(after.error());
    e.before = std::move(*before);
    e.after = std::move(*after);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace selfheal::fix
