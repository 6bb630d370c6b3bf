#pragma once
/// \file
/// detectCoverageGaps with a repository: each handler mapped to its source lines through a symbol
/// index of the files the tracefile names (`selfheal detect --coverage FILE --repo DIR`). Works when
/// the tracefile has no `FN` records (coverage.py, some llvm-cov exports).
///
/// - `resolve_source_file(root, sf)`: an `SF` path to a file of the repository. Relative paths are
///   taken from the repository root; absolute paths inside the repository are made relative. Any
///   other path (absolute elsewhere, escaping with `..`, or relative but not found from the root) is
///   matched by its longest path suffix that names a file inside the repository
///   (`/ci/build/app/src/cart.cpp` → `src/cart.cpp`); a relative path still not found, by the one
///   repository file that ends with all of it (`app/x.py` → `backend/app/x.py`: coverage run from a
///   subfolder; two candidates are not guessed); else skipped. Only files whose canonical path lies
///   inside the repository are ever opened (so a symlink pointing out is skipped too); an `SF` path
///   outside it is never read.
/// - `index_coverage(report, repo)`: resolves every `SF`, merges `DA` hits per repository file and
///   runs `source::index_symbols` (Universal Ctags, or the built-in scanner) on those files.
/// - `find_coverage_gaps(current, report, index)`: a handler's line coverage is the share of `DA`
///   lines hit among the `DA` lines inside its symbol's `[line, end]` range. A handler found by the
///   index and by the tracefile's `FN` records uses the index (it has real end lines); the evidence
///   says which: `"mapping":"symbols"` or `"mapping":"lcov_functions"`. A handler whose name matches
///   several definitions is not guessed: it falls back to the `FN` records, else it is skipped; both
///   are counted in a warning.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "selfheal/anomaly/coverage.hpp"
#include "selfheal/anomaly/model.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/source/model.hpp"
#include "selfheal/source/paths.hpp"
#include "selfheal/source/symbols.hpp"

namespace selfheal::anomaly {

// `SF` paths are resolved by the source layer's one resolver (source/paths.hpp).
using source::resolved_source;
using source::source_match;

namespace detail {
/// The regular files of the repository (relative, `/`-separated, sorted), `.git` and symlinks left
/// out; at most `limit` of them: `source::walk_repository_files`.
[[nodiscard]] inline std::vector<std::string> repository_files(const std::filesystem::path& root, std::size_t limit = 1'000'000) {
  return source::walk_repository_files(root, limit);
}
}  // namespace detail

/// Finds tracefile path `sf` in the repository whose canonical root is `root`: `source::resolve_path`.
[[nodiscard]] inline resolved_source resolve_source_file(const std::filesystem::path& root, std::string_view sf,
                                                         std::span<const std::string> repo_files = {}) {
  return source::resolve_path(root, sf, repo_files);
}

/// The tracefile's line hits per repository file and the symbols of those files.
struct coverage_index {
  std::filesystem::path repo;  ///< canonical root
  std::map<std::string, std::map<std::uint64_t, std::uint64_t>> lines;  ///< repository file → DA line → hits
  source::symbol_index symbols;
  std::uint64_t direct = 0, by_suffix = 0, outside_repo = 0, not_found = 0;  ///< SF records by `source_match`
  std::vector<std::string> warnings;  ///< skipped SF paths (counted, first named), the symbol index's own
};

/// Resolves the `SF` paths of `rep` in `repo` and indexes the symbols of the files found.
/// Errors: `errc::not_found` when `repo` is not a directory.
[[nodiscard]] inline result<coverage_index> index_coverage(const lcov_report& rep, const std::filesystem::path& repo,
                                                           const source::ctags_options& ctags = {}) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(repo, ec))
    return fail(errc::not_found, "repository " + repo.string() + " is not a directory");
  coverage_index idx;
  idx.repo = fs::canonical(repo, ec);
  if (ec) return fail(errc::io_error, "repository " + repo.string() + ": " + ec.message());
  std::string first_outside, first_missing;
  std::optional<std::vector<std::string>> repo_files;  // walked once, when a path needs it
  for (const auto& f : rep.files) {
    auto r = resolve_source_file(idx.repo, f.path);
    if (r.match == source_match::not_found && std::filesystem::path(f.path).is_relative()) {
      if (!repo_files) repo_files = source::walk_repository_files(idx.repo);
      r = resolve_source_file(idx.repo, f.path, *repo_files);
    }
    switch (r.match) {
      case source_match::direct: ++idx.direct; break;
      case source_match::by_suffix: ++idx.by_suffix; break;
      case source_match::outside_repo:
        if (idx.outside_repo++ == 0) first_outside = f.path;
        continue;
      case source_match::not_found:
        if (idx.not_found++ == 0) first_missing = f.path;
        continue;
    }
    auto& merged = idx.lines[r.path];
    for (const auto& [line, hits] : f.lines) merged[line] += hits;
  }
  if (idx.outside_repo)
    idx.warnings.push_back("coverage: " + std::to_string(idx.outside_repo) + " SF path(s) outside the repository " +
                           idx.repo.string() + " skipped, not read (first: " + first_outside + ")");
  if (idx.not_found)
    idx.warnings.push_back("coverage: " + std::to_string(idx.not_found) + " SF path(s) not found in the repository " +
                           idx.repo.string() + " skipped (first: " + first_missing + ")");
  std::vector<std::string> files;
  files.reserve(idx.lines.size());
  for (const auto& kv : idx.lines) files.push_back(kv.first);
  idx.symbols = source::index_symbols(idx.repo, files, ctags);
  source::index_names(idx.symbols);
  for (const auto& w : idx.symbols.warnings) idx.warnings.push_back("coverage: symbol index: " + w);
  return idx;
}

/// A handler looked up in a `coverage_index`.
struct symbol_coverage {
  source::match_result match;  ///< unique, ambiguous or not_found, with its note
  handler_coverage coverage;      ///< set when `match` is unique; `lines` = DA lines in the symbol's range
};

namespace detail {

/// `handler` looked up in `symbols` (all of `idx.symbols` or a subset of it).
[[nodiscard]] inline symbol_coverage coverage_in(const coverage_index& idx, const source::symbol_index& symbols,
                                                 std::string_view handler) {
  symbol_coverage out;
  out.match = source::match_handler(symbols, handler);
  const source::symbol* s = out.match.chosen(symbols);
  if (s == nullptr) return out;
  auto& c = out.coverage;
  c.file = s->file;
  c.function = s->qualified();
  c.first_line = s->line;
  c.last_line = std::max(s->end_line, s->line);
  const auto f = idx.lines.find(s->file);
  if (f == idx.lines.end()) return out;
  for (auto it = f->second.lower_bound(c.first_line); it != f->second.end() && it->first <= c.last_line; ++it) {
    ++c.lines;
    if (it->second > 0) ++c.covered;
  }
  return out;
}

}  // namespace detail

/// The symbol of `handler` and the DA lines inside its `[line, end]` range.
[[nodiscard]] inline symbol_coverage coverage_by_symbol(const coverage_index& idx, std::string_view handler) {
  return detail::coverage_in(idx, idx.symbols, handler);
}

/// What `find_coverage_gaps` with an index found, and what it could not map.
struct coverage_gaps {
  std::vector<anomaly> anomalies;
  std::uint64_t by_symbols = 0, by_lcov_functions = 0;  ///< hot handlers mapped each way
  std::uint64_t ambiguous_fallback = 0;  ///< ambiguous in the index, mapped by FN records instead
  std::uint64_t ambiguous_skipped = 0;   ///< ambiguous in the index and no FN record: not evaluated
  std::vector<std::string> warnings;
};

/// Coverage gaps of handlers hot in `cur`, mapped through `idx` first, then by `rep`'s FN records.
[[nodiscard]] inline coverage_gaps find_coverage_gaps(const telemetry_data& cur, const lcov_report& rep,
                                                      const coverage_index& idx, const coverage_options& o = {}) {
  coverage_gaps out;
  const auto shares = detail::traffic_shares(cur);
  std::vector<std::string> notes;
  for (std::size_t i = 0; i < cur.handlers.size(); ++i) {
    const auto& s = cur.handlers[i];
    if (shares[i] <= 0 || shares[i] < o.min_traffic_share) continue;
    const auto by_symbol = detail::coverage_in(idx, idx.symbols, s.handler);
    std::optional<anomaly> a;
    if (by_symbol.coverage.lines > 0) {
      ++out.by_symbols;
      a = detail::coverage_gap(s, shares[i], by_symbol.coverage, "symbols", o);
    } else {
      const auto by_fn = detail::lcov_function_coverage(rep, s.handler);
      const bool ambiguous = by_symbol.match.status == source::match_status::ambiguous;
      if (by_fn.lines > 0) {
        ++out.by_lcov_functions;
        if (ambiguous) ++out.ambiguous_fallback;
        a = detail::coverage_gap(s, shares[i], by_fn, "lcov_functions", o);
      } else if (ambiguous) {
        ++out.ambiguous_skipped;
      }
      if (ambiguous && notes.size() < 3) notes.push_back(by_symbol.match.note);
    }
    if (a) out.anomalies.push_back(std::move(*a));
  }
  if (out.ambiguous_fallback + out.ambiguous_skipped > 0) {
    std::string w = "coverage: " + std::to_string(out.ambiguous_fallback + out.ambiguous_skipped) +
                    " hot handler(s) ambiguous in the symbol index, not guessed (" +
                    std::to_string(out.ambiguous_fallback) + " mapped by the tracefile's function records, " +
                    std::to_string(out.ambiguous_skipped) + " skipped)";
    for (std::size_t k = 0; k < notes.size(); ++k) w += (k ? "; " : ": ") + notes[k];
    out.warnings.push_back(std::move(w));
  }
  return out;
}

}  // namespace selfheal::anomaly
