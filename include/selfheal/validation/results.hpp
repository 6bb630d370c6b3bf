#pragma once
/// \file
/// Test results from what a test command leaves behind: a JUnit XML file (read with expat), else
/// the runner's own summary lines, else its exit code.
///
/// Runners recognised from their output (standard output and standard error together):
/// | format | what is read |
/// |---|---|
/// | `junit` | `<testcase classname name>` with `<failure>`/`<error>` (message), `<skipped>` |
/// | `unittest` | `FAIL: name (module.Class.name)` / `ERROR: …` headers, the traceback's last line, `Ran N tests`, `FAILED (failures=…, errors=…, skipped=…)` / `OK (skipped=…)` |
/// | `pytest` | `FAILED path::test - message` / `ERROR …` lines, the `== 1 failed, 3 passed in 0.1s ==` summary |
/// | `ctest` | `1/4 Test #1: name ....   Passed` lines and `N% tests passed, F tests failed out of T` |
/// | `node` | `node --test`'s spec reporter: `✖ name`, `ℹ pass N`, `ℹ fail N` (its TAP output is `tap`) |
/// | `tap` | `ok N - name` / `not ok N - name` (`# SKIP`, `# TODO`), leaf test points only (nested subtests, as `node --test` prints them, count once), the YAML `message:` |
/// | `exit_code` | nothing recognised: the exit status is the only result (one pseudo test named after the command) |
///
/// Everything here is pure: text in, `parsed_tests` out.
///
/// ```cpp
/// auto r = selfheal::validation::parse_test_output(out.out + out.err);
/// if (r) for (auto& c : r->cases) if (c.status == test_status::failed) std::puts(c.name.c_str());
/// ```

#include <expat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "selfheal/core/result.hpp"

namespace selfheal::validation {

enum class test_status : unsigned char { passed, failed, skipped };

[[nodiscard]] constexpr std::string_view to_string(test_status s) noexcept {
  return s == test_status::passed ? "passed" : s == test_status::failed ? "failed" : "skipped";
}

/// One test as the runner named it.
struct test_case {
  std::string name;
  test_status status = test_status::passed;
  std::string message;  ///< why it failed (first line of the assertion), empty otherwise
};

/// What one run of a test command reported.
struct parsed_tests {
  std::string format;             ///< junit | unittest | pytest | ctest | node | tap | exit_code
  std::vector<test_case> cases;   ///< named tests (passing ones only when the runner names them)
  std::size_t passed = 0, failed = 0, skipped = 0;  ///< counts (from the summary when there is one)
  /// Whether `cases` names every failed test (false for `exit_code`).
  [[nodiscard]] bool names_failures() const noexcept { return format != "exit_code"; }
};

namespace detail {

inline std::string_view trim_view(std::string_view s) noexcept {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t p = 0;
  while (p < text.size()) {
    std::size_t n = text.find('\n', p);
    if (n == std::string_view::npos) n = text.size();
    std::string_view line = text.substr(p, n - p);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    p = n + 1;
  }
  return lines;
}

/// Reads a non-negative integer at the start of `s` (after blanks); advances `s` past it.
inline std::optional<std::size_t> read_count(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  std::size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p == s.data()) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  return v;
}

/// The value of `key=N` inside `s` ("failures=2"), or 0.
inline std::size_t keyed_count(std::string_view s, std::string_view key) {
  const std::string k = std::string(key) + "=";
  const auto at = s.find(k);
  if (at == std::string_view::npos) return 0;
  std::string_view rest = s.substr(at + k.size());
  return read_count(rest).value_or(0);
}

inline void count_cases(parsed_tests& r) {
  r.passed = r.failed = r.skipped = 0;
  for (const auto& c : r.cases) {
    if (c.status == test_status::passed) ++r.passed;
    else if (c.status == test_status::failed) ++r.failed;
    else ++r.skipped;
  }
}

inline std::string first_line(std::string_view s, std::size_t max = 300) {
  s = trim_view(s);
  const auto nl = s.find('\n');
  if (nl != std::string_view::npos) s = s.substr(0, nl);
  s = trim_view(s);
  return std::string(s.substr(0, max));
}

}  // namespace detail

// ---- JUnit XML ---------------------------------------------------------------------------------

namespace detail {
struct junit_state {
  parsed_tests* out = nullptr;
  int depth_in_case = 0;       ///< > 0 inside a <testcase>
  bool in_problem = false;     ///< inside <failure>/<error>
  std::string text;            ///< text of the current <failure>/<error>
  bool message_from_attr = false;
};

inline const char* attr(const XML_Char** atts, std::string_view name) {
  for (int i = 0; atts[i] != nullptr; i += 2)
    if (name == atts[i]) return atts[i + 1];
  return nullptr;
}

inline void XMLCALL junit_start(void* data, const XML_Char* el, const XML_Char** atts) {
  auto& st = *static_cast<junit_state*>(data);
  const std::string_view name(el);
  if (name == "testcase") {
    test_case c;
    const char* cls = attr(atts, "classname");
    const char* n = attr(atts, "name");
    if (cls != nullptr && *cls != '\0') c.name = std::string(cls) + ".";
    c.name += n != nullptr ? n : "(unnamed)";
    st.out->cases.push_back(std::move(c));
    st.depth_in_case = 1;
    return;
  }
  if (st.depth_in_case == 0) return;
  ++st.depth_in_case;
  auto& c = st.out->cases.back();
  if (name == "failure" || name == "error") {
    c.status = test_status::failed;
    st.in_problem = true;
    st.text.clear();
    const char* msg = attr(atts, "message");
    st.message_from_attr = msg != nullptr && *msg != '\0';
    if (st.message_from_attr && c.message.empty()) c.message = first_line(msg);
  } else if (name == "skipped") {
    if (c.status != test_status::failed) c.status = test_status::skipped;
    const char* msg = attr(atts, "message");
    if (msg != nullptr && c.message.empty()) c.message = first_line(msg);
  }
}

inline void XMLCALL junit_end(void* data, const XML_Char* el) {
  auto& st = *static_cast<junit_state*>(data);
  if (st.depth_in_case == 0) return;
  const std::string_view name(el);
  if ((name == "failure" || name == "error") && st.in_problem) {
    auto& c = st.out->cases.back();
    if (!st.message_from_attr && c.message.empty()) c.message = first_line(st.text);
    st.in_problem = false;
  }
  --st.depth_in_case;
}

inline void XMLCALL junit_text(void* data, const XML_Char* s, int len) {
  auto& st = *static_cast<junit_state*>(data);
  if (st.in_problem && st.text.size() < 4096) st.text.append(s, static_cast<std::size_t>(len));
}
}  // namespace detail

/// Parses a JUnit XML document (`<testsuites>` or a single `<testsuite>`). Malformed XML is an
/// `errc::parse_error` naming the line.
[[nodiscard]] inline result<parsed_tests> parse_junit(std::string_view xml, std::string_view source = "junit") {
  parsed_tests r;
  r.format = "junit";
  detail::junit_state st;
  st.out = &r;
  XML_Parser p = XML_ParserCreate(nullptr);
  if (p == nullptr) return fail(errc::failed, "cannot create an XML parser");
  XML_SetUserData(p, &st);
  XML_SetElementHandler(p, detail::junit_start, detail::junit_end);
  XML_SetCharacterDataHandler(p, detail::junit_text);
  const bool ok = XML_Parse(p, xml.data(), static_cast<int>(xml.size()), XML_TRUE) != XML_STATUS_ERROR;
  std::string why;
  if (!ok)
    why = std::string(source) + ":" + std::to_string(XML_GetCurrentLineNumber(p)) + ": " +
          XML_ErrorString(XML_GetErrorCode(p));
  XML_ParserFree(p);
  if (!ok) return fail(errc::parse_error, why);
  detail::count_cases(r);
  return r;
}

// ---- runner summaries --------------------------------------------------------------------------

/// Python unittest (default verbosity or -v). nullopt when the output is not unittest's.
[[nodiscard]] inline std::optional<parsed_tests> parse_unittest(std::string_view text) {
  const auto lines = detail::split_lines(text);
  parsed_tests r;
  r.format = "unittest";
  bool ran = false;
  std::size_t total = 0, failures = 0, errors = 0, skipped = 0, unexpected = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (l.starts_with("Ran ") && l.find(" test") != std::string_view::npos) {
      std::string_view rest = l.substr(4);
      if (auto n = detail::read_count(rest)) { total = *n; ran = true; }
    } else if (l.starts_with("FAILED (") || l.starts_with("OK")) {
      failures = detail::keyed_count(l, "failures");
      errors = detail::keyed_count(l, "errors");
      skipped = detail::keyed_count(l, "skipped");
      unexpected = detail::keyed_count(l, "unexpected successes");
    } else if (l.starts_with("FAIL: ") || l.starts_with("ERROR: ")) {
      // "FAIL: test_x (pkg.mod.Class.test_x)" or, before 3.11, "FAIL: test_x (pkg.mod.Class)"
      std::string_view head = l.substr(l.find(' ') + 1);
      std::string name(detail::trim_view(head));
      const auto open = head.find(" (");
      if (open != std::string_view::npos && head.back() == ')') {
        const std::string_view method = head.substr(0, open);
        std::string_view where = head.substr(open + 2, head.size() - open - 3);
        if (where.ends_with("." + std::string(method))) name = std::string(where);
        else name = std::string(where) + "." + std::string(method);
      }
      // The message: the last non-blank line of the traceback block (before the next ===/--- rule).
      std::string message;
      for (std::size_t j = i + 1; j < lines.size(); ++j) {
        const std::string_view t = lines[j];
        if (t.starts_with("======") || (t.starts_with("------") && j > i + 1)) break;
        if (!detail::trim_view(t).empty() && !t.starts_with("------")) message = std::string(detail::trim_view(t));
      }
      r.cases.push_back({std::move(name), test_status::failed, message.substr(0, 300)});
    }
  }
  if (!ran) return std::nullopt;
  (void)unexpected;
  r.failed = std::max(failures + errors, r.cases.size());
  r.skipped = skipped;
  r.passed = total >= r.failed + r.skipped ? total - r.failed - r.skipped : 0;
  return r;
}

/// pytest's short summary ("FAILED path::name - message") and final line. nullopt when absent.
[[nodiscard]] inline std::optional<parsed_tests> parse_pytest(std::string_view text) {
  const auto lines = detail::split_lines(text);
  parsed_tests r;
  r.format = "pytest";
  bool summary = false;
  for (std::string_view l : lines) {
    if (l.starts_with("FAILED ") || l.starts_with("ERROR ")) {
      std::string_view rest = l.substr(l.find(' ') + 1);
      std::string message;
      if (const auto dash = rest.find(" - "); dash != std::string_view::npos) {
        message = detail::first_line(rest.substr(dash + 3));
        rest = rest.substr(0, dash);
      }
      if (rest.find("::") == std::string_view::npos && !rest.ends_with(".py")) continue;
      r.cases.push_back({std::string(detail::trim_view(rest)), test_status::failed, std::move(message)});
      continue;
    }
    // "===== 1 failed, 3 passed, 1 skipped in 0.12s =====" or, with -q, "1 failed, 3 passed in 0.12s"
    std::string_view t = detail::trim_view(l);
    while (t.starts_with("=")) t.remove_prefix(1);
    while (t.ends_with("=")) t.remove_suffix(1);
    t = detail::trim_view(t);
    const auto in = t.rfind(" in ");
    if (in == std::string_view::npos || !(t.ends_with("s") || t.ends_with(")"))) continue;
    std::string_view counts = t.substr(0, in);
    std::size_t passed = 0, failed = 0, skipped = 0;
    bool any = false, bad = false;
    while (!counts.empty()) {
      auto n = detail::read_count(counts);
      if (!n) { bad = true; break; }
      while (!counts.empty() && counts.front() == ' ') counts.remove_prefix(1);
      const auto comma = counts.find(',');
      std::string_view word = counts.substr(0, comma);
      counts = comma == std::string_view::npos ? std::string_view{} : counts.substr(comma + 1);
      if (word == "passed" || word == "xpassed") passed += *n;
      else if (word == "failed" || word == "error" || word == "errors") failed += *n;
      else if (word == "skipped" || word == "xfailed" || word == "deselected") skipped += *n;
      else if (word == "warning" || word == "warnings" || word == "rerun") {}
      else { bad = true; break; }
      any = true;
    }
    if (bad || !any) continue;
    summary = true;
    r.passed = passed;
    r.failed = failed;
    r.skipped = skipped;
  }
  if (!summary) return std::nullopt;
  r.failed = std::max(r.failed, r.cases.size());
  return r;
}

/// CTest's per-test lines and summary. nullopt when absent.
[[nodiscard]] inline std::optional<parsed_tests> parse_ctest(std::string_view text) {
  const auto lines = detail::split_lines(text);
  parsed_tests r;
  r.format = "ctest";
  bool summary = false;
  std::size_t total = 0, failed_total = 0;
  for (std::string_view l : lines) {
    // "1/4 Test #1: name ...................   Passed    0.01 sec"
    const auto test = l.find("Test #");
    const auto colon = test == std::string_view::npos ? test : l.find(": ", test);
    if (colon != std::string_view::npos) {
      std::string_view rest = l.substr(colon + 2);
      const auto sp = rest.find(' ');
      if (sp != std::string_view::npos) {
        const std::string name(rest.substr(0, sp));
        std::string_view tail = rest.substr(sp);
        while (!tail.empty() && (tail.front() == ' ' || tail.front() == '.')) tail.remove_prefix(1);
        std::optional<test_status> st;
        std::string message;
        if (tail.starts_with("Passed")) st = test_status::passed;
        else if (tail.starts_with("***Skipped") || tail.starts_with("***Not Run") || tail.starts_with("Not Run"))
          st = test_status::skipped;
        else if (tail.starts_with("***")) {
          st = test_status::failed;
          std::string_view what = tail.substr(3);
          what = what.substr(0, what.find("  "));
          message = std::string(detail::trim_view(what));
        }
        if (st) r.cases.push_back({name, *st, message});
      }
      continue;
    }
    // "75% tests passed, 1 tests failed out of 4"
    const auto at = l.find("tests passed, ");
    if (at != std::string_view::npos && l.find(" out of ") != std::string_view::npos) {
      std::string_view rest = l.substr(at + 14);
      if (auto f = detail::read_count(rest)) failed_total = *f;
      std::string_view tot = l.substr(l.find(" out of ") + 8);
      if (auto t = detail::read_count(tot)) total = *t;
      summary = true;
    }
  }
  if (!summary && r.cases.empty()) return std::nullopt;
  detail::count_cases(r);
  if (summary && r.cases.empty()) {
    r.failed = failed_total;
    r.passed = total - std::min(total, failed_total);
  }
  return r;
}

/// `node --test`'s spec reporter ("✖ name", "ℹ pass 3"). nullopt when absent.
[[nodiscard]] inline std::optional<parsed_tests> parse_node_spec(std::string_view text) {
  const auto lines = detail::split_lines(text);
  parsed_tests r;
  r.format = "node";
  bool summary = false, in_failures = false;
  constexpr std::string_view info = "\xE2\x84\xB9 ";    // ℹ
  constexpr std::string_view cross = "\xE2\x9C\x96 ";   // ✖
  for (std::string_view raw : lines) {
    std::string_view l = detail::trim_view(raw);
    if (l.starts_with(info)) {
      std::string_view rest = l.substr(info.size());
      auto take = [&](std::string_view key, std::size_t& into) {
        if (!rest.starts_with(key)) return;
        std::string_view n = rest.substr(key.size());
        if (auto v = detail::read_count(n)) { into = *v; summary = true; }
      };
      take("pass ", r.passed);
      take("fail ", r.failed);
      take("skipped ", r.skipped);
      continue;
    }
    if (l.starts_with(cross)) {
      std::string_view name = l.substr(cross.size());
      if (name.starts_with("failing tests")) { in_failures = true; continue; }
      if (in_failures) continue;  // the recap repeats the failures
      if (const auto paren = name.rfind(" ("); paren != std::string_view::npos) name = name.substr(0, paren);
      r.cases.push_back({std::string(name), test_status::failed, {}});
    }
  }
  if (!summary) return std::nullopt;
  return r;
}

/// TAP (version 13/14 and node --test's nested subtests): leaf test points only.
[[nodiscard]] inline std::optional<parsed_tests> parse_tap(std::string_view text) {
  const auto lines = detail::split_lines(text);
  parsed_tests r;
  r.format = "tap";
  std::vector<bool> child;  // child[level]: a deeper test point came since the last at <= level
  bool any = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view raw = lines[i];
    std::size_t indent = 0;
    while (indent < raw.size() && raw[indent] == ' ') ++indent;
    std::string_view l = raw.substr(indent);
    bool ok = false;
    if (l.starts_with("ok ")) ok = true;
    else if (!l.starts_with("not ok ")) continue;
    std::string_view rest = l.substr(ok ? 3 : 7);
    if (!detail::read_count(rest)) continue;  // "ok 1 - name": the number is required here
    any = true;
    const std::size_t level = indent / 2;
    if (child.size() <= level) child.resize(level + 1, false);
    const bool leaf = !child[level];
    for (std::size_t k = 0; k < level; ++k) child[k] = true;
    for (std::size_t k = level; k < child.size(); ++k) child[k] = false;
    if (!leaf) continue;
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '-')) rest.remove_prefix(1);
    std::string_view name = rest;
    std::string_view directive;
    if (const auto hash = rest.find(" # "); hash != std::string_view::npos) {
      name = rest.substr(0, hash);
      directive = detail::trim_view(rest.substr(hash + 3));
    }
    test_case c{std::string(detail::trim_view(name)), ok ? test_status::passed : test_status::failed, {}};
    auto upper_starts = [](std::string_view d, std::string_view w) {
      if (d.size() < w.size()) return false;
      for (std::size_t k = 0; k < w.size(); ++k)
        if (std::toupper(static_cast<unsigned char>(d[k])) != w[k]) return false;
      return true;
    };
    if (upper_starts(directive, "SKIP")) c.status = test_status::skipped;
    else if (upper_starts(directive, "TODO") && !ok) c.status = test_status::skipped;
    if (c.status == test_status::failed) {
      // A YAML block may follow: "  ---", "  message: ...", "  ...".
      for (std::size_t j = i + 1; j < lines.size() && j < i + 40; ++j) {
        const std::string_view y = detail::trim_view(lines[j]);
        if (y == "..." ) break;
        if (y.starts_with("ok ") || y.starts_with("not ok ")) break;
        for (std::string_view key : {std::string_view("message:"), std::string_view("error:")}) {
          if (y.starts_with(key) && c.message.empty()) {
            std::string_view v = detail::trim_view(y.substr(key.size()));
            if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
              v = v.substr(1, v.size() - 2);
            if (v != "|-" && v != "|" && v != ">-") c.message = detail::first_line(v);
            else if (j + 1 < lines.size()) c.message = detail::first_line(lines[j + 1]);
          }
        }
      }
    }
    r.cases.push_back(std::move(c));
  }
  if (!any) return std::nullopt;
  detail::count_cases(r);
  return r;
}

/// The exit code as the only result: one pseudo test named `what`.
[[nodiscard]] inline parsed_tests exit_code_result(int exit_code, std::string_view what, std::string_view output) {
  parsed_tests r;
  r.format = "exit_code";
  test_case c{std::string(what), exit_code == 0 ? test_status::passed : test_status::failed, {}};
  if (exit_code != 0) {
    // the last non-blank output line says most
    const auto lines = detail::split_lines(output);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
      if (!detail::trim_view(*it).empty()) { c.message = detail::first_line(*it); break; }
    if (c.message.empty()) c.message = "exit status " + std::to_string(exit_code);
  }
  r.cases.push_back(std::move(c));
  detail::count_cases(r);
  return r;
}

/// The runner's own summary lines, tried in a fixed order (pytest, unittest, ctest, node spec, TAP);
/// nullopt when none is recognised.
[[nodiscard]] inline std::optional<parsed_tests> parse_test_output(std::string_view text) {
  if (auto r = parse_pytest(text)) return r;
  if (auto r = parse_unittest(text)) return r;
  if (auto r = parse_ctest(text)) return r;
  if (auto r = parse_node_spec(text)) return r;
  if (auto r = parse_tap(text)) return r;
  return std::nullopt;
}

/// The names of the failed tests of `r`.
[[nodiscard]] inline std::vector<std::string> failed_names(const parsed_tests& r) {
  std::vector<std::string> v;
  for (const auto& c : r.cases)
    if (c.status == test_status::failed) v.push_back(c.name);
  return v;
}

}  // namespace selfheal::validation
