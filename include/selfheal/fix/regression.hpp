#pragma once
/// \file
/// The regression test of a fix, in the repository's own framework, and the runbook entry.
/// Pure: both read only the `repo_view` and the evidence.
///
/// Framework detection (first match wins): the `[test] command` of selfheal.toml (`pytest`,
/// `unittest`, `node --test`, `jest`, `vitest`, `ctest`), then the repository's files — Python:
/// pytest.ini, conftest.py, `[tool.pytest` in pyproject.toml, `[tool:pytest]` in setup.cfg, test files
/// importing pytest or unittest; JavaScript: package.json's dependencies and `scripts.test`;
/// C++: Catch2 (v2 or v3) or GoogleTest named by the CMake files or included by the tests, run
/// through CTest (enable_testing / include(CTest) with add_test, catch_discover_tests or
/// gtest_discover_tests). No framework → no test, and the patch says so.
///
/// C++ tests: the call comes from the repository's own tests and must be self-contained (literals,
/// qualified names: no locals of that test); the new file sits next to that test, copies its
/// includes, and is built by the same target — a name the target's `file(GLOB)` takes, or one
/// `target_sources(<target> PRIVATE <file>)` line appended to the CMakeLists that defines it
/// (`regression_test::registration`).
///
/// The test (latency anomalies): it calls the handler with a representative input — a call of the
/// handler found in the repository's own tests — five times and fails when the median exceeds a
/// budget derived from production's baseline: max(3 × baseline p50, 2 × baseline p95), lowered to
/// the geometric mean of baseline p95 and the anomalous p50 when that is tighter than the anomalous
/// p50 allows. Error anomalies: the same call must not raise the error production saw.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "selfheal/diagnosis/model.hpp"
#include "selfheal/fix/cmake.hpp"
#include "selfheal/fix/edits.hpp"
#include "selfheal/fix/input.hpp"

namespace selfheal::fix {

enum class test_framework : unsigned char { none, unittest, pytest, node_test, jest, vitest, catch2, gtest };

[[nodiscard]] constexpr std::string_view to_string(test_framework f) noexcept {
  switch (f) {
    case test_framework::unittest: return "unittest";
    case test_framework::pytest: return "pytest";
    case test_framework::node_test: return "node --test";
    case test_framework::jest: return "jest";
    case test_framework::vitest: return "vitest";
    case test_framework::catch2: return "Catch2";
    case test_framework::gtest: return "GoogleTest";
    case test_framework::none: return "";
  }
  return "";
}

enum class source_language : unsigned char { other, python, javascript, cpp };

[[nodiscard]] inline source_language language_of(std::string_view path) {
  auto ends = [&](std::string_view s) { return path.size() >= s.size() && path.substr(path.size() - s.size()) == s; };
  if (ends(".py")) return source_language::python;
  if (ends(".js") || ends(".mjs") || ends(".cjs") || ends(".ts")) return source_language::javascript;
  if (ends(".cpp") || ends(".cc") || ends(".cxx") || ends(".hpp") || ends(".h") || ends(".c")) return source_language::cpp;
  return source_language::other;
}

/// Whether `path` looks like a test file of `lang`.
[[nodiscard]] inline bool is_test_file(std::string_view path, source_language lang) {
  const auto slash = path.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const bool in_test_dir = path.starts_with("tests/") || path.starts_with("test/") || path.find("/tests/") != std::string_view::npos ||
                           path.find("/test/") != std::string_view::npos || path.find("__tests__/") != std::string_view::npos;
  switch (lang) {
    case source_language::python: return base.ends_with(".py") && (base.starts_with("test_") || base.ends_with("_test.py"));
    case source_language::javascript:
      return (base.ends_with(".js") || base.ends_with(".mjs") || base.ends_with(".cjs") || base.ends_with(".ts")) &&
             (base.find(".test.") != std::string_view::npos || base.find(".spec.") != std::string_view::npos || in_test_dir);
    case source_language::cpp:
      return in_test_dir && (base.ends_with(".cpp") || base.ends_with(".cc"));
    case source_language::other: return false;
  }
  return false;
}

/// The framework and why it was chosen (or why none was).
struct framework_choice {
  test_framework framework = test_framework::none;
  std::string reason;
};

namespace detail {

/// Catch2 or GoogleTest, run through CTest: the CMake files name the framework (find_package,
/// FetchContent, its targets or its discovery functions) or the tests include its header, and the
/// CMake files register tests with CTest (enable_testing or include(CTest), and add_test,
/// catch_discover_tests or gtest_discover_tests).
inline framework_choice detect_cpp_framework(const repo_view& repo) {
  std::string cmake_text;
  for (const auto& [path, text] : repo.texts)
    if (path == "CMakeLists.txt" || path.ends_with("/CMakeLists.txt") || path.ends_with(".cmake")) cmake_text += text + "\n";
  bool catch_header = false, gtest_header = false;
  for (const auto& [path, text] : repo.texts) {
    if (!is_test_file(path, source_language::cpp)) continue;
    if (text.find("catch2/") != std::string::npos || text.find("catch.hpp") != std::string::npos) catch_header = true;
    if (text.find("gtest/gtest.h") != std::string::npos) gtest_header = true;
  }
  const bool catch_cmake = cmake_text.find("Catch2") != std::string::npos || cmake_text.find("catch_discover_tests") != std::string::npos;
  const bool gtest_cmake = cmake_text.find("GTest") != std::string::npos || cmake_text.find("gtest_discover_tests") != std::string::npos ||
                           cmake_text.find("googletest") != std::string::npos || cmake_text.find("gtest_main") != std::string::npos;
  const bool ctest_on = cmake_text.find("enable_testing") != std::string::npos || cmake_text.find("include(CTest)") != std::string::npos;
  const bool registers = cmake_text.find("add_test") != std::string::npos || cmake_text.find("catch_discover_tests") != std::string::npos ||
                         cmake_text.find("gtest_discover_tests") != std::string::npos || cmake_text.find("gtest_add_tests") != std::string::npos;
  const bool is_catch = catch_cmake || catch_header;
  const bool is_gtest = !is_catch && (gtest_cmake || gtest_header);
  if (!is_catch && !is_gtest)
    return {test_framework::none, "no C++ test framework found (no Catch2 or GoogleTest in the CMake files or the tests)"};
  const std::string name = is_catch ? "Catch2" : "GoogleTest";
  if (!ctest_on || !registers)
    return {test_framework::none, name + " found, but the CMake files do not run tests through CTest (enable_testing or "
                                         "include(CTest) with add_test, catch_discover_tests or gtest_discover_tests)"};
  if (is_catch) {
    const bool v3 = cmake_text.find("Catch2WithMain") != std::string::npos || cmake_text.find("find_package(Catch2 3") != std::string::npos ||
                    std::any_of(repo.texts.begin(), repo.texts.end(), [](const auto& kv) {
                      return kv.second.find("catch2/catch_test_macros.hpp") != std::string::npos ||
                             kv.second.find("catch2/catch_all.hpp") != std::string::npos;
                    });
    return {test_framework::catch2, std::string("the CMake files run Catch2 ") + (v3 ? "v3" : "v2") + " tests through CTest"};
  }
  return {test_framework::gtest, "the CMake files run GoogleTest tests through CTest"};
}

}  // namespace detail

[[nodiscard]] inline framework_choice detect_framework(const repo_view& repo, source_language lang) {
  auto cmd_has = [&](std::string_view word) {
    return std::any_of(repo.test_command.begin(), repo.test_command.end(),
                       [&](const std::string& a) { return a.find(word) != std::string::npos; });
  };
  auto text_has = [&](std::string_view path, std::string_view word) {
    const auto* t = repo.text(path);
    return t && t->find(word) != std::string::npos;
  };
  auto any_file = [&](auto pred) {
    return std::any_of(repo.files.begin(), repo.files.end(), [&](const tree_file& f) { return pred(f.path); });
  };
  switch (lang) {
    case source_language::python: {
      if (cmd_has("pytest")) return {test_framework::pytest, "the [test] command runs pytest"};
      if (cmd_has("unittest")) return {test_framework::unittest, "the [test] command runs unittest"};
      if (repo.has_file("pytest.ini") || any_file([](const std::string& p) { return p == "conftest.py" || p.ends_with("/conftest.py"); }) ||
          text_has("pyproject.toml", "[tool.pytest") || text_has("setup.cfg", "[tool:pytest]") || text_has("tox.ini", "[pytest]"))
        return {test_framework::pytest, "the repository configures pytest"};
      bool uses_unittest = false, uses_pytest = false;
      for (const auto& [path, text] : repo.texts) {
        if (!is_test_file(path, lang)) continue;
        if (text.find("import unittest") != std::string::npos || text.find("unittest.TestCase") != std::string::npos) uses_unittest = true;
        if (text.find("import pytest") != std::string::npos) uses_pytest = true;
      }
      if (uses_pytest) return {test_framework::pytest, "the tests import pytest"};
      if (uses_unittest) return {test_framework::unittest, "the tests use unittest"};
      return {test_framework::none, "no Python test framework found (no [test] command naming pytest or unittest, no pytest "
                                    "configuration, no test file importing pytest or unittest)"};
    }
    case source_language::javascript: {
      if (cmd_has("vitest")) return {test_framework::vitest, "the [test] command runs vitest"};
      if (cmd_has("jest")) return {test_framework::jest, "the [test] command runs jest"};
      if (std::find(repo.test_command.begin(), repo.test_command.end(), "--test") != repo.test_command.end() && cmd_has("node"))
        return {test_framework::node_test, "the [test] command runs node --test"};
      if (const auto* pkg = repo.text("package.json")) {
        if (pkg->find("\"vitest\"") != std::string::npos) return {test_framework::vitest, "package.json depends on vitest"};
        if (pkg->find("\"jest\"") != std::string::npos) return {test_framework::jest, "package.json depends on jest"};
        if (pkg->find("node --test") != std::string::npos) return {test_framework::node_test, "package.json's test script runs node --test"};
      }
      for (const auto& [path, text] : repo.texts)
        if (is_test_file(path, lang) && text.find("node:test") != std::string::npos)
          return {test_framework::node_test, "the tests import node:test"};
      return {test_framework::none, "no JavaScript test framework found (no [test] command or package.json naming node --test, "
                                    "jest or vitest)"};
    }
    case source_language::cpp: return detail::detect_cpp_framework(repo);
    case source_language::other: break;
  }
  return {test_framework::none, "no test framework for this language"};
}

namespace detail {
/// The `)` that closes the `(` at `open` on the same line, skipping string literals quoted by any
/// of `quotes` (with backslash escapes); npos when the line ends first.
inline std::size_t closing_paren(std::string_view text, std::size_t open, std::string_view quotes) {
  int depth = 0;
  char quote = 0;
  for (std::size_t e = open; e < text.size(); ++e) {
    const char c = text[e];
    if (c == '\n') break;
    if (quote) {
      if (c == '\\') { ++e; continue; }
      if (c == quote) quote = 0;
      continue;
    }
    if (quotes.find(c) != std::string_view::npos) { quote = c; continue; }
    if (c == '(') ++depth;
    if (c == ')' && --depth == 0) return e;
  }
  return std::string::npos;
}
}  // namespace detail

/// A call of `function` in the repository's tests (`compute_tax(100, "eu")`), to use as the
/// representative input. Balanced parentheses; string literals respected; one line.
[[nodiscard]] inline std::optional<std::string> find_representative_call(const repo_view& repo, std::string_view function,
                                                                        source_language lang) {
  if (function.empty()) return std::nullopt;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; };
  for (const auto& [path, text] : repo.texts) {
    if (!is_test_file(path, lang)) continue;
    for (std::size_t p = text.find(function); p != std::string::npos; p = text.find(function, p + 1)) {
      if (p > 0 && (ident(text[p - 1]) || text[p - 1] == '.')) continue;
      std::size_t q = p + function.size();
      if (q >= text.size() || text[q] != '(') continue;
      // not a definition
      const auto line_start = text.rfind('\n', p) == std::string::npos ? 0 : text.rfind('\n', p) + 1;
      const std::string_view before(text.data() + line_start, p - line_start);
      if (before.find("def ") != std::string_view::npos || before.find("function ") != std::string_view::npos ||
          before.find("import") != std::string_view::npos)
        continue;
      if (const auto e = detail::closing_paren(text, q, "\"'`"); e != std::string::npos) return text.substr(p, e - p + 1);
    }
  }
  return std::nullopt;
}

namespace detail {

/// A C++ call in a test file, with its qualification (`shop::apply_discount(100.0, 10)`), and the
/// file it was found in (whose includes the generated test copies).
struct cpp_call {
  std::string call;
  std::string file;
};

/// Whether the arguments of a C++ call need nothing from the test that made it: every identifier
/// is a literal keyword, qualified (`std::string`, `shop::kEu`), or names a function or type
/// (followed by `(`, `{`, `<` or `::`). A call on a local variable would not compile elsewhere.
inline bool self_contained_args(std::string_view args) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::size_t i = 0;
  while (i < args.size()) {
    const char c = args[i];
    if (c == '"' || c == '\'') {
      const char q = c;
      for (++i; i < args.size() && args[i] != q; ++i)
        if (args[i] == '\\') ++i;
      ++i;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {  // numbers, with suffixes (10u, 1.5f, 0x1F)
      while (i < args.size() && (ident(args[i]) || args[i] == '.' || args[i] == '\'')) ++i;
      continue;
    }
    if (!ident(c)) { ++i; continue; }
    const std::size_t b = i;
    while (i < args.size() && ident(args[i])) ++i;
    const std::string_view word = args.substr(b, i - b);
    if (word == "true" || word == "false" || word == "nullptr") continue;
    const bool qualified = b >= 2 && args[b - 1] == ':' && args[b - 2] == ':';
    std::size_t k = i;
    while (k < args.size() && args[k] == ' ') ++k;
    const bool callee = k < args.size() && (args[k] == '(' || args[k] == '{' || args[k] == '<' || (args[k] == ':' && k + 1 < args.size() && args[k + 1] == ':'));
    if (!qualified && !callee) return false;
  }
  return true;
}

/// The first self-contained call of `function` in the repository's C++ tests.
inline std::optional<cpp_call> find_cpp_call(const repo_view& repo, std::string_view function) {
  if (function.empty()) return std::nullopt;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (const auto& [path, text] : repo.texts) {
    if (!is_test_file(path, source_language::cpp)) continue;
    for (std::size_t p = text.find(function); p != std::string::npos; p = text.find(function, p + 1)) {
      if (p > 0 && (ident(text[p - 1]) || text[p - 1] == '.' || text[p - 1] == '>')) continue;
      const std::size_t q = p + function.size();
      if (q >= text.size() || text[q] != '(') continue;
      const auto line_start = text.rfind('\n', p) == std::string::npos ? 0 : text.rfind('\n', p) + 1;
      const std::string_view line(text.data() + line_start, p - line_start);
      if (line.find('#') != std::string_view::npos || line.find("//") != std::string_view::npos) continue;
      // Inside a string literal (a test's name) when an odd number of quotes precede it.
      if (std::count(line.begin(), line.end(), '"') % 2 == 1) continue;
      // The qualification before the name (`shop::`, `::`).
      std::size_t start = p;
      while (start >= 2 && text[start - 1] == ':' && text[start - 2] == ':') {
        std::size_t b = start - 2;
        while (b > line_start && ident(text[b - 1])) --b;
        const bool global = b == start - 2;  // a leading `::`
        start = b;
        if (global) break;
      }
      // A declaration (`double apply_discount(`): the word before is a type, not an operator.
      std::string_view before(text.data() + line_start, start - line_start);
      while (!before.empty() && (before.back() == ' ' || before.back() == '\t')) before.remove_suffix(1);
      if (!before.empty() && (ident(before.back()) || before.back() == '&' || before.back() == '*') && !before.ends_with("return") &&
          !before.ends_with("co_await"))
        continue;
      const auto e = detail::closing_paren(text, q, "\"'");
      if (e == std::string::npos) continue;
      if (!self_contained_args(std::string_view(text).substr(q + 1, e - q - 1))) continue;
      return cpp_call{text.substr(start, e - start + 1), path};
    }
  }
  return std::nullopt;
}

/// The `#include` and top-level `using namespace` lines of a test file, in order.
inline std::pair<std::vector<std::string>, std::vector<std::string>> cpp_preamble(std::string_view text) {
  std::vector<std::string> includes, usings;
  std::size_t p = 0;
  while (p < text.size()) {
    const auto n = std::min(text.find('\n', p), text.size());
    std::string_view l = text.substr(p, n - p);
    const bool indented = !l.empty() && (l.front() == ' ' || l.front() == '\t');
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
    if (l.starts_with("#include") || l.starts_with("# include")) includes.emplace_back(l);
    else if (l.starts_with("using namespace ") && l.ends_with(";") && !indented) usings.emplace_back(l);
    p = n + 1;
  }
  return {includes, usings};
}

/// The name of the generated test next to `test_file`, shaped like it so the repository's globs
/// take it: `tax.tests.cpp` → `selfheal_regression_<id>.tests.cpp`, `test_tax.cpp` →
/// `test_selfheal_regression_<id>.cpp`, `tax_test.cc` → `selfheal_regression_<id>_test.cc`.
inline std::string cpp_test_path(std::string_view test_file, std::string_view ident) {
  const auto dir = cmake::dir_of(test_file);
  const std::string_view base = test_file.substr(dir.empty() ? 0 : dir.size() + 1);
  const auto dot = base.find('.');
  const std::string_view stem = base.substr(0, dot);
  const std::string_view ext = dot == std::string_view::npos ? std::string_view(".cpp") : base.substr(dot);
  std::string name = "selfheal_regression_" + std::string(ident);
  if (stem.starts_with("test_")) name = "test_" + name;
  else if (stem.ends_with("_test") || stem.ends_with("_tests")) name += stem.substr(stem.rfind('_'));
  else if (stem.ends_with("Test") || stem.ends_with("Tests")) name += stem.ends_with("Test") ? "Test" : "Tests";
  return (dir.empty() ? "" : dir + "/") + name + std::string(ext);
}

}  // namespace detail

/// The latency budget (ms) and how it was derived; nullopt without a baseline.
struct latency_budget {
  double ms = 0;
  std::string derivation;
};
[[nodiscard]] inline std::optional<latency_budget> budget_from(const evidence& ev) {
  if (ev.baseline_p50_ms <= 0 && ev.baseline_p95_ms <= 0) return std::nullopt;
  const double p95 = ev.baseline_p95_ms > 0 ? ev.baseline_p95_ms : ev.baseline_p50_ms;
  double b = std::max(3 * ev.baseline_p50_ms, 2 * p95);
  std::string how = fmt::format("max(3 x baseline p50 {:.3f} ms, 2 x baseline p95 {:.3f} ms)", ev.baseline_p50_ms, p95);
  if (ev.current_p50_ms > 0 && b >= 0.8 * ev.current_p50_ms) {
    b = std::sqrt(p95 * ev.current_p50_ms);
    how = fmt::format("geometric mean of baseline p95 {:.3f} ms and anomalous p50 {:.3f} ms", p95, ev.current_p50_ms);
  }
  return latency_budget{b, how};
}

/// The regression test a patch adds.
struct regression_test {
  test_framework framework = test_framework::none;
  std::string path;  ///< empty when no test was written
  std::string text;
  std::vector<std::string> notes;
  std::vector<file_edit> registration;  ///< build files changed so the test runs (C++: a CMakeLists.txt)
};

namespace detail {

inline std::string sanitize_identifier(std::string_view s) {
  std::string o;
  for (char c : s) o += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (o.empty() || std::isdigit(static_cast<unsigned char>(o.front()))) o.insert(o.begin(), '_');
  return o;
}
inline std::string camel(std::string_view s) {
  std::string o;
  bool up = true;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) { up = true; continue; }
    o += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return o;
}
/// Text safe inside a one-line comment or a double-quoted string of Python or JavaScript.
inline std::string one_line(std::string_view s, std::size_t max = 160) {
  std::string o;
  for (char c : s) {
    if (o.size() >= max) { o += "..."; break; }
    if (c == '\n' || c == '\r' || c == '\t') o += ' ';
    else if (c == '"' || c == '\\' || c == '`' || c == '$' || c == '%') o += '\'';
    else if (static_cast<unsigned char>(c) < 0x20) continue;
    else o += c;
  }
  return o;
}
inline std::string fmt_ms(double v) {
  return fmt::format("{:.3f}", v);
}
/// The directory holding the repository's tests of `lang` (most test files), or "tests".
inline std::string test_dir(const repo_view& repo, source_language lang) {
  std::map<std::string, int> count;
  for (const auto& f : repo.files)
    if (is_test_file(f.path, lang)) {
      const auto slash = f.path.rfind('/');
      ++count[slash == std::string::npos ? std::string{} : f.path.substr(0, slash)];
    }
  std::string best = "tests";
  int n = 0;
  for (const auto& [d, c] : count)
    if (c > n) { best = d; n = c; }
  return best;
}
inline std::string up_to_root(std::string_view dir) {
  if (dir.empty()) return ".";
  std::string o = "..";
  for (char c : dir)
    if (c == '/') o += "/..";
  return o;
}
inline std::string relative_from(std::string_view dir, std::string_view file) {
  std::string up = dir.empty() ? "." : up_to_root(dir);
  return up + "/" + std::string(file);
}

}  // namespace detail

/// The regression test for `item` (nothing written, with the reason in `notes`, when no framework
/// or no representative call is found).
[[nodiscard]] inline regression_test make_regression_test(const diagnosis::diagnosis_item& item, const evidence& ev,
                                                          const repo_view& repo) {
  regression_test out;
  if (!item.where) {
    out.notes.push_back("no regression test: the handler " + item.handler + " was not located in the code");
    return out;
  }
  const auto& where = *item.where;
  const auto lang = language_of(where.file);
  const auto choice = detect_framework(repo, lang);
  if (choice.framework == test_framework::none) {
    out.notes.push_back("no regression test: " + choice.reason);
    return out;
  }
  out.framework = choice.framework;
  std::string function = where.symbol;
  if (const auto c = function.rfind("::"); c != std::string::npos) function = function.substr(c + 2);
  if (const auto c = function.rfind('.'); c != std::string::npos) function = function.substr(c + 1);
  auto is_identifier = [](std::string_view id) {
    return !id.empty() && !std::isdigit(static_cast<unsigned char>(id.front())) &&
           std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; });
  };
  if (!is_identifier(function)) {
    out.notes.push_back("no regression test: '" + detail::one_line(function) + "' is not an identifier a test can import");
    return out;
  }
  std::optional<std::string> call;
  std::string call_file;  // C++: the test whose includes the new test copies
  if (lang == source_language::cpp) {
    if (auto c = detail::find_cpp_call(repo, function)) {
      call = std::move(c->call);
      call_file = std::move(c->file);
    }
  } else {
    call = find_representative_call(repo, function, lang);
  }
  if (!call) {
    out.notes.push_back("no regression test: no call of " + function + " with a representative input was found in the " +
                        std::string(to_string(choice.framework)) + " tests");
    return out;
  }
  const bool latency = item.type == "performance" || item.type == "slo";
  const bool error = item.type == "error";
  std::optional<latency_budget> budget;
  if (latency) {
    budget = budget_from(ev);
    if (!budget) {
      out.notes.push_back("no regression test: production showed no baseline latency for " + item.handler);
      return out;
    }
  } else if (!error) {
    out.notes.push_back("no regression test: a " + item.type + " anomaly has no latency budget or error to pin");
    return out;
  }
  const std::string ident = detail::sanitize_identifier(function);
  const std::string dir = detail::test_dir(repo, lang);
  const std::string header_what =
      detail::one_line(item.anomaly_id) + " (" + detail::one_line(item.type) + " of " + detail::one_line(item.handler) + ")";
  const std::string seen = error ? detail::one_line(ev.error_template.empty() ? (ev.error_samples.empty() ? item.root_cause : ev.error_samples.front())
                                                                              : ev.error_template)
                                 : std::string{};
  std::string t;
  if (lang == source_language::python) {
    std::string module = where.file.substr(0, where.file.size() - 3);
    std::replace(module.begin(), module.end(), '/', '.');
    for (std::size_t b = 0; b <= module.size();) {
      const auto e = std::min(module.find('.', b), module.size());
      if (!is_identifier(std::string_view(module).substr(b, e - b)) || module.find('$') != std::string::npos) {
        out.notes.push_back("no regression test: " + where.file + " is not importable as a Python module");
        out.framework = test_framework::none;
        return out;
      }
      b = e + 1;
    }
    out.path = (dir.empty() ? "" : dir + "/") + "test_selfheal_" + ident + ".py";
    const bool pytest_style = choice.framework == test_framework::pytest;
    t += "\"\"\"Regression test written by selfheal for " + header_what + ".\n\n";
    if (latency)
      t += "Production: p50 " + detail::fmt_ms(ev.baseline_p50_ms) + " ms before, " + detail::fmt_ms(ev.current_p50_ms) +
           " ms after the change.\nBudget: " + budget->derivation + ".\n";
    else
      t += "Production raised: " + seen + "\n";
    t += "\"\"\"\nimport os\nimport sys\n";
    if (latency) t += "import time\n";
    if (!pytest_style) t += "import unittest\n";
    t += "\nsys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), \"" + detail::up_to_root(dir) + "\")))\n\n";
    t += "from " + module + " import " + function + "  # noqa: E402\n\n";
    if (latency) t += "BUDGET_MS = " + detail::fmt_ms(budget->ms) + "\n\n";
    const std::string body_indent = pytest_style ? "    " : "        ";
    std::string body;
    if (latency) {
      body += body_indent + "samples = []\n";
      body += body_indent + "for _ in range(5):\n";
      body += body_indent + "    started = time.perf_counter()\n";
      body += body_indent + "    " + *call + "\n";
      body += body_indent + "    samples.append((time.perf_counter() - started) * 1000.0)\n";
      body += body_indent + "samples.sort()\n";
      body += body_indent + "median = samples[len(samples) // 2]\n";
      const std::string msg = "\"" + detail::one_line(item.handler) + " took %.3f ms (median of 5), budget %.3f ms\" % (median, BUDGET_MS)";
      body += pytest_style ? body_indent + "assert median <= BUDGET_MS, " + msg + "\n"
                           : body_indent + "self.assertLessEqual(median, BUDGET_MS, " + msg + ")\n";
    } else {
      body += body_indent + "try:\n" + body_indent + "    " + *call + "\n";
      body += body_indent + "except Exception as exc:  # production saw: " + seen + "\n";
      body += pytest_style ? body_indent + "    raise AssertionError(\"" + detail::one_line(item.handler) + " raised %r\" % (exc,))\n"
                           : body_indent + "    self.fail(\"" + detail::one_line(item.handler) + " raised %r\" % (exc,))\n";
    }
    const std::string test_name = "test_" + ident + (latency ? "_stays_within_latency_budget" : "_does_not_raise");
    if (pytest_style) {
      t += "\ndef " + test_name + "():\n" + body;
    } else {
      t += "\nclass SelfhealRegression" + detail::camel(function) + "(unittest.TestCase):\n";
      t += "    def " + test_name + "(self):\n" + body;
      t += "\n\nif __name__ == \"__main__\":\n    unittest.main()\n";
    }
  } else if (lang == source_language::javascript) {
    const std::string* src = repo.text(where.file);
    const bool esm = !src || src->find("export ") != std::string::npos || src->find("import ") != std::string::npos;
    out.path = (dir.empty() ? "" : dir + "/") + ident + ".selfheal.test.js";
    std::string rel = detail::relative_from(dir, where.file);
    t += "// Regression test written by selfheal for " + header_what + ".\n";
    if (latency)
      t += "// Production: p50 " + detail::fmt_ms(ev.baseline_p50_ms) + " ms before, " + detail::fmt_ms(ev.current_p50_ms) +
           " ms after the change. Budget: " + budget->derivation + ".\n";
    else
      t += "// Production raised: " + seen + "\n";
    if (choice.framework == test_framework::node_test) {
      t += esm ? "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n"
               : "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\n";
    } else if (choice.framework == test_framework::vitest) {
      t += "import { test, expect } from 'vitest';\n";
    }
    t += esm ? "import { " + function + " } from '" + rel + "';\n\n" : "const { " + function + " } = require('" + rel + "');\n\n";
    const std::string title = latency ? function + " stays within its latency budget (selfheal, " + detail::one_line(item.anomaly_id) + ")"
                                      : function + " does not raise the error production saw (selfheal, " + detail::one_line(item.anomaly_id) + ")";
    if (latency) t += "const BUDGET_MS = " + detail::fmt_ms(budget->ms) + ";\n\n";
    t += "test(\"" + detail::one_line(title) + "\", () => {\n";
    if (latency) {
      t += "  const samples = [];\n  for (let i = 0; i < 5; i++) {\n    const started = performance.now();\n";
      t += "    " + *call + ";\n    samples.push(performance.now() - started);\n  }\n";
      t += "  samples.sort((a, b) => a - b);\n  const median = samples[2];\n";
      if (choice.framework == test_framework::node_test)
        t += "  assert.ok(median <= BUDGET_MS, `" + detail::one_line(item.handler) +
             " took ${median.toFixed(3)} ms (median of 5), budget ${BUDGET_MS} ms`);\n";
      else
        t += "  expect(median).toBeLessThanOrEqual(BUDGET_MS);\n";
    } else {
      if (choice.framework == test_framework::node_test) t += "  assert.doesNotThrow(() => " + *call + ");\n";
      else t += "  expect(() => " + *call + ").not.toThrow();\n";
    }
    t += "});\n";
  } else if (lang == source_language::cpp) {
    // Built by the target that builds the test holding the call: a file its glob takes, or one
    // `target_sources` line appended to the CMakeLists that defines it.
    const auto site = cmake::find_target_of(repo.texts, call_file);
    if (!site) {
      out.notes.push_back("no regression test: no CMake target builds " + call_file + ", so a new test next to it would not run");
      out.framework = test_framework::none;
      return out;
    }
    out.path = detail::cpp_test_path(call_file, ident);
    const bool globbed = !site->glob.empty() && cmake::glob_matches(site->glob, out.path, site->recurse);
    if (!globbed) {
      const auto* cm = repo.text(site->cmake_file);
      if (site->target.empty() || !cm) {
        out.notes.push_back("no regression test: the target building " + call_file + " in " + site->cmake_file +
                            " is not named literally, so the new test cannot be added to it");
        out.framework = test_framework::none;
        out.path.clear();
        return out;
      }
      const auto cm_dir = cmake::dir_of(site->cmake_file);
      // target_sources takes paths relative to the CMakeLists' folder (CMake 3.13+).
      std::string rel = cm_dir.empty()                        ? out.path
                        : out.path.starts_with(cm_dir + "/") ? out.path.substr(cm_dir.size() + 1)
                                                              : detail::up_to_root(cm_dir) + "/" + out.path;
      if (rel.find_first_of(" ;()#\"$\\") != std::string::npos) rel = "\"" + detail::one_line(rel) + "\"";
      std::string after = *cm;
      if (!after.empty() && after.back() != '\n') after += '\n';
      after += "\n# Regression test written by selfheal for " + detail::one_line(item.anomaly_id) + ".\ntarget_sources(" + site->target +
               " PRIVATE " + rel + ")\n";
      out.registration.push_back({site->cmake_file, *cm, std::move(after)});
    }
    const auto* src = repo.text(call_file);
    auto [includes, usings] = detail::cpp_preamble(src ? std::string_view(*src) : std::string_view{});
    const bool catch2 = choice.framework == test_framework::catch2;
    t += "// Regression test written by selfheal for " + header_what + ".\n";
    if (latency)
      t += "// Production: p50 " + detail::fmt_ms(ev.baseline_p50_ms) + " ms before, " + detail::fmt_ms(ev.current_p50_ms) +
           " ms after the change.\n// Budget: " + budget->derivation + ".\n";
    else
      t += "// Production raised: " + seen + "\n";
    t += "// The includes are those of " + call_file + ", where the call below comes from.\n";
    for (const auto& inc : includes) t += inc + "\n";
    t += "\n#include <algorithm>\n#include <chrono>\n#include <memory>\n#include <type_traits>\n#include <vector>\n\n";
    for (const auto& u : usings) t += u + "\n";
    if (!usings.empty()) t += "\n";
    t += "namespace {\n\n"
         "// The result is kept where the optimizer cannot see it, so the call is not dropped.\n"
         "const void* volatile selfheal_sink = nullptr;\n"
         "template <class F>\n"
         "auto selfheal_call(F&& f, int) -> typename std::enable_if<!std::is_void<decltype(f())>::value>::type {\n"
         "  auto&& r = f();\n  selfheal_sink = std::addressof(r);\n}\n"
         "template <class F>\nvoid selfheal_call(F&& f, long) {\n  f();\n}\n\n}  // namespace\n\n";
    const std::string lambda = "[&] { return " + *call + "; }";
    const std::string title = latency ? "selfheal: " + function + " stays within its latency budget (" + detail::one_line(item.anomaly_id) + ")"
                                      : "selfheal: " + function + " does not throw the error production saw (" + detail::one_line(item.anomaly_id) + ")";
    if (catch2) t += "TEST_CASE(\"" + detail::one_line(title) + "\", \"[selfheal]\") {\n";
    else t += "TEST(SelfhealRegression, " + detail::camel(function) + (latency ? "StaysWithinLatencyBudget" : "DoesNotThrow") + ") {\n";
    if (latency) {
      t += "  const double budget_ms = " + detail::fmt_ms(budget->ms) + ";\n";
      t += "  std::vector<double> samples;\n  for (int i = 0; i < 5; ++i) {\n";
      t += "    const auto started = std::chrono::steady_clock::now();\n";
      t += "    selfheal_call(" + lambda + ", 0);\n";
      t += "    samples.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());\n  }\n";
      t += "  std::sort(samples.begin(), samples.end());\n  const double median = samples[2];\n";
      const std::string msg = "\"" + detail::one_line(item.handler) + " took \" << median << \" ms (median of 5), budget \" << budget_ms << \" ms\"";
      if (catch2) t += "  INFO(" + msg + ");\n  REQUIRE(median <= budget_ms);\n";
      else t += "  EXPECT_LE(median, budget_ms) << " + msg + ";\n";
    } else {
      if (catch2) t += "  REQUIRE_NOTHROW(selfheal_call(" + lambda + ", 0));\n";
      else t += "  EXPECT_NO_THROW(selfheal_call(" + lambda + ", 0));\n";
    }
    t += "}\n";
  } else {
    out.notes.push_back("no regression test: " + choice.reason);
    out.framework = test_framework::none;
    return out;
  }
  out.text = std::move(t);
  return out;
}

/// The runbook entry: `docs/runbook/<handler>.md`, or the folder where the repository keeps its
/// runbooks (`runbooks/`, `docs/runbooks/`, ...). An existing file gets a new section appended.
struct runbook_entry {
  std::string path;
  std::optional<std::string> before;
  std::string after;
};

[[nodiscard]] inline runbook_entry make_runbook(const diagnosis::diagnosis_item& item, const evidence& ev, const repo_view& repo,
                                                const code_change& change, const regression_test& test) {
  std::string dir = "docs/runbook";
  for (const auto& f : repo.files) {
    for (std::string_view cand : {"docs/runbooks/", "runbooks/", "runbook/", "doc/runbook/", "doc/runbooks/", "docs/runbook/"}) {
      if (f.path.starts_with(cand) && f.path.ends_with(".md")) { dir = std::string(cand.substr(0, cand.size() - 1)); break; }
    }
  }
  std::string name = item.handler.empty() ? (item.sequence.empty() ? "anomaly" : item.sequence) : item.handler;
  std::string safe;
  for (char c : name) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '-';
  while (!safe.empty() && safe.front() == '-') safe.erase(safe.begin());
  if (safe.empty()) safe = "anomaly";
  runbook_entry out;
  out.path = dir + "/" + safe + ".md";
  const std::string* existing = repo.text(out.path);
  if (existing) out.before = *existing;
  auto md = [](std::string_view s) { return detail::one_line(s, 400); };
  std::string e;
  if (!existing) e += "# Runbook: " + md(name) + "\n\nEntries written by selfheal, newest last.\n";
  else if (!existing->empty() && existing->back() != '\n') e += "\n";
  e += "\n## " + md(item.anomaly_id) + ": " + md(item.type) + " of " + md(name) + "\n\n";
  e += "### Symptom\n\n";
  if (item.type == "performance" || item.type == "slo")
    e += "Latency of " + md(name) + " rose from p50 " + detail::fmt_ms(ev.baseline_p50_ms) + " ms / p95 " +
         detail::fmt_ms(ev.baseline_p95_ms) + " ms to p50 " + detail::fmt_ms(ev.current_p50_ms) + " ms / p95 " +
         detail::fmt_ms(ev.current_p95_ms) + " ms.\n";
  else if (item.type == "error")
    e += md(name) + " raised errors in production (" + std::to_string(ev.error_count) + " seen): `" +
         md(ev.error_template.empty() ? item.root_cause : ev.error_template) + "`.\n";
  else
    e += md(item.root_cause) + "\n";
  e += "\n### Evidence\n\n";
  for (const auto& line : item.evidence) e += "- " + md(line) + "\n";
  if (item.evidence.empty()) e += "- see diagnosis of " + md(item.anomaly_id) + "\n";
  e += "\n### Cause\n\n" + md(item.root_cause) + "\n";
  if (item.where) e += "\nCode: `" + md(item.where->file) + ":" + std::to_string(item.where->line) + "` (" + md(item.where->symbol) + ").\n";
  if (!change.suspect_commit.empty()) {
    std::string summary;
    for (const auto& s : item.suspects)
      if (s.commit == change.suspect_commit) summary = s.summary;
    e += "Suspect commit: `" + change.suspect_commit.substr(0, 12) + "`" + (summary.empty() ? "" : " (" + md(summary) + ")") + ".\n";
  }
  e += "\n### Fix\n\n`" + change.strategy + "`: " + md(change.description) + ".\n";
  for (const auto& ed : change.edits) e += "- `" + md(ed.path) + "`\n";
  e += "\n### How to verify\n\n";
  if (!test.path.empty())
    e += "- Run the regression test `" + test.path + "` (" + std::string(to_string(test.framework)) + ")" +
         (item.type == "error" ? ": the call must not raise.\n" : ": it fails on the slow code and passes on the fix.\n");
  else
    e += "- No regression test was generated; check by hand.\n";
  e += "- `selfheal validate --fix <this fix>` applies the patch in an isolated checkout and runs the build, tests and "
       "performance checks.\n";
  if (item.type == "performance" || item.type == "slo")
    e += "- After the deploy, `" + md(name) + ".p50_ms` should return near " + detail::fmt_ms(ev.baseline_p50_ms) + " ms.\n";
  else if (item.type == "error")
    e += "- After the deploy, `" + md(name) + ".error_rate` should return to its baseline.\n";
  out.after = (existing ? *existing : std::string{}) + e;
  return out;
}

}  // namespace selfheal::fix
