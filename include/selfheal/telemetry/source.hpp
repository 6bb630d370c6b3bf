#pragma once
/// \file
/// Log sources (beat 2's concern): expanding files, directories (recursive, symlink loops
/// detected), globs and "-" (standard input); identity (device:inode), size and mtime per source;
/// resume points for incremental re-ingest (rotation and truncation detected); and
/// `chunk_reader`, which reads a source in fixed-size chunks of whole lines, each followed by
/// simdjson's padding, so memory stays bounded whatever the file size. `.gz` files go through zlib.
///
/// A line longer than the chunk grows that reader's buffer (doubling) until it fits, up to
/// `max_line_bytes`; a longer line is skipped and reported, never silently cut. The unterminated
/// last line of a file (one still being written) is held back, in every format: the resume point
/// stays before it, so a later run reads it once it is whole. Standard input and `.gz` files are
/// read to their last byte.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <fmt/format.h>

#include "selfheal/core/result.hpp"
#include "selfheal/telemetry/model.hpp"

namespace selfheal::telemetry {

/// Longest line a reader accepts (bytes).
inline constexpr std::size_t max_line_bytes = std::size_t{64} << 20;

/// What path expansion found.
struct expanded_sources {
  std::vector<source_plan> sources;
  std::vector<skipped_source> skipped;
};

namespace detail {

[[nodiscard]] inline bool has_glob_chars(std::string_view p) noexcept {
  return p.find_first_of("*?[") != std::string_view::npos;
}

[[nodiscard]] inline bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// Adds one regular file (checked readable) to `out`, once per identity.
inline void add_file(const std::string& path, expanded_sources& out, std::set<std::pair<dev_t, ino_t>>& seen) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    out.skipped.push_back({path, std::string("cannot stat: ") + std::strerror(errno)});
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    out.skipped.push_back({path, "not a regular file"});
    return;
  }
  if (!seen.insert({st.st_dev, st.st_ino}).second) return;  // same file reached twice
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out.skipped.push_back({path, std::string("cannot open: ") + std::strerror(errno)});
    return;
  }
  ::close(fd);
  source_plan p;
  p.path = path;
  p.identity = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
               std::to_string(static_cast<unsigned long long>(st.st_ino));
  p.size = static_cast<std::uint64_t>(st.st_size);
  p.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  p.gzip = ends_with(path, ".gz");
  out.sources.push_back(std::move(p));
}

/// Walks a directory recursively (following symlinks to directories, each directory once).
inline void add_directory(const std::string& root, expanded_sources& out, std::set<std::pair<dev_t, ino_t>>& seen) {
  namespace fs = std::filesystem;
  std::set<std::pair<dev_t, ino_t>> dirs;
  struct stat st {};
  if (::stat(root.c_str(), &st) == 0) dirs.insert({st.st_dev, st.st_ino});
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink |
                                                fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    out.skipped.push_back({root, "cannot read directory: " + ec.message()});
    return;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      out.skipped.push_back({root, "directory walk stopped: " + ec.message()});
      break;
    }
    const std::string p = it->path().string();
    std::error_code e2;
    if (it->is_directory(e2)) {
      if (::stat(p.c_str(), &st) == 0 && !dirs.insert({st.st_dev, st.st_ino}).second) {
        out.skipped.push_back({p, "directory loop through a symlink (already visited)"});
        it.disable_recursion_pending();
      }
      continue;
    }
    files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) add_file(f, out, seen);
}

}  // namespace detail

/// Expands `paths` (files, directories, globs, "-") into sources in a stable order: arguments in
/// order, directory and glob contents sorted. Problems become `skipped` entries with a reason.
[[nodiscard]] inline expanded_sources expand_paths(const std::vector<std::string>& paths) {
  expanded_sources out;
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const auto& path : paths) {
    if (path == "-") {
      source_plan p;
      p.path = "-";
      p.identity = "stdin";
      out.sources.push_back(std::move(p));
      continue;
    }
    std::vector<std::string> matches;
    if (detail::has_glob_chars(path)) {
      glob_t g{};
      const int rc = ::glob(path.c_str(), 0, nullptr, &g);
      if (rc == 0)
        for (std::size_t i = 0; i < g.gl_pathc; ++i) matches.emplace_back(g.gl_pathv[i]);
      ::globfree(&g);
      if (matches.empty()) {
        out.skipped.push_back({path, "glob matched nothing"});
        continue;
      }
    } else {
      matches.push_back(path);
    }
    for (const auto& m : matches) {
      struct stat st {};
      if (::stat(m.c_str(), &st) != 0) {
        out.skipped.push_back({m, std::string("not found: ") + std::strerror(errno)});
      } else if (S_ISDIR(st.st_mode)) {
        detail::add_directory(m, out, seen);
      } else {
        detail::add_file(m, out, seen);
      }
    }
  }
  return out;
}

/// FNV-1a of the first `min(64, limit)` bytes of a file, hex; "" if unreadable. Detects a file
/// replaced under the same path and inode (copy-truncate rotation that already grew again).
[[nodiscard]] inline std::string head_hash(const std::string& path, std::uint64_t limit) {
  if (path == "-") return {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[64];
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(64, limit));
  const auto n = ::pread(fd, buf, want, 0);
  ::close(fd);
  if (n < 0) return {};
  std::uint64_t h = 14695981039346656037ull;
  for (ssize_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(buf[i]);
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}:{}", h, n);
}

/// Bytes of a source's start that make its content fingerprint.
inline constexpr std::size_t fingerprint_bytes = 1024;

/// FNV-1a 64 of `data`, hex.
[[nodiscard]] inline std::string fingerprint_of(std::string_view data) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

/// The first `fingerprint_bytes` of a source's content (uncompressed for `.gz`), or fewer for a
/// shorter source; "" for standard input or an unreadable file. With the inode it identifies the
/// source across renames, relative and absolute paths, and `mv app.log app.log.1 && gzip
/// app.log.1` (logrotate's usual dance): compression keeps the content.
[[nodiscard]] inline std::string content_prefix(const source_plan& plan) {
  if (plan.path == "-") return {};
  std::string buf(fingerprint_bytes, '\0');
  std::size_t got = 0;
  if (plan.gzip) {
    gzFile gz = ::gzopen(plan.path.c_str(), "rb");
    if (gz == nullptr) return {};
    while (got < buf.size()) {
      const int n = ::gzread(gz, buf.data() + got, static_cast<unsigned>(buf.size() - got));
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::gzclose(gz);
  } else {
    const int fd = ::open(plan.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    while (got < buf.size()) {
      const auto n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  buf.resize(got);
  return buf;
}

/// What a source's first bytes say about it: UTF-16 (a byte-order mark) and its content
/// fingerprint, the identity that survives renames and rotation. Returns those bytes
/// (`content_prefix`), which resuming matches against stored states.
[[nodiscard]] inline std::string identify_content(source_plan& plan) {
  const std::string prefix = content_prefix(plan);
  plan.utf16 = !plan.gzip && prefix.size() >= 2 &&
               ((prefix[0] == '\xFF' && prefix[1] == '\xFE') || (prefix[0] == '\xFE' && prefix[1] == '\xFF'));
  if (!prefix.empty()) {
    plan.fingerprint = fingerprint_of(prefix);
    plan.fingerprint_len = prefix.size();
  }
  return prefix;
}

/// What a previous run recorded about a source (see `store.hpp`'s `last_source_state`).
struct previous_source {
  std::string identity;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t end_offset = 0;
  std::uint64_t lines = 0;  ///< lines up to end_offset
  std::string head_hash;    ///< legacy rows (before content fingerprints): rotation check
  bool gzip = false;
  bool by_content = false;  ///< found by content fingerprint (`match_source_state`): no head check
  std::string path;         ///< where it was read last time
};

/// Sets `plan.start_offset`/`start_line`/`note` from the previous state: resume where it stopped
/// if the file is the same and has not shrunk; read from the start if it was rotated (new identity
/// or new head) or truncated. A `.gz` file is read again only when it changed.
inline void plan_resume(source_plan& plan, const std::optional<previous_source>& prev) {
  plan.start_offset = 0;
  plan.start_line = 1;
  if (!prev || plan.path == "-") return;
  if (prev->by_content) {
    // The same content (its first bytes match): the same file, perhaps renamed or compressed since.
    const bool moved = prev->identity != plan.identity;
    if (!plan.gzip && !plan.utf16 && plan.size < prev->end_offset) {
      plan.note = "truncated";
      return;
    }
    plan.start_offset = prev->end_offset;
    plan.start_line = prev->lines + 1;
    if (moved) plan.note = "moved";
    else if (!plan.gzip && plan.size == prev->end_offset) plan.note = "unchanged";
    else if (plan.gzip && prev->gzip && plan.size == prev->size && plan.mtime_ns == prev->mtime_ns) plan.note = "unchanged";
    else plan.note = "resumed";
    return;
  }
  if (prev->identity != plan.identity) {
    plan.note = "rotated";
    return;
  }
  if (plan.gzip) {
    if (plan.size == prev->size && plan.mtime_ns == prev->mtime_ns) {
      plan.start_offset = prev->end_offset;
      plan.start_line = prev->lines + 1;
      plan.note = "unchanged";
    } else {
      plan.note = "rewritten";
    }
    return;
  }
  if (plan.size < prev->end_offset) {
    plan.note = "truncated";
    return;
  }
  if (head_hash(plan.path, prev->end_offset) != prev->head_hash) {
    plan.note = "rotated";
    return;
  }
  plan.start_offset = prev->end_offset;
  plan.start_line = prev->lines + 1;
  plan.note = plan.size == prev->end_offset ? "unchanged" : "resumed";
}

/// A chunk of whole lines handed out by `chunk_reader`: an owned buffer with padding.
struct chunk {
  std::string buffer;            ///< data then at least `chunk_padding` bytes
  std::size_t size = 0;          ///< bytes of data
  std::uint64_t offset = 0;      ///< source offset of the first byte (uncompressed)
  bool last = false;             ///< the source ends with this chunk
  bool unterminated = false;     ///< its last line has no newline (end of source)
  std::size_t tail_start = 0;    ///< offset in the chunk of that unterminated last line
  std::uint64_t skipped_long_lines = 0;  ///< lines over `max_line_bytes` dropped before this chunk
  std::uint64_t held_back = 0;   ///< bytes of an unterminated last line left for a later run (`last` only)
  bool truncated_gzip = false;   ///< `last` of a `.gz` source whose compressed stream ends early
  [[nodiscard]] padded_view view() const noexcept { return padded_view::of(buffer, size); }
};

/// Reads a file, a `.gz` file or standard input in chunks of whole lines (see the file comment). A
/// plain file starting with a UTF-16 byte-order mark (LE or BE) is converted to UTF-8 as it is read.
class chunk_reader {
 public:
  chunk_reader() = default;
  chunk_reader(const chunk_reader&) = delete;
  chunk_reader& operator=(const chunk_reader&) = delete;
  chunk_reader(chunk_reader&& o) noexcept { *this = std::move(o); }
  chunk_reader& operator=(chunk_reader&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
      gz_ = std::exchange(o.gz_, nullptr);
      own_fd_ = o.own_fd_;
      chunk_size_ = o.chunk_size_;
      offset_ = o.offset_;
      carry_ = std::move(o.carry_);
      eof_ = o.eof_;
      first_ = o.first_;
      hold_tail_ = o.hold_tail_;
      held_ = std::move(o.held_);
      truncated_ = o.truncated_;
      utf16_ = o.utf16_;
      pending_ = std::move(o.pending_);
      spill_ = std::move(o.spill_);
      path_ = std::move(o.path_);
      memory_ = o.memory_;
      memory_pos_ = o.memory_pos_;
    }
    return *this;
  }
  ~chunk_reader() { close(); }

  /// Opens `plan` at its start offset.
  [[nodiscard]] static result<chunk_reader> open(const source_plan& plan, std::size_t chunk_size) {
    chunk_reader r;
    r.chunk_size_ = std::max<std::size_t>(chunk_size, 4096);
    r.path_ = plan.path;
    r.offset_ = plan.start_offset;
    r.first_ = plan.start_offset == 0;
    r.hold_tail_ = plan.path != "-" && !plan.gzip;  // stdin and .gz files are not appended to
    if (plan.memory.data() != nullptr) {  // a buffer: whole lines, read to its end
      r.memory_ = plan.memory;
      r.hold_tail_ = false;
      return r;
    }
    if (plan.path == "-") {
      r.fd_ = 0;
      r.own_fd_ = false;
    } else {
      r.fd_ = ::open(plan.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (r.fd_ < 0) return fail(errc::io_error, plan.path + ": cannot open: " + std::strerror(errno));
    }
    if (plan.gzip) {
      const int dupfd = ::dup(r.fd_);
      if (dupfd < 0) return fail(errc::io_error, plan.path + ": dup: " + std::strerror(errno));
      r.gz_ = ::gzdopen(dupfd, "rb");
      if (r.gz_ == nullptr) {
        ::close(dupfd);
        return fail(errc::io_error, plan.path + ": cannot open as gzip");
      }
      ::gzbuffer(r.gz_, 128 * 1024);
      if (plan.start_offset > 0 && ::gzseek(r.gz_, static_cast<z_off_t>(plan.start_offset), SEEK_SET) < 0)
        return fail(errc::io_error, plan.path + ": cannot seek in gzip stream");
    } else if (plan.path != "-" && utf16_order(r.fd_) != 0) {
      // UTF-16 with a byte-order mark: read as UTF-8; offsets count UTF-8 bytes, so a resume point
      // is reached by reading up to it
      r.utf16_ = utf16_order(r.fd_);
      r.first_ = false;
      if (::lseek(r.fd_, 2, SEEK_SET) < 0) return fail(errc::io_error, plan.path + ": cannot seek: " + std::strerror(errno));
      std::string skip(64 * 1024, '\0');
      for (std::uint64_t left = plan.start_offset; left > 0;) {
        auto n = r.read_some(skip.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, skip.size())));
        if (!n) return tl::unexpected(n.error());
        if (*n == 0) break;
        left -= *n;
      }
    } else if (plan.start_offset > 0) {
      if (::lseek(r.fd_, static_cast<off_t>(plan.start_offset), SEEK_SET) < 0)
        return fail(errc::io_error, plan.path + ": cannot seek: " + std::strerror(errno));
    }
    return r;
  }

  /// 1 for a file starting with a UTF-16 LE byte-order mark, 2 for BE, else 0.
  [[nodiscard]] static int utf16_order(int fd) noexcept {
    unsigned char bom[2] = {0, 0};
    if (::pread(fd, bom, 2, 0) != 2) return 0;
    if (bom[0] == 0xFF && bom[1] == 0xFE) return 1;
    if (bom[0] == 0xFE && bom[1] == 0xFF) return 2;
    return 0;
  }

  /// Fills `out` with the next chunk; returns false at the end of the source (nothing filled).
  [[nodiscard]] result<bool> next(chunk& out) {
    out.size = 0;
    out.last = false;
    out.unterminated = false;
    out.skipped_long_lines = 0;
    out.held_back = 0;
    out.truncated_gzip = false;
    if (eof_ && carry_.empty()) return false;
    std::size_t cap = std::max(chunk_size_, carry_.size() * 2);
    if (out.buffer.size() < cap + chunk_padding) out.buffer.resize(cap + chunk_padding);
    std::memcpy(out.buffer.data(), carry_.data(), carry_.size());
    std::size_t filled = carry_.size();
    carry_.clear();
    out.offset = offset_;
    std::size_t scan_from = 0;  // bytes before this hold no newline
    for (;;) {
      while (!eof_ && filled < cap) {
        auto n = read_some(out.buffer.data() + filled, cap - filled);
        if (!n) return tl::unexpected(n.error());
        if (*n == 0) eof_ = true;
        filled += *n;
      }
      if (first_ && filled >= 3 && std::memcmp(out.buffer.data(), "\xEF\xBB\xBF", 3) == 0) {
        std::memmove(out.buffer.data(), out.buffer.data() + 3, filled - 3);  // byte-order mark
        filled -= 3;
        out.offset += 3;
        offset_ += 3;
        first_ = false;
        continue;
      }
      first_ = false;
      if (eof_) break;
      // Cut after the last newline; keep the rest for the next chunk.
      const char* base = out.buffer.data();
      const char* nl = nullptr;
      for (std::size_t i = filled; i > scan_from; --i)
        if (base[i - 1] == '\n') { nl = base + i - 1; break; }
      if (nl != nullptr) {
        const auto keep = static_cast<std::size_t>(nl - base) + 1;
        carry_.assign(base + keep, filled - keep);
        filled = keep;
        break;
      }
      // One line longer than the buffer: grow, or give up on that line.
      scan_from = filled;
      if (cap * 2 > max_line_bytes) {
        out.skipped_long_lines += 1;
        if (auto r = skip_to_newline(out.buffer, filled); !r) return tl::unexpected(r.error());
        out.offset = offset_;
        filled = 0;
        scan_from = 0;
        cap = chunk_size_;
        if (eof_ && carry_.empty()) break;
        std::memcpy(out.buffer.data(), carry_.data(), carry_.size());
        filled = carry_.size();
        carry_.clear();
        continue;
      }
      cap *= 2;
      out.buffer.resize(cap + chunk_padding);
    }
    out.size = filled;
    offset_ += filled;
    std::memset(out.buffer.data() + filled, ' ', chunk_padding);
    out.last = eof_ && carry_.empty();
    out.truncated_gzip = out.last && truncated_;
    if (out.last && filled > 0 && out.buffer[filled - 1] != '\n') {
      const char* base = out.buffer.data();
      std::size_t t = filled;
      while (t > 0 && base[t - 1] != '\n') --t;
      if (hold_tail_) {
        // A line still being written (`duration=12` whose `00ms` comes later): not read now; the
        // run that resumes the source reads it whole.
        out.held_back = filled - t;
        held_.assign(base + t, std::min<std::size_t>(out.held_back, 64 * 1024));
        offset_ -= out.held_back;
        filled = t;
        out.size = filled;
        std::memset(out.buffer.data() + filled, ' ', chunk_padding);
      } else {
        out.unterminated = true;
        out.tail_start = t;
      }
    }
    return filled > 0 || !out.last ? true : out.skipped_long_lines > 0;
  }

  /// Whether this `.gz` source's compressed stream ended early (a truncated or still-written file).
  [[nodiscard]] bool truncated_gzip() const noexcept { return truncated_; }
  /// The start (up to 64 KiB) of the unterminated last line held back, if any.
  [[nodiscard]] std::string_view held_tail() const noexcept { return held_; }
  /// Uncompressed bytes handed out so far, counted from the start of the source.
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  result<std::size_t> read_some(char* dst, std::size_t n) {
    if (utf16_ != 0) return read_utf16(dst, n);
    return read_raw(dst, n);
  }

  /// Reads UTF-16 (LE or BE) and writes UTF-8: at most `n` bytes now, the rest of a code point
  /// later; an unpaired surrogate becomes U+FFFD.
  result<std::size_t> read_utf16(char* dst, std::size_t n) {
    while (spill_.empty()) {
      std::string raw = std::move(pending_);
      pending_.clear();
      const std::size_t want = std::max<std::size_t>(4, (n / 3) * 2 + 2);
      const std::size_t have = raw.size();
      raw.resize(have + want);
      auto got = read_raw(raw.data() + have, want);
      if (!got) return tl::unexpected(got.error());
      raw.resize(have + *got);
      const bool end = *got == 0;
      if (raw.empty()) return std::size_t{0};
      std::size_t i = 0;
      auto unit = [&](std::size_t k) {
        const auto a = static_cast<unsigned char>(raw[k]), b = static_cast<unsigned char>(raw[k + 1]);
        return utf16_ == 1 ? static_cast<std::uint32_t>(a | (b << 8)) : static_cast<std::uint32_t>((a << 8) | b);
      };
      auto put = [&](std::uint32_t cp) {
        if (cp < 0x80) {
          spill_ += static_cast<char>(cp);
        } else if (cp < 0x800) {
          spill_ += static_cast<char>(0xC0 | (cp >> 6));
          spill_ += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          spill_ += static_cast<char>(0xE0 | (cp >> 12));
          spill_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          spill_ += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          spill_ += static_cast<char>(0xF0 | (cp >> 18));
          spill_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          spill_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          spill_ += static_cast<char>(0x80 | (cp & 0x3F));
        }
      };
      while (i + 2 <= raw.size()) {
        const std::uint32_t u = unit(i);
        if (u >= 0xD800 && u < 0xDC00) {
          if (i + 4 > raw.size()) {
            if (!end) break;  // its pair comes with the next read
            put(0xFFFD);
            i += 2;
            continue;
          }
          const std::uint32_t lo = unit(i + 2);
          if (lo >= 0xDC00 && lo < 0xE000) {
            put(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
            i += 4;
          } else {
            put(0xFFFD);
            i += 2;
          }
          continue;
        }
        put(u >= 0xDC00 && u < 0xE000 ? 0xFFFD : u);
        i += 2;
      }
      pending_.assign(raw, i, std::string::npos);
      if (end) {
        if (!pending_.empty()) put(0xFFFD);  // an odd last byte
        pending_.clear();
        if (spill_.empty()) return std::size_t{0};
      }
    }
    const std::size_t k = std::min(n, spill_.size());
    std::memcpy(dst, spill_.data(), k);
    spill_.erase(0, k);
    return k;
  }

  result<std::size_t> read_raw(char* dst, std::size_t n) {
    if (memory_.data() != nullptr) {
      const std::size_t k = std::min(n, memory_.size() - memory_pos_);
      if (k > 0) std::memcpy(dst, memory_.data() + memory_pos_, k);
      memory_pos_ += k;
      return k;
    }
    if (gz_ != nullptr) {
      const int got = ::gzread(gz_, dst, static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30)));
      if (got < 0) {
        int errnum = 0;
        const char* msg = ::gzerror(gz_, &errnum);
        return fail(errc::io_error, path_ + ": gzip: " + (msg ? msg : "read error"));
      }
      if (got == 0) {
        int errnum = 0;
        static_cast<void>(::gzerror(gz_, &errnum));
        if (errnum == Z_BUF_ERROR) truncated_ = true;  // the input ended inside the compressed stream
      }
      return static_cast<std::size_t>(got);
    }
    for (;;) {
      const auto got = ::read(fd_, dst, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno == EINTR) continue;
      return fail(errc::io_error, path_ + ": read: " + std::strerror(errno));
    }
  }

  /// Drops the rest of an over-long line (through its newline); what follows goes to `carry_`.
  result<void> skip_to_newline(std::string& buf, std::size_t filled) {
    offset_ += filled;
    for (;;) {
      if (eof_) return {};
      auto n = read_some(buf.data(), buf.size() - chunk_padding);
      if (!n) return tl::unexpected(n.error());
      if (*n == 0) {
        eof_ = true;
        return {};
      }
      const void* nl = std::memchr(buf.data(), '\n', *n);
      if (nl != nullptr) {
        const auto used = static_cast<std::size_t>(static_cast<const char*>(nl) - buf.data()) + 1;
        offset_ += used;
        carry_.assign(buf.data() + used, *n - used);
        return {};
      }
      offset_ += *n;
    }
  }

  void close() noexcept {
    if (gz_ != nullptr) ::gzclose(gz_);
    gz_ = nullptr;
    if (fd_ >= 0 && own_fd_) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  gzFile gz_ = nullptr;
  bool own_fd_ = true;
  std::size_t chunk_size_ = std::size_t{4} << 20;
  std::uint64_t offset_ = 0;
  std::string carry_;
  bool eof_ = false;
  bool first_ = true;
  bool hold_tail_ = false;
  bool truncated_ = false;
  int utf16_ = 0;          // 1: UTF-16 LE, 2: BE (converted to UTF-8 as read)
  std::string pending_;    // UTF-16 bytes not converted yet (an odd byte, a lone high surrogate)
  std::string spill_;      // UTF-8 bytes converted but not handed out yet
  std::string held_;
  std::string path_;
  std::string_view memory_{};  // a memory source (`source_plan::memory`)
  std::size_t memory_pos_ = 0;
};

}  // namespace selfheal::telemetry
