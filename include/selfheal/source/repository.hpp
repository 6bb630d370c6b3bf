#pragma once
/// \file
/// The repository index (`load_codebase`): tracked files, symbols (ctags or the fallback scanner,
/// with the per-file symbol cache), test files with their test names, sequence definition files,
/// configuration keys and the git history, plus the configuration values commits changed and where
/// the code names those keys.
///
/// Configuration files are read with libraries: TOML with toml++, YAML with yaml-cpp, JSON with
/// simdjson; INI and dotenv (`KEY=value`) have no library here and are read line by line.
///
/// ```cpp
/// auto cb = selfheal::source::load_codebase("/path/to/repo", &db);   // result<codebase>
/// ```
/// Unreadable or malformed files are reported in `codebase::warnings` as "file:line: reason" and
/// skipped; the rest of the index is still built.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <simdjson.h>
#include <toml++/toml.h>
#include <yaml-cpp/yaml.h>

#include "selfheal/core/result.hpp"
#include "selfheal/source/git.hpp"
#include "selfheal/source/history.hpp"
#include "selfheal/source/languages.hpp"
#include "selfheal/source/model.hpp"
#include "selfheal/source/paths.hpp"
#include "selfheal/source/symbols.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::source {


namespace detail {

inline bool read_text(const std::filesystem::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
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

/// Flattened keys of one configuration text. Malformed lines go to `warnings` as "file:line: …".
[[nodiscard]] inline std::vector<config_entry> parse_config(std::string_view file, std::string_view text, std::string_view format,
                                                            std::vector<std::string>& warnings) {
  std::vector<config_entry> out;
  const std::string f(file);
  if (format == "yaml") {
    // yaml-cpp: every mapping flattened with '.', scalars kept as written; sequences carry no keys.
    try {
      const YAML::Node root = YAML::Load(std::string(text));
      auto walk = [&](auto&& self, const YAML::Node& n, const std::string& prefix, int depth) -> void {
        if (depth > 32 || !n.IsMap()) return;
        for (const auto& kv : n) {
          const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : std::string{};
          if (k.empty()) continue;
          const std::string key = prefix.empty() ? k : prefix + "." + k;
          if (kv.second.IsMap()) self(self, kv.second, key, depth + 1);
          else if (kv.second.IsScalar())
            out.push_back({f, key, kv.second.Scalar(), static_cast<std::uint32_t>(kv.first.Mark().line + 1)});
          else if (kv.second.IsNull())
            out.push_back({f, key, std::string{}, static_cast<std::uint32_t>(kv.first.Mark().line + 1)});
        }
      };
      walk(walk, root, "", 0);
    } catch (const YAML::Exception& e) {
      warnings.push_back(f + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return out;
  }
  if (format == "toml") {
    // toml++: tables (and each table of an array of tables) flattened with '.'; values as written,
    // strings without their quotes.
    toml::table root;
#if TOML_EXCEPTIONS
    try {
      root = toml::parse(text, f);
    } catch (const toml::parse_error& e) {
      warnings.push_back(f + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
      return out;
    }
#else
    toml::parse_result parsed = toml::parse(text, f);
    if (!parsed) {
      warnings.push_back(f + ":" + std::to_string(parsed.error().source().begin.line) + ": " +
                         std::string(parsed.error().description()));
      return out;
    }
    root = std::move(parsed).table();
#endif
    auto walk = [&](auto&& self, const toml::table& t, const std::string& prefix, int depth) -> void {
      if (depth > 32) return;
      for (const auto& [k, v] : t) {
        const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        if (const auto* sub = v.as_table()) { self(self, *sub, key, depth + 1); continue; }
        if (const auto* arr = v.as_array(); arr && arr->is_array_of_tables()) {
          for (const auto& e : *arr)
            if (const auto* sub = e.as_table()) self(self, *sub, key, depth + 1);
          continue;
        }
        std::string value;
        if (const auto* s = v.as_string()) value = s->get();
        else {
          std::ostringstream os;
          v.visit([&](const auto& x) { os << x; });
          value = os.str();
        }
        out.push_back({f, key, std::move(value), static_cast<std::uint32_t>(v.source().begin.line)});
      }
    };
    walk(walk, root, "", 0);
    return out;
  }
  const auto lines = detail::split_lines(text);
  auto warn = [&](std::size_t i, const std::string& why) { warnings.push_back(f + ":" + std::to_string(i + 1) + ": " + why); };
  if (format == "env") {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string l = detail::trim(lines[i]);
      if (l.empty() || l[0] == '#') continue;
      if (l.starts_with("export ")) l = detail::trim(l.substr(7));
      const auto eq = l.find('=');
      if (eq == std::string::npos || eq == 0) { warn(i, "expected 'KEY=value'"); continue; }
      std::string value = detail::trim(l.substr(eq + 1));
      if (!value.empty() && value[0] != '"' && value[0] != '\'') value = detail::trim(detail::strip_hash_comment(value));
      out.push_back({f, detail::trim(l.substr(0, eq)), detail::unquote(value), static_cast<std::uint32_t>(i + 1)});
    }
  } else if (format == "ini") {
    std::string section;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string l = detail::trim(lines[i]);
      if (l.empty() || l[0] == '#' || l[0] == ';') continue;
      if (l.front() == '[') {
        const auto close = l.find(']');
        if (close == std::string::npos) { warn(i, "unterminated section header"); continue; }
        section = detail::trim(l.substr(l.starts_with("[[") ? 2 : 1, close - (l.starts_with("[[") ? 2 : 1)));
        continue;
      }
      auto eq = l.find('=');
      if (eq == std::string::npos) eq = l.find(':');
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
// Configuration values changed by commits, and where the code names them
// ---------------------------------------------------------------------------------------------

namespace detail {

using tree_entry_ptr = git_ptr<git_tree_entry, git_tree_entry_free>;
using blob_ptr = git_ptr<git_blob, git_blob_free>;

/// The text of `path` in `tree`; nullopt when absent, not a blob, larger than 4 MiB or missing
/// from the object database (a blob-less clone).
inline std::optional<std::string> blob_text(git_repository* repo, git_tree* tree, const std::string& path) {
  if (!tree) return std::nullopt;
  tree_entry_ptr entry;
  if (git_tree_entry_bypath(entry.out(), tree, path.c_str()) != 0) { git_error_clear(); return std::nullopt; }
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return std::nullopt;
  blob_ptr blob;
  if (git_blob_lookup(blob.out(), repo, git_tree_entry_id(entry.get())) != 0) { git_error_clear(); return std::nullopt; }
  const auto size = static_cast<std::size_t>(git_blob_rawsize(blob.get()));
  if (size > (std::size_t{4} << 20)) return std::nullopt;
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())), size);
}

inline bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

/// `token` occurs in `line` as a whole word (no identifier character on either side).
inline bool has_word(std::string_view line, std::string_view token, bool call = false) {
  for (std::size_t p = line.find(token); p != std::string_view::npos; p = line.find(token, p + 1)) {
    const bool left = p == 0 || !ident_char(line[p - 1]);
    std::size_t end = p + token.size();
    const bool right = end >= line.size() || !ident_char(line[end]);
    if (!left || !right) continue;
    if (!call) return true;
    while (end < line.size() && (line[end] == ' ' || line[end] == '\t')) ++end;
    if (end < line.size() && line[end] == '(') return true;
  }
  return false;
}

}  // namespace detail

/// For the newest `max_commits` commits that modified configuration files (not test files, not
/// sequence definitions): which flattened keys changed value, read from the two blobs through
/// libgit2 and parsed like the files at HEAD. Files whose blobs are missing are skipped (counted
/// in one warning). Fills `commit_info::config_changes`.
inline void add_config_changes(const std::filesystem::path& root, history& h, const std::vector<sequence_file>& sequences,
                               std::vector<std::string>& warnings, std::size_t max_commits = 200) {
  auto wanted = [&](const file_change& f) {
    return f.status != 'A' && f.status != 'D' && !config_format(f.path).empty() && !is_test_path(f.path) &&
           std::none_of(sequences.begin(), sequences.end(), [&](const sequence_file& s) { return s.file == f.path; });
  };
  git_library lib;
  repo_ptr repo;
  if (auto r = open_repository(repo, root); !r) { warnings.push_back(r.error().detail); return; }
  std::size_t examined = 0, missing = 0;
  for (auto& c : h.commits) {
    if (c.shallow_boundary || c.parents.empty()) continue;
    if (std::none_of(c.files.begin(), c.files.end(), wanted)) continue;
    if (++examined > max_commits) break;
    git_oid oid;
    if (git_oid_fromstr(&oid, c.id.c_str()) != 0) continue;
    commit_ptr commit, parent;
    tree_ptr tree, parent_tree;
    if (git_commit_lookup(commit.out(), repo.get(), &oid) != 0 || git_commit_tree(tree.out(), commit.get()) != 0 ||
        git_commit_parent(parent.out(), commit.get(), 0) != 0 || git_commit_tree(parent_tree.out(), parent.get()) != 0) {
      git_error_clear();
      ++missing;
      continue;
    }
    c.config_changes.clear();
    for (const auto& f : c.files) {
      if (!wanted(f)) continue;
      const auto before = detail::blob_text(repo.get(), parent_tree.get(), f.old_path.empty() ? f.path : f.old_path);
      const auto after = detail::blob_text(repo.get(), tree.get(), f.path);
      if (!before || !after) { ++missing; continue; }
      const std::string fmt = config_format(f.path);
      std::vector<std::string> ignored;
      std::map<std::string, std::string> old_values, new_values;
      for (auto& e : parse_config(f.path, *before, fmt, ignored)) old_values.insert_or_assign(std::move(e.key), std::move(e.value));
      for (auto& e : parse_config(f.path, *after, fmt, ignored)) new_values.insert_or_assign(std::move(e.key), std::move(e.value));
      for (const auto& [k, v] : new_values) {
        const auto o = old_values.find(k);
        if (o == old_values.end()) c.config_changes.push_back({f.path, k, {}, v, true, false});
        else if (o->second != v) c.config_changes.push_back({f.path, k, o->second, v, false, false});
      }
      for (const auto& [k, v] : old_values)
        if (!new_values.contains(k)) c.config_changes.push_back({f.path, k, v, {}, false, true});
    }
  }
  if (missing)
    warnings.push_back(std::to_string(missing) + " configuration file version(s) could not be read from git (missing objects): "
                       "their value changes are unknown");
}

/// Where the source files name the keys in `keys` (the dotted key, or its last segment of 3+
/// characters, as a whole word: `config.cache.ttl_ms`, `cfg["ttl_ms"]`, `process.env.CACHE_TTL_MS`),
/// each with its enclosing callable, and where that callable is called (`name(`). Test files are
/// not searched. Reads each source file at most twice; nothing when `keys` is empty.
[[nodiscard]] inline std::vector<config_use> find_config_uses(const std::filesystem::path& root,
                                                              const std::vector<std::string>& files,
                                                              const symbol_index& symbols,
                                                              const std::vector<std::string>& keys) {
  std::vector<config_use> uses;
  if (keys.empty()) return uses;
  std::vector<std::pair<std::string, std::string>> needles;  // (key, token)
  for (const auto& k : keys) {
    needles.emplace_back(k, k);
    const auto dot = k.rfind('.');
    if (dot != std::string::npos && k.size() - dot - 1 >= 3) needles.emplace_back(k, k.substr(dot + 1));
  }
  std::vector<std::string> sources;
  for (const auto& f : files)
    if (!language_of(f).empty() && !is_test_path(f)) sources.push_back(f);
  struct callee { std::string name; std::string file; std::uint32_t line; };
  std::vector<callee> callees;  // per use, the bare name of its enclosing callable and where it is defined
  for (const auto& f : sources) {
    std::string text;
    if (!detail::read_text(root / f, text)) continue;
    const auto lines = detail::split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string last_key;
      for (const auto& [key, token] : needles) {
        if (key == last_key || !detail::has_word(lines[i], token)) continue;
        last_key = key;
        const auto ln = static_cast<std::uint32_t>(i + 1);
        const symbol* s = enclosing_symbol(symbols, f, ln);
        uses.push_back({key, f, ln, s ? s->qualified() : std::string{}, {}});
        callees.push_back({s ? s->name : std::string{}, f, s ? s->line : 0});
      }
    }
  }
  std::set<std::string> names;
  for (const auto& c : callees)
    if (c.name.size() >= 3) names.insert(c.name);
  if (names.empty()) return uses;
  for (const auto& f : sources) {
    std::string text;
    if (!detail::read_text(root / f, text)) continue;
    const auto lines = detail::split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto ln = static_cast<std::uint32_t>(i + 1);
      for (const auto& n : names) {
        if (!detail::has_word(lines[i], n, true)) continue;
        for (std::size_t u = 0; u < uses.size(); ++u)
          if (callees[u].name == n && !(callees[u].file == f && callees[u].line == ln)) uses[u].called_at.emplace_back(f, ln);
      }
    }
  }
  return uses;
}

// ---------------------------------------------------------------------------------------------
// Symbols with the per-file cache
// ---------------------------------------------------------------------------------------------

namespace detail {

/// Size and modification time (ns since the file clock's epoch) of one file; false if it cannot be read.
inline bool file_stamp(const std::filesystem::path& p, std::int64_t& size, std::int64_t& mtime_ns) {
  std::error_code ec;
  const auto sz = std::filesystem::file_size(p, ec);
  if (ec) return false;
  const auto t = std::filesystem::last_write_time(p, ec);
  if (ec) return false;
  size = static_cast<std::int64_t>(sz);
  mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return true;
}

/// The one order of `codebase::symbols`, cached or not: file, line, name, scope, kind, end line.
inline void sort_symbols(std::vector<symbol>& v) {
  std::stable_sort(v.begin(), v.end(), [](const symbol& a, const symbol& b) {
    return std::tie(a.file, a.line, a.name, a.scope, a.kind, a.end_line, a.language, a.end_scanned) <
           std::tie(b.file, b.line, b.name, b.scope, b.kind, b.end_line, b.language, b.end_scanned);
  });
}

/// The id of `root` in `source_repos` (the same canonical path as `read_history`).
inline result<std::int64_t> cache_repo_id(store::database& db, const std::filesystem::path& root) {
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(root, ec).string();
  if (ec) canonical = root.string();
  auto ins = db.prepare("INSERT INTO source_repos(path) VALUES (?1) ON CONFLICT(path) DO NOTHING");
  if (!ins) return tl::unexpected(ins.error());
  ins->bind(1, canonical);
  if (auto r = ins->exec(); !r) return tl::unexpected(r.error());
  auto sel = db.prepare("SELECT id FROM source_repos WHERE path = ?1");
  if (!sel) return tl::unexpected(sel.error());
  sel->bind(1, canonical);
  auto row = sel->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(errc::not_found, "repository '" + canonical + "' not in source_repos");
  return sel->column_int(0);
}

/// Files modified more recently than this before a run are not cached (timestamps of 1-2 s
/// resolution on some file systems; see `index_symbols_cached`).
inline constexpr std::chrono::seconds symbol_cache_racy_window{2};

struct cached_file {
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
};

}  // namespace detail

/// `index_symbols` over `files` with the symbol cache in `db` (tables `source_symbol_files`,
/// `source_symbols`, migration 3): files whose size and mtime match their cached row take their
/// symbols from the cache, only the others run through ctags; their rows are replaced and the rows
/// of files no longer in `files` deleted, in one transaction. Files modified in the last 2 s are
/// indexed but not cached (a same-size edit within one timestamp tick would be missed). Only
/// ctags results are cached: when ctags fails, every file goes through the built-in scanner,
/// exactly as without a cache. Cache errors are warnings ("symbol cache: ..."), never failures: the symbols are then indexed anew.
/// The result is sorted like `load_codebase`'s (`detail::sort_symbols`) and identical to an
/// uncached run's; `cached_files` / `indexed_files` count the source files of each kind.
[[nodiscard]] inline symbol_index index_symbols_cached(const std::filesystem::path& root, const std::vector<std::string>& files,
                                                       store::database& db, const ctags_options& opts = {}) {
  std::vector<std::string> sources;
  {
    const repository_files repo(root);
    for (const auto& f : files)
      if (!language_of(f).empty() && repo.readable(f)) sources.push_back(f);
  }
  auto uncached = [&](std::string why) {
    symbol_index idx = index_symbols(root, files, opts);
    if (!why.empty()) idx.warnings.insert(idx.warnings.begin(), "symbol cache: " + why);
    idx.indexed_files = sources.size();
    return idx;
  };
  if (auto r = migrate_source(db); !r) return uncached(r.error().detail);
  auto repo = detail::cache_repo_id(db, root);
  if (!repo) return uncached(repo.error().detail);

  std::unordered_map<std::string, detail::cached_file> cached;
  {
    auto sel = db.prepare("SELECT path, size, mtime_ns FROM source_symbol_files WHERE repo = ?1");
    if (!sel) return uncached(sel.error().detail);
    sel->bind(1, *repo);
    for (auto row = sel->step();; row = sel->step()) {
      if (!row) return uncached(row.error().detail);
      if (!*row) break;
      cached.emplace(sel->column_text(0), detail::cached_file{sel->column_int(1), sel->column_int(2)});
    }
  }

  // Stamp before reading: a file changed while ctags runs differs from its row next time. A file
  // modified within the last `symbol_cache_racy_window` is indexed but not cached (like git's
  // "racily clean" entries): a second edit in the same timestamp tick, same size, would go unseen.
  const std::int64_t racy_after = std::chrono::duration_cast<std::chrono::nanoseconds>(
      (std::filesystem::file_time_type::clock::now() - detail::symbol_cache_racy_window).time_since_epoch()).count();
  std::unordered_map<std::string, detail::cached_file> stamps;  // the files whose rows are written
  std::unordered_set<std::string> hits;
  std::vector<std::string> changed;
  for (const auto& f : sources) {
    detail::cached_file st;
    if (!detail::file_stamp(root / f, st.size, st.mtime_ns) || st.mtime_ns >= racy_after) {
      changed.push_back(f);
      continue;
    }
    stamps.emplace(f, st);
    const auto it = cached.find(f);
    if (it != cached.end() && it->second.size == st.size && it->second.mtime_ns == st.mtime_ns) hits.insert(f);
    else changed.push_back(f);
  }

  symbol_index idx;
  idx.source = "ctags";
  if (!changed.empty()) {
    idx = index_symbols(root, changed, opts);
    if (idx.source != "ctags") {
      // ctags failed: the scanner over everything, as an uncached run does; nothing is cached.
      symbol_index all = scan_symbols(root, files);
      if (!idx.warnings.empty()) all.warnings.insert(all.warnings.begin(), idx.warnings.front());
      all.indexed_files = sources.size();
      return all;
    }
  }
  idx.indexed_files = changed.size();
  idx.cached_files = hits.size();

  if (!hits.empty()) {
    auto sel = db.prepare(
        "SELECT path, name, scope, kind, language, line, end_line, end_scanned FROM source_symbols WHERE repo = ?1");
    if (!sel) return uncached(sel.error().detail);
    sel->bind(1, *repo);
    for (auto row = sel->step();; row = sel->step()) {
      if (!row) return uncached(row.error().detail);
      if (!*row) break;
      std::string path = sel->column_text(0);
      if (!hits.contains(path)) continue;
      symbol s;
      s.file = std::move(path);
      s.name = sel->column_text(1);
      s.scope = sel->column_text(2);
      s.kind = sel->column_text(3);
      s.language = sel->column_text(4);
      s.line = static_cast<std::uint32_t>(sel->column_int(5));
      s.end_line = static_cast<std::uint32_t>(sel->column_int(6));
      s.end_scanned = sel->column_int(7) != 0;
      idx.symbols.push_back(std::move(s));
    }
  }

  // Replace the rows of the re-indexed files, delete those of files gone; one transaction.
  std::vector<std::string> gone;
  const std::unordered_set<std::string> changed_set(changed.begin(), changed.end());
  for (const auto& entry : cached)
    if (!hits.contains(entry.first) && !changed_set.contains(entry.first)) gone.push_back(entry.first);
  // A symbol under a path ctags was not asked about would be lost from the cache: store nothing.
  const auto stray = std::find_if(idx.symbols.begin(), idx.symbols.end(), [&](const symbol& s) {
    return !hits.contains(s.file) && !changed_set.contains(s.file);
  });
  if (stray != idx.symbols.end()) {
    idx.warnings.push_back("symbol cache: not updated: ctags named '" + stray->file + "', a file it was not given");
  } else if (!changed.empty() || !gone.empty()) {
    auto write = [&]() -> result<void> {
      store::transaction tx(db);
      auto del_syms = db.prepare("DELETE FROM source_symbols WHERE repo = ?1 AND path = ?2");
      if (!del_syms) return tl::unexpected(del_syms.error());
      auto del_file = db.prepare("DELETE FROM source_symbol_files WHERE repo = ?1 AND path = ?2");
      if (!del_file) return tl::unexpected(del_file.error());
      auto put_file = db.prepare(
          "INSERT INTO source_symbol_files(repo, path, size, mtime_ns) VALUES (?1, ?2, ?3, ?4) "
          "ON CONFLICT(repo, path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns");
      if (!put_file) return tl::unexpected(put_file.error());
      auto put_sym = db.prepare(
          "INSERT INTO source_symbols(repo, path, name, scope, kind, language, line, end_line, end_scanned) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      if (!put_sym) return tl::unexpected(put_sym.error());
      auto drop = [&](const std::string& path) -> result<void> {
        del_syms->bind(1, *repo).bind(2, path);
        if (auto r = del_syms->exec(); !r) return r;
        del_file->bind(1, *repo).bind(2, path);
        return del_file->exec();
      };
      for (const auto& path : gone)
        if (auto r = drop(path); !r) return r;
      for (const auto& path : changed) {
        if (auto r = drop(path); !r) return r;
        const auto st = stamps.find(path);
        if (st == stamps.end()) continue;  // unreadable or too recent: indexed, not cached
        put_file->bind(1, *repo).bind(2, path).bind(3, st->second.size).bind(4, st->second.mtime_ns);
        if (auto r = put_file->exec(); !r) return r;
      }
      for (const auto& s : idx.symbols) {
        if (hits.contains(s.file) || !stamps.contains(s.file)) continue;
        put_sym->bind(1, *repo).bind(2, s.file).bind(3, s.name).bind(4, s.scope).bind(5, s.kind).bind(6, s.language)
            .bind(7, static_cast<std::int64_t>(s.line)).bind(8, static_cast<std::int64_t>(s.end_line))
            .bind(9, s.end_scanned ? 1 : 0);
        if (auto r = put_sym->exec(); !r) return r;
      }
      return tx.commit();
    };
    if (auto r = write(); !r) idx.warnings.push_back("symbol cache: not updated: " + r.error().detail);
  }
  detail::sort_symbols(idx.symbols);
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Everything
// ---------------------------------------------------------------------------------------------

struct codebase_options {
  ctags_options ctags{};
  history_options history{};
  bool use_ctags = true;  ///< false: always the built-in scanner
};

/// Index the repository at `root` (a git work tree). `cache` (may be null) keeps the history and
/// the ctags symbols of unchanged files (`index_symbols_cached`). Symbols are sorted by file, line,
/// name, scope, kind, with or without the cache.
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
  // Only regular files present in the work tree (a deleted-but-staged file has no text to index)
  // and inside it: a symlink that leaves the repository is never read, by us or by ctags.
  const std::vector<std::string> present = repository_files(root).filter(cb.files, &cb.warnings);
  if (!opts.use_ctags) cb.symbols = scan_symbols(root, present);
  else if (cache) cb.symbols = index_symbols_cached(root, present, *cache, opts.ctags);
  else cb.symbols = index_symbols(root, present, opts.ctags);
  if (!cache || !opts.use_ctags)
    cb.symbols.indexed_files = static_cast<std::size_t>(
        std::count_if(present.begin(), present.end(), [](const std::string& f) { return !language_of(f).empty(); }));
  detail::sort_symbols(cb.symbols.symbols);
  index_names(cb.symbols);
  cb.warnings.insert(cb.warnings.end(), cb.symbols.warnings.begin(), cb.symbols.warnings.end());
  cb.tests = index_tests(root, present, cb.warnings);
  cb.sequences = index_sequences(root, present, cb.warnings);
  cb.configs = index_configs(root, present, cb.sequences, cb.warnings);
  auto h = read_history(root, cache, opts.history);
  if (!h) return tl::unexpected(h.error());
  cb.git = std::move(*h);
  cb.warnings.insert(cb.warnings.end(), cb.git.warnings.begin(), cb.git.warnings.end());
  add_config_changes(root, cb.git, cb.sequences, cb.warnings);
  std::set<std::string> changed_keys;
  for (const auto& c : cb.git.commits)
    for (const auto& ch : c.config_changes)
      if (changed_keys.size() < 500) changed_keys.insert(ch.key);
  cb.config_uses = find_config_uses(root, present, cb.symbols, std::vector<std::string>(changed_keys.begin(), changed_keys.end()));
  return cb;
}

}  // namespace selfheal::source
