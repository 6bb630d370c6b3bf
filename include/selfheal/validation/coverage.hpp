#pragma once
/// \file
/// Coverage of a patch's changed lines (beat 5): which of the lines the patch adds or changes were
/// run by the tests, from an lcov tracefile (read by anomaly/coverage.hpp's `parse_lcov`). Only lines
/// the tracefile instruments count (comments, blank lines and files it does not know are not code
/// it measured); the share is `covered / instrumented` and is checked against `[coverage]
/// changed_lines`. The overall line coverage of the tracefile is reported too.
///
/// ```cpp
/// auto lcov = selfheal::anomaly::parse_lcov(text);
/// std::map<std::string, std::vector<std::uint64_t>> changed = {{"app/cart.py", {12, 13, 14}}};
/// auto c = selfheal::validation::changed_line_coverage(lcov, changed, "/tmp/selfheal-checkout-1");
/// // c.instrumented, c.covered, c.share(), c.uncovered ("app/cart.py:13-14")
/// ```

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/anomaly/coverage.hpp"

namespace selfheal::validation {

/// New-side line numbers the patch adds or changes, per repository path.
using changed_lines_map = std::map<std::string, std::vector<std::uint64_t>>;

struct changed_coverage {
  std::size_t changed = 0;        ///< changed lines in all
  std::size_t instrumented = 0;   ///< ... of which the tracefile measures
  std::size_t covered = 0;        ///< ... of which ran at least once
  std::size_t total_lines = 0, total_covered = 0;  ///< the whole tracefile
  std::vector<std::string> uncovered;              ///< "path:12-14", in path and line order
  std::vector<std::string> unmeasured_files;       ///< changed files the tracefile does not know
  /// covered / instrumented; 1 when nothing changed is instrumented (nothing to miss).
  [[nodiscard]] double share() const noexcept {
    return instrumented == 0 ? 1.0 : static_cast<double>(covered) / static_cast<double>(instrumented);
  }
  [[nodiscard]] double overall() const noexcept {
    return total_lines == 0 ? 0.0 : static_cast<double>(total_covered) / static_cast<double>(total_lines);
  }
};

namespace detail {
/// The repository path an lcov `SF:` names: absolute under `root`, relative, or ending in a path
/// of `wanted` (coverage tools often write the build machine's absolute path).
inline std::string lcov_repo_path(std::string_view sf, std::string_view root, const changed_lines_map& wanted) {
  std::string path(sf);
  std::string r(root);
  while (!r.empty() && r.back() == '/') r.pop_back();
  if (!r.empty() && path.starts_with(r + "/")) return path.substr(r.size() + 1);
  while (path.starts_with("./")) path.erase(0, 2);
  if (wanted.contains(path)) return path;
  for (const auto& [p, lines] : wanted)
    if (path.ends_with("/" + p)) return p;
  return path;
}
}  // namespace detail

[[nodiscard]] inline changed_coverage changed_line_coverage(const anomaly::lcov_report& lcov, const changed_lines_map& changed,
                                                            std::string_view checkout_root = {}) {
  changed_coverage c;
  std::map<std::string, const anomaly::lcov_file*> by_path;
  for (const auto& f : lcov.files) {
    by_path[detail::lcov_repo_path(f.path, checkout_root, changed)] = &f;
    for (const auto& [line, hits] : f.lines) {
      ++c.total_lines;
      if (hits > 0) ++c.total_covered;
    }
  }
  for (const auto& [path, lines] : changed) {
    c.changed += lines.size();
    auto it = by_path.find(path);
    if (it == by_path.end()) {
      if (!lines.empty()) c.unmeasured_files.push_back(path);
      continue;
    }
    std::uint64_t run_start = 0, run_end = 0;
    auto flush = [&] {
      if (run_start == 0) return;
      c.uncovered.push_back(path + ":" + std::to_string(run_start) +
                            (run_end > run_start ? "-" + std::to_string(run_end) : std::string()));
      run_start = run_end = 0;
    };
    for (std::uint64_t line : lines) {
      auto hit = it->second->lines.find(line);
      if (hit == it->second->lines.end()) continue;
      ++c.instrumented;
      if (hit->second > 0) {
        ++c.covered;
        continue;
      }
      if (run_start != 0 && line == run_end + 1) run_end = line;
      else {
        flush();
        run_start = run_end = line;
      }
    }
    flush();
  }
  return c;
}

}  // namespace selfheal::validation
