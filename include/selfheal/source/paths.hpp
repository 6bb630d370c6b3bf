#pragma once
/// \file
/// Paths inside a monitored repository: the one rule for reading a repository file
/// (`repository_files`: never through a symlink that leaves it) and the one resolver for a path
/// written somewhere else (an lcov `SF` record, a stack frame, a log line) to a repository file
/// (`resolve_path`), used by anomaly's coverage index and by diagnosis alike.
///
/// `resolve_path(root, raw, files, unique_basename)`: `file://` and Windows separators/drive letters
/// are dropped. Relative paths are taken from the repository root; absolute paths inside the
/// repository are made relative. Any other path (absolute elsewhere, escaping with `..`, or relative
/// but not found from the root) is matched by its longest path suffix that names a file inside the
/// repository (`/ci/build/app/src/cart.cpp` → `src/cart.cpp`); a relative path still not found, by
/// the one file of `files` that ends with all of it (`app/x.py` → `backend/app/x.py`: coverage run
/// from a subfolder); with `unique_basename`, by the one file of `files` with its file name (stack
/// frames). Two candidates are never guessed between. Only files whose canonical path lies inside
/// the repository are ever opened (so a symlink pointing out is skipped too).

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace selfheal::source {

namespace detail {

/// `a` is `b` or lies below it (component-wise, both already canonical).
inline bool path_within(const std::filesystem::path& a, const std::filesystem::path& b) {
  auto ai = a.begin(), bi = b.begin();
  for (; bi != b.end(); ++ai, ++bi)
    if (ai == a.end() || *ai != *bi) return false;
  return true;
}

}  // namespace detail

/// The repository's root, resolved once, and the one rule for reading a repository file: `rel`
/// (relative, no `..`) must name a regular file that still lies inside the root after every
/// symlink on the way is resolved. A tracked symlink to `/etc/passwd`, to `../../x` or through a
/// linked folder is refused, so neither selfheal nor ctags ever reads through it.
class repository_files {
 public:
  explicit repository_files(const std::filesystem::path& root) : root_(root) {
    std::error_code ec;
    canonical_ = std::filesystem::canonical(root, ec);
    if (ec) canonical_ = std::filesystem::absolute(root, ec).lexically_normal();
  }
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

  /// "" when `rel` may be read, otherwise why not ("a symlink that leaves the repository", ...).
  [[nodiscard]] std::string refusal(std::string_view rel) const {
    const std::filesystem::path r{std::string(rel)};
    if (rel.empty() || r.is_absolute()) return "not a relative path";
    for (const auto& part : r)
      if (part == "..") return "a path with '..'";
    std::error_code ec;
    const auto full = root_ / r;
    const auto st = std::filesystem::symlink_status(full, ec);
    if (ec || !std::filesystem::exists(st)) return "missing from the work tree";
    const auto real = std::filesystem::canonical(full, ec);
    if (ec) return std::filesystem::is_symlink(st) ? "a dangling symlink" : "cannot be resolved";
    if (!detail::path_within(real, canonical_)) return "a symlink that leaves the repository";
    if (!std::filesystem::is_regular_file(real, ec)) return "not a regular file";
    return {};
  }
  [[nodiscard]] bool readable(std::string_view rel) const { return refusal(rel).empty(); }

  /// The files of `files` that may be read, in order; each refused one (other than a file missing
  /// from the work tree, which is normal for a staged deletion) is named in `warnings`.
  [[nodiscard]] std::vector<std::string> filter(const std::vector<std::string>& files,
                                                std::vector<std::string>* warnings = nullptr) const {
    std::vector<std::string> out;
    out.reserve(files.size());
    for (const auto& f : files) {
      const std::string why = refusal(f);
      if (why.empty()) out.push_back(f);
      else if (warnings && why != "missing from the work tree") warnings->push_back(f + ": " + why + ", not read");
    }
    return out;
  }

 private:
  std::filesystem::path root_;
  std::filesystem::path canonical_;
};


/// How an `SF` path was found in the repository.
enum class source_match : std::uint8_t {
  direct,        ///< relative to the root, or absolute inside the repository
  by_suffix,     ///< the longest path suffix naming a file inside the repository
  outside_repo,  ///< outside the repository and no suffix inside it: skipped, never read
  not_found,     ///< inside the repository but no such file: skipped
};

struct resolved_source {
  source_match match = source_match::not_found;
  std::string path;  ///< repository-relative, `/`-separated; empty unless direct or by_suffix
  std::size_t ambiguous = 0;  ///< with `unique_basename`: how many files had the name when not one
};

namespace detail {

/// `p` when it is an existing regular file whose canonical path lies inside `root` (canonical).
[[nodiscard]] inline bool file_inside(const std::filesystem::path& root, const std::filesystem::path& p) {
  std::error_code ec;
  const auto c = std::filesystem::canonical(p, ec);
  if (ec || !std::filesystem::is_regular_file(c, ec) || ec) return false;
  const auto rel = c.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

/// `p` (lexically normal) relative to `root` when it lies lexically under it.
[[nodiscard]] inline std::optional<std::filesystem::path> under(const std::filesystem::path& root,
                                                                const std::filesystem::path& p) {
  const auto rel = p.lexically_relative(root);
  if (rel.empty() || *rel.begin() == ".." || rel == ".") return std::nullopt;
  return rel;
}

}  // namespace detail

/// The regular files of the repository (relative, `/`-separated, sorted), `.git` and symlinks
/// left out; at most `limit` of them.
[[nodiscard]] inline std::vector<std::string> walk_repository_files(const std::filesystem::path& root, std::size_t limit = 1'000'000) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator() && out.size() < limit; it.increment(ec)) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    out.push_back(it->path().lexically_relative(root).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Finds tracefile path `sf` in the repository whose canonical root is `root` (see the file comment).
/// With `repo_files` (`walk_repository_files`, or the tracked files), a relative path found neither from the root nor
/// by a suffix is looked for deeper: the one repository file whose path ends with all of it
/// (`app/x.py` → `backend/app/x.py`, coverage run from a subfolder); two such files are not guessed.
[[nodiscard]] inline resolved_source resolve_path(const std::filesystem::path& root, std::string_view sf,
                                                   std::span<const std::string> repo_files = {},
                                                   bool unique_basename = false) {
  namespace fs = std::filesystem;
  std::string text(sf);
  if (text.starts_with("file://")) text.erase(0, 7);
  for (auto& c : text)
    if (c == '\\') c = '/';  // Windows tracefiles
  if (text.size() >= 2 && text[1] == ':' && std::isalpha(static_cast<unsigned char>(text[0]))) text.erase(0, 2);
  resolved_source out;
  if (text.empty()) return out;
  const fs::path p = fs::path(text).lexically_normal();
  bool escapes = false;
  if (p.is_relative()) {
    if (auto rel = detail::under(root, (root / p).lexically_normal())) {
      if (detail::file_inside(root, root / *rel)) return {source_match::direct, rel->generic_string()};
    } else {
      escapes = true;
    }
  } else if (auto rel = detail::under(root, p)) {
    // an absolute path inside the repository names one file: no suffix of it stands in for it
    if (detail::file_inside(root, root / *rel)) return {source_match::direct, rel->generic_string()};
    return out;
  } else {
    escapes = true;
  }
  // The longest suffix that names a file inside the repository; `..` and the root never take part.
  std::vector<fs::path> parts;
  for (const auto& part : p.relative_path())
    if (part != ".." && part != "." && !part.empty()) parts.push_back(part);
  for (std::size_t k = p.is_relative() && !escapes ? 1 : 0; k < parts.size(); ++k) {
    fs::path suffix;
    for (std::size_t m = k; m < parts.size(); ++m) suffix /= parts[m];
    if (detail::file_inside(root, root / suffix)) return {source_match::by_suffix, suffix.generic_string()};
  }
  if (p.is_relative() && !escapes && !repo_files.empty()) {
    const std::string tail = "/" + p.generic_string();
    const std::string* found = nullptr;
    std::size_t n = 0;
    for (const auto& f : repo_files)
      if (f.size() > tail.size() && f.compare(f.size() - tail.size(), tail.size(), tail) == 0) {
        found = &f;
        ++n;
      }
    if (n == 1 && detail::file_inside(root, root / *found)) return {source_match::by_suffix, *found};
  }
  if (unique_basename && !repo_files.empty() && !p.filename().empty()) {
    // Only the file name may be known (a stack frame from another machine): the one repository
    // file with that name, never a guess between two.
    const std::string base = p.filename().string();
    const std::string* found = nullptr;
    std::size_t n = 0;
    for (const auto& f : repo_files)
      if (f == base || (f.size() > base.size() && f.ends_with(base) && f[f.size() - base.size() - 1] == '/')) {
        found = &f;
        ++n;
      }
    if (n == 1 && detail::file_inside(root, root / *found)) return {source_match::by_suffix, *found};
    if (n > 1) out.ambiguous = n;
  }
  out.match = escapes ? source_match::outside_repo : source_match::not_found;
  return out;
}

}  // namespace selfheal::source
