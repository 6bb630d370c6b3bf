#pragma once
/// \file
/// Just enough of CMake's language to register a generated C++ test: the commands of a
/// CMakeLists.txt (name, arguments, byte range), `set`/`list(APPEND)`/`file(GLOB...)` variables,
/// and the target whose sources name a given file. Pure: texts in, answers out. Nothing here runs
/// CMake; a CMakeLists we cannot read precisely (a target named by a variable, a file added inside a
/// function) yields "not found" and the caller says so instead of guessing.
///
/// ```cpp
/// auto cmds = selfheal::fix::cmake::parse(text);
/// auto where = selfheal::fix::cmake::find_target_of(texts, "tests/tax_tests.cpp");
/// if (where && where->glob.empty()) { /* append target_sources(where->target PRIVATE new.cpp) */ }
/// ```

#include <fnmatch.h>

#include <cctype>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace selfheal::fix::cmake {

/// One command invocation: `name(args...)`; `begin`/`end` are byte offsets of the whole call.
struct command {
  std::string name;  ///< lower-cased (CMake command names are case-insensitive)
  std::vector<std::string> args;
  std::size_t begin = 0, end = 0;
};

/// The commands of a CMake file. Comments (`#` lines and `#[[...]]`), quoted arguments with their
/// escapes, bracket arguments and nested parentheses are understood; variables are not expanded.
[[nodiscard]] inline std::vector<command> parse(std::string_view s) {
  std::vector<command> out;
  std::size_t i = 0;
  auto is_ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  auto skip_bracket = [&](std::size_t& p) -> bool {  // at '[': [[...]] or [=[...]=]
    std::size_t q = p + 1, eq = 0;
    while (q < s.size() && s[q] == '=') { ++q; ++eq; }
    if (q >= s.size() || s[q] != '[') return false;
    const std::string close = "]" + std::string(eq, '=') + "]";
    const auto e = s.find(close, q + 1);
    p = e == std::string_view::npos ? s.size() : e + close.size();
    return true;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '#') {
      std::size_t p = i + 1;
      if (p < s.size() && s[p] == '[' && skip_bracket(p)) { i = p; continue; }
      const auto e = s.find('\n', i);
      i = e == std::string_view::npos ? s.size() : e + 1;
      continue;
    }
    if (!is_ident(c)) { ++i; continue; }
    const std::size_t begin = i;
    while (i < s.size() && is_ident(s[i])) ++i;
    command cmd;
    for (std::size_t k = begin; k < i; ++k) cmd.name += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size() || s[i] != '(') continue;  // not a command (stray word): skip it
    ++i;
    int depth = 1;
    std::string arg;
    bool in_arg = false;
    auto flush = [&] {
      if (in_arg) cmd.args.push_back(arg);
      arg.clear();
      in_arg = false;
    };
    while (i < s.size() && depth > 0) {
      const char d = s[i];
      if (d == '"') {
        flush();
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) {
            const char n = s[i + 1];
            arg += n == 'n' ? '\n' : n == 't' ? '\t' : n;
            i += 2;
            continue;
          }
          arg += s[i++];
        }
        ++i;
        in_arg = true;
        flush();
        continue;
      }
      if (d == '#') {
        flush();
        std::size_t p = i + 1;
        if (p < s.size() && s[p] == '[' && skip_bracket(p)) { i = p; continue; }
        const auto e = s.find('\n', i);
        i = e == std::string_view::npos ? s.size() : e + 1;
        continue;
      }
      if (d == '[' && !in_arg) {
        std::size_t p = i;
        const std::size_t q0 = i;
        if (skip_bracket(p)) {
          std::size_t q = q0 + 1;
          while (s[q] == '=') ++q;
          const std::size_t eq = q - q0 - 1;
          const std::size_t body = q + 1;
          const std::size_t body_end = p >= body + eq + 2 ? p - eq - 2 : body;
          cmd.args.emplace_back(s.substr(body, body_end - body));
          i = p;
          continue;
        }
      }
      if (d == '(') { ++depth; flush(); ++i; continue; }
      if (d == ')') {
        if (--depth == 0) { flush(); ++i; break; }
        flush();
        ++i;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(d))) { flush(); ++i; continue; }
      arg += d;
      in_arg = true;
      ++i;
    }
    cmd.begin = begin;
    cmd.end = i;
    out.push_back(std::move(cmd));
  }
  return out;
}

/// `dir` joined with `rel`, normalised (`a/./b`, `a/x/../b`); "" for the repository root.
[[nodiscard]] inline std::string join(std::string_view dir, std::string_view rel) {
  std::vector<std::string> parts;
  auto push = [&](std::string_view p) {
    std::size_t b = 0;
    while (b <= p.size()) {
      const auto e = std::min(p.find('/', b), p.size());
      const auto comp = p.substr(b, e - b);
      if (comp == "..") {
        if (!parts.empty()) parts.pop_back();
      } else if (!comp.empty() && comp != ".") {
        parts.emplace_back(comp);
      }
      b = e + 1;
    }
  };
  push(dir);
  push(rel);
  std::string o;
  for (const auto& p : parts) o += (o.empty() ? "" : "/") + p;
  return o;
}

/// The folder of a repository path ("" at the root).
[[nodiscard]] inline std::string dir_of(std::string_view path) {
  const auto s = path.rfind('/');
  return s == std::string_view::npos ? std::string{} : std::string(path.substr(0, s));
}

/// A source argument resolved to a repository path, or nullopt when it names something we cannot
/// resolve (a variable other than the source-dir ones, a generator expression).
[[nodiscard]] inline std::optional<std::string> resolve_source(std::string_view arg, std::string_view cmake_dir) {
  for (std::string_view cur : {"${CMAKE_CURRENT_SOURCE_DIR}", "${CMAKE_CURRENT_LIST_DIR}"})
    if (arg.starts_with(cur)) return join(cmake_dir, arg.substr(cur.size()));
  for (std::string_view top : {"${PROJECT_SOURCE_DIR}", "${CMAKE_SOURCE_DIR}"})
    if (arg.starts_with(top)) return join("", arg.substr(top.size()));
  if (arg.find('$') != std::string_view::npos || arg.find('<') != std::string_view::npos || arg.starts_with("/")) return std::nullopt;
  return join(cmake_dir, arg);
}

/// Whether the repository path `file` is matched by the `file(GLOB[_RECURSE])` pattern `pattern`
/// (already resolved to a repository path).
[[nodiscard]] inline bool glob_matches(std::string_view pattern, std::string_view file, bool recurse) {
  const std::string pat(pattern), f(file);
  if (!recurse) return ::fnmatch(pat.c_str(), f.c_str(), FNM_PATHNAME) == 0;
  // GLOB_RECURSE: the pattern's folder, then any depth, then the file-name pattern.
  const auto pdir = dir_of(pattern);
  const auto pbase = pattern.substr(pdir.empty() ? 0 : pdir.size() + 1);
  const auto fdir = dir_of(file);
  const auto fbase = file.substr(fdir.empty() ? 0 : fdir.size() + 1);
  const bool dir_ok = pdir.empty() || fdir == pdir || fdir.starts_with(pdir + "/") ||
                      ::fnmatch(pdir.c_str(), fdir.substr(0, std::min(fdir.size(), fdir.find('/', pdir.size()))).c_str(), FNM_PATHNAME) == 0;
  return dir_ok && ::fnmatch(std::string(pbase).c_str(), std::string(fbase).c_str(), 0) == 0;
}

/// Where a test source is built: the CMakeLists that names it, the target, and the glob that
/// picks it up (when the target's sources come from one).
struct target_site {
  std::string cmake_file;  ///< repository path of the CMakeLists.txt
  std::string target;      ///< literal target name ("" when only a glob was found)
  std::string glob;        ///< the matching pattern (repository path) when sources come from file(GLOB...)
  bool recurse = false;
};

namespace detail {

struct globbed {
  std::string pattern;
  bool recurse = false;
};

/// The variables of one CMake file: each name's values (set / list(APPEND)) and globs.
struct variables {
  std::map<std::string, std::vector<std::string>> values;
  std::map<std::string, std::vector<globbed>> globs;
};

inline void expand(std::string_view arg, const variables& vars, std::vector<std::string>& out, std::vector<globbed>& globs, int depth = 0) {
  if (arg.size() > 3 && arg.starts_with("${") && arg.ends_with("}") && arg.find('$', 1) == std::string_view::npos && depth < 8) {
    const std::string name(arg.substr(2, arg.size() - 3));
    if (auto g = vars.globs.find(name); g != vars.globs.end()) globs.insert(globs.end(), g->second.begin(), g->second.end());
    if (auto v = vars.values.find(name); v != vars.values.end())
      for (const auto& x : v->second) expand(x, vars, out, globs, depth + 1);
    return;
  }
  out.emplace_back(arg);
}

}  // namespace detail

/// The site that builds `file` among the CMake files `texts` (path → text): the first
/// `add_executable`/`target_sources` naming it literally (or through a `set` variable), else the
/// first target whose sources come from a `file(GLOB...)` matching it, else any matching glob.
template <class Texts>
[[nodiscard]] std::optional<target_site> find_target_of(const Texts& texts, std::string_view file) {
  std::optional<target_site> by_glob, loose_glob;
  for (const auto& [path, text] : texts) {
    const std::string_view p(path);
    if (!(p == "CMakeLists.txt" || p.ends_with("/CMakeLists.txt"))) continue;
    const auto dir = dir_of(p);
    detail::variables vars;
    for (const auto& cmd : parse(text)) {
      const auto& a = cmd.args;
      if (cmd.name == "set" && !a.empty()) {
        std::vector<std::string> vals(a.begin() + 1, a.end());
        while (!vals.empty() && (vals.back() == "PARENT_SCOPE" || vals.back() == "CACHE")) vals.pop_back();
        vars.values[a[0]] = std::move(vals);
      } else if (cmd.name == "list" && a.size() >= 2 && a[0] == "APPEND") {
        auto& v = vars.values[a[1]];
        v.insert(v.end(), a.begin() + 2, a.end());
      } else if (cmd.name == "file" && a.size() >= 3 && (a[0] == "GLOB" || a[0] == "GLOB_RECURSE")) {
        std::string relative = dir;
        auto& gs = vars.globs[a[1]];
        gs.clear();
        for (std::size_t k = 2; k < a.size(); ++k) {
          if (a[k] == "CONFIGURE_DEPENDS" || a[k] == "LIST_DIRECTORIES" || a[k] == "FOLLOW_SYMLINKS") {
            if (a[k] == "LIST_DIRECTORIES") ++k;
            continue;
          }
          if (a[k] == "RELATIVE") { ++k; continue; }
          if (auto r = resolve_source(a[k], dir)) gs.push_back({*r, a[0] == "GLOB_RECURSE"});
        }
        // A glob consumed through a loop (`foreach(t ${TESTS}) add_executable(...)`) is still the
        // way files reach a target: remember it as a weaker match.
        for (const auto& g : gs)
          if (!loose_glob && glob_matches(g.pattern, file, g.recurse)) loose_glob = target_site{std::string(p), {}, g.pattern, g.recurse};
      } else if ((cmd.name == "add_executable" || cmd.name == "target_sources") && a.size() >= 2) {
        std::vector<std::string> srcs;
        std::vector<detail::globbed> globs;
        for (std::size_t k = 1; k < a.size(); ++k) {
          if (a[k] == "PRIVATE" || a[k] == "PUBLIC" || a[k] == "INTERFACE" || a[k] == "WIN32" || a[k] == "MACOSX_BUNDLE" ||
              a[k] == "EXCLUDE_FROM_ALL")
            continue;
          detail::expand(a[k], vars, srcs, globs);
        }
        const bool literal_target = a[0].find('$') == std::string::npos;
        for (const auto& s : srcs)
          if (auto r = resolve_source(s, dir); r && *r == file)
            return target_site{std::string(p), literal_target ? a[0] : std::string{}, {}, false};
        for (const auto& g : globs)
          if (!by_glob && glob_matches(g.pattern, file, g.recurse))
            by_glob = target_site{std::string(p), literal_target ? a[0] : std::string{}, g.pattern, g.recurse};
      }
    }
  }
  return by_glob ? by_glob : loose_glob;
}

}  // namespace selfheal::fix::cmake
