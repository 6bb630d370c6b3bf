#pragma once
/// \file
/// Path confinement and the syntax check of every file a patch changes.
///
/// `confine_edits` refuses a path that is absolute, has a `..`, `.`, empty or `.git` component, a
/// backslash or a control character, or passes through (or is) a symlink of the base tree — the
/// patch can only touch files inside the repository.
///
/// `check_syntax` parses each changed file: TOML, YAML, JSON and .env in process; every Python file
/// of the patch with `compile()` in ONE `python3` process (what py_compile does, without a process
/// per file), JavaScript with `node --check`, C and C++ with the compiler's `-fsyntax-only` and the
/// flags of `compile_commands.json` when the repository (or a build folder in it) has one, else
/// `c++ -std=c++20 -I<include folders>`. Each run with argv, a time limit, its own process group and
/// closed stdin, on a copy of the changed files in a private temporary folder (never next to the
/// user's files). Other files are listed with tool "none". A missing interpreter or compiler is
/// reported as not ok with the reason.

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "selfheal/core/process.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/temp_folder.hpp"
#include "selfheal/fix/cmake.hpp"
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

/// The scratch folder of one syntax check.
class scratch_dir : public selfheal::temp_folder {
 public:
  scratch_dir() : temp_folder("selfheal-syntax") {}
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

/// C and C++ sources and headers (what `-fsyntax-only` checks).
[[nodiscard]] inline bool is_c_family(std::string_view path) {
  for (std::string_view e : {".c", ".cc", ".cpp", ".cxx", ".c++", ".h", ".hh", ".hpp", ".hxx", ".h++", ".ipp", ".inl"})
    if (path.ends_with(e)) return true;
  return false;
}

/// How to compile one file for a syntax check: compiler, flags (no source, no output, no -Werror;
/// include paths absolute) and where they came from.
struct compile_flags {
  std::string compiler;
  std::vector<std::string> args;
  std::string source;  ///< "compile_commands.json (<path>)" or "no compile_commands.json"
  bool from_database = false;
};

namespace detail {

/// Shell-like split of a compile_commands.json "command" (quotes and backslashes).
inline std::vector<std::string> split_command(std::string_view cmd) {
  std::vector<std::string> out;
  std::string cur;
  bool in = false;
  char q = 0;
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    const char c = cmd[i];
    if (q) {
      if (c == q) q = 0;
      else if (c == '\\' && q == '"' && i + 1 < cmd.size()) cur += cmd[++i];
      else cur += c;
      continue;
    }
    if (c == '"' || c == '\'') { q = c; in = true; continue; }
    if (c == '\\' && i + 1 < cmd.size()) { cur += cmd[++i]; in = true; continue; }
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in) out.push_back(std::move(cur));
      cur.clear();
      in = false;
      continue;
    }
    cur += c;
    in = true;
  }
  if (in) out.push_back(std::move(cur));
  return out;
}

struct compile_entry {
  std::filesystem::path directory;
  std::filesystem::path file;  ///< absolute, normalised
  std::vector<std::string> argv;
};

/// The compile database of the repository: `compile_commands.json` at its root, in a folder at
/// its root (`build/`), or one level below a build folder (`build/debug/`). Read from disk: build
/// folders are rarely tracked.
inline std::pair<std::vector<compile_entry>, std::filesystem::path> load_compile_commands(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> candidates{root / "compile_commands.json"};
  std::error_code ec;
  if (!root.empty())
    for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_directory(ec) || it->is_symlink(ec) || it->path().filename() == ".git") continue;
      candidates.push_back(it->path() / "compile_commands.json");
      const auto name = it->path().filename().string();
      if (name.starts_with("build") || name.starts_with("out") || name.starts_with("cmake-build"))
        for (std::filesystem::directory_iterator jt(it->path(), ec), jend; !ec && jt != jend; jt.increment(ec))
          if (jt->is_directory(ec)) candidates.push_back(jt->path() / "compile_commands.json");
      ec.clear();
    }
  std::sort(candidates.begin() + 1, candidates.end());
  for (const auto& c : candidates) {
    if (!std::filesystem::is_regular_file(c, ec)) continue;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.load(c.string()).get(doc) != simdjson::SUCCESS) continue;
    simdjson::dom::array entries;
    if (doc.get(entries) != simdjson::SUCCESS) continue;
    std::vector<compile_entry> out;
    for (auto e : entries) {
      compile_entry ce;
      std::string_view sv;
      if (e["directory"].get(sv) == simdjson::SUCCESS) ce.directory = std::string(sv);
      if (e["file"].get(sv) != simdjson::SUCCESS) continue;
      ce.file = (ce.directory / std::string(sv)).lexically_normal();
      simdjson::dom::array args;
      if (e["arguments"].get(args) == simdjson::SUCCESS) {
        for (auto a : args)
          if (a.get(sv) == simdjson::SUCCESS) ce.argv.emplace_back(sv);
      } else if (e["command"].get(sv) == simdjson::SUCCESS) {
        ce.argv = split_command(sv);
      }
      if (!ce.argv.empty()) out.push_back(std::move(ce));
    }
    if (!out.empty()) return {std::move(out), c};
  }
  return {};
}

/// A compiler we run by name: cc/c++/gcc/g++/clang/clang++ with an optional version suffix.
inline bool known_compiler(std::string_view argv0) {
  const auto slash = argv0.rfind('/');
  std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  for (std::string_view name : {"clang++", "clang", "g++", "gcc", "c++", "cc"})
    if (base.starts_with(name)) {
      const auto rest = base.substr(name.size());
      if (rest.empty() || (rest.front() == '-' && rest.size() > 1 &&
                           std::all_of(rest.begin() + 1, rest.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; })))
        return true;
    }
  return false;
}

}  // namespace detail

/// The flags to check `rel` (a repository path) with: its entry in the compile database, else an
/// entry of the same folder, else the first entry; without a database, `c++ -std=c++20` (`cc` for
/// .c) with the repository's `include/` folders and its root on the include path.
[[nodiscard]] inline compile_flags flags_for(const std::vector<detail::compile_entry>& db, const std::filesystem::path& db_path,
                                             const repo_view& repo, std::string_view rel) {
  compile_flags out;
  const bool c_source = rel.ends_with(".c");
  const auto abs = (repo.root / std::string(rel)).lexically_normal();
  const detail::compile_entry* pick = nullptr;
  for (const auto& e : db)
    if (e.file == abs) { pick = &e; break; }
  if (!pick)
    for (const auto& e : db)
      if (e.file.parent_path() == abs.parent_path() && (e.file.extension() == ".c") == c_source) { pick = &e; break; }
  if (!pick)
    for (const auto& e : db)
      if ((e.file.extension() == ".c") == c_source) { pick = &e; break; }
  if (pick) {
    out.from_database = true;
    out.source = "compile_commands.json (" + db_path.string() + ")";
    std::size_t k = 0;
    const auto& a = pick->argv;
    if (k < a.size() && (a[k].ends_with("ccache") || a[k].ends_with("sccache") || a[k].ends_with("distcc"))) ++k;
    out.compiler = k < a.size() && detail::known_compiler(a[k]) ? a[k] : (c_source ? "cc" : "c++");
    ++k;
    const std::string file_arg = pick->file.string();
    for (; k < a.size(); ++k) {
      const std::string& x = a[k];
      if (x == "-c" || x == "-MD" || x == "-MMD" || x == "-M" || x == "-MM" || x == "-MP" || x == "-Werror" || x.starts_with("-Werror=") ||
          x == "--")
        continue;
      if (x == "-o" || x == "-MF" || x == "-MT" || x == "-MQ") { ++k; continue; }
      if (x.starts_with("-o") && x.size() > 2) continue;
      if (!x.starts_with("-") && ((pick->directory / x).lexically_normal().string() == file_arg || x == file_arg)) continue;
      bool path_flag = false;
      for (std::string_view f : {"-I", "-isystem", "-iquote", "-idirafter", "-include"}) {
        if (x == f && k + 1 < a.size()) {
          out.args.push_back(x);
          const std::filesystem::path p = a[++k];
          out.args.push_back((p.is_absolute() ? p : pick->directory / p).lexically_normal().string());
          path_flag = true;
          break;
        }
        if (f == "-I" && x.starts_with(f) && x.size() > 2) {
          const std::filesystem::path p = x.substr(2);
          out.args.push_back("-I" + (p.is_absolute() ? p : pick->directory / p).lexically_normal().string());
          path_flag = true;
          break;
        }
      }
      if (!path_flag) out.args.push_back(x);
    }
    return out;
  }
  out.source = "no compile_commands.json";
  out.compiler = c_source ? "cc" : "c++";
  if (!c_source) out.args.push_back("-std=c++20");
  std::vector<std::string> dirs;
  for (const auto& f : repo.files) {
    // The first `include` folder on the file's path (`include/shop/pricing.hpp` → `include`).
    const std::string_view p(f.path);
    std::string d;
    if (p.starts_with("include/")) d = "include";
    else if (const auto at = p.find("/include/"); at != std::string_view::npos) d = std::string(p.substr(0, at + 8));
    if (!d.empty() && std::find(dirs.begin(), dirs.end(), d) == dirs.end() && dirs.size() < 32) dirs.push_back(std::move(d));
  }
  for (const auto& d : dirs) out.args.push_back("-I" + (repo.root / d).string());
  out.args.push_back("-I" + repo.root.string());
  return out;
}

namespace detail {

/// The message of a checker with the scratch copy's path replaced by the repository path.
inline std::string name_repo_path(std::string msg, const std::string& scratch_file, const std::string& rel) {
  for (auto pos = msg.find(scratch_file); pos != std::string::npos; pos = msg.find(scratch_file, pos + rel.size()))
    msg.replace(pos, scratch_file.size(), rel);
  return msg;
}

/// Every changed Python file compiled by ONE interpreter (`compile()` is what py_compile runs);
/// each failure is written as \x1e<index>\x1f<message>.
inline constexpr const char* python_checker =
    "import sys\n"
    "for i, p in enumerate(sys.argv[1:]):\n"
    "    try:\n"
    "        with open(p, 'rb') as f:\n"
    "            compile(f.read(), p, 'exec', dont_inherit=True)\n"
    "    except Exception as e:\n"
    "        import traceback\n"
    "        sys.stdout.write('\\x1e%d\\x1f%s' % (i, ''.join(traceback.format_exception_only(type(e), e))))\n";

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
  process_options opts;
  opts.cwd = scratch.path();
  opts.timeout = timeout;
  opts.env = {{"PYTHONDONTWRITEBYTECODE", "1"}};
  // package.json decides whether .js files are ES modules for node --check.
  if (const auto* pkg = repo.text("package.json"); pkg && !scratch.path().empty()) write_copy("package.json", *pkg);
  std::vector<std::pair<std::size_t, std::filesystem::path>> python, cpp;  // (index in out, scratch copy)
  for (const auto& e : edits) {
    if (!e.after) continue;
    syntax_check c;
    c.path = e.path;
    const auto fmt = config_format_of(e.path);
    const auto lang = e.path.ends_with(".py") ? 1 : (e.path.ends_with(".js") || e.path.ends_with(".mjs") || e.path.ends_with(".cjs")) ? 2
                      : is_c_family(e.path)                                                                                    ? 3
                                                                                                                               : 0;
    if (fmt != config_format::none) {
      c.tool = fmt == config_format::toml ? "toml++" : fmt == config_format::yaml ? "yaml-cpp" : fmt == config_format::json ? "json" : "env";
      auto r = check_config_syntax(*e.after, fmt, e.path);
      c.ok = static_cast<bool>(r);
      if (!r) c.message = r.error().detail;
    } else if (lang != 0) {
      c.tool = lang == 1 ? "python3 compile()" : lang == 2 ? "node --check" : "-fsyntax-only";
      if (scratch.path().empty()) {
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
      if (lang == 1) { python.emplace_back(out.size(), file); out.push_back(std::move(c)); continue; }
      if (lang == 3) { cpp.emplace_back(out.size(), file); out.push_back(std::move(c)); continue; }
      auto r = run_process({"node", "--check", file.string()}, opts);
      if (!r) {
        c.ok = false;
        c.message = r.error().detail;
      } else {
        c.ok = r->ok();
        if (!c.ok) c.message = detail::first_lines(detail::name_repo_path(r->err.empty() ? r->out : r->err, file.string(), e.path));
      }
    } else {
      c.tool = "none";
      c.ok = true;
      c.message = "no syntax checker for this file type";
    }
    out.push_back(std::move(c));
  }
  if (!python.empty()) {
    // -I -S: no site-packages (.pth files), no user environment: compile() needs only the interpreter.
    std::vector<std::string> argv{"python3", "-I", "-S", "-c", detail::python_checker};
    for (const auto& [i, f] : python) argv.push_back(f.string());
    auto r = run_process(argv, opts);
    for (const auto& [i, f] : python) {
      out[i].ok = r && r->ok();
      if (!r) out[i].message = r.error().detail;
      else if (!r->ok()) out[i].message = detail::first_lines(r->err.empty() ? r->out : r->err);
    }
    if (r && r->ok())
      for (std::size_t p = r->out.find('\x1e'); p != std::string::npos; p = r->out.find('\x1e', p + 1)) {
        const auto sep = r->out.find('\x1f', p);
        if (sep == std::string::npos) break;
        const auto idx = static_cast<std::size_t>(std::strtoul(r->out.c_str() + p + 1, nullptr, 10));
        if (idx >= python.size()) continue;
        const auto end = r->out.find('\x1e', sep);
        auto& c = out[python[idx].first];
        c.ok = false;
        c.message = detail::first_lines(detail::name_repo_path(r->out.substr(sep + 1, end == std::string::npos ? std::string::npos : end - sep - 1),
                                                               python[idx].second.string(), c.path));
      }
  }
  if (!cpp.empty()) {
    // Changed headers shadow the repository's: the scratch copy of every include folder inside the
    // repository comes first, and the changed file's own folder in the repository after its copy.
    const auto [db, db_path] = detail::load_compile_commands(repo.root);
    for (const auto& [i, file] : cpp) {
      auto& c = out[i];
      const auto flags = flags_for(db, db_path, repo, c.path);
      std::vector<std::string> argv{flags.compiler, "-fsyntax-only"};
      const bool header = !(c.path.ends_with(".c") || c.path.ends_with(".cc") || c.path.ends_with(".cpp") || c.path.ends_with(".cxx") ||
                            c.path.ends_with(".c++"));
      const std::string root = repo.root.lexically_normal().string();
      for (std::size_t k = 0; k < flags.args.size(); ++k) {
        const auto& x = flags.args[k];
        std::string dir;
        if ((x == "-I" || x == "-iquote" || x == "-isystem") && k + 1 < flags.args.size()) dir = flags.args[k + 1];
        else if (x.starts_with("-I") && x.size() > 2) dir = x.substr(2);
        if (!dir.empty() && (dir == root || dir.starts_with(root + "/")))
          argv.push_back("-I" + (scratch.path() / std::filesystem::path(dir).lexically_relative(root)).lexically_normal().string());
      }
      argv.push_back("-iquote");
      argv.push_back((repo.root / cmake::dir_of(c.path)).lexically_normal().string());
      argv.insert(argv.end(), flags.args.begin(), flags.args.end());
      if (header) {
        const bool c_header = c.path.ends_with(".h") && flags.compiler.find("++") == std::string::npos && flags.compiler != "c++";
        argv.push_back("-x");
        argv.push_back(c_header ? "c-header" : "c++-header");
      }
      argv.push_back(file.string());
      c.tool = flags.compiler + " -fsyntax-only (" + flags.source + ")";
      auto r = run_process(argv, opts);
      if (!r) {
        c.ok = false;
        c.message = r.error().detail;
        continue;
      }
      c.ok = r->ok();
      if (c.ok) continue;
      c.message = detail::first_lines(detail::name_repo_path(r->err.empty() ? r->out : r->err, file.string(), c.path));
      // Without the build's flags a header the build would provide (a fetched dependency) may be
      // missing: that is not a syntax error of the patch, so say it was not checked.
      if (!flags.from_database && (c.message.find("No such file or directory") != std::string::npos ||
                                   c.message.find("file not found") != std::string::npos)) {
        c.ok = true;
        c.message = "not checked: an include was not found without compile_commands.json (" + c.message + ")";
      }
    }
  }
  return out;
}

}  // namespace selfheal::fix
