#pragma once
/// \file
/// The codebase index of `loadCodebaseInfo`: tracked files, symbols (ctags or the fallback
/// scanner), test files with their test names, sequence definition files, configuration keys
/// (JSON, YAML, TOML, INI) and the git history.
///
/// ```cpp
/// auto cb = selfheal::diagnosis::load_codebase("/path/to/repo", &db);   // result<codebase>
/// ```
/// Unreadable or malformed files are reported in `codebase::warnings` as "file:line: reason" and
/// skipped; the rest of the index is still built.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "selfheal/core/result.hpp"
#include "selfheal/diagnosis/history.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/diagnosis/symbols.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::diagnosis {

namespace detail {

inline bool read_text(const std::filesystem::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

inline std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

inline std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

inline std::string unquote(std::string v) {
  if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
    return v.substr(1, v.size() - 2);
  return v;
}

/// Strip a trailing `# comment` (outside quotes).
inline std::string strip_hash_comment(std::string_view s) {
  char q = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (q) { if (c == q) q = 0; continue; }
    if (c == '"' || c == '\'') q = c;
    else if (c == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(s[i - 1])))) return std::string(s.substr(0, i));
  }
  return std::string(s);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// Test names of one test file's text (JS/TS `test|it|describe('…')`, Python `def test_…`,
/// Go `func TestX(`, Java `@Test` methods, C++ `TEST_CASE("…")` / `TEST(A, B)`).
[[nodiscard]] inline std::vector<test_case_info> test_names(std::string_view text, std::string_view language) {
  static const std::regex js(R"((?:^|[^\w.])(?:it|test|describe)\s*\(\s*(['"`])((?:(?!\1).)*)\1)");
  static const std::regex py(R"(^\s*(?:async\s+)?def\s+(test\w*)\s*\()");
  static const std::regex go(R"(^func\s+(Test\w+)\s*\()");
  static const std::regex java_method(R"(^\s*(?:public\s+|protected\s+|private\s+)?(?:static\s+)?void\s+(\w+)\s*\()");
  static const std::regex cpp(R"((?:TEST_CASE|SCENARIO)\s*\(\s*\"([^\"]*)\"|\bTEST(?:_F|_P)?\s*\(\s*(\w+)\s*,\s*(\w+)\s*\))");
  std::vector<test_case_info> out;
  const auto lines = detail::split_lines(text);
  bool java_pending = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string l(lines[i]);
    const auto ln = static_cast<std::uint32_t>(i + 1);
    std::smatch m;
    if (language == "JavaScript" || language == "TypeScript") {
      if (std::regex_search(l, m, js)) out.push_back({m[2].str(), ln});
    } else if (language == "Python") {
      if (std::regex_search(l, m, py)) out.push_back({m[1].str(), ln});
    } else if (language == "Go") {
      if (std::regex_search(l, m, go)) out.push_back({m[1].str(), ln});
    } else if (language == "Java") {
      if (l.find("@Test") != std::string::npos) java_pending = true;
      else if (java_pending && std::regex_search(l, m, java_method)) { out.push_back({m[1].str(), ln}); java_pending = false; }
    } else if (language == "C" || language == "C++") {
      if (std::regex_search(l, m, cpp)) out.push_back({m[1].matched ? m[1].str() : m[2].str() + "." + m[3].str(), ln});
    }
  }
  return out;
}

/// Test files among `files`, with their test names and the identifiers they mention.
[[nodiscard]] inline std::vector<test_file> index_tests(const std::filesystem::path& root, const std::vector<std::string>& files,
                                                        std::vector<std::string>& warnings) {
  std::vector<test_file> out;
  for (const auto& f : files) {
    if (!is_test_path(f)) continue;
    const std::string lang = language_of(f);
    if (lang.empty()) continue;
    std::string text;
    if (!detail::read_text(root / f, text)) { warnings.push_back(f + ": cannot read"); continue; }
    test_file t;
    t.file = f;
    t.language = lang;
    t.tests = test_names(text, lang);
    std::set<std::string> ids;
    std::string cur;
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$') cur += c;
      else {
        if (cur.size() > 2 && !std::isdigit(static_cast<unsigned char>(cur[0]))) ids.insert(cur);
        cur.clear();
      }
    }
    if (cur.size() > 2) ids.insert(cur);
    t.identifiers.assign(ids.begin(), ids.end());
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sequence definition files
// ---------------------------------------------------------------------------------------------

/// Parse one sequence file (the seed's format: `{id|name, movements:[{beats:[{beat,event,handler}]}]}`
/// or a top-level `beats` array). `errc::parse_error` names the file.
[[nodiscard]] inline result<sequence_file> parse_sequence_file(std::string_view file, std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element doc;
  if (auto e = parser.parse(padded).get(doc); e != simdjson::SUCCESS)
    return fail(errc::parse_error, std::string(file) + ": " + simdjson::error_message(e));
  sequence_file s;
  s.file = std::string(file);
  std::string_view sv;
  if (doc["id"].get(sv) == simdjson::SUCCESS) s.id = std::string(sv);
  if (doc["name"].get(sv) == simdjson::SUCCESS) s.name = std::string(sv);
  auto take_beats = [&](simdjson::dom::array beats) {
    for (auto b : beats) {
      beat_definition d;
      std::int64_t n = 0;
      if (b["beat"].get(n) == simdjson::SUCCESS && n > 0) d.number = static_cast<std::uint32_t>(n);
      else d.number = static_cast<std::uint32_t>(s.beats.size() + 1);
      if (b["event"].get(sv) == simdjson::SUCCESS) d.event = std::string(sv);
      if (b["handler"].get(sv) == simdjson::SUCCESS) d.handler = std::string(sv);
      s.beats.push_back(std::move(d));
    }
  };
  simdjson::dom::array arr;
  if (doc["movements"].get(arr) == simdjson::SUCCESS) {
    for (auto m : arr) {
      simdjson::dom::array beats;
      if (m["beats"].get(beats) == simdjson::SUCCESS) take_beats(beats);
    }
  } else if (doc["beats"].get(arr) == simdjson::SUCCESS) {
    take_beats(arr);
  } else {
    return fail(errc::parse_error, std::string(file) + ": no 'movements' or 'beats'");
  }
  return s;
}

[[nodiscard]] inline std::vector<sequence_file> index_sequences(const std::filesystem::path& root,
                                                                const std::vector<std::string>& files,
                                                                std::vector<std::string>& warnings) {
  std::vector<sequence_file> out;
  for (const auto& f : files) {
    if (!f.ends_with(".json")) continue;
    std::string text;
    if (!detail::read_text(root / f, text)) continue;
    if (text.find("\"beats\"") == std::string::npos || text.find("\"handler\"") == std::string::npos) continue;
    auto s = parse_sequence_file(f, text);
    if (!s) { warnings.push_back(s.error().detail); continue; }
    out.push_back(std::move(*s));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Configuration files
// ---------------------------------------------------------------------------------------------

/// Config format by extension: "yaml", "toml", "ini", "json" or "".
[[nodiscard]] inline std::string config_format(std::string_view path) {
  const std::string p = detail::lower(path);
  if (p.ends_with(".yaml") || p.ends_with(".yml")) return "yaml";
  if (p.ends_with(".toml")) return "toml";
  if (p.ends_with(".ini") || p.ends_with(".cfg") || p.ends_with(".conf") || p.ends_with(".properties")) return "ini";
  if (p.ends_with(".json") && !p.ends_with("package-lock.json") && !p.ends_with("tsconfig.json") &&
      !p.ends_with("composer.lock"))
    return "json";
  return {};
}

/// Flattened keys of one configuration text. Malformed lines go to `warnings` as "file:line: …".
[[nodiscard]] inline std::vector<config_entry> parse_config(std::string_view file, std::string_view text, std::string_view format,
                                                            std::vector<std::string>& warnings) {
  std::vector<config_entry> out;
  const auto lines = detail::split_lines(text);
  const std::string f(file);
  auto warn = [&](std::size_t i, const std::string& why) { warnings.push_back(f + ":" + std::to_string(i + 1) + ": " + why); };
  if (format == "yaml") {
    std::vector<std::pair<std::size_t, std::string>> stack;  // (indent, key)
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string raw = detail::strip_hash_comment(lines[i]);
      if (detail::trim(raw).empty() || detail::trim(raw) == "---") continue;
      const std::size_t ind = detail::indentation(raw);
      std::string body = detail::trim(raw);
      if (body.starts_with("- ")) continue;  // list items carry no keys of their own here
      const auto colon = body.find(':');
      if (colon == std::string::npos) { warn(i, "expected 'key: value'"); continue; }
      while (!stack.empty() && stack.back().first >= ind) stack.pop_back();
      const std::string key = detail::unquote(detail::trim(body.substr(0, colon)));
      const std::string value = detail::unquote(detail::trim(body.substr(colon + 1)));
      std::string path;
      for (const auto& [_, k] : stack) path += k + ".";
      path += key;
      if (value.empty()) stack.emplace_back(ind, key);
      else out.push_back({f, path, value, static_cast<std::uint32_t>(i + 1)});
    }
  } else if (format == "toml" || format == "ini") {
    std::string section;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string l = detail::trim(format == "toml" ? detail::strip_hash_comment(lines[i]) : std::string(lines[i]));
      if (l.empty() || l[0] == '#' || l[0] == ';') continue;
      if (l.front() == '[') {
        const auto close = l.find(']');
        if (close == std::string::npos) { warn(i, "unterminated section header"); continue; }
        section = detail::trim(l.substr(l.starts_with("[[") ? 2 : 1, close - (l.starts_with("[[") ? 2 : 1)));
        continue;
      }
      auto eq = l.find('=');
      if (eq == std::string::npos && format == "ini") eq = l.find(':');
      if (eq == std::string::npos) { warn(i, "expected 'key = value'"); continue; }
      const std::string key = detail::unquote(detail::trim(l.substr(0, eq)));
      const std::string value = detail::unquote(detail::trim(l.substr(eq + 1)));
      out.push_back({f, section.empty() ? key : section + "." + key, value, static_cast<std::uint32_t>(i + 1)});
    }
  } else if (format == "json") {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(text);
    simdjson::dom::element doc;
    if (auto e = parser.parse(padded).get(doc); e != simdjson::SUCCESS) {
      warnings.push_back(f + ": " + simdjson::error_message(e));
      return out;
    }
    auto line_of = [&](std::string_view key) -> std::uint32_t {
      const std::string needle = "\"" + std::string(key) + "\"";
      const auto p = text.find(needle);
      if (p == std::string_view::npos) return 0;
      return static_cast<std::uint32_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(p), '\n') + 1);
    };
    auto walk = [&](auto&& self, simdjson::dom::element e, const std::string& prefix, int depth) -> void {
      if (depth > 32) return;
      simdjson::dom::object obj;
      if (e.get(obj) == simdjson::SUCCESS) {
        for (auto [k, v] : obj) {
          const std::string key = prefix.empty() ? std::string(k) : prefix + "." + std::string(k);
          if (v.is_object()) self(self, v, key, depth + 1);
          else if (!v.is_array()) {
            std::string value;
            std::string_view sv;
            if (v.get(sv) == simdjson::SUCCESS) value = std::string(sv);
            else value = simdjson::minify(v);
            out.push_back({f, key, value, line_of(k)});
          }
        }
      }
    };
    walk(walk, doc, "", 0);
  }
  return out;
}

[[nodiscard]] inline std::vector<config_entry> index_configs(const std::filesystem::path& root, const std::vector<std::string>& files,
                                                             const std::vector<sequence_file>& sequences,
                                                             std::vector<std::string>& warnings) {
  std::vector<config_entry> out;
  for (const auto& f : files) {
    const std::string fmt = config_format(f);
    if (fmt.empty() || is_test_path(f)) continue;
    if (std::any_of(sequences.begin(), sequences.end(), [&](const sequence_file& s) { return s.file == f; })) continue;
    std::string text;
    if (!detail::read_text(root / f, text)) { warnings.push_back(f + ": cannot read"); continue; }
    if (text.size() > (std::size_t{4} << 20)) { warnings.push_back(f + ": larger than 4 MiB, skipped"); continue; }
    auto entries = parse_config(f, text, fmt, warnings);
    out.insert(out.end(), std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Everything
// ---------------------------------------------------------------------------------------------

struct codebase_options {
  ctags_options ctags{};
  history_options history{};
  bool use_ctags = true;  ///< false: always the built-in scanner
};

/// Index the repository at `root` (a git work tree). `cache` (may be null) keeps the history.
[[nodiscard]] inline result<codebase> load_codebase(const std::filesystem::path& root, store::database* cache = nullptr,
                                                    const codebase_options& opts = {}) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec))
    return fail(errc::not_found, "repository '" + root.string() + "' is not a directory");
  codebase cb;
  cb.root = root;
  auto files = tracked_files(root);
  if (!files) return tl::unexpected(files.error());
  cb.files = std::move(*files);
  // Only files present in the work tree (a deleted-but-staged file has no text to index).
  std::vector<std::string> present;
  present.reserve(cb.files.size());
  for (const auto& f : cb.files)
    if (std::filesystem::is_regular_file(root / f, ec)) present.push_back(f);
  cb.symbols = opts.use_ctags ? index_symbols(root, present, opts.ctags) : scan_symbols(root, present);
  cb.warnings.insert(cb.warnings.end(), cb.symbols.warnings.begin(), cb.symbols.warnings.end());
  cb.tests = index_tests(root, present, cb.warnings);
  cb.sequences = index_sequences(root, present, cb.warnings);
  cb.configs = index_configs(root, present, cb.sequences, cb.warnings);
  auto h = read_history(root, cache, opts.history);
  if (!h) return tl::unexpected(h.error());
  cb.git = std::move(*h);
  return cb;
}

}  // namespace selfheal::diagnosis
