#pragma once
/// \file
/// The repository writes of deployment.deploy, through libgit2, each one safe to repeat:
///
/// - `commit_patch`: applies a unified diff to a commit's *tree* in the object database
///   (`git_apply_to_tree`) and writes a commit on it — no work tree, no index of the user's is
///   touched; the same inputs give the same tree, so a resumed deploy finds it again;
/// - `ensure_branch`: `selfheal/<handler>-<record>` at a commit (an existing branch there is reused);
/// - `push`: branch and main to `git.remote` (libgit2's own transports; a local bare repository works);
/// - `checkout_to`: a detached checkout of a commit into a fresh folder (CI and deploy stages);
/// - `advance_main`: moves `service.main` from an expected old head to a new commit only if it is
///   still there (compare-and-swap), and, when main is checked out in the user's work tree,
///   updates that tree as `git merge --ff-only` would — only when it is clean, else it refuses
///   and says which files are dirty;
/// - `merge_commit` / `revert_commit`: a two-parent merge commit with the fix's tree, and a commit
///   whose tree is `{previous}` again.
///
/// libgit2's errors become `errc::git_error` with its message.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <git2.h>

#include "selfheal/core/result.hpp"

namespace selfheal::deployment::git {

namespace detail {

struct library {
  library() { git_libgit2_init(); }
  library(const library&) { git_libgit2_init(); }
  library(library&&) noexcept { git_libgit2_init(); }
  library& operator=(const library&) = default;
  ~library() { git_libgit2_shutdown(); }
};

template <class T, void (*Free)(T*)>
struct ptr {
  T* p = nullptr;
  ptr() = default;
  ptr(const ptr&) = delete;
  ptr& operator=(const ptr&) = delete;
  ptr(ptr&& o) noexcept : p(o.p) { o.p = nullptr; }
  ~ptr() { if (p) Free(p); }
  T** out() { return &p; }
  T* get() const { return p; }
};
using repo_ptr = ptr<git_repository, git_repository_free>;
using commit_ptr = ptr<git_commit, git_commit_free>;
using tree_ptr = ptr<git_tree, git_tree_free>;
using diff_ptr = ptr<git_diff, git_diff_free>;
using index_ptr = ptr<git_index, git_index_free>;
using ref_ptr = ptr<git_reference, git_reference_free>;
using sig_ptr = ptr<git_signature, git_signature_free>;
using remote_ptr = ptr<git_remote, git_remote_free>;
using status_ptr = ptr<git_status_list, git_status_list_free>;

inline tl::unexpected<error> git_fail(std::string_view what) {
  const git_error* e = git_error_last();
  std::string msg(what);
  msg += ": ";
  msg += (e && e->message) ? e->message : "unknown libgit2 error";
  return fail(errc::git_error, std::move(msg));
}

inline std::string hex(const git_oid* id) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, id);
  return buf;
}

inline result<git_oid> parse_oid(std::string_view sha) {
  git_oid id;
  const std::string s(sha);
  if (s.size() != GIT_OID_HEXSZ || git_oid_fromstr(&id, s.c_str()) != 0)
    return fail(errc::invalid_request, "'" + s + "' is not a full commit id");
  return id;
}

/// "Name <email>" → a signature at `when` (seconds since the epoch, UTC).
inline result<sig_ptr> signature(std::string_view author, std::int64_t when) {
  const auto lt = author.find('<'), gt = author.rfind('>');
  std::string name(author), email = "selfheal@localhost";
  if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt) {
    name = std::string(author.substr(0, lt));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    email = std::string(author.substr(lt + 1, gt - lt - 1));
  }
  if (name.empty()) name = "selfheal";
  sig_ptr s;
  if (git_signature_new(s.out(), name.c_str(), email.c_str(), static_cast<git_time_t>(when), 0) != 0)
    return git_fail("bad git.author '" + std::string(author) + "'");
  return s;
}

}  // namespace detail

/// An open repository (libgit2 initialised for as long as it lives).
class repository {
 public:
  [[nodiscard]] static result<repository> open(const std::filesystem::path& path) {
    repository r;
    if (git_repository_open_ext(r.repo_.out(), path.string().c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
      return detail::git_fail("cannot open git repository '" + path.string() + "'");
    return r;
  }
  [[nodiscard]] git_repository* get() const noexcept { return repo_.get(); }

 private:
  repository() = default;
  detail::library lib_;
  detail::repo_ptr repo_;
};

/// The commit a branch points at, or empty when there is no such branch.
[[nodiscard]] inline result<std::string> branch_head(const repository& repo, std::string_view branch) {
  detail::ref_ptr ref;
  const std::string name = "refs/heads/" + std::string(branch);
  const int rc = git_reference_lookup(ref.out(), repo.get(), name.c_str());
  if (rc == GIT_ENOTFOUND) return std::string{};
  if (rc != 0) return detail::git_fail("cannot read branch '" + std::string(branch) + "'");
  detail::ref_ptr resolved;
  if (git_reference_resolve(resolved.out(), ref.get()) != 0) return detail::git_fail("cannot resolve " + name);
  return detail::hex(git_reference_target(resolved.get()));
}

/// Whether `sha` names a commit in the repository.
[[nodiscard]] inline bool has_commit(const repository& repo, std::string_view sha) {
  auto id = detail::parse_oid(sha);
  if (!id) return false;
  detail::commit_ptr c;
  return git_commit_lookup(c.out(), repo.get(), &*id) == 0;
}

/// The first parent and the tree of a commit.
struct commit_info {
  std::string parent, tree, message;
  std::size_t parents = 0;
};
[[nodiscard]] inline result<commit_info> read_commit(const repository& repo, std::string_view sha) {
  auto id = detail::parse_oid(sha);
  if (!id) return tl::unexpected(id.error());
  detail::commit_ptr c;
  if (git_commit_lookup(c.out(), repo.get(), &*id) != 0) return detail::git_fail("no commit " + std::string(sha));
  commit_info i;
  i.parents = git_commit_parentcount(c.get());
  if (i.parents > 0) i.parent = detail::hex(git_commit_parent_id(c.get(), 0));
  i.tree = detail::hex(git_commit_tree_id(c.get()));
  i.message = git_commit_message(c.get()) ? git_commit_message(c.get()) : "";
  return i;
}

namespace detail {
inline result<std::string> write_commit(const repository& repo, std::string_view author, std::int64_t when,
                                        const std::string& message, git_tree* tree,
                                        const std::vector<git_commit*>& parents) {
  auto sig = signature(author, when);
  if (!sig) return tl::unexpected(sig.error());
  git_oid out;
  std::vector<const git_commit*> ps(parents.begin(), parents.end());
  if (git_commit_create(&out, repo.get(), nullptr, sig->get(), sig->get(), "UTF-8", message.c_str(), tree, ps.size(),
                        ps.data()) != 0)
    return git_fail("cannot write commit");
  return hex(&out);
}
inline result<commit_ptr> lookup(const repository& repo, std::string_view sha) {
  auto id = parse_oid(sha);
  if (!id) return tl::unexpected(id.error());
  commit_ptr c;
  if (git_commit_lookup(c.out(), repo.get(), &*id) != 0) return git_fail("no commit " + std::string(sha));
  return c;
}
}  // namespace detail

/// A commit on `base` whose tree is `base`'s with `diff` applied (in the object database only).
/// A diff that does not apply is an error naming libgit2's reason.
[[nodiscard]] inline result<std::string> commit_patch(const repository& repo, std::string_view base, std::string_view diff,
                                                      std::string_view author, std::int64_t when,
                                                      const std::string& message) {
  auto parent = detail::lookup(repo, base);
  if (!parent) return tl::unexpected(parent.error());
  detail::tree_ptr tree;
  if (git_commit_tree(tree.out(), parent->get()) != 0) return detail::git_fail("cannot read the tree of " + std::string(base));
  detail::diff_ptr d;
  if (git_diff_from_buffer(d.out(), diff.data(), diff.size()) != 0) return detail::git_fail("the patch is not a unified diff");
  detail::index_ptr idx;
  if (git_apply_to_tree(idx.out(), repo.get(), tree.get(), d.get(), nullptr) != 0)
    return detail::git_fail("the patch does not apply on " + std::string(base.substr(0, 12)));
  git_oid tree_id;
  if (git_index_write_tree_to(&tree_id, idx.get(), repo.get()) != 0) return detail::git_fail("cannot write the patched tree");
  detail::tree_ptr new_tree;
  if (git_tree_lookup(new_tree.out(), repo.get(), &tree_id) != 0) return detail::git_fail("cannot read the patched tree");
  return detail::write_commit(repo, author, when, message, new_tree.get(), {parent->get()});
}

/// A merge commit of `fix` into `onto` with `fix`'s tree (its first parent is `onto`).
[[nodiscard]] inline result<std::string> merge_commit(const repository& repo, std::string_view onto, std::string_view fix,
                                                      std::string_view author, std::int64_t when,
                                                      const std::string& message) {
  auto a = detail::lookup(repo, onto);
  if (!a) return tl::unexpected(a.error());
  auto b = detail::lookup(repo, fix);
  if (!b) return tl::unexpected(b.error());
  detail::tree_ptr tree;
  if (git_commit_tree(tree.out(), b->get()) != 0) return detail::git_fail("cannot read the tree of " + std::string(fix));
  return detail::write_commit(repo, author, when, message, tree.get(), {a->get(), b->get()});
}

/// A commit on `head` whose tree is `previous`'s: the revert of everything since `previous`.
[[nodiscard]] inline result<std::string> revert_commit(const repository& repo, std::string_view head,
                                                       std::string_view previous, std::string_view author,
                                                       std::int64_t when, const std::string& message) {
  auto h = detail::lookup(repo, head);
  if (!h) return tl::unexpected(h.error());
  auto p = detail::lookup(repo, previous);
  if (!p) return tl::unexpected(p.error());
  detail::tree_ptr tree;
  if (git_commit_tree(tree.out(), p->get()) != 0) return detail::git_fail("cannot read the tree of " + std::string(previous));
  return detail::write_commit(repo, author, when, message, tree.get(), {h->get()});
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
  auto c = detail::lookup(repo, sha);
  if (!c) return tl::unexpected(c.error());
  detail::ref_ptr ref;
  if (git_branch_create(ref.out(), repo.get(), std::string(branch).c_str(), c->get(), 0) != 0)
    return detail::git_fail("cannot create branch '" + std::string(branch) + "'");
  return {};
}

/// Whether `service.main` is the branch checked out in the repository's own work tree.
[[nodiscard]] inline bool main_checked_out(const repository& repo, std::string_view main) {
  if (git_repository_is_bare(repo.get())) return false;
  detail::ref_ptr head;
  if (git_reference_lookup(head.out(), repo.get(), "HEAD") != 0) return false;
  if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return false;
  return std::string_view(git_reference_symbolic_target(head.get())) == "refs/heads/" + std::string(main);
}

/// Tracked files of the work tree or index that differ from HEAD (untracked files are ignored,
/// as `git merge --ff-only` ignores them unless the merge would overwrite them).
[[nodiscard]] inline result<std::vector<std::string>> dirty_files(const repository& repo) {
  git_status_options so = GIT_STATUS_OPTIONS_INIT;
  so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  detail::status_ptr list;
  if (git_status_list_new(list.out(), repo.get(), &so) != 0) return detail::git_fail("cannot read the work tree's status");
  std::vector<std::string> out;
  const auto n = git_status_list_entrycount(list.get());
  for (std::size_t i = 0; i < n; ++i) {
    const auto* e = git_status_byindex(list.get(), i);
    if (e->status == GIT_STATUS_CURRENT || e->status == GIT_STATUS_IGNORED) continue;
    if (e->status & GIT_STATUS_WT_NEW) continue;
    const git_diff_delta* d = e->head_to_index ? e->head_to_index : e->index_to_workdir;
    if (d && d->new_file.path) out.emplace_back(d->new_file.path);
  }
  return out;
}

/// Moves `main` from `expected` to `target`. When main is checked out in the work tree, the tree
/// and index are updated first (a safe checkout from `expected`'s tree: it refuses to overwrite
/// anything changed) and only a clean tree is touched. `errc::policy_denied` when the tree is
/// dirty, `errc::failed` when main is no longer at `expected`.
[[nodiscard]] inline result<void> advance_main(const repository& repo, std::string_view main, std::string_view expected,
                                               std::string_view target, std::string_view log_message) {
  auto now = branch_head(repo, main);
  if (!now) return tl::unexpected(now.error());
  if (*now == target) return {};  // already there (resume)
  if (*now != expected)
    return fail(errc::failed, "'" + std::string(main) + "' moved to " + now->substr(0, 12) + " (expected " +
                                  std::string(expected.substr(0, 12)) + ")");
  auto t = detail::lookup(repo, target);
  if (!t) return tl::unexpected(t.error());
  if (main_checked_out(repo, main)) {
    auto dirty = dirty_files(repo);
    if (!dirty) return tl::unexpected(dirty.error());
    if (!dirty->empty()) {
      std::string list;
      for (std::size_t i = 0; i < dirty->size() && i < 5; ++i) list += (i ? ", " : "") + (*dirty)[i];
      return fail(errc::policy_denied, "'" + std::string(main) + "' is checked out with uncommitted changes (" + list +
                                           "): commit or stash them, then deploy again");
    }
    auto e = detail::lookup(repo, expected);
    if (!e) return tl::unexpected(e.error());
    detail::tree_ptr base_tree, new_tree;
    if (git_commit_tree(base_tree.out(), e->get()) != 0 || git_commit_tree(new_tree.out(), t->get()) != 0)
      return detail::git_fail("cannot read trees");
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_SAFE;
    co.baseline = base_tree.get();
    if (git_checkout_tree(repo.get(), reinterpret_cast<git_object*>(new_tree.get()), &co) != 0)
      return detail::git_fail("cannot update the checked-out '" + std::string(main) + "'");
  }
  auto exp = detail::parse_oid(expected);
  auto tgt = detail::parse_oid(target);
  detail::ref_ptr ref;
  const std::string name = "refs/heads/" + std::string(main);
  if (git_reference_create_matching(ref.out(), repo.get(), name.c_str(), &*tgt, 1, &*exp,
                                    std::string(log_message).c_str()) != 0)
    return detail::git_fail("cannot move '" + std::string(main) + "'");
  return {};
}

/// Moves a branch that is not checked out from `expected` to `target` (compare-and-swap).
[[nodiscard]] inline result<void> advance_branch(const repository& repo, std::string_view branch, std::string_view expected,
                                                 std::string_view target) {
  auto exp = detail::parse_oid(expected);
  auto tgt = detail::parse_oid(target);
  if (!exp || !tgt) return fail(errc::invalid_request, "bad commit ids");
  detail::ref_ptr ref;
  const std::string name = "refs/heads/" + std::string(branch);
  if (git_reference_create_matching(ref.out(), repo.get(), name.c_str(), &*tgt, 1, &*exp, "selfheal: commit the fix") != 0)
    return detail::git_fail("cannot move branch '" + std::string(branch) + "'");
  return {};
}

/// Pushes `refs/heads/<b>` for each branch to `remote` (a configured remote name, or a URL/path).
[[nodiscard]] inline result<void> push(const repository& repo, std::string_view remote,
                                       const std::vector<std::string>& branches, bool force = false) {
  detail::remote_ptr r;
  const std::string name(remote);
  if (git_remote_lookup(r.out(), repo.get(), name.c_str()) != 0 &&
      git_remote_create_anonymous(r.out(), repo.get(), name.c_str()) != 0)
    return detail::git_fail("no git remote '" + name + "'");
  std::vector<std::string> specs;
  for (const auto& b : branches) specs.push_back(std::string(force ? "+" : "") + "refs/heads/" + b + ":refs/heads/" + b);
  std::vector<char*> raw;
  for (auto& s : specs) raw.push_back(s.data());
  git_strarray arr{raw.data(), raw.size()};
  git_push_options po = GIT_PUSH_OPTIONS_INIT;
  if (git_remote_push(r.get(), &arr, &po) != 0) return detail::git_fail("push to '" + name + "' failed");
  return {};
}

/// A detached checkout of `sha` into `dir` (created; must not exist or be empty).
[[nodiscard]] inline result<void> checkout_to(const repository& repo, std::string_view sha, const std::filesystem::path& dir) {
  auto c = detail::lookup(repo, sha);
  if (!c) return tl::unexpected(c.error());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(errc::io_error, "cannot create '" + dir.string() + "': " + ec.message());
  detail::tree_ptr tree;
  if (git_commit_tree(tree.out(), c->get()) != 0) return detail::git_fail("cannot read the tree of " + std::string(sha));
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  const std::string target = dir.string();
  co.target_directory = target.c_str();
  // A private index, so the repository's own index is never written.
  detail::index_ptr idx;
  if (git_index_new(idx.out()) != 0) return detail::git_fail("cannot create an index");
  if (git_index_read_tree(idx.get(), tree.get()) != 0) return detail::git_fail("cannot read the tree");
  if (git_checkout_index(repo.get(), idx.get(), &co) != 0) return detail::git_fail("cannot check out " + std::string(sha));
  return {};
}

/// A fresh folder under the system temp dir holding a checkout of a commit; removed on destruction.
class temp_checkout {
 public:
  [[nodiscard]] static result<temp_checkout> make(const repository& repo, std::string_view sha, std::string_view tag) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("selfheal-" + std::string(tag) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) return fail(errc::io_error, "cannot create a temporary folder");
    temp_checkout t;
    t.dir_ = tmpl;
    if (auto r = checkout_to(repo, sha, t.dir_); !r) return tl::unexpected(r.error());
    return t;
  }
  temp_checkout(temp_checkout&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
  temp_checkout& operator=(temp_checkout&&) = delete;
  temp_checkout(const temp_checkout&) = delete;
  ~temp_checkout() {
    if (dir_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return dir_; }

 private:
  temp_checkout() = default;
  std::filesystem::path dir_;
};

/// `selfheal/<handler>-<record>` with every character outside [A-Za-z0-9._-] replaced by '-',
/// no "..", no leading '-' or '.', no ".lock" ending, at most 100 characters: a valid, harmless ref.
[[nodiscard]] inline std::string fix_branch_name(std::string_view handler, std::string_view record) {
  auto clean = [](std::string_view in) {
    std::string t;
    for (char c : in) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
      const char out = ok ? c : '-';
      if ((out == '-' || out == '.') && !t.empty() && (t.back() == '-' || t.back() == '.')) continue;  // no "..", "--"
      t += out;
    }
    while (!t.empty() && (t.front() == '-' || t.front() == '.')) t.erase(t.begin());
    if (t.size() > 60) t.resize(60);
    while (!t.empty() && (t.back() == '-' || t.back() == '.')) t.pop_back();
    if (t.ends_with(".lock")) t.resize(t.size() - 5);
    while (!t.empty() && (t.back() == '-' || t.back() == '.')) t.pop_back();
    return t.empty() ? std::string("handler") : t;
  };
  return "selfheal/" + clean(handler) + "-" + clean(record);
}

}  // namespace selfheal::deployment::git
