#pragma once
/// \file
/// Path confinement and the syntax check of every file a patch changes.
///
/// `confine_edits` refuses a path that is absolute, has a `..`, `.`, empty or `.git` component, a
/// backslash or a control character, or passes through (or is) a symlink of the base tree — the
/// patch can only touch files inside the repository.
///
/// `check_syntax` parses each changed file: TOML, YAML, JSON and .env in process; Python with
/// `python3 -m py_compile`, JavaScript with `node --check`, each run with argv, a time limit, its own
/// process group and closed stdin, on a copy of the changed files in a private temporary folder
/// (py_compile writes `__pycache__/`: never next to the user's files). Other files are listed with
/// tool "none". A missing interpreter is reported as not ok with the reason.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "selfheal/core/process.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/fix/config_edit.hpp"
#include "selfheal/fix/edits.hpp"
#include "selfheal/fix/input.hpp"
#include "selfheal/fix/model.hpp"

namespace selfheal::fix {

/// Why `path` may not be written by a patch, or empty when it may.
[[nodiscard]] inline std::string path_refusal(std::string_view path, const repo_view& repo) {
  if (path.empty()) return "an empty path";
  if (path.front() == '/') return "'" + std::string(path) + "' is absolute";
  for (char c : path) {
    if (c == '\\') return "'" + std::string(path) + "' has a backslash";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "a path with a control character";
  }
  std::size_t p = 0;
  std::string prefix;
  while (true) {
    const auto n = path.find('/', p);
    const std::string_view comp = path.substr(p, n == std::string_view::npos ? std::string_view::npos : n - p);
    if (comp.empty() || comp == "." || comp == "..") return "'" + std::string(path) + "' leaves or escapes the repository";
    std::string lower(comp);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == ".git") return "'" + std::string(path) + "' is inside .git/";
    prefix += (prefix.empty() ? "" : "/") + std::string(comp);
    if (repo.is_symlink(prefix)) return "'" + std::string(path) + "' goes through the symlink '" + prefix + "'";
    if (n == std::string_view::npos) break;
    p = n + 1;
  }
  // A symlink on disk that git does not track (e.g. created by a build) is also refused.
  if (!repo.root.empty()) {
    std::error_code ec;
    std::filesystem::path acc = repo.root;
    std::size_t q = 0;
    while (q <= path.size()) {
      const auto n = path.find('/', q);
      acc /= std::string(path.substr(q, n == std::string_view::npos ? std::string_view::npos : n - q));
      if (std::filesystem::is_symlink(acc, ec)) return "'" + std::string(path) + "' goes through a symlink on disk";
      if (n == std::string_view::npos) break;
      q = n + 1;
    }
  }
  return {};
}

/// Every edit's path confined to the repository, or `errc::policy_denied` naming the first that is not.
[[nodiscard]] inline result<void> confine_edits(const std::vector<file_edit>& edits, const repo_view& repo) {
  for (const auto& e : edits)
    if (auto why = path_refusal(e.path, repo); !why.empty()) return fail(errc::policy_denied, "patch refused: " + why);
  return {};
}

namespace detail {

class scratch_dir {
 public:
  scratch_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "selfheal-syntax-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string first_lines(std::string s, std::size_t max_lines = 6) {
  std::size_t p = 0;
  for (std::size_t i = 0; i < max_lines; ++i) {
    p = s.find('\n', p);
    if (p == std::string::npos) break;
    ++p;
  }
  if (p != std::string::npos && p < s.size()) s.resize(p);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace detail

/// The syntax check of every edit that leaves a file behind (deleted files are not checked).
/// `timeout` bounds each checker process.
[[nodiscard]] inline std::vector<syntax_check> check_syntax(const std::vector<file_edit>& edits, const repo_view& repo,
                                                            std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
  std::vector<syntax_check> out;
  detail::scratch_dir scratch;
  auto write_copy = [&](const std::string& rel, const std::string& text) -> std::filesystem::path {
    const auto p = scratch.path() / rel;
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  };
  // package.json decides whether .js files are ES modules for node --check.
  if (const auto* pkg = repo.text("package.json"); pkg && !scratch.path().empty()) write_copy("package.json", *pkg);
  for (const auto& e : edits) {
    if (!e.after) continue;
    syntax_check c;
    c.path = e.path;
    const auto fmt = config_format_of(e.path);
    const auto lang = e.path.ends_with(".py") ? 1 : (e.path.ends_with(".js") || e.path.ends_with(".mjs") || e.path.ends_with(".cjs")) ? 2 : 0;
    if (fmt != config_format::none) {
      c.tool = fmt == config_format::toml ? "toml++" : fmt == config_format::yaml ? "yaml-cpp" : fmt == config_format::json ? "json" : "env";
      auto r = check_config_syntax(*e.after, fmt, e.path);
      c.ok = static_cast<bool>(r);
      if (!r) c.message = r.error().detail;
    } else if (lang != 0) {
      if (scratch.path().empty()) {
        c.tool = lang == 1 ? "python3 -m py_compile" : "node --check";
        c.message = "no temporary folder for the check";
        out.push_back(std::move(c));
        continue;
      }
      std::string rel = e.path;
      // node --check reads `import` only in a module: an ES-module .js outside a "type": "module"
      // package is checked as .mjs.
      if (lang == 2 && e.path.ends_with(".js")) {
        const auto* pkg = repo.text("package.json");
        const bool pkg_module = pkg && pkg->find("\"type\"") != std::string::npos && pkg->find("\"module\"") != std::string::npos;
        const bool esm = e.after->find("import ") != std::string::npos || e.after->find("export ") != std::string::npos;
        if (esm && !pkg_module) rel += ".mjs";
      }
      const auto file = write_copy(rel, *e.after);
      std::vector<std::string> argv = lang == 1 ? std::vector<std::string>{"python3", "-m", "py_compile", file.string()}
                                                : std::vector<std::string>{"node", "--check", file.string()};
      c.tool = lang == 1 ? "python3 -m py_compile" : "node --check";
      process_options opts;
      opts.cwd = scratch.path();
      opts.timeout = timeout;
      opts.env = {{"PYTHONDONTWRITEBYTECODE", std::nullopt}};
      auto r = run_process(argv, opts);
      if (!r) {
        c.ok = false;
        c.message = r.error().detail;
      } else {
        c.ok = r->ok();
        if (!c.ok) {
          std::string msg = r->err.empty() ? r->out : r->err;
          // Name the repository path, not the scratch copy.
          for (auto pos = msg.find(file.string()); pos != std::string::npos; pos = msg.find(file.string(), pos))
            msg.replace(pos, file.string().size(), e.path);
          c.message = detail::first_lines(msg);
        }
      }
    } else {
      c.tool = "none";
      c.ok = true;
      c.message = "no syntax checker for this file type";
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace selfheal::fix
