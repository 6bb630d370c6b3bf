#pragma once
// Scenario builder for tests: a real git repository in a temporary folder, made by running the real
// `git` program (argv, time limits) through selfheal/core/process.hpp, with handler files in two
// languages (JavaScript and Python), commits with set author/committer dates, one commit that slows
// (or breaks) a handler, decoys, release tags, and NDJSON telemetry before and after the change,
// with deploy markers (`version`) or without them. Everything follows from the seed.
//
//   selfheal::test::scenario_options o;  o.seed = 7;  o.deploy_markers = false;
//   auto s = selfheal::test::make_scenario(o);        // throws std::runtime_error if git fails
//   s.repo.root(); s.guilty_commit; s.guilty_function; s.telemetry_after; s.anomaly ...
//
// Reused by later issues (fix, validation, deployment): `git_repo` alone makes any repository.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "selfheal/core/process.hpp"
#include "selfheal/diagnosis/model.hpp"

namespace selfheal::test {

/// Deterministic generator with the same output under libstdc++ and libc++ (splitmix64).
class seeded_rng {
 public:
  explicit seeded_rng(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform integer in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(next() % span);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  /// Normal by Box-Muller (deterministic: no std distributions).
  double normal(double mean, double sd);
  bool chance(double p) { return uniform() < p; }

 private:
  std::uint64_t state_;
};

/// A real git repository in a fresh temporary folder (removed on destruction unless `keep()`).
class git_repo {
 public:
  /// `git init` in a new temp folder (or in `at` when given, which must not exist yet).
  explicit git_repo(std::optional<std::filesystem::path> at = std::nullopt);
  git_repo(const git_repo&) = delete;
  git_repo& operator=(const git_repo&) = delete;
  git_repo(git_repo&& o) noexcept;
  git_repo& operator=(git_repo&&) = delete;
  ~git_repo();

  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }
  void keep() noexcept { keep_ = true; }

  /// Writes `text` to `rel` (inside the repository; creates folders).
  void write(const std::string& rel, const std::string& text) const;
  [[nodiscard]] std::string read(const std::string& rel) const;
  /// `git add -A` + `git commit` with author and committer dates set to `when` (seconds, UTC).
  /// Returns the full commit id.
  std::string commit(const std::string& message, std::int64_t when, const std::string& author = "Ada Lovelace",
                     const std::string& email = "ada@example.com");
  /// A lightweight tag on HEAD (or on `target`).
  void tag(const std::string& name, const std::string& target = "HEAD");
  /// Runs `git <args>` in the repository; throws std::runtime_error on failure; returns stdout.
  std::string git(std::vector<std::string> args, std::vector<std::pair<std::string, std::optional<std::string>>> env = {}) const;

 private:
  std::filesystem::path root_;
  bool keep_ = false;
};

/// ISO-8601 UTC with milliseconds: 2025-03-01T12:00:00.000Z.
std::string iso8601(std::int64_t seconds, int millis = 0);

/// What to build.
struct scenario_options {
  std::uint64_t seed = 1;
  bool deploy_markers = true;  ///< telemetry carries `version` and the releases are tagged
  bool decoys = true;          ///< same-file and other-handler commits near the guilty one
  bool error = false;          ///< the guilty commit makes the handler throw (stack traces in telemetry)
  std::optional<std::filesystem::path> at;  ///< where to create the repository (default: a temp folder)
  std::size_t events_per_phase = 400;       ///< telemetry events before and after the onset
};

/// A generated scenario: the repository, the truth about it, and its telemetry.
struct scenario {
  git_repo repo;
  // ground truth, fixed by the builder before any analysis runs
  std::string guilty_commit;
  std::string guilty_handler;   ///< as logged (`computeTax`)
  std::string guilty_function;  ///< as defined (`compute_tax`)
  std::string guilty_file;      ///< repository-relative
  std::uint32_t error_line = 0; ///< error scenarios: line of the throwing statement at HEAD
  std::vector<std::string> decoy_commits;
  std::int64_t onset = 0;       ///< the deploy of the slow release, seconds
  std::vector<std::string> release_tags;
  // telemetry, NDJSON text; also written to `telemetry_dir` as before.ndjson / after.ndjson
  std::filesystem::path telemetry_dir;
  std::string telemetry_before;
  std::string telemetry_after;
  /// The anomaly as anomaly.detect reports it (input for the analyzers when testing them alone).
  diagnosis::anomaly_input anomaly;
};

scenario make_scenario(const scenario_options& opts);

}  // namespace selfheal::test
