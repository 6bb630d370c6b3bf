#pragma once
/// \file
/// Symbols of the monitored repository with file and line range, and handler-name matching.
///
/// - `index_symbols(root, files)` runs Universal Ctags as a child process
///   (`ctags --options=NONE --output-format=json --fields=+ne -L - -f -`, argv + time limit) on the
///   given files, each listed as `./name` so that no file name is read as an option; names ctags
///   cannot take verbatim go to the built-in scanner, and files `repository_files` refuses (a
///   symlink out of the repository) to neither. ctags 5.9 gives no `end` for JavaScript/TypeScript
///   (and none for a few other kinds): those end lines come from the brace scanner here
///   (`block_end`). When ctags is missing or fails, the built-in fallback scanner (`scan_symbols`)
///   indexes C, C++, JavaScript/TypeScript, Python (indentation), Go and Java.
/// - `match_handler(index, "applyDiscount")` finds the definition of a logged handler name across
///   naming styles (`applyDiscount`, `apply_discount`, `ApplyDiscount`, `Cart::applyDiscount`,
///   `Cart.applyDiscount`) and reports ambiguity instead of guessing (see `match_result`). With the
///   name index (`index_names`), a lookup reads only the symbols of that name.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <simdjson.h>

#include "selfheal/core/process.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/source/languages.hpp"
#include "selfheal/source/model.hpp"
#include "selfheal/source/paths.hpp"

namespace selfheal::source {

// ---------------------------------------------------------------------------------------------
// The scanner: comments and strings blanked, then braces or indentation give the end line
// ---------------------------------------------------------------------------------------------

namespace detail {

/// Split text into lines (without the newline); views into `text`.
[[nodiscard]] inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(start, nl - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    start = nl + 1;
  }
  return lines;
}

/// The source with comments and the contents of string/char literals replaced by spaces (quotes
/// kept), so that braces and keywords can be found by plain scanning. Newlines are preserved.
[[nodiscard]] inline std::string blank_comments_and_strings(std::string_view src, std::string_view language) {
  std::string out(src);
  const bool python = language == "Python";
  const bool backtick = language == "JavaScript" || language == "TypeScript" || language == "Go";
  enum { code, line_comment, block_comment, str } state = code;
  char quote = 0;
  std::size_t i = 0;
  while (i < out.size()) {
    const char c = out[i];
    const char n = i + 1 < out.size() ? out[i + 1] : '\0';
    switch (state) {
      case code:
        if (!python && c == '/' && n == '/') { state = line_comment; out[i] = out[i + 1] = ' '; i += 2; continue; }
        if (!python && c == '/' && n == '*') { state = block_comment; out[i] = out[i + 1] = ' '; i += 2; continue; }
        if (python && c == '#') { state = line_comment; out[i] = ' '; ++i; continue; }
        if (c == '"' || c == '\'' || (backtick && c == '`')) { state = str; quote = c; ++i; continue; }
        ++i;
        continue;
      case line_comment:
        if (c == '\n') state = code; else out[i] = ' ';
        ++i;
        continue;
      case block_comment:
        if (c == '*' && n == '/') { out[i] = out[i + 1] = ' '; i += 2; state = code; continue; }
        if (c != '\n') out[i] = ' ';
        ++i;
        continue;
      case str:
        if (c == '\\' && quote != '`') {
          out[i] = ' ';
          if (i + 1 < out.size() && out[i + 1] != '\n') out[i + 1] = ' ';
          i += 2;
          continue;
        }
        if (c == quote) { state = code; ++i; continue; }
        if (c == '\n' && quote != '`' && !python) { state = code; ++i; continue; }  // unterminated
        if (c == '\n' && python) { state = code; ++i; continue; }
        if (c != '\n') out[i] = ' ';
        ++i;
        continue;
    }
  }
  return out;
}

[[nodiscard]] inline std::size_t indentation(std::string_view line) {
  std::size_t n = 0;
  for (char c : line) {
    if (c == ' ') ++n;
    else if (c == '\t') n += 8 - (n % 8);
    else break;
  }
  return n;
}

[[nodiscard]] inline bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace detail

/// The last line (1-based) of the block that starts at `line` in `clean_lines` (comments and strings
/// already blanked). Brace languages: the line of the `}` matching the first `{` at or after `line`,
/// or the line of a `;` met before any `{` (a declaration, an arrow function with an expression
/// body). Python: the last non-blank line indented deeper than `line`. Returns `line` when unsure.
[[nodiscard]] inline std::uint32_t block_end(const std::vector<std::string_view>& clean_lines, std::uint32_t line,
                                             std::string_view language) {
  if (line == 0 || line > clean_lines.size()) return line;
  if (language == "Python") {
    const std::size_t base = detail::indentation(clean_lines[line - 1]);
    // A def's header may span lines until the ':'; skip continuation by paren depth.
    int paren = 0;
    std::size_t i = line - 1;
    for (; i < clean_lines.size(); ++i) {
      for (char c : clean_lines[i]) {
        if (c == '(' || c == '[') ++paren;
        else if (c == ')' || c == ']') --paren;
      }
      if (paren <= 0) break;
    }
    auto last = static_cast<std::uint32_t>(i + 1);
    for (std::size_t j = i + 1; j < clean_lines.size(); ++j) {
      if (detail::blank(clean_lines[j])) continue;
      if (detail::indentation(clean_lines[j]) <= base) break;
      last = static_cast<std::uint32_t>(j + 1);
    }
    return last;
  }
  int depth = 0;
  bool opened = false;
  int paren = 0;
  for (std::size_t i = line - 1; i < clean_lines.size(); ++i) {
    for (char c : clean_lines[i]) {
      if (c == '(') ++paren;
      else if (c == ')') --paren;
      else if (c == '{') { ++depth; opened = true; }
      else if (c == '}') {
        --depth;
        if (opened && depth == 0) return static_cast<std::uint32_t>(i + 1);
        if (depth < 0) return static_cast<std::uint32_t>(i + 1);
      } else if (c == ';' && !opened && paren <= 0) {
        return static_cast<std::uint32_t>(i + 1);
      }
    }
  }
  return opened ? static_cast<std::uint32_t>(clean_lines.size()) : line;
}

namespace detail {

inline bool is_control_keyword(std::string_view w) {
  static constexpr std::string_view kw[] = {"if", "for", "while", "switch", "catch", "return", "sizeof", "else",
                                            "do", "new", "typeof", "await", "function", "elif", "with",
                                            "foreach", "synchronized", "try", "throw", "case", "delete", "yield",
                                            "decltype", "alignof", "static_assert", "defined", "constructor"};
  return std::find(std::begin(kw), std::end(kw), w) != std::end(kw);
}

/// Scan one file's text. `file` is the repository-relative path put in each symbol.
inline void scan_file(std::string_view text, const std::string& file, const std::string& language,
                      std::vector<symbol>& out) {
  const std::string clean = blank_comments_and_strings(text, language);
  const auto lines = split_lines(clean);

  if (language == "Python") {
    static const std::regex def_re(R"(^(\s*)(async\s+)?def\s+([A-Za-z_]\w*)\s*\()");
    static const std::regex class_re(R"(^(\s*)class\s+([A-Za-z_]\w*))");
    std::vector<std::pair<std::size_t, std::string>> classes;  // (indent, name) stack
    std::vector<std::pair<std::size_t, std::uint32_t>> functions;  // (indent, end) stack
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string l(lines[i]);
      if (blank(l)) continue;
      const std::size_t ind = indentation(l);
      while (!classes.empty() && ind <= classes.back().first) classes.pop_back();
      while (!functions.empty() && (ind <= functions.back().first || i + 1 > functions.back().second))
        functions.pop_back();
      std::smatch m;
      const auto ln = static_cast<std::uint32_t>(i + 1);
      if (std::regex_search(l, m, class_re)) {
        symbol s{m[2].str(), classes.empty() ? "" : classes.back().second, "class", language, file, ln,
                 block_end(lines, ln, language), true};
        classes.emplace_back(ind, s.name);
        out.push_back(std::move(s));
      } else if (std::regex_search(l, m, def_re)) {
        const bool nested = !functions.empty();
        symbol s{m[3].str(), classes.empty() ? "" : classes.back().second,
                 classes.empty() ? "function" : "member", language, file, ln, block_end(lines, ln, language), true};
        functions.emplace_back(ind, s.end_line);
        if (!nested) out.push_back(std::move(s));
      }
    }
    return;
  }

  // Brace languages.
  static const std::regex go_func(R"(^func\s*(\(\s*\w*\s*\*?\s*([A-Za-z_]\w*)[^)]*\)\s*)?([A-Za-z_]\w*)\s*[\[(])");
  static const std::regex js_function(R"(^\s*(export\s+)?(default\s+)?(async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*[<(])");
  static const std::regex js_arrow(
      R"(^\s*(export\s+)?(const|let|var)\s+([A-Za-z_$][\w$]*)\s*(:[^=]*)?=\s*(async\s+)?(function\b|\([^)]*\)\s*(:[^=]*)?=>|[A-Za-z_$][\w$]*\s*=>|\(.*$))");
  static const std::regex class_re(
      R"(^\s*(export\s+)?(default\s+)?(public\s+|private\s+|protected\s+|static\s+|final\s+|abstract\s+)*(class|struct|interface)\s+([A-Za-z_]\w*)[^;]*$)");
  static const std::regex method_re(
      R"(^\s*((public|private|protected|static|async|get|set|readonly|override|final|abstract|synchronized|native|virtual|inline|constexpr|explicit)\s+)*([A-Za-z_$][\w$<>\[\],.?*&: ]*\s+)?([A-Za-z_~$][\w$]*(::[A-Za-z_~][\w]*)*)\s*\(([^;]*)$)");
  const bool js = language == "JavaScript" || language == "TypeScript";
  const bool go = language == "Go";

  struct range { std::uint32_t begin, end; std::string name; };
  std::vector<range> classes;
  std::uint32_t inside_function_until = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto ln = static_cast<std::uint32_t>(i + 1);
    if (ln <= inside_function_until) continue;
    const std::string l(lines[i]);
    if (blank(l)) continue;
    std::smatch m;
    std::string name, scope, kind;
    if (go) {
      if (std::regex_search(l, m, go_func)) {
        name = m[3].str();
        scope = m[2].str();
        kind = scope.empty() ? "func" : "method";
      }
    } else if (std::regex_search(l, m, class_re)) {
      const std::uint32_t end = block_end(lines, ln, language);
      if (end > ln || l.find('{') != std::string::npos) {
        std::string enclosing;
        for (const auto& c : classes)
          if (c.begin < ln && ln <= c.end) enclosing = c.name;
        classes.push_back({ln, end, m[5].str()});
        out.push_back(symbol{m[5].str(), enclosing, m[4].str(), language, file, ln, end, true});
      }
      continue;
    } else if (js && std::regex_search(l, m, js_function)) {
      name = m[4].str();
      kind = "function";
    } else if (js && std::regex_search(l, m, js_arrow)) {
      const std::string rhs = m[6].str();
      if (rhs.starts_with("(") && rhs.find("=>") == std::string::npos) {
        // `const f = (` spanning lines: accept only when an arrow follows soon.
        bool arrow = false;
        for (std::size_t k = i; k < lines.size() && k < i + 4; ++k)
          if (lines[k].find("=>") != std::string_view::npos) { arrow = true; break; }
        if (!arrow) continue;
      }
      name = m[3].str();
      kind = "function";
    } else if (std::regex_search(l, m, method_re)) {
      std::string full = m[4].str();
      const bool has_type = m[3].matched;
      const auto sep = full.rfind("::");
      if (sep != std::string::npos) { scope = full.substr(0, sep); name = full.substr(sep + 2); }
      else name = full;
      if (is_control_keyword(name)) continue;
      // C, C++ and Java definitions have a return type (or Scope::), JS/TS methods do not.
      if (!js && !has_type && sep == std::string::npos) continue;
      if (has_type) {
        const std::string t = m[3].str();
        if (t.find('=') != std::string::npos || t.find("return") != std::string::npos ||
            t.find("else") != std::string::npos || t.find("new ") != std::string::npos)
          continue;
      }
      // Must open a body before any ';'.
      bool body = false;
      for (std::size_t k = i; k < lines.size() && k < i + 6; ++k) {
        const auto s = lines[k];
        const auto brace = s.find('{');
        const auto semi = s.find(';');
        if (brace != std::string_view::npos && (semi == std::string_view::npos || brace < semi)) { body = true; break; }
        if (semi != std::string_view::npos) break;
      }
      if (!body) continue;
      kind = "function";
    } else {
      continue;
    }
    if (name.empty() || is_control_keyword(name)) continue;
    const std::uint32_t end = block_end(lines, ln, language);
    if (scope.empty()) {
      for (const auto& c : classes)
        if (c.begin < ln && ln <= c.end) { scope = c.name; kind = "method"; }
    }
    out.push_back(symbol{name, scope, kind, language, file, ln, end, true});
    inside_function_until = end;
  }
}

}  // namespace detail

/// The built-in scanner over `files` (repository-relative) under `root`; no child processes.
[[nodiscard]] inline symbol_index scan_symbols(const std::filesystem::path& root, const std::vector<std::string>& files) {
  symbol_index idx;
  idx.source = "fallback";
  const repository_files repo(root);
  for (const auto& f : files) {
    const std::string lang = language_of(f);
    if (lang.empty()) continue;
    if (const auto why = repo.refusal(f); !why.empty()) { idx.warnings.push_back(f + ": " + why + ", not read"); continue; }
    std::ifstream in(root / f, std::ios::binary);
    if (!in) { idx.warnings.push_back(f + ": cannot read"); continue; }
    std::stringstream ss;
    ss << in.rdbuf();
    detail::scan_file(ss.str(), f, lang, idx.symbols);
  }
  return idx;
}

struct ctags_options {
  std::string program = "ctags";
  std::chrono::milliseconds timeout{std::chrono::seconds{60}};
};

namespace detail {

inline bool callable_kind(std::string_view k) {
  return k == "function" || k == "method" || k == "member" || k == "func" || k == "prototype" ||
         k == "generator" || k == "getter" || k == "setter";
}

}  // namespace detail

/// Run Universal Ctags on `files` (repository-relative, under `root`) and parse its JSON lines.
/// End lines missing from ctags (JavaScript/TypeScript with 5.9) are computed by `block_end`.
/// Errors: `errc::io_error` when ctags cannot start, `errc::timeout`, `errc::process_failed`.
/// Malformed output lines are counted in `warnings` with their line number and skipped.
[[nodiscard]] inline result<symbol_index> run_ctags(const std::filesystem::path& root, const std::vector<std::string>& files,
                                                    const ctags_options& opts = {}) {
  // Every entry of the `-L` list starts with "./", so no file name can be read as an option
  // (ctags takes `-L` lines verbatim, options included); `--options=NONE` first, so ctags reads
  // no option files (not the repository's `.ctags.d/`, not the user's). Names ctags cannot take
  // or give back verbatim, and files refused by `repository_files`, never reach it.
  symbol_index idx;
  idx.source = "ctags";
  const repository_files repo(root);
  std::string list;
  std::unordered_set<std::string> given;
  std::vector<std::string> unnameable;
  for (const auto& f : files) {
    if (language_of(f).empty()) continue;
    if (const auto why = repo.refusal(f); !why.empty()) { idx.warnings.push_back(f + ": " + why + ", not read"); continue; }
    if (!ctags_can_name(f)) { unnameable.push_back(f); continue; }
    list += "./";
    list += f;
    list += '\n';
    given.insert(f);
  }
  if (!unnameable.empty()) {
    symbol_index scanned = scan_symbols(root, unnameable);
    idx.symbols = std::move(scanned.symbols);
    idx.warnings.push_back(std::to_string(unnameable.size()) +
                           " file name(s) ctags cannot take verbatim (control bytes, invalid UTF-8, trailing blank): "
                           "indexed by the built-in scanner");
  }
  if (list.empty()) return idx;
  process_options po;
  po.cwd = root;
  po.timeout = opts.timeout;
  po.stdin_data = std::move(list);
  const std::vector<std::string> argv{opts.program, "--options=NONE", "--output-format=json", "--fields=+ne",
                                      "--sort=no", "-L", "-", "-f", "-"};
  auto out = run_checked(argv, po);
  if (!out) return tl::unexpected(out.error());

  simdjson::dom::parser parser;
  const auto lines = detail::split_lines(out->out);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    simdjson::padded_string line(lines[i]);
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) {
      if (++bad <= 5) idx.warnings.push_back("ctags output line " + std::to_string(i + 1) + ": not JSON");
      continue;
    }
    std::string_view type, name, path, kind, scope, pattern;
    if (doc["_type"].get(type) != simdjson::SUCCESS || type != "tag") continue;
    if (doc["name"].get(name) != simdjson::SUCCESS || doc["path"].get(path) != simdjson::SUCCESS) {
      if (++bad <= 5) idx.warnings.push_back("ctags output line " + std::to_string(i + 1) + ": tag without name/path");
      continue;
    }
    if (doc["kind"].get(kind) != simdjson::SUCCESS) {}
    if (doc["scope"].get(scope) != simdjson::SUCCESS) {}
    if (doc["pattern"].get(pattern) != simdjson::SUCCESS) {}
    std::int64_t line_no = 0, end_no = 0;
    if (doc["line"].get(line_no) != simdjson::SUCCESS) {}
    if (doc["end"].get(end_no) != simdjson::SUCCESS) {}
    symbol s;
    s.name = std::string(name);
    s.file = std::string(path);
    if (s.file.starts_with("./")) s.file.erase(0, 2);
    if (!given.contains(s.file)) {
      if (++bad <= 5) idx.warnings.push_back("ctags output line " + std::to_string(i + 1) + ": names a file it was not given");
      continue;
    }
    s.kind = std::string(kind);
    s.scope = std::string(scope);
    s.language = language_of(s.file);
    s.line = static_cast<std::uint32_t>(std::max<std::int64_t>(line_no, 0));
    s.end_line = static_cast<std::uint32_t>(std::max<std::int64_t>(end_no, 0));
    // ctags calls `const f = () => {}` a constant or variable: it is a function.
    if ((s.kind == "constant" || s.kind == "variable") &&
        (pattern.find("=>") != std::string_view::npos || pattern.find("function") != std::string_view::npos))
      s.kind = "function";
    // JS noise: object-literal properties and pseudo-classes inside functions.
    if ((s.language == "JavaScript" || s.language == "TypeScript") && s.kind == "property") continue;
    idx.symbols.push_back(std::move(s));
  }
  if (bad > 5) idx.warnings.push_back("ctags output: " + std::to_string(bad) + " malformed lines in all");

  // End lines ctags did not give: scan those files once.
  std::vector<std::size_t> missing;
  for (std::size_t i = 0; i < idx.symbols.size(); ++i)
    if (idx.symbols[i].end_line < idx.symbols[i].line) missing.push_back(i);
  std::sort(missing.begin(), missing.end(),
            [&](std::size_t a, std::size_t b) { return idx.symbols[a].file < idx.symbols[b].file; });
  std::string current_file, clean;
  std::vector<std::string_view> clean_lines;
  for (std::size_t i : missing) {
    symbol& s = idx.symbols[i];
    if (s.file != current_file) {
      current_file = s.file;
      std::ifstream in(root / s.file, std::ios::binary);
      std::stringstream ss;
      if (in) ss << in.rdbuf();
      clean = detail::blank_comments_and_strings(ss.str(), s.language);
      clean_lines = detail::split_lines(clean);
    }
    s.end_line = block_end(clean_lines, s.line, s.language);
    s.end_scanned = true;
  }
  // ctags gives JS/TS pseudo-classes for `const x = {` inside functions: drop symbols that lie
  // strictly inside a callable's range in the same file and are not callables or classes themselves.
  std::vector<symbol> kept;
  kept.reserve(idx.symbols.size());
  for (const auto& s : idx.symbols) {
    if ((s.language == "JavaScript" || s.language == "TypeScript") && !detail::callable_kind(s.kind) &&
        !s.scope.empty()) {
      const bool in_callable = std::any_of(idx.symbols.begin(), idx.symbols.end(), [&](const symbol& o) {
        return &o != &s && o.file == s.file && detail::callable_kind(o.kind) && o.line < s.line && s.line <= o.end_line;
      });
      if (in_callable) continue;
    }
    kept.push_back(s);
  }
  idx.symbols = std::move(kept);
  return idx;
}

/// Ctags when it runs, the fallback scanner otherwise (the reason is kept in `warnings`).
[[nodiscard]] inline symbol_index index_symbols(const std::filesystem::path& root, const std::vector<std::string>& files,
                                                const ctags_options& opts = {}) {
  auto r = run_ctags(root, files, opts);
  if (r) return std::move(*r);
  symbol_index idx = scan_symbols(root, files);
  idx.warnings.insert(idx.warnings.begin(), "ctags unavailable, used the built-in scanner: " + r.error().detail);
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Handler-name matching across naming styles
// ---------------------------------------------------------------------------------------------

/// The words of an identifier, lower case: `applyDiscount`, `apply_discount`, `ApplyDiscount`,
/// `apply-discount` → {"apply","discount"}; `HTTPServer` → {"http","server"}.
[[nodiscard]] inline std::vector<std::string> identifier_words(std::string_view id) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] { if (!cur.empty()) { words.push_back(cur); cur.clear(); } };
  for (std::size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (!std::isalnum(c)) { flush(); continue; }
    if (std::isupper(c) && !cur.empty()) {
      const bool prev_lower = std::islower(static_cast<unsigned char>(id[i - 1])) || std::isdigit(static_cast<unsigned char>(id[i - 1]));
      const bool next_lower = i + 1 < id.size() && std::islower(static_cast<unsigned char>(id[i + 1]));
      if (prev_lower || (std::isupper(static_cast<unsigned char>(id[i - 1])) && next_lower)) flush();
    }
    cur.push_back(static_cast<char>(std::tolower(c)));
  }
  flush();
  return words;
}

/// `apply_discount` for every style of the same name.
[[nodiscard]] inline std::string normalized_name(std::string_view id) {
  std::string out;
  for (const auto& w : identifier_words(id)) {
    if (!out.empty()) out += '_';
    out += w;
  }
  return out;
}

enum class match_status {
  unique,     ///< exactly one definition (or exactly one spelled exactly as logged; see `note`)
  ambiguous,  ///< several definitions fit equally well: `candidates` lists them, none is chosen
  not_found,  ///< no callable definition has this name in any style
};

struct match_result {
  match_status status = match_status::not_found;
  std::vector<std::size_t> candidates;  ///< indices into `symbol_index::symbols`, best first
  std::string note;                     ///< why this outcome, for the evidence list

  [[nodiscard]] const symbol* chosen(const symbol_index& idx) const {
    return status == match_status::unique && !candidates.empty() ? &idx.symbols[candidates.front()] : nullptr;
  }
};

/// Find the definition of a handler named as in the logs. Qualifiers written as `Cart::x`,
/// `Cart.x`, `Cart#x` or `Cart/x` must match the symbol's innermost scope in any style.
/// Rules, applied in order, each deterministic:
///  1. callable symbols (function, method, member, func, arrow constants) with the same
///     `normalized_name` (and a matching scope when one is given);
///  2. if some are outside test files, test-file definitions are dropped;
///  3. if some are definitions, declarations (`prototype`) are dropped;
///  4. one left → `unique`; several, of which exactly one is spelled exactly as logged → `unique`
///     with a `note` naming the others; otherwise `ambiguous` (nothing chosen).
[[nodiscard]] inline match_result match_handler(const symbol_index& idx, std::string_view handler) {
  match_result res;
  std::string name(handler), hint;
  for (std::string_view sep : {"::", ".", "#", "/"}) {
    const auto p = name.rfind(sep);
    if (p != std::string::npos) {
      hint = name.substr(0, p);
      name = name.substr(p + sep.size());
      break;
    }
  }
  const std::string want = normalized_name(name);
  if (want.empty()) {
    res.note = "handler name '" + std::string(handler) + "' has no identifier characters";
    return res;
  }
  std::string hint_last = hint;
  for (std::string_view sep : {"::", ".", "#", "/"}) {
    const auto p = hint_last.rfind(sep);
    if (p != std::string::npos) hint_last = hint_last.substr(p + sep.size());
  }
  const std::string want_scope = normalized_name(hint_last);
  // With the name index, only the symbols of that name are looked at; without it, all of them.
  const std::vector<std::size_t>* named = nullptr;
  if (idx.has_name_index()) {
    const auto it = idx.by_name.find(want);
    if (it == idx.by_name.end()) {
      res.note = "no function named '" + std::string(handler) + "' in any naming style";
      return res;
    }
    named = &it->second;
  }
  const std::size_t n = named ? named->size() : idx.symbols.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = named ? (*named)[k] : k;
    const symbol& s = idx.symbols[i];
    if (!detail::callable_kind(s.kind)) continue;
    if (!named && normalized_name(s.name) != want) continue;
    if (!want_scope.empty()) {
      std::string sc = s.scope;
      for (std::string_view sep : {"::", "."}) {
        const auto p = sc.rfind(sep);
        if (p != std::string::npos) sc = sc.substr(p + sep.size());
      }
      if (normalized_name(sc) != want_scope) continue;
    }
    res.candidates.push_back(i);
  }
  auto keep_if = [&](auto pred) {
    std::vector<std::size_t> kept;
    for (auto i : res.candidates)
      if (pred(idx.symbols[i])) kept.push_back(i);
    if (!kept.empty()) res.candidates = std::move(kept);
  };
  keep_if([](const symbol& s) { return !is_test_path(s.file); });
  keep_if([](const symbol& s) { return s.kind != "prototype"; });
  std::sort(res.candidates.begin(), res.candidates.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = idx.symbols[a];
    const auto& y = idx.symbols[b];
    const bool ex = x.name == name, ey = y.name == name;
    if (ex != ey) return ex;
    if (x.file != y.file) return x.file < y.file;
    return x.line < y.line;
  });
  auto describe = [&](std::size_t i) {
    const auto& s = idx.symbols[i];
    return s.qualified() + " (" + s.file + ":" + std::to_string(s.line) + ")";
  };
  if (res.candidates.empty()) {
    res.status = match_status::not_found;
    res.note = "no function named '" + std::string(handler) + "' in any naming style";
    return res;
  }
  if (res.candidates.size() == 1) {
    res.status = match_status::unique;
    res.note = "'" + std::string(handler) + "' is " + describe(res.candidates.front());
    return res;
  }
  const auto exact = std::count_if(res.candidates.begin(), res.candidates.end(),
                                   [&](std::size_t i) { return idx.symbols[i].name == name; });
  std::string others;
  for (std::size_t k = 1; k < res.candidates.size(); ++k) others += (k > 1 ? ", " : "") + describe(res.candidates[k]);
  if (exact == 1) {
    res.status = match_status::unique;
    res.note = "'" + std::string(handler) + "' is " + describe(res.candidates.front()) +
               " (spelled exactly as logged); also matches in another style: " + others;
    return res;
  }
  res.status = match_status::ambiguous;
  std::string all;
  for (std::size_t k = 0; k < res.candidates.size(); ++k) all += (k ? ", " : "") + describe(res.candidates[k]);
  res.note = "'" + std::string(handler) + "' is ambiguous: " + all;
  return res;
}

/// Builds `idx.by_name` (symbol indices by `normalized_name`); call again after changing `symbols`.
inline void index_names(symbol_index& idx) {
  idx.by_name.clear();
  for (std::size_t i = 0; i < idx.symbols.size(); ++i) idx.by_name[normalized_name(idx.symbols[i].name)].push_back(i);
  idx.names_indexed = idx.symbols.size();
}

/// The innermost callable symbol of `file` that contains `line`, or null.
[[nodiscard]] inline const symbol* enclosing_symbol(const symbol_index& idx, std::string_view file, std::uint32_t line) {
  const symbol* best = nullptr;
  for (const auto& s : idx.symbols) {
    if (s.file != file || line < s.line || line > s.end_line) continue;
    if (!detail::callable_kind(s.kind)) continue;
    if (!best || (s.end_line - s.line) < (best->end_line - best->line)) best = &s;
  }
  return best;
}

}  // namespace selfheal::source
