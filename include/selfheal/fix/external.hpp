#pragma once
/// \file
/// The `external` strategy's I/O half: a clean checkout of the base commit in a private temporary
/// folder (libgit2, the user's index and work tree untouched), the diagnosis as JSON in
/// `{evidence_file}`, the `[fix] command` run there (argv with placeholders expanded inside each
/// element only, a time limit, its own process group, closed stdin), and the unified diff it prints
/// applied to the base tree in memory (`git_apply_to_tree`). A fixer that hangs, fails, prints
/// garbage or a diff that does not apply yields a refusal with the reason, never a patch.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <git2.h>

#include "selfheal/core/process.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/temp_folder.hpp"
#include "selfheal/fix/edits.hpp"
#include "selfheal/fix/input.hpp"
#include "selfheal/fix/repository.hpp"

namespace selfheal::fix {

namespace detail {

using selfheal::temp_folder;

/// `{name}` placeholders replaced inside one argv element; an unknown one is an error.
inline result<std::string> expand_element(std::string_view arg, const std::map<std::string, std::string, std::less<>>& values) {
  std::string out;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    if (arg[i] != '{') { out += arg[i]; continue; }
    const auto close = arg.find('}', i);
    if (close == std::string_view::npos) { out += arg.substr(i); break; }
    const auto name = arg.substr(i + 1, close - i - 1);
    auto it = values.find(name);
    if (it == values.end()) return fail(errc::invalid_request, "[fix] command: unknown placeholder {" + std::string(name) + "}");
    out += it->second;
    i = close;
  }
  return out;
}

inline result<void> checkout_commit_to(const std::filesystem::path& root, std::string_view sha, const std::filesystem::path& dir) {
  namespace gd = ::selfheal::source;
  auto repo = repo_handle::open(root);
  if (!repo) return tl::unexpected(repo.error());
  auto oid = resolve_oid(repo->get(), sha);
  if (!oid) return tl::unexpected(oid.error());
  gd::object_ptr obj;
  if (git_object_lookup(obj.out(), repo->get(), &*oid, GIT_OBJECT_COMMIT) != 0) return gd::git_fail("cannot read the base commit");
  git_checkout_options opts;
  git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
  opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  const std::string target = dir.string();
  opts.target_directory = target.c_str();
  if (git_checkout_tree(repo->get(), obj.get(), &opts) != 0) return gd::git_fail("cannot check out the base into " + target);
  return {};
}

/// The edits a unified diff makes to `base` (applied in memory), or why it cannot be applied.
inline result<std::vector<file_edit>> apply_diff_in_memory(const std::filesystem::path& root, std::string_view base,
                                                           std::string_view diff_text) {
  namespace gd = ::selfheal::source;
  auto repo = repo_handle::open(root);
  if (!repo) return tl::unexpected(repo.error());
  auto oid = resolve_oid(repo->get(), base);
  if (!oid) return tl::unexpected(oid.error());
  gd::commit_ptr c;
  if (git_commit_lookup(c.out(), repo->get(), &*oid) != 0) return gd::git_fail("cannot read the base commit");
  gd::tree_ptr tree;
  if (git_commit_tree(tree.out(), c.get()) != 0) return gd::git_fail("cannot read the base tree");
  gd::diff_ptr diff;
  if (git_diff_from_buffer(diff.out(), diff_text.data(), diff_text.size()) != 0)
    return fail(errc::parse_error, "the output is not a unified diff");
  if (git_diff_num_deltas(diff.get()) == 0) return fail(errc::parse_error, "the output holds no file change (not a unified diff)");
  gd::index_ptr index;
  git_apply_options aopts;
  git_apply_options_init(&aopts, GIT_APPLY_OPTIONS_VERSION);
  if (git_apply_to_tree(index.out(), repo->get(), tree.get(), diff.get(), &aopts) != 0) {
    const git_error* e = git_error_last();
    return fail(errc::failed, std::string("the diff does not apply to the base: ") + ((e && e->message) ? e->message : "unknown"));
  }
  gd::diff_ptr result_diff;
  git_diff_options dopts;
  git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
  if (git_diff_tree_to_index(result_diff.out(), repo->get(), tree.get(), index.get(), &dopts) != 0)
    return gd::git_fail("cannot diff the applied patch");
  std::vector<file_edit> out;
  for (std::size_t i = 0; i < git_diff_num_deltas(result_diff.get()); ++i) {
    const git_diff_delta* d = git_diff_get_delta(result_diff.get(), i);
    file_edit e;
    e.path = d->new_file.path ? d->new_file.path : d->old_file.path;
    auto before = read_blob(repo->get(), d->old_file.id);
    if (!before) return tl::unexpected(before.error());
    auto after = read_blob(repo->get(), d->new_file.id);
    if (!after) return tl::unexpected(after.error());
    e.before = std::move(*before);
    e.after = std::move(*after);
    out.push_back(std::move(e));
  }
  if (out.empty()) return fail(errc::failed, "the diff changes nothing on the base");
  return out;
}

}  // namespace detail

/// Runs the `[fix] command` for one diagnosis (its JSON in `evidence_json`) and returns what it
/// proposes, or a refusal in `external_outcome::refusal`. Only a malformed command is an error.
[[nodiscard]] inline result<external_outcome> run_external_fixer(const repo_view& repo, const std::vector<std::string>& command,
                                                                 std::chrono::milliseconds timeout, std::string_view evidence_json) {
  external_outcome out;
  if (command.empty()) return fail(errc::invalid_request, "[fix] command is empty");
  out.command = command.front();
  detail::temp_folder work("selfheal-fix");
  if (work.path().empty()) return fail(errc::io_error, "cannot make a temporary folder for the external fixer");
  const auto checkout = work.path() / "checkout";
  const auto evidence_file = work.path() / "evidence.json";
  std::error_code ec;
  std::filesystem::create_directories(checkout, ec);
  {
    std::ofstream f(evidence_file, std::ios::binary);
    f << evidence_json;
    if (!f) return fail(errc::io_error, "cannot write " + evidence_file.string());
  }
  if (auto r = detail::checkout_commit_to(repo.root, repo.base_commit, checkout); !r) return tl::unexpected(r.error());
  const std::map<std::string, std::string, std::less<>> values = {
      {"evidence_file", evidence_file.string()}, {"repo", std::filesystem::absolute(repo.root).string()},
      {"commit", repo.base_commit},              {"short", repo.base_commit.substr(0, 12)},
      {"worktree", checkout.string()}};
  std::vector<std::string> argv;
  for (const auto& a : command) {
    auto e = detail::expand_element(a, values);
    if (!e) return tl::unexpected(e.error());
    argv.push_back(std::move(*e));
  }
  process_options opts;
  opts.cwd = checkout;
  opts.timeout = timeout;
  opts.max_output = std::size_t{16} << 20;
  auto run = run_process(argv, opts);
  if (!run) {
    out.refusal = run.error().code == errc::timeout ? "the [fix] command " + out.command + " did not finish within " +
                                                          std::to_string(timeout.count()) + " ms (killed)"
                                                    : "the [fix] command failed to run: " + run.error().detail;
    return out;
  }
  if (!run->ok()) {
    std::string err = run->err.substr(0, 400);
    out.refusal = "the [fix] command " + out.command + " exited with " + std::to_string(run->exit_code) + (err.empty() ? "" : ": " + err);
    return out;
  }
  if (run->out_truncated) {
    out.refusal = "the [fix] command printed more than 16 MiB";
    return out;
  }
  auto edits = detail::apply_diff_in_memory(repo.root, repo.base_commit, run->out);
  if (!edits) {
    out.refusal = "the [fix] command's output was refused: " + edits.error().detail;
    return out;
  }
  out.edits = std::move(*edits);
  return out;
}

}  // namespace selfheal::fix
