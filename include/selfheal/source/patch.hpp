#pragma once
/// \file
/// Unified diffs as data: the files a patch touches, its hunks, additions and deletions, the new-side
/// lines it changes (for coverage of changed lines), and the rule that a patch stays inside the
/// repository. Pure: `confine_paths` alone looks at the file system (for symlinks).
///
/// ```cpp
/// auto p = selfheal::source::parse_patch(diff_text);          // result<patch_view-free data>
/// for (const auto& f : p->files) std::printf("%s +%zu -%zu\n", f.path.c_str(), f.additions, f.deletions);
/// if (auto ok = selfheal::source::confine_paths(*p, repo_root); !ok) ...  // "patch path '../x' leaves …"
/// ```

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "selfheal/core/result.hpp"

namespace selfheal::source {

struct patch_hunk {
  std::uint32_t old_start = 0, old_lines = 0, new_start = 0, new_lines = 0;
  std::vector<std::string> lines;  ///< the body, each with its ' ', '-', '+' or '\\' prefix, no newline
};

struct patch_file {
  std::string old_path;  ///< "" for a new file (`/dev/null`)
  std::string new_path;  ///< "" for a deleted file
  std::string path;      ///< new_path, or old_path when deleted
  std::size_t additions = 0, deletions = 0;
  bool binary = false;
  std::vector<patch_hunk> hunks;
  std::vector<std::uint32_t> changed_lines;  ///< new-side line numbers added or changed, ascending
};

struct patch {
  std::vector<patch_file> files;
  [[nodiscard]] std::size_t changed_lines() const noexcept {
    std::size_t n = 0;
    for (const auto& f : files) n += f.additions + f.deletions;
    return n;
  }
};

namespace detail {

inline std::string_view strip_prefix_path(std::string_view p) {
  // "a/src/x.py" → "src/x.py"; a tab ends a path in some diff producers ("+++ b/x\t2025-…").
  if (const auto tab = p.find('\t'); tab != std::string_view::npos) p = p.substr(0, tab);
  while (!p.empty() && (p.back() == '\r' || p.back() == ' ')) p.remove_suffix(1);
  if (p == "/dev/null") return {};
  if (p.size() > 2 && (p[0] == 'a' || p[0] == 'b') && p[1] == '/') p.remove_prefix(2);
  return p;
}

inline bool parse_range(std::string_view s, std::uint32_t& start, std::uint32_t& count) {
  std::size_t i = 0;
  auto num = [&](std::uint32_t& out) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    std::uint64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (v > 0xffffffffu) return false;
      ++i;
    }
    out = static_cast<std::uint32_t>(v);
    return true;
  };
  if (!num(start)) return false;
  count = 1;
  if (i < s.size() && s[i] == ',') {
    ++i;
    if (!num(count)) return false;
  }
  return i == s.size();
}

}  // namespace detail

/// Parses a unified diff (git's or diff -u's). A malformed hunk header, or hunk bodies whose line
/// counts disagree with their header, is `errc::parse_error` naming the diff line.
[[nodiscard]] inline result<patch> parse_patch(std::string_view text) {
  patch out;
  patch_file* file = nullptr;
  patch_hunk* hunk = nullptr;
  std::uint32_t old_left = 0, new_left = 0, new_line = 0;
  std::size_t lineno = 0;
  auto bad = [&](std::string what) {
    return fail(errc::parse_error, "patch line " + std::to_string(lineno) + ": " + std::move(what));
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (hunk && (old_left > 0 || new_left > 0)) {
      const char c = line.empty() ? ' ' : line[0];
      if (c == ' ') {
        if (old_left == 0 || new_left == 0) return bad("context line beyond the hunk's counts");
        --old_left, --new_left, ++new_line;
      } else if (c == '-') {
        if (old_left == 0) return bad("more removed lines than the hunk header says");
        --old_left;
        ++file->deletions;
      } else if (c == '+') {
        if (new_left == 0) return bad("more added lines than the hunk header says");
        --new_left;
        ++file->additions;
        file->changed_lines.push_back(new_line++);
      } else if (c == '\\') {
        // "\ No newline at end of file"
      } else {
        return bad("unexpected line inside a hunk");
      }
      hunk->lines.emplace_back(line);
      continue;
    }
    if (hunk && !line.empty() &&
        ((line[0] == '+' && !line.starts_with("+++ ")) || (line[0] == '-' && !line.starts_with("--- ")) ||
         line[0] == ' '))
      return bad("more lines than the hunk header says");
    if (!line.empty() && line[0] == '\\' && hunk) {
      hunk->lines.emplace_back(line);
      continue;
    }
    if (line.starts_with("diff --git ")) {
      out.files.emplace_back();
      file = &out.files.back();
      hunk = nullptr;
      // Paths are taken from ---/+++ when present; "diff --git a/x b/x" alone (mode change, binary) names it.
      const auto rest = line.substr(11);
      const auto sp = rest.find(" b/");
      if (sp != std::string_view::npos) {
        file->old_path = std::string(detail::strip_prefix_path(rest.substr(0, sp)));
        file->new_path = std::string(detail::strip_prefix_path(rest.substr(sp + 1)));
      }
    } else if (line.starts_with("--- ")) {
      if (!file || !file->hunks.empty()) {
        out.files.emplace_back();
        file = &out.files.back();
        hunk = nullptr;
      }
      file->old_path = std::string(detail::strip_prefix_path(line.substr(4)));
    } else if (line.starts_with("+++ ")) {
      if (!file) return bad("'+++' without '---'");
      file->new_path = std::string(detail::strip_prefix_path(line.substr(4)));
    } else if (line.starts_with("new file mode")) {
      if (file) file->old_path.clear();
    } else if (line.starts_with("deleted file mode")) {
      if (file) file->new_path.clear();
    } else if (line.starts_with("Binary files ") || line.starts_with("GIT binary patch")) {
      if (file) file->binary = true;
    } else if (line.starts_with("@@ ")) {
      if (!file) return bad("hunk before any file header");
      const auto end = line.find(" @@", 3);
      if (end == std::string_view::npos) return bad("malformed hunk header");
      const auto ranges = line.substr(3, end - 3);
      const auto sp = ranges.find(' ');
      if (sp == std::string_view::npos || ranges[0] != '-' || ranges[sp + 1] != '+') return bad("malformed hunk header");
      patch_hunk h;
      if (!detail::parse_range(ranges.substr(1, sp - 1), h.old_start, h.old_lines) ||
          !detail::parse_range(ranges.substr(sp + 2), h.new_start, h.new_lines))
        return bad("malformed hunk header");
      file->hunks.push_back(std::move(h));
      hunk = &file->hunks.back();
      old_left = hunk->old_lines;
      new_left = hunk->new_lines;
      new_line = hunk->new_start;
    }
    // Anything else (index lines, mode lines, commit messages before the diff) is ignored.
  }
  if (hunk && (old_left > 0 || new_left > 0)) return bad("the patch ends inside a hunk");
  for (auto& f : out.files) f.path = f.new_path.empty() ? f.old_path : f.new_path;
  std::erase_if(out.files, [](const patch_file& f) { return f.path.empty(); });
  return out;
}

/// Renders a parsed patch in git's format (`diff --git` headers, new/deleted file modes), which
/// libgit2's patch reader requires; a `diff -u` patch becomes applicable this way.
[[nodiscard]] inline std::string to_git_diff(const patch& p) {
  std::string out;
  for (const auto& f : p.files) {
    const std::string& a = f.old_path.empty() ? f.new_path : f.old_path;
    const std::string& b = f.new_path.empty() ? f.old_path : f.new_path;
    out += "diff --git a/" + a + " b/" + b + "\n";
    if (f.old_path.empty()) out += "new file mode 100644\n";
    if (f.new_path.empty()) out += "deleted file mode 100644\n";
    out += f.old_path.empty() ? "--- /dev/null\n" : "--- a/" + f.old_path + "\n";
    out += f.new_path.empty() ? "+++ /dev/null\n" : "+++ b/" + f.new_path + "\n";
    for (const auto& h : f.hunks) {
      out += "@@ -" + std::to_string(h.old_start) + "," + std::to_string(h.old_lines) + " +" +
             std::to_string(h.new_start) + "," + std::to_string(h.new_lines) + " @@\n";
      for (const auto& l : h.lines) out += l + "\n";
    }
  }
  return out;
}

/// Whether a relative path is well formed and stays inside the repository on paper: not empty, not
/// absolute, no `..` or `.` component, no `.git` component, no backslash, no control characters.
[[nodiscard]] inline bool is_confined_path(std::string_view p) noexcept {
  if (p.empty() || p.front() == '/' || p.find('\\') != std::string_view::npos) return false;
  for (const char ch : p)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return false;
  std::size_t i = 0;
  while (i <= p.size()) {
    auto j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    const auto part = p.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    if (part.size() == 4 && (part[0] == '.') && (part[1] | 0x20) == 'g' && (part[2] | 0x20) == 'i' &&
        (part[3] | 0x20) == 't')
      return false;
    i = j + 1;
  }
  return true;
}

/// Refuses a patch that touches anything outside `repo_root`: a path that is absolute, has `..` or
/// `.git`, or whose existing parent folders resolve (through symlinks) outside the repository, or
/// that is itself a symlink leaving it. The error names the path and the rule.
[[nodiscard]] inline result<void> confine_paths(const patch& p, const std::filesystem::path& repo_root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(repo_root, ec);
  for (const auto& f : p.files) {
    for (const std::string* path : {&f.old_path, &f.new_path}) {
      if (path->empty()) continue;
      if (!is_confined_path(*path))
        return fail(errc::policy_denied, "patch path '" + *path + "' is outside the repository (absolute, '..', '.git' or control characters)");
      // The deepest existing ancestor must resolve inside the root (a symlinked folder must not lead out).
      fs::path probe = repo_root / fs::path(*path);
      const fs::path resolved = fs::weakly_canonical(probe, ec);
      if (ec) return fail(errc::io_error, "cannot resolve patch path '" + *path + "': " + ec.message());
      auto rel = resolved.lexically_relative(root);
      if (rel.empty() || rel.native().starts_with(".."))
        return fail(errc::policy_denied, "patch path '" + *path + "' leaves the repository through a symlink");
    }
  }
  return {};
}

}  // namespace selfheal::source
