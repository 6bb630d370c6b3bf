#pragma once
/// \file
/// Git through libgit2: RAII handles, and the reads and writes that fix, validation and deployment
/// share. Nothing here runs `git` as a program and nothing touches the user's work tree, index or
/// HEAD unless the function says so (`fast_forward_branch` on a checked-out, clean branch).
///
/// ```cpp
/// namespace src = selfheal::source;
/// src::git_library lib;                                   // libgit2 initialised while it lives
/// src::repo_ptr repo;
/// if (auto r = src::open_repository(repo, "/srv/shop"); !r) return r.error();
/// auto base = src::resolve_commit(repo.get(), "main");    // full sha
/// auto diff = src::revert_to_diff(repo.get(), suspect, *base);   // unified diff, or the conflicts
/// auto co = src::checkout::create("/srv/shop", *base);   // a private checkout, removed at scope end
/// if (auto a = src::apply_patch(*co, *diff); !a) ...       // "patch does not apply: src/cart.py: ..."
/// ```
///
/// Error model: libgit2's failures become `errc::git_error` with its message and what was being done;
/// a conflict or a patch that does not apply is `errc::failed` naming the files.

#include <git2.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/source/patch.hpp"

namespace selfheal::source {

/// libgit2 is initialised while at least one guard lives (guards nest; libgit2 counts them).
struct git_library {
  git_library() { git_libgit2_init(); }
  ~git_library() { git_libgit2_shutdown(); }
  git_library(const git_library&) = delete;
  git_library& operator=(const git_library&) = delete;
};

/// A copyable, movable hold on libgit2 for objects that outlive the scope that made them: each
/// instance counts once with libgit2.
class git_hold {
 public:
  git_hold() noexcept { git_libgit2_init(); }
  git_hold(const git_hold&) noexcept { git_libgit2_init(); }
  git_hold(git_hold&&) noexcept { git_libgit2_init(); }
  git_hold& operator=(const git_hold&) noexcept { return *this; }
  git_hold& operator=(git_hold&&) noexcept { return *this; }
  ~git_hold() { git_libgit2_shutdown(); }
};

/// Owns one libgit2 object; `out()` hands its slot to a libgit2 constructor function.
template <class T, void (*Free)(T*)>
struct git_ptr {
  T* p = nullptr;
  git_ptr() = default;
  git_ptr(const git_ptr&) = delete;
  git_ptr& operator=(const git_ptr&) = delete;
  git_ptr(git_ptr&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
  git_ptr& operator=(git_ptr&& o) noexcept {
    if (this != &o) {
      if (p) Free(p);
      p = std::exchange(o.p, nullptr);
    }
    return *this;
  }
  ~git_ptr() { if (p) Free(p); }
  T** out() {
    if (p) Free(std::exchange(p, nullptr));
    return &p;
  }
  T* get() const { return p; }
  explicit operator bool() const { return p != nullptr; }
};

using repo_ptr = git_ptr<git_repository, git_repository_free>;
using commit_ptr = git_ptr<git_commit, git_commit_free>;
using tree_ptr = git_ptr<git_tree, git_tree_free>;
using diff_ptr = git_ptr<git_diff, git_diff_free>;
using walk_ptr = git_ptr<git_revwalk, git_revwalk_free>;
using object_ptr = git_ptr<git_object, git_object_free>;
using reference_ptr = git_ptr<git_reference, git_reference_free>;
using index_ptr = git_ptr<git_index, git_index_free>;
using signature_ptr = git_ptr<git_signature, git_signature_free>;
using remote_ptr = git_ptr<git_remote, git_remote_free>;
using status_ptr = git_ptr<git_status_list, git_status_list_free>;

/// libgit2's last error as `errc::git_error`, prefixed with what was being done.
inline tl::unexpected<error> git_fail(std::string_view what) {
  const git_error* e = git_error_last();
  std::string msg(what);
  msg += ": ";
  msg += (e && e->message) ? e->message : "unknown libgit2 error";
  return fail(errc::git_error, std::move(msg));
}

inline std::string oid_hex(const git_oid* id) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, id);
  return std::string(buf);
}

/// Opens exactly `path` (no search upwards: a repository is named, not guessed).
inline result<void> open_repository(repo_ptr& repo, const std::filesystem::path& path) {
  if (git_repository_open_ext(repo.out(), path.string().c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
    return git_fail("cannot open git repository '" + path.string() + "'");
  return {};
}

namespace detail {

inline result<git_oid> parse_oid(std::string_view sha) {
  git_oid id;
  const std::string s(sha);
  if (s.size() != GIT_OID_HEXSZ || git_oid_fromstr(&id, s.c_str()) != 0)
    return fail(errc::invalid_request, "not a full commit id: '" + s + "'");
  return id;
}

inline result<void> lookup_commit(git_repository* repo, std::string_view sha, commit_ptr& out) {
  auto id = parse_oid(sha);
  if (!id) return tl::unexpected(id.error());
  if (git_commit_lookup(out.out(), repo, &*id) != 0) return git_fail("commit " + std::string(sha));
  return {};
}

inline result<void> commit_tree(git_repository* repo, std::string_view sha, commit_ptr& c, tree_ptr& t) {
  if (auto r = lookup_commit(repo, sha, c); !r) return r;
  if (git_commit_tree(t.out(), c.get()) != 0) return git_fail("tree of " + std::string(sha));
  return {};
}

inline result<std::string> diff_to_text(git_diff* diff) {
  git_buf buf = GIT_BUF_INIT;
  if (git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH) != 0) return git_fail("format diff");
  std::string out(buf.ptr ? buf.ptr : "", buf.size);
  git_buf_dispose(&buf);
  return out;
}

inline git_diff_options diff_options() {
  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  opts.context_lines = 3;
  return opts;
}

}  // namespace detail

/// A branch name, tag, `HEAD` or (abbreviated) sha → the full sha of the commit it names.
inline result<std::string> resolve_commit(git_repository* repo, std::string_view spec) {
  object_ptr obj;
  const std::string s(spec);
  if (git_revparse_single(obj.out(), repo, s.c_str()) != 0) return git_fail("cannot resolve '" + s + "'");
  object_ptr peeled;
  if (git_object_peel(peeled.out(), obj.get(), GIT_OBJECT_COMMIT) != 0) return git_fail("'" + s + "' is not a commit");
  return oid_hex(git_object_id(peeled.get()));
}

/// The sha `refs/heads/<branch>` points at.
inline result<std::string> head_of_branch(git_repository* repo, std::string_view branch) {
  git_oid id;
  const std::string ref = "refs/heads/" + std::string(branch);
  if (git_reference_name_to_id(&id, repo, ref.c_str()) != 0) return git_fail("branch '" + std::string(branch) + "'");
  return oid_hex(&id);
}

/// Whether `descendant` has `ancestor` in its history (a commit is its own descendant here).
inline result<bool> is_ancestor(git_repository* repo, std::string_view ancestor, std::string_view descendant) {
  auto a = detail::parse_oid(ancestor);
  auto d = detail::parse_oid(descendant);
  if (!a) return tl::unexpected(a.error());
  if (!d) return tl::unexpected(d.error());
  if (git_oid_equal(&*a, &*d)) return true;
  const int r = git_graph_descendant_of(repo, &*d, &*a);
  if (r < 0) return git_fail("ancestry of " + std::string(descendant));
  return r == 1;
}

/// The unified diff from commit `from` to commit `to` (3 lines of context).
inline result<std::string> diff_commits(git_repository* repo, std::string_view from, std::string_view to) {
  commit_ptr ca, cb;
  tree_ptr ta, tb;
  if (auto r = detail::commit_tree(repo, from, ca, ta); !r) return tl::unexpected(r.error());
  if (auto r = detail::commit_tree(repo, to, cb, tb); !r) return tl::unexpected(r.error());
  auto opts = detail::diff_options();
  diff_ptr diff;
  if (git_diff_tree_to_tree(diff.out(), repo, ta.get(), tb.get(), &opts) != 0) return git_fail("diff");
  return detail::diff_to_text(diff.get());
}

/// The content of `path` in commit `sha`, or `errc::not_found`.
inline result<std::string> read_file_at(git_repository* repo, std::string_view sha, std::string_view path) {
  commit_ptr c;
  tree_ptr t;
  if (auto r = detail::commit_tree(repo, sha, c, t); !r) return tl::unexpected(r.error());
  git_ptr<git_tree_entry, git_tree_entry_free> entry;
  const std::string p(path);
  if (git_tree_entry_bypath(entry.out(), t.get(), p.c_str()) != 0)
    return fail(errc::not_found, p + " does not exist in " + std::string(sha).substr(0, 12));
  object_ptr obj;
  if (git_tree_entry_to_object(obj.out(), repo, entry.get()) != 0) return git_fail("blob " + p);
  if (git_object_type(obj.get()) != GIT_OBJECT_BLOB) return fail(errc::not_found, p + " is not a file");
  auto* blob = reinterpret_cast<git_blob*>(obj.get());
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob)),
                     static_cast<std::size_t>(git_blob_rawsize(blob)));
}

/// The diff that undoes `commit` on top of `onto` (a three-way revert, as `git revert` computes it,
/// into an in-memory index: nothing is written to the repository). A conflict is `errc::failed`
/// naming every conflicting file; a merge commit is reverted against its first parent.
inline result<std::string> revert_to_diff(git_repository* repo, std::string_view commit, std::string_view onto) {
  commit_ptr rc, oc;
  tree_ptr ot;
  if (auto r = detail::lookup_commit(repo, commit, rc); !r) return tl::unexpected(r.error());
  if (auto r = detail::commit_tree(repo, onto, oc, ot); !r) return tl::unexpected(r.error());
  if (git_commit_parentcount(rc.get()) == 0)
    return fail(errc::failed, "cannot revert " + std::string(commit).substr(0, 12) + ": it is a root commit");
  git_merge_options mopts;
  git_merge_options_init(&mopts, GIT_MERGE_OPTIONS_VERSION);
  index_ptr index;
  const unsigned mainline = git_commit_parentcount(rc.get()) > 1 ? 1u : 0u;
  if (git_revert_commit(index.out(), repo, rc.get(), oc.get(), mainline, &mopts) != 0)
    return git_fail("revert " + std::string(commit).substr(0, 12));
  if (git_index_has_conflicts(index.get())) {
    std::vector<std::string> files;
    git_ptr<git_index_conflict_iterator, git_index_conflict_iterator_free> it;
    if (git_index_conflict_iterator_new(it.out(), index.get()) == 0) {
      const git_index_entry *a = nullptr, *o = nullptr, *t = nullptr;
      while (git_index_conflict_next(&a, &o, &t, it.get()) == 0) {
        const git_index_entry* e = o ? o : (t ? t : a);
        if (e && e->path && std::find(files.begin(), files.end(), e->path) == files.end()) files.emplace_back(e->path);
      }
    }
    std::string msg = "reverting " + std::string(commit).substr(0, 12) + " onto " + std::string(onto).substr(0, 12) +
                      " conflicts in";
    for (const auto& f : files) msg += " " + f;
    return fail(errc::failed, std::move(msg));
  }
  git_oid tree_id;
  if (git_index_write_tree_to(&tree_id, index.get(), repo) != 0) return git_fail("write reverted tree");
  tree_ptr nt;
  if (git_tree_lookup(nt.out(), repo, &tree_id) != 0) return git_fail("reverted tree");
  auto opts = detail::diff_options();
  diff_ptr diff;
  if (git_diff_tree_to_tree(diff.out(), repo, ot.get(), nt.get(), &opts) != 0) return git_fail("diff of revert");
  return detail::diff_to_text(diff.get());
}

/// `"Name <email>"` → name and email; a bare name gets `<name@localhost>`.
struct author {
  std::string name;
  std::string email;
  static author parse(std::string_view s) {
    author a;
    const auto lt = s.find('<');
    const auto gt = s.rfind('>');
    if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt) {
      a.name = std::string(s.substr(0, lt));
      while (!a.name.empty() && a.name.back() == ' ') a.name.pop_back();
      a.email = std::string(s.substr(lt + 1, gt - lt - 1));
    } else {
      a.name = std::string(s);
      a.email = a.name + "@localhost";
    }
    if (a.name.empty()) a.name = "selfheal";
    return a;
  }
};

namespace detail {
inline result<void> make_signature(signature_ptr& sig, const author& who, time_point when) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
  if (git_signature_new(sig.out(), who.name.c_str(), who.email.c_str(), static_cast<git_time_t>(secs), 0) != 0)
    return git_fail("signature '" + who.name + " <" + who.email + ">'");
  return {};
}

inline result<std::string> create_commit(git_repository* repo, const git_tree* tree, const git_commit* parent,
                                         const author& who, time_point when, std::string_view message) {
  signature_ptr sig;
  if (auto r = make_signature(sig, who, when); !r) return tl::unexpected(r.error());
  git_oid id;
  const git_commit* parents[] = {parent};
  const std::string msg(message);
  if (git_commit_create(&id, repo, nullptr, sig.get(), sig.get(), nullptr, msg.c_str(), tree, parent ? 1 : 0,
                        parents) != 0)
    return git_fail("create commit");
  return oid_hex(&id);
}
}  // namespace detail

namespace detail {
/// A unified diff as libgit2's object. libgit2 reads only git's format: anything else (`diff -u`, a
/// person's patch) is parsed and rendered so first. Unreadable text is `errc::failed`.
inline result<void> load_diff(std::string_view diff, diff_ptr& out) {
  std::string rendered;
  if (diff.find("diff --git ") == std::string_view::npos) {
    auto p = parse_patch(diff);
    if (!p) return tl::unexpected(p.error());
    if (p->files.empty()) return fail(errc::failed, "the patch changes no file");
    rendered = to_git_diff(*p);
    diff = rendered;
  }
  if (git_diff_from_buffer(out.out(), diff.data(), diff.size()) != 0) {
    auto e = git_fail("not a unified diff");
    e.value().code = errc::failed;
    return e;
  }
  return {};
}
}  // namespace detail

/// A commit on top of `base` whose tree is `base`'s tree with `diff` applied, written to the
/// repository's object database. No ref, index or work tree changes: name it with `set_branch`.
inline result<std::string> commit_patch(git_repository* repo, std::string_view base, std::string_view diff,
                                        const author& who, time_point when, std::string_view message) {
  commit_ptr bc;
  tree_ptr bt;
  if (auto r = detail::commit_tree(repo, base, bc, bt); !r) return tl::unexpected(r.error());
  diff_ptr d;
  if (auto r = detail::load_diff(diff, d); !r) return tl::unexpected(r.error());
  index_ptr index;
  if (git_apply_to_tree(index.out(), repo, bt.get(), d.get(), nullptr) != 0)
    return git_fail("patch does not apply on " + std::string(base).substr(0, 12));
  git_oid tree_id;
  if (git_index_write_tree_to(&tree_id, index.get(), repo) != 0) return git_fail("write patched tree");
  tree_ptr nt;
  if (git_tree_lookup(nt.out(), repo, &tree_id) != 0) return git_fail("patched tree");
  return detail::create_commit(repo, nt.get(), bc.get(), who, when, message);
}

/// A commit on top of `parent` whose tree is exactly `tree_of`'s tree (a rollback to a known-good
/// state: "revert the merge" when `tree_of` is main before it).
inline result<std::string> commit_tree_of(git_repository* repo, std::string_view tree_of, std::string_view parent,
                                          const author& who, time_point when, std::string_view message) {
  commit_ptr tc, pc;
  tree_ptr tt;
  if (auto r = detail::commit_tree(repo, tree_of, tc, tt); !r) return tl::unexpected(r.error());
  if (auto r = detail::lookup_commit(repo, parent, pc); !r) return tl::unexpected(r.error());
  return detail::create_commit(repo, tt.get(), pc.get(), who, when, message);
}

/// Points `refs/heads/<name>` at `sha`, creating it; an existing branch is moved only with `force`.
inline result<void> set_branch(git_repository* repo, std::string_view name, std::string_view sha, bool force) {
  auto id = detail::parse_oid(sha);
  if (!id) return tl::unexpected(id.error());
  const std::string ref = "refs/heads/" + std::string(name);
  reference_ptr out;
  if (git_reference_create(out.out(), repo, ref.c_str(), &*id, force ? 1 : 0, "selfheal") != 0)
    return git_fail("branch " + std::string(name));
  return {};
}

/// Whether the work tree has changes to tracked files (untracked files do not count, as for
/// `git merge --ff-only`, which refuses only what it would overwrite). A bare repository is clean.
inline result<bool> has_tracked_changes(git_repository* repo) {
  if (git_repository_is_bare(repo)) return false;
  git_status_options opts;
  git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  status_ptr list;
  if (git_status_list_new(list.out(), repo, &opts) != 0) return git_fail("status");
  return git_status_list_entrycount(list.get()) > 0;
}

/// Whether `HEAD` is the branch `name` (checked out in the user's work tree).
inline bool is_checked_out(git_repository* repo, std::string_view name) {
  if (git_repository_is_bare(repo)) return false;
  reference_ptr head;
  if (git_repository_head(head.out(), repo) != 0) {
    git_error_clear();
    return false;
  }
  return std::string_view(git_reference_name(head.get())) == "refs/heads/" + std::string(name);
}

/// Moves branch `name` forward to `sha`, as `git merge --ff-only` would: `sha` must descend from the
/// branch head. When the branch is checked out, the work tree and index follow, and only when no
/// tracked file is modified; otherwise `errc::failed` says why and nothing changes.
inline result<void> fast_forward_branch(git_repository* repo, std::string_view name, std::string_view sha) {
  auto head = head_of_branch(repo, name);
  if (!head) return tl::unexpected(head.error());
  auto desc = is_ancestor(repo, *head, sha);
  if (!desc) return tl::unexpected(desc.error());
  if (!*desc)
    return fail(errc::failed, "cannot fast-forward " + std::string(name) + ": " + std::string(sha).substr(0, 12) +
                                  " does not descend from its head " + head->substr(0, 12));
  if (is_checked_out(repo, name)) {
    auto dirty = has_tracked_changes(repo);
    if (!dirty) return tl::unexpected(dirty.error());
    if (*dirty)
      return fail(errc::failed, std::string(name) + " is checked out in the work tree with uncommitted changes: "
                                "commit or stash them, then deploy again");
    commit_ptr c;
    tree_ptr t;
    if (auto r = detail::commit_tree(repo, sha, c, t); !r) return r;
    git_checkout_options co;
    git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
    co.checkout_strategy = GIT_CHECKOUT_SAFE;
    if (git_checkout_tree(repo, reinterpret_cast<const git_object*>(t.get()), &co) != 0)
      return git_fail("update the work tree of " + std::string(name));
  }
  return set_branch(repo, name, sha, true);
}

/// Pushes `refspecs` ("refs/heads/x:refs/heads/x", a leading '+' forces) to the named remote.
inline result<void> push(git_repository* repo, std::string_view remote, const std::vector<std::string>& refspecs) {
  remote_ptr r;
  const std::string name(remote);
  if (git_remote_lookup(r.out(), repo, name.c_str()) != 0) return git_fail("remote '" + name + "'");
  std::vector<char*> specs;
  for (const auto& s : refspecs) specs.push_back(const_cast<char*>(s.c_str()));
  git_strarray arr{specs.data(), specs.size()};
  git_push_options opts;
  git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
  if (git_remote_push(r.get(), &arr, &opts) != 0) return git_fail("push to '" + name + "'");
  return {};
}

/// A string made safe as one component of a ref name: `[A-Za-z0-9._-]` kept, everything else '-',
/// runs of '-' and '.' collapsed, no leading '.' or '-', no ".lock" end, at most 64 bytes; never empty.
inline std::string sanitize_ref_component(std::string_view s) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '.' || c == '-';
    const char put = keep ? ch : '-';
    if ((put == '-' || put == '.') && !out.empty() && (out.back() == '-' || out.back() == '.')) continue;
    if ((put == '-' || put == '.') && out.empty()) continue;
    out.push_back(put);
    if (out.size() >= 64) break;
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  if (out.size() >= 5 && out.compare(out.size() - 5, 5, ".lock") == 0) out.resize(out.size() - 5);
  if (out.empty()) out = "x";
  return out;
}

/// A private, detached checkout of one commit in a fresh folder: a real git repository that borrows
/// the user's objects (`objects/info/alternates`), so creating it copies no history and nothing is
/// written to the user's repository, work tree, index, HEAD or refs. Removed when destroyed.
class checkout {
 public:
  /// Checks out `commit` of the repository at `repo_root` into a new folder under `parent`
  /// (default: the system's temporary directory).
  [[nodiscard]] static result<checkout> create(const std::filesystem::path& repo_root, std::string_view commit,
                                               std::filesystem::path parent = {}) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (parent.empty()) parent = fs::temp_directory_path(ec);
    checkout co;
    std::random_device rd;
    for (int attempt = 0; attempt < 16; ++attempt) {
      fs::path dir = parent / ("selfheal-checkout-" + std::to_string(rd()) + std::to_string(rd() % 100000));
      if (fs::create_directories(dir, ec)) {
        co.dir_ = std::move(dir);
        break;
      }
    }
    if (co.dir_.empty()) return fail(errc::io_error, "cannot create a checkout folder under " + parent.string());
    repo_ptr user;
    if (auto r = open_repository(user, repo_root); !r) return tl::unexpected(r.error());
    const fs::path objects = fs::path(git_repository_commondir(user.get())) / "objects";
    if (git_repository_init(co.repo_.out(), co.dir_.string().c_str(), 0) != 0) return git_fail("init checkout");
    {
      std::ofstream alt(fs::path(git_repository_path(co.repo_.get())) / "objects" / "info" / "alternates");
      alt << fs::absolute(objects).string() << '\n';
      if (!alt) return fail(errc::io_error, "cannot write the checkout's alternates file");
    }
    // Reopen so that the object database sees the alternates.
    if (auto r = open_repository(co.repo_, co.dir_); !r) return tl::unexpected(r.error());
    auto id = detail::parse_oid(commit);
    if (!id) {
      auto full = resolve_commit(user.get(), commit);
      if (!full) return tl::unexpected(full.error());
      id = detail::parse_oid(*full);
    }
    commit_ptr c;
    if (git_commit_lookup(c.out(), co.repo_.get(), &*id) != 0) return git_fail("commit " + std::string(commit));
    git_checkout_options opts;
    git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
    opts.checkout_strategy = GIT_CHECKOUT_FORCE;
    if (git_checkout_tree(co.repo_.get(), reinterpret_cast<const git_object*>(c.get()), &opts) != 0)
      return git_fail("check out " + std::string(commit));
    if (git_repository_set_head_detached(co.repo_.get(), &*id) != 0) return git_fail("detach checkout HEAD");
    co.commit_ = oid_hex(&*id);
    return co;
  }

  checkout() = default;
  checkout(checkout&& o) noexcept
      : dir_(std::exchange(o.dir_, {})), commit_(std::move(o.commit_)), repo_(std::move(o.repo_)) {}
  checkout& operator=(checkout&& o) noexcept {
    if (this != &o) {
      remove();
      dir_ = std::exchange(o.dir_, {});
      commit_ = std::move(o.commit_);
      repo_ = std::move(o.repo_);
    }
    return *this;
  }
  checkout(const checkout&) = delete;
  checkout& operator=(const checkout&) = delete;
  ~checkout() { remove(); }

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] const std::string& commit() const noexcept { return commit_; }
  [[nodiscard]] git_repository* repo() const noexcept { return repo_.get(); }

  /// Removes the folder now (also done by the destructor).
  void remove() noexcept {
    repo_ = repo_ptr{};
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

 private:
  git_hold lib_;  // first: libgit2 lives while the repository handle does
  std::filesystem::path dir_;
  std::string commit_;
  repo_ptr repo_;
};

/// Applies a unified diff to the checkout's work tree and index. A patch that does not apply is
/// `errc::failed` with libgit2's reason (which names the file); nothing is half-applied.
inline result<void> apply_patch(const checkout& co, std::string_view diff) {
  diff_ptr d;
  if (auto r = detail::load_diff(diff, d); !r) return r;
  if (git_apply(co.repo(), d.get(), GIT_APPLY_LOCATION_BOTH, nullptr) != 0) {
    auto e = git_fail("patch does not apply on " + co.commit().substr(0, 12));
    e.value().code = errc::failed;
    return e;
  }
  return {};
}

/// The unified diff from the checkout's commit to its work tree, new files included: what a fixer
/// changed in a checkout, as one patch.
inline result<std::string> diff_work_tree(const checkout& co) {
  commit_ptr c;
  tree_ptr t;
  if (auto r = detail::commit_tree(co.repo(), co.commit(), c, t); !r) return tl::unexpected(r.error());
  auto opts = detail::diff_options();
  opts.flags |= GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_SHOW_UNTRACKED_CONTENT;
  diff_ptr diff;
  if (git_diff_tree_to_workdir(diff.out(), co.repo(), t.get(), &opts) != 0) return git_fail("diff of checkout");
  return detail::diff_to_text(diff.get());
}

}  // namespace selfheal::source
