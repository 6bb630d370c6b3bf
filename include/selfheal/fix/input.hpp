#pragma once
/// \file
/// What the pure beats of fix.generate work on: a read-only view of the monitored repository at the
/// base commit (loaded once by `loadDiagnosis`, through libgit2's object database), the production
/// evidence of each anomaly, and what a strategy hands back (`code_change`).

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/diagnosis/model.hpp"
#include "selfheal/fix/edits.hpp"
#include "selfheal/fix/repository.hpp"

namespace selfheal::fix {

/// The outcome of a whole-commit revert onto the base: its edits, or why it cannot be made.
struct revert_outcome {
  std::vector<file_edit> edits;
  std::string refusal;  ///< non-empty: the strategy is skipped with this reason
};

/// The output of the external fixer (`[fix] command`), already turned into edits on the base.
struct external_outcome {
  std::vector<file_edit> edits;
  std::string refusal;
  std::string command;  ///< argv[0], for the notes
};

/// The monitored repository at the base commit, as read by `loadDiagnosis`.
struct repo_view {
  std::filesystem::path root;
  std::string main_branch = "main";
  std::string base_commit;                                   ///< head of service.main
  std::vector<tree_file> files;                              ///< tracked at the base, sorted
  std::map<std::string, std::string, std::less<>> texts;     ///< files read at the base
  std::map<std::string, commit_change, std::less<>> commits; ///< suspect commits read (by full sha)
  std::map<std::string, revert_outcome, std::less<>> reverts;  ///< whole-commit reverts (by full sha)
  std::map<std::string, external_outcome, std::less<>> external;  ///< by anomaly id
  std::vector<std::string> test_command;                     ///< `[test] command`, for framework detection

  [[nodiscard]] const std::string* text(std::string_view path) const {
    auto it = texts.find(path);
    return it == texts.end() ? nullptr : &it->second;
  }
  [[nodiscard]] bool has_file(std::string_view path) const {
    return std::binary_search(files.begin(), files.end(), tree_file{std::string(path), false},
                              [](const tree_file& a, const tree_file& b) { return a.path < b.path; });
  }
  [[nodiscard]] bool is_symlink(std::string_view path) const {
    auto it = std::lower_bound(files.begin(), files.end(), path, [](const tree_file& a, std::string_view p) { return a.path < p; });
    return it != files.end() && it->path == path && it->symlink;
  }
  [[nodiscard]] const commit_change* commit(std::string_view sha) const {
    auto it = commits.find(sha);
    return it == commits.end() ? nullptr : &it->second;
  }
};

/// What a code strategy sees: the diagnosis, the recommendation that named the strategy (if any),
/// production's evidence and the repository.
struct strategy_input {
  const diagnosis::diagnosis_item& item;
  const diagnosis::recommendation* recommendation;  ///< null when the strategy was not recommended
  const evidence& production;
  const repo_view& repo;
};

/// A strategy's code change: the edits and what a reviewer should know.
struct code_change {
  std::string strategy;
  std::string suspect_commit;  ///< the commit it undoes (empty when none)
  std::string description;     ///< one line: "revert 1a2b3c4 (Audit trail for computeTax)"
  std::vector<file_edit> edits;
  std::vector<std::string> notes;
};

}  // namespace selfheal::fix
