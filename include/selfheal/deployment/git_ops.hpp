#pragma once
/// \file
/// The repository writes of deployment.deploy, on `source/git.hpp`, each one safe to repeat:
///
/// - `commit_patch`: the validated diff applied to a commit's *tree* in the object database
///   (`source::commit_patch`): no work tree or index of the user's is touched;
/// - `ensure_branch` / `advance_branch`: `selfheal/<handler>-<record>` created at main's head (an
///   existing one there is reused), then moved to the fix commit only from where it was (compare-and-swap);
/// - `merge_commit`: a two-parent merge commit of the fix into main with the fix's tree (written
///   here: the foundation has single-parent commits only); `revert_commit`: a commit on the merge
///   whose tree is `{previous}`'s (`source::commit_tree_of`);
/// - `advance_main`: main moved from an expected head to a descendant, as `git merge --ff-only`
///   would (`source::fast_forward_branch`); when main is checked out and dirty it refuses first,
///   naming the files, with `errc::policy_denied` (a person must act: the deploy is *blocked*);
/// - `push` to `git.remote`; `temp_checkout`: a private checkout (`source::checkout`) for CI and stages.
///
/// libgit2's errors become `errc::git_error` with its message.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <git2.h>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/source/git.hpp"

namespace selfheal::deployment::git {

/// An open repository (libgit2 initialised for as long as it lives).
class repository {
 public:
  [[nodiscard]] static result<repository> open(const std::filesystem::path& path) {
    repository r;
    if (auto o = source::open_repository(r.repo_, path); !o) return tl::unexpected(o.error());
    r.root_ = path;
    return r;
  }
  repository(repository&& o) noexcept : repo_(std::move(o.repo_)), root_(std::move(o.root_)) {}
  repository& operator=(repository&&) = delete;
  [[nodiscard]] git_repository* get() const noexcept { return repo_.get(); }
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

 private:
  repository() = default;
  source::git_library lib_;
  source::repo_ptr repo_;
  std::filesystem::path root_;
};

namespace detail {
inline time_point at(std::int64_t seconds) { return time_point{} + std::chrono::seconds{seconds}; }
}  // namespace detail

/// The commit a branch points at, or empty when there is no such branch.
[[nodiscard]] inline result<std::string> branch_head(const repository& repo, std::string_view branch) {
  git_oid id;
  const std::string ref = "refs/heads/" + std::string(branch);
  const int rc = git_reference_name_to_id(&id, repo.get(), ref.c_str());
  if (rc == GIT_ENOTFOUND) { git_error_clear(); return std::string{}; }
  if (rc != 0) return source::git_fail("branch '" + std::string(branch) + "'");
  return source::oid_hex(&id);
}

/// The first parent, the parent count and the tree of a commit.
struct commit_info {
  std::string parent, tree;
  std::size_t parents = 0;
};
[[nodiscard]] inline result<commit_info> read_commit(const repository& repo, std::string_view sha) {
  source::commit_ptr c;
  if (auto r = source::detail::lookup_commit(repo.get(), sha, c); !r) return tl::unexpected(r.error());
  commit_info i;
  i.parents = git_commit_parentcount(c.get());
  if (i.parents > 0) i.parent = source::oid_hex(git_commit_parent_id(c.get(), 0));
  i.tree = source::oid_hex(git_commit_tree_id(c.get()));
  return i;
}

/// A commit on `base` whose tree is `base`'s with `diff` applied (object database only).
[[nodiscard]] inline result<std::string> commit_patch(const repository& repo, std::string_view base, std::string_view diff,
                                                      std::string_view author, std::int64_t when, const std::string& message) {
  return source::commit_patch(repo.get(), base, diff, source::author::parse(author), detail::at(when), message);
}

/// A merge commit of `fix` into `onto` with `fix`'s tree (first parent `onto`, second `fix`).
[[nodiscard]] inline result<std::string> merge_commit(const repository& repo, std::string_view onto, std::string_view fix,
                                                      std::string_view author, std::int64_t when, const std::string& message) {
  source::commit_ptr a, b;
  source::tree_ptr tree;
  if (auto r = source::detail::lookup_commit(repo.get(), onto, a); !r) return tl::unexpected(r.error());
  if (auto r = source::detail::commit_tree(repo.get(), fix, b, tree); !r) return tl::unexpected(r.error());
  source::signature_ptr sig;
  if (auto r = source::detail::make_signature(sig, source::author::parse(author), detail::at(when)); !r)
    return tl::unexpected(r.error());
  git_oid out;
  const git_commit* parents[] = {a.get(), b.get()};
  if (git_commit_create(&out, repo.get(), nullptr, sig.get(), sig.get(), nullptr, message.c_str(), tree.get(), 2, parents) != 0)
    return source::git_fail("merge commit");
  return source::oid_hex(&out);
}

/// A commit on `head` whose tree is `previous`'s: the revert of everything since `previous`.
[[nodiscard]] inline result<std::string> revert_commit(const repository& repo, std::string_view head, std::string_view previous,
                                                       std::string_view author, std::int64_t when, const std::string& message) {
  return source::commit_tree_of(repo.get(), previous, head, source::author::parse(author), detail::at(when), message);
}

/// Creates `branch` at `sha`; an existing branch already at `sha` is kept (resume), one elsewhere
/// is an error naming both commits.
[[nodiscard]] inline result<void> ensure_branch(const repository& repo, std::string_view branch, std::string_view sha) {
  auto at = branch_head(repo, branch);
  if (!at) return tl::unexpected(at.error());
  if (*at == sha) return {};
  if (!at->empty())
    return fail(errc::git_error, "branch '" + std::string(branch) + "' exists at " + at->substr(0, 12) + ", not at " +
                                     std::string(sha.substr(0, 12)));
  return source::set_branch(repo.get(), branch, sha, false);
}

/// Moves a branch that is not checked out from `expected` to `target` (compare-and-swap).
[[nodiscard]] inline result<void> advance_branch(const repository& repo, std::string_view branch, std::string_view expected,
                                                 std::string_view target) {
  auto exp = source::detail::parse_oid(expected);
  auto tgt = source::detail::parse_oid(target);
  if (!exp) return tl::unexpected(exp.error());
  if (!tgt) return tl::unexpected(tgt.error());
  source::reference_ptr ref;
  const std::string name = "refs/heads/" + std::string(branch);
  if (git_reference_create_matching(ref.out(), repo.get(), name.c_str(), &*tgt, 1, &*exp, "selfheal: commit the fix") != 0)
    return source::git_fail("cannot move branch '" + std::string(branch) + "'");
  return {};
}

/// Tracked files of the work tree or index that differ from HEAD (untracked files are ignored,
/// as `git merge --ff-only` ignores them unless the merge would overwrite them).
[[nodiscard]] inline result<std::vector<std::string>> dirty_files(const repository& repo) {
  git_status_options so;
  git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
  so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  source::status_ptr list;
  if (git_status_list_new(list.out(), repo.get(), &so) != 0) return source::git_fail("cannot read the work tree's status");
  std::vector<std::string> out;
  const auto n = git_status_list_entrycount(list.get());
  for (std::size_t i = 0; i < n; ++i) {
    const auto* e = git_status_byindex(list.get(), i);
    const git_diff_delta* d = e->head_to_index ? e->head_to_index : e->index_to_workdir;
    if (d && d->new_file.path) out.emplace_back(d->new_file.path);
  }
  return out;
}

/// Moves `main` from `expected` to `target` (which must descend from it), updating a checked-out
/// main's work tree as `git merge --ff-only` would. `errc::policy_denied` when main is checked out
/// with uncommitted changes (nothing changes), `errc::failed` when main is no longer at `expected`.
[[nodiscard]] inline result<void> advance_main(const repository& repo, std::string_view main, std::string_view expected,
                                               std::string_view target) {
  auto now = branch_head(repo, main);
  if (!now) return tl::unexpected(now.error());
  if (*now == target) return {};  // already there (resume)
  if (*now != expected)
    return fail(errc::failed, "'" + std::string(main) + "' moved to " + now->substr(0, 12) + " (expected " +
                                  std::string(expected.substr(0, 12)) + ")");
  if (source::is_checked_out(repo.get(), main)) {
    auto dirty = dirty_files(repo);
    if (!dirty) return tl::unexpected(dirty.error());
    if (!dirty->empty()) {
      std::string list;
      for (std::size_t i = 0; i < dirty->size() && i < 5; ++i) list += (i ? ", " : "") + (*dirty)[i];
      return fail(errc::policy_denied, "'" + std::string(main) + "' is checked out with uncommitted changes (" + list +
                                           "): commit or stash them, then deploy again");
    }
  }
  return source::fast_forward_branch(repo.get(), main, target);
}

/// Pushes each branch (`refs/heads/<b>`) to `remote`.
[[nodiscard]] inline result<void> push(const repository& repo, std::string_view remote, const std::vector<std::string>& branches) {
  std::vector<std::string> specs;
  for (const auto& b : branches) specs.push_back("refs/heads/" + b + ":refs/heads/" + b);
  return source::push(repo.get(), remote, specs);
}

/// A private checkout of a commit in a fresh temporary folder, removed on destruction.
class temp_checkout {
 public:
  [[nodiscard]] static result<temp_checkout> make(const repository& repo, std::string_view sha, std::string_view) {
    auto co = source::checkout::create(repo.root(), sha);
    if (!co) return tl::unexpected(co.error());
    temp_checkout t;
    t.co_ = std::move(*co);
    return t;
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return co_.dir(); }

 private:
  temp_checkout() = default;
  source::checkout co_;
};

/// `selfheal/<handler>-<record>`, each part through `source::sanitize_ref_component` ([A-Za-z0-9._-],
/// runs of '-'/'.' collapsed, no leading '.'/'-', no ".lock", at most 64 bytes): a valid, harmless ref.
[[nodiscard]] inline std::string fix_branch_name(std::string_view handler, std::string_view record) {
  return "selfheal/" + (handler.empty() ? std::string("handler") : source::sanitize_ref_component(handler)) + "-" +
         source::sanitize_ref_component(record);
}

}  // namespace selfheal::deployment::git
