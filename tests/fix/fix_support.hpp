#pragma once
// Shared by the fix tests: a store with one stored diagnosis of a real repository, running
// fix.generate on it, and applying a patch to a clone to run the repository's own tests.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/process.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/store.hpp"
#include "selfheal/fix/sequence.hpp"
#include "selfheal/store/database.hpp"
#include "temp_dir.hpp"

namespace fixtest {

namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;

struct store_fixture {
  selfheal::test::temp_dir dir;
  selfheal::store::database db;
  selfheal::context ctx;
  store_fixture() : db(std::move(*selfheal::store::database::open((dir.path() / "store.db").string()))) { ctx.store = &db; }

  /// Stores `items` as a diagnosis record of `repo` and returns its id.
  std::string store(const std::filesystem::path& repo, const std::vector<dx::diagnosis_item>& items) {
    dx::run_info info;
    info.repo = repo.string();
    auto id = dx::store_diagnoses(db, info, items, selfheal::time_point{std::chrono::seconds{1740787200}});
    REQUIRE(id);
    return *id;
  }
};

/// Runs a program; returns (exit code, stdout + stderr).
inline std::pair<int, std::string> run(std::vector<std::string> argv, const std::filesystem::path& cwd, int seconds = 60) {
  selfheal::process_options o;
  o.cwd = cwd;
  o.timeout = std::chrono::seconds{seconds};
  o.env = {{"PYTHONDONTWRITEBYTECODE", "1"}};
  auto r = selfheal::run_process(argv, o);
  REQUIRE(r);
  return {r->exit_code, r->out + r->err};
}

/// A clone of `repo` at `commit` in a fresh temp folder (the user's repository is never written).
struct repo_clone {
  selfheal::test::temp_dir dir;
  std::filesystem::path root;
  repo_clone(const std::filesystem::path& repo, const std::string& commit) : root(dir.path() / "c") {
    auto [code, out] = run({"git", "clone", "-q", repo.string(), root.string()}, dir.path());
    REQUIRE(code == 0);
    auto [c2, o2] = run({"git", "checkout", "-q", commit}, root);
    REQUIRE(c2 == 0);
  }
  /// `git apply --check` then `git apply` of `diff`; returns git's exit code.
  int apply(const std::string& diff, bool check_only = false) const {
    const auto file = dir.path() / "fix.patch";
    std::ofstream(file, std::ios::binary) << diff;
    auto [code, out] = run({"git", "apply", "--check", file.string()}, root);
    INFO(out);
    if (code != 0 || check_only) return code;
    return run({"git", "apply", file.string()}, root).first;
  }
  [[nodiscard]] std::string read(const std::string& rel) const {
    std::ifstream f(root / rel, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  void write(const std::string& rel, const std::string& text) const { std::ofstream(root / rel, std::ios::binary) << text; }
};

/// The 1-based line of the first line of `text` that contains `needle` (0 when none).
inline std::uint32_t line_of(const std::string& text, const std::string& needle) {
  std::uint32_t line = 1;
  std::size_t p = 0;
  while (p <= text.size()) {
    const auto n = text.find('\n', p);
    const auto l = text.substr(p, n == std::string::npos ? std::string::npos : n - p);
    if (l.find(needle) != std::string::npos) return line;
    if (n == std::string::npos) break;
    p = n + 1;
    ++line;
  }
  return 0;
}

/// The hunks of `commit` in `file` that fall inside [first, last] of the commit's new side (what
/// diagnose stores as the suspect's target hunks).
inline std::vector<dx::hunk> hunks_inside(const std::filesystem::path& repo, const std::string& commit, const std::string& file,
                                         std::uint32_t first, std::uint32_t last) {
  auto cc = fx::read_commit_change(repo, commit);
  REQUIRE(cc);
  std::vector<dx::hunk> out;
  for (const auto& f : cc->files) {
    if (f.path != file) continue;
    auto hs = fx::line_hunks(f.before.value_or(""), f.after.value_or(""));
    REQUIRE(hs);
    for (const auto& h : *hs)
      if (h.new_lines > 0 && h.new_start <= last && h.new_start + h.new_lines - 1 >= first)
        out.push_back({h.old_start, h.old_lines, h.new_start, h.new_lines});
  }
  return out;
}

}  // namespace fixtest
