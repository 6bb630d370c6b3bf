#pragma once
/// \file
/// detectCoverageGaps: an lcov tracefile (gcov/lcov, llvm-cov export -format=lcov, istanbul/c8/
/// vitest, coverage.py all write it) mapped to handlers; handlers carrying real production traffic
/// (share of all calls ≥ `min_traffic_share`) whose lines are covered below `min_line_coverage`.
///
/// Records read: `TN`, `SF`, `FN:<line>[,<end>],<name>`, `FNDA`, `FNF`, `FNH`, `DA:<line>,<hits>[,…]`,
/// `LF`, `LH`, `BRDA`, `BRF`, `BRH`, `VER`, `FNL`/`FNA` (lcov 2.2 function blocks), `end_of_record`.
/// Anything else is skipped and counted, the first 20 with `file:line: reason`.
///
/// Handler → source lines, two ways (the evidence's `mapping` says which was used):
/// - `"lcov_functions"` (here): a function matches a handler when one of its name's parts (split at
///   `::`, `.`, `(`, `/`, spaces) equals the handler name with case and `_`/`-` ignored
///   (`loadLogFiles` ↔ `load_log_files` ↔ `LoadLogFiles`). Itanium-mangled C++ names are demangled
///   first, and only the function's own qualified name counts: template arguments and parameter
///   lists are dropped, so `check<sequence_t<…, load_log_files>>` is not `loadLogFiles`, while
///   `load_log_files::operator()` and the lambdas inside it are.
///   Its line range runs from its `FN` line to its end line when given, else to the line before the
///   next function of the file, else to the file's last `DA` line. Needs `FN` records.
/// - `"symbols"` (`coverage_index.hpp`, `selfheal detect --repo DIR`): the handler's definition in a
///   symbol index (Universal Ctags) of the files the tracefile names, resolved inside the
///   repository; its real `[line, end]` range. Works without `FN` records and is preferred.
/// Line coverage = `DA` lines hit / `DA` lines inside the range. This header needs no JSON parser.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <cxxabi.h>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/performance.hpp"
#include "selfheal/core/result.hpp"

namespace selfheal::anomaly {

struct lcov_function {
  std::string name;
  std::uint64_t line = 0;
  std::uint64_t end_line = 0;  ///< 0 when the tracefile does not give it
  std::uint64_t hits = 0;
};

struct lcov_file {
  std::string path;
  std::vector<lcov_function> functions;
  std::map<std::uint64_t, std::uint64_t> lines;  ///< line → hits
};

struct lcov_report {
  std::vector<lcov_file> files;
  std::uint64_t skipped_lines = 0;
  std::vector<std::string> skipped_samples;  ///< "source:line: reason", the first 20
};

namespace detail {
[[nodiscard]] inline bool parse_u64(std::string_view s, std::uint64_t& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}
[[nodiscard]] inline std::string normalize_name(std::string_view s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c))) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}
[[nodiscard]] inline std::string snake_case(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0 && s[i - 1] != '_') out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (c == '-') {
      out.push_back('_');
    } else {
      out.push_back(c);
    }
  }
  return out;
}
}  // namespace detail

/// Parses lcov text. Bad or unknown lines are skipped and counted; `source` names the file.
[[nodiscard]] inline lcov_report parse_lcov(std::string_view text, std::string_view source = "lcov") {
  lcov_report rep;
  lcov_file* cur = nullptr;
  std::uint64_t lineno = 0;
  const auto skip = [&](std::string reason) {
    ++rep.skipped_lines;
    if (rep.skipped_samples.size() < 20)
      rep.skipped_samples.push_back(std::string(source) + ":" + std::to_string(lineno) + ": " + std::move(reason));
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t colon = line.find(':');
    const std::string_view tag = colon == std::string_view::npos ? line : line.substr(0, colon);
    const std::string_view rest = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (tag == "end_of_record") { cur = nullptr; continue; }
    if (tag == "TN" || tag == "VER" || tag == "FNF" || tag == "FNH" || tag == "LF" || tag == "LH" || tag == "BRF" ||
        tag == "BRH" || tag == "BRDA" || tag == "FNL" || tag == "FNA")
      continue;  // known; totals are recomputed, branches and lcov-2.2 blocks not needed here
    if (tag == "SF") {
      rep.files.push_back({std::string(rest), {}, {}});
      cur = &rep.files.back();
      continue;
    }
    if (!cur) { skip("record outside a source file (no SF before it)"); continue; }
    if (tag == "FN") {
      // FN:<line>,<name>  or  FN:<line>,<end>,<name>
      const std::size_t c1 = rest.find(',');
      std::uint64_t ln = 0;
      if (c1 == std::string_view::npos || !detail::parse_u64(rest.substr(0, c1), ln)) { skip("malformed FN record"); continue; }
      std::string_view tail = rest.substr(c1 + 1);
      std::uint64_t end = 0;
      const std::size_t c2 = tail.find(',');
      if (c2 != std::string_view::npos && detail::parse_u64(tail.substr(0, c2), end)) tail = tail.substr(c2 + 1);
      else end = 0;
      cur->functions.push_back({std::string(tail), ln, end, 0});
      continue;
    }
    if (tag == "FNDA") {
      const std::size_t c1 = rest.find(',');
      std::uint64_t hits = 0;
      if (c1 == std::string_view::npos || !detail::parse_u64(rest.substr(0, c1), hits)) { skip("malformed FNDA record"); continue; }
      const std::string_view name = rest.substr(c1 + 1);
      for (auto& f : cur->functions)
        if (f.name == name) f.hits += hits;
      continue;
    }
    if (tag == "DA") {
      const std::size_t c1 = rest.find(',');
      std::uint64_t ln = 0, hits = 0;
      if (c1 == std::string_view::npos || !detail::parse_u64(rest.substr(0, c1), ln)) { skip("malformed DA record"); continue; }
      std::string_view h = rest.substr(c1 + 1);
      if (const std::size_t c2 = h.find(','); c2 != std::string_view::npos) h = h.substr(0, c2);  // checksum
      if (!detail::parse_u64(h, hits)) {
        // istanbul can write negative or huge counts; treat "-1" as 0 but count it
        skip("DA hit count not a non-negative integer");
        continue;
      }
      cur->lines[ln] += hits;
      continue;
    }
    skip("unknown record '" + std::string(tag.substr(0, 32)) + "'");
  }
  return rep;
}

[[nodiscard]] inline result<lcov_report> load_lcov_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(errc::not_found, "cannot read coverage file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_lcov(ss.str(), path);
}

/// A handler's code as found in the tracefile.
struct handler_coverage {
  std::string file;
  std::string function;
  std::uint64_t first_line = 0, last_line = 0;
  std::uint64_t lines = 0, covered = 0;
  [[nodiscard]] double ratio() const noexcept {
    return lines ? static_cast<double>(covered) / static_cast<double>(lines) : 0.0;
  }
};

/// The name a person reads for tracefile function `fn`: an Itanium-mangled name demangled, with
/// template arguments and parameter lists dropped (`selfheal::telemetry::load_log_files::operator()
/// const`); any other name as it is. A name that does not demangle stays as written.
[[nodiscard]] inline std::string readable_function(std::string_view fn) {
  if (!fn.starts_with("_Z")) return std::string(fn);
  int status = 0;
  const std::string mangled(fn);
  std::unique_ptr<char, decltype(&std::free)> full(abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  if (status != 0 || !full) return mangled;
  std::string out;
  int angle = 0, paren = 0;
  for (const char* p = full.get(); *p; ++p) {
    const std::string_view rest(p);
    if (angle == 0 && paren == 0 && rest.starts_with("operator")) {  // operator(), operator<, operator>>= …
      std::size_t len = 8;
      if (rest.substr(8).starts_with("()")) len = 10;
      else
        while (len < rest.size() && std::string_view("<>=").find(rest[len]) != std::string_view::npos) ++len;
      out.append(rest.substr(0, len));
      p += len - 1;
      continue;
    }
    const char c = *p;
    if (c == '<') { ++angle; continue; }
    if (c == '>' && angle > 0) { --angle; continue; }
    if (angle > 0) continue;
    if (c == '(') {
      if (paren++ == 0 && !out.ends_with("operator()")) out += "()";
      continue;
    }
    if (c == ')' && paren > 0) { --paren; continue; }
    if (paren > 0) continue;
    out.push_back(c);
  }
  return out;
}

/// Whether function `fn` implements `handler` (see the file comment).
[[nodiscard]] inline bool function_matches(std::string_view raw, std::string_view handler) {
  const std::string want = detail::normalize_name(handler);
  if (want.empty()) return false;
  const std::string readable = readable_function(raw);
  const std::string_view fn = readable;
  if (fn.starts_with("_Z")) {  // did not demangle: look for the <len><name> of the snake_case form
    const std::string snake = detail::snake_case(handler);
    return fn.find(std::to_string(snake.size()) + snake) != std::string_view::npos ||
           fn.find(std::to_string(handler.size()) + std::string(handler)) != std::string_view::npos;
  }
  std::size_t i = 0;
  while (i < fn.size()) {
    std::size_t j = i;
    while (j < fn.size() && fn[j] != ':' && fn[j] != '.' && fn[j] != '(' && fn[j] != '/' && fn[j] != ' ' &&
           fn[j] != '<' && fn[j] != '>' && fn[j] != ',')
      ++j;
    if (j > i && detail::normalize_name(fn.substr(i, j - i)) == want) return true;
    i = j + 1;
  }
  return false;
}

/// Coverage of each function matching `handler` (usually one).
[[nodiscard]] inline std::vector<handler_coverage> coverage_of(const lcov_report& rep, std::string_view handler) {
  std::vector<handler_coverage> out;
  for (const auto& f : rep.files) {
    std::vector<const lcov_function*> fns;
    for (const auto& fn : f.functions) fns.push_back(&fn);
    std::sort(fns.begin(), fns.end(), [](const auto* a, const auto* b) { return a->line < b->line; });
    const std::uint64_t last_da = f.lines.empty() ? 0 : f.lines.rbegin()->first;
    for (std::size_t k = 0; k < fns.size(); ++k) {
      if (!function_matches(fns[k]->name, handler)) continue;
      handler_coverage c;
      c.file = f.path;
      c.function = readable_function(fns[k]->name);
      c.first_line = fns[k]->line;
      if (fns[k]->end_line >= c.first_line && fns[k]->end_line != 0) c.last_line = fns[k]->end_line;
      else {
        std::uint64_t next = 0;
        for (std::size_t m = k + 1; m < fns.size(); ++m)
          if (fns[m]->line > c.first_line) { next = fns[m]->line; break; }
        c.last_line = next ? next - 1 : std::max(last_da, c.first_line);
      }
      for (auto it = f.lines.lower_bound(c.first_line); it != f.lines.end() && it->first <= c.last_line; ++it) {
        ++c.lines;
        if (it->second > 0) ++c.covered;
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

namespace detail {

/// Each handler's share of all calls in `cur` (0 when there are none), in `cur.handlers` order.
[[nodiscard]] inline std::vector<double> traffic_shares(const telemetry_data& cur) {
  std::uint64_t total = 0;
  for (const auto& s : cur.handlers) total += s.total_count();
  std::vector<double> out;
  out.reserve(cur.handlers.size());
  for (const auto& s : cur.handlers)
    out.push_back(total ? static_cast<double>(s.total_count()) / static_cast<double>(total) : 0.0);
  return out;
}

/// The lcov-function mapping of `handler`, all matching functions summed into one; `lines == 0`
/// when no function matches.
[[nodiscard]] inline handler_coverage lcov_function_coverage(const lcov_report& rep, std::string_view handler) {
  const auto cov = coverage_of(rep, handler);
  handler_coverage sum;
  if (cov.empty()) return sum;
  sum.file = cov.front().file;
  sum.function = cov.front().function;
  sum.first_line = cov.front().first_line;
  sum.last_line = cov.front().last_line;
  for (const auto& c : cov) { sum.lines += c.lines; sum.covered += c.covered; }
  return sum;
}

/// The anomaly for handler `s` carrying `share` of the calls with code `sum`, when that code is
/// instrumented and covered below the threshold. `mapping` says how the code was found:
/// "lcov_functions" (the tracefile's FN records) or "symbols" (a symbol index of the repository).
[[nodiscard]] inline std::optional<anomaly> coverage_gap(const handler_series& s, double share, const handler_coverage& sum,
                                                         std::string_view mapping, const coverage_options& o) {
  if (sum.lines == 0 || sum.ratio() >= o.min_line_coverage) return std::nullopt;
  anomaly a;
  a.kind = anomaly_kind::coverage_gap;
  a.kinds = {a.kind};
  a.handler = s.handler;
  a.sequence = s.sequence;
  const double gap = o.min_line_coverage - sum.ratio();
  a.level = (share >= 0.10 && sum.ratio() < 0.5) ? severity::high : (share >= 0.05 || sum.ratio() < 0.5) ? severity::medium : severity::low;
  // the measurement is exact; confidence reflects how much code it rests on
  a.confidence = std::clamp(1.0 - std::exp(-static_cast<double>(sum.lines) / 5.0), 0.0, 1.0) * std::min(1.0, 0.8 + gap);
  a.description = "handler " + s.handler + " carries " + fmt_num(share * 100) + "% of calls but " + sum.file + ":" +
                  std::to_string(sum.first_line) + "-" + std::to_string(sum.last_line) + " (" + sum.function + ") is " +
                  fmt_num(sum.ratio() * 100) + "% line-covered (" + std::to_string(sum.covered) + "/" +
                  std::to_string(sum.lines) + ")";
  a.text("file", sum.file).text("function", sum.function).text("mapping", std::string(mapping));
  a.number("first_line", static_cast<double>(sum.first_line)).number("last_line", static_cast<double>(sum.last_line));
  a.number("line_coverage", sum.ratio()).number("lines", static_cast<double>(sum.lines));
  a.number("covered_lines", static_cast<double>(sum.covered)).number("traffic_share", share);
  a.number("threshold", o.min_line_coverage);
  return a;
}

}  // namespace detail

/// Coverage gaps of handlers hot in `cur`, mapped by the tracefile's function records
/// (evidence `"mapping":"lcov_functions"`). With a repository, see `coverage_index.hpp`.
[[nodiscard]] inline std::vector<anomaly> find_coverage_gaps(const telemetry_data& cur, const lcov_report& rep,
                                                               const coverage_options& o = {}) {
  std::vector<anomaly> out;
  if (rep.files.empty()) return out;
  const auto shares = detail::traffic_shares(cur);
  for (std::size_t i = 0; i < cur.handlers.size(); ++i) {
    const auto& s = cur.handlers[i];
    if (shares[i] <= 0 || shares[i] < o.min_traffic_share) continue;
    if (auto a = detail::coverage_gap(s, shares[i], detail::lcov_function_coverage(rep, s.handler), "lcov_functions", o))
      out.push_back(std::move(*a));
  }
  return out;
}

}  // namespace selfheal::anomaly
