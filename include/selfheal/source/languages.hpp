#pragma once
/// \file
/// Kinds of repository files by name: the language of a source file, test files by the usual
/// conventions, configuration formats, and which names ctags can take verbatim.

#include <cctype>
#include <string>
#include <string_view>

namespace selfheal::source {

namespace detail {
inline std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}
}  // namespace detail

/// The language of a source file by its extension; "" when not one we index.
[[nodiscard]] inline std::string language_of(std::string_view path) {
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string ext(path.substr(dot + 1));
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "c") return "C";
  if (ext == "h" || ext == "hpp" || ext == "hh" || ext == "hxx" || ext == "cpp" || ext == "cc" ||
      ext == "cxx" || ext == "ipp")
    return "C++";
  if (ext == "js" || ext == "mjs" || ext == "cjs" || ext == "jsx") return "JavaScript";
  if (ext == "ts" || ext == "tsx" || ext == "mts" || ext == "cts") return "TypeScript";
  if (ext == "py") return "Python";
  if (ext == "go") return "Go";
  if (ext == "java") return "Java";
  return {};
}

/// True for paths that hold tests by the usual conventions of the six languages.
[[nodiscard]] inline bool is_test_path(std::string_view path) {
  std::string p(path);
  for (auto& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto slash = p.rfind('/');
  const std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  const std::string dir = "/" + (slash == std::string::npos ? std::string{} : p.substr(0, slash + 1));
  if (dir.find("/test/") != std::string::npos || dir.find("/tests/") != std::string::npos ||
      dir.find("/__tests__/") != std::string::npos || dir.find("/spec/") != std::string::npos)
    return true;
  if (base.starts_with("test_") && base.ends_with(".py")) return true;
  for (std::string_view m : {"_test.", ".test.", ".spec.", "_spec.", ".tests."})
    if (base.find(m) != std::string::npos) return true;
  if (base.ends_with("test.java") || base.ends_with("tests.java")) return true;
  return false;
}

/// Config format by extension: "yaml", "toml", "ini", "json", "env" (dotenv: `.env`, `.env.prod`,
/// `x.env`) or "".
[[nodiscard]] inline std::string config_format(std::string_view path) {
  const std::string p = detail::lower(path);
  {
    const auto slash = p.rfind('/');
    const std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
    if (base == ".env" || base.starts_with(".env.") || (base.size() > 4 && base.ends_with(".env"))) return "env";
  }
  if (p.ends_with(".yaml") || p.ends_with(".yml")) return "yaml";
  if (p.ends_with(".toml")) return "toml";
  if (p.ends_with(".ini") || p.ends_with(".cfg") || p.ends_with(".conf") || p.ends_with(".properties")) return "ini";
  if (p.ends_with(".json") && !p.ends_with("package-lock.json") && !p.ends_with("tsconfig.json") &&
      !p.ends_with("composer.lock"))
    return "json";
  return {};
}

/// True when ctags can be given `file` in its `-L` list and name it back verbatim in its JSON:
/// no control bytes (a newline would split the entry), valid UTF-8 (ctags drops a `path` it cannot
/// encode), no trailing blank (ctags trims it). Other files are indexed by the built-in scanner.
[[nodiscard]] inline bool ctags_can_name(std::string_view file) {
  if (file.empty() || file.back() == ' ' || file.back() == '\t') return false;
  for (std::size_t i = 0; i < file.size();) {
    const auto c = static_cast<unsigned char>(file[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x80) { ++i; continue; }
    std::size_t n = 0;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) n = 2;
    else if (c >= 0xf0 && c <= 0xf4) n = 3;
    else return false;
    if (i + n >= file.size()) return false;
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(file[i + k]) & 0xc0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace selfheal::source
