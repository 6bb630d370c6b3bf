#pragma once
/// \file
/// Markdown checks of the documentation a patch changes (beat 7, pure): parsed with cmark (the
/// CommonMark reference library), never by hand. A file fails when
/// - it is not valid UTF-8, or empty;
/// - a fenced code block is never closed (cmark then swallows the rest of the file);
/// - a link or image has an empty destination;
/// - a relative link or image does not resolve to a file or folder of the checkout (after the patch),
///   or leaves the repository;
/// - a same-file anchor (`#section`) names no heading (GitHub's heading slugs).
/// External links (`https:`, `mailto:` …) are not fetched.
///
/// ```cpp
/// std::set<std::string> paths = {"docs/runbook/checkout.md", "ops/deploy.sh", "docs", "docs/runbook", "ops"};
/// auto problems = selfheal::validation::check_markdown({"docs/runbook/checkout.md", text}, paths);
/// for (auto& p : problems) std::printf("%s:%d: %s\n", p.path.c_str(), p.line, p.message.c_str());
/// ```

#include <cmark.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace selfheal::validation {

/// One Markdown file as the patched checkout holds it.
struct markdown_file {
  std::string path;  ///< relative to the repository root, '/'-separated
  std::string text;
};

struct doc_problem {
  std::string path;
  int line = 0;
  std::string message;
};

namespace detail {

inline bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t more = 0;
    if (c < 0x80) more = 0;
    else if ((c & 0xE0) == 0xC0 && c >= 0xC2) more = 1;
    else if ((c & 0xF0) == 0xE0) more = 2;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4) more = 3;
    else return false;
    if (s.size() - i <= more) return false;
    for (std::size_t k = 1; k <= more; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += more + 1;
  }
  return true;
}

inline std::string_view trim_md(std::string_view s) noexcept {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

/// GitHub's heading anchor: lower case, spaces to '-', punctuation other than '-' and '_' dropped.
inline std::string heading_slug(std::string_view text) {
  std::string s;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c >= 0x80) s += static_cast<char>(std::tolower(c));
    else if (c == ' ') s += '-';
  }
  return s;
}

inline std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// Whether `url` has a scheme ("https:", "mailto:") or is protocol-relative ("//host").
inline bool is_external(std::string_view url) {
  if (url.starts_with("//")) return true;
  const auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const auto slash = url.find('/');
  if (slash != std::string_view::npos && slash < colon) return false;
  return std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

/// `target` (relative to the folder of `from`, or to the root when it starts with '/') as a
/// normalised repository path; empty when it leaves the repository.
inline std::string resolve_relative(std::string_view from, std::string_view target, bool& escapes) {
  escapes = false;
  std::vector<std::string> parts;
  if (!target.starts_with("/")) {
    std::string_view dir = from;
    const auto slash = dir.rfind('/');
    dir = slash == std::string_view::npos ? std::string_view{} : dir.substr(0, slash);
    std::size_t p = 0;
    while (p < dir.size()) {
      auto n = dir.find('/', p);
      if (n == std::string_view::npos) n = dir.size();
      if (n > p) parts.emplace_back(dir.substr(p, n - p));
      p = n + 1;
    }
  }
  std::size_t p = 0;
  while (p <= target.size()) {
    auto n = target.find('/', p);
    if (n == std::string_view::npos) n = target.size();
    const std::string_view part = target.substr(p, n - p);
    if (part == "..") {
      if (parts.empty()) { escapes = true; return {}; }
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    p = n + 1;
  }
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

inline std::string_view line_at(const std::vector<std::string_view>& lines, int line) {
  if (line < 1 || static_cast<std::size_t>(line) > lines.size()) return {};
  return lines[static_cast<std::size_t>(line) - 1];
}

/// The fence ("```" or "~~~~") that opens a code block on `line`, or empty (an indented block).
inline std::string_view opening_fence(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return {};
  std::size_t j = i;
  while (j < line.size() && line[j] == line[i]) ++j;
  return j - i >= 3 ? line.substr(i, j - i) : std::string_view{};
}

struct cmark_doc_deleter {
  void operator()(cmark_node* n) const noexcept { cmark_node_free(n); }
};
struct cmark_iter_deleter {
  void operator()(cmark_iter* i) const noexcept { cmark_iter_free(i); }
};

}  // namespace detail

/// Every problem of one Markdown file. `paths` holds every file and folder of the checkout
/// (relative, '/'-separated), so that relative links resolve without I/O.
[[nodiscard]] inline std::vector<doc_problem> check_markdown(const markdown_file& file, const std::set<std::string>& paths) {
  std::vector<doc_problem> out;
  auto problem = [&](int line, std::string msg) { out.push_back({file.path, line, std::move(msg)}); };
  if (!detail::valid_utf8(file.text)) {
    problem(0, "not valid UTF-8");
    return out;
  }
  if (detail::trim_md(file.text).empty()) {
    problem(0, "is empty");
    return out;
  }
  // the lines, for the fences
  std::vector<std::string_view> lines;
  {
    std::string_view t = file.text;
    std::size_t p = 0;
    while (p <= t.size()) {
      auto n = t.find('\n', p);
      if (n == std::string_view::npos) n = t.size();
      std::string_view l = t.substr(p, n - p);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      lines.push_back(l);
      p = n + 1;
    }
  }
  std::unique_ptr<cmark_node, detail::cmark_doc_deleter> doc(
      cmark_parse_document(file.text.data(), file.text.size(), CMARK_OPT_DEFAULT));
  if (!doc) {
    problem(0, "cmark could not parse it");
    return out;
  }
  struct link {
    int line;
    std::string url;
    bool image;
  };
  std::vector<link> links;
  std::set<std::string> anchors;
  std::unique_ptr<cmark_iter, detail::cmark_iter_deleter> it(cmark_iter_new(doc.get()));
  cmark_event_type ev;
  int last_block_line = 1;
  while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* n = cmark_iter_get_node(it.get());
    const auto type = cmark_node_get_type(n);
    if (cmark_node_get_start_line(n) > 0) last_block_line = cmark_node_get_start_line(n);
    switch (type) {
      case CMARK_NODE_CODE_BLOCK: {
        const int start = cmark_node_get_start_line(n);
        const int end = cmark_node_get_end_line(n);
        const std::string_view fence = detail::opening_fence(detail::line_at(lines, start));
        if (!fence.empty()) {
          std::string_view closing = detail::trim_md(detail::line_at(lines, end));
          const bool closed = end > start && closing.size() >= fence.size() &&
                              closing.find_first_not_of(fence.front()) == std::string_view::npos;
          if (!closed) problem(start, "the code fence opened here is never closed");
        }
        break;
      }
      case CMARK_NODE_HEADING: {
        std::string text;
        std::unique_ptr<cmark_iter, detail::cmark_iter_deleter> inner(cmark_iter_new(n));
        cmark_event_type e2;
        while ((e2 = cmark_iter_next(inner.get())) != CMARK_EVENT_DONE) {
          cmark_node* c = cmark_iter_get_node(inner.get());
          if (e2 == CMARK_EVENT_ENTER && (cmark_node_get_type(c) == CMARK_NODE_TEXT || cmark_node_get_type(c) == CMARK_NODE_CODE))
            if (const char* lit = cmark_node_get_literal(c)) text += lit;
        }
        std::string slug = detail::heading_slug(text);
        std::string unique = slug;
        for (int k = 1; anchors.contains(unique); ++k) unique = slug + "-" + std::to_string(k);
        anchors.insert(unique);
        break;
      }
      case CMARK_NODE_LINK:
      case CMARK_NODE_IMAGE: {
        const char* url = cmark_node_get_url(n);
        int line = cmark_node_get_start_line(n);
        if (line <= 0) line = last_block_line;
        links.push_back({line, url ? url : "", type == CMARK_NODE_IMAGE});
        break;
      }
      default: break;
    }
  }
  for (const auto& l : links) {
    const char* what = l.image ? "image" : "link";
    std::string_view url = detail::trim_md(l.url);
    if (url.empty()) {
      problem(l.line, std::string("a ") + what + " has an empty destination");
      continue;
    }
    if (detail::is_external(url)) continue;
    std::string_view target = url;
    std::string fragment;
    if (const auto hash = target.find('#'); hash != std::string_view::npos) {
      fragment = std::string(target.substr(hash + 1));
      target = target.substr(0, hash);
    }
    if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (target.empty()) {
      if (!fragment.empty() && !anchors.contains(detail::percent_decode(fragment)))
        problem(l.line, "anchor #" + fragment + " names no heading of this file");
      continue;
    }
    bool escapes = false;
    const std::string resolved = detail::resolve_relative(file.path, detail::percent_decode(target), escapes);
    if (escapes) {
      problem(l.line, std::string(what) + " " + std::string(url) + " leaves the repository");
      continue;
    }
    if (!resolved.empty() && !paths.contains(resolved))
      problem(l.line, std::string(what) + " " + std::string(url) + " does not resolve (no " + resolved + " in the repository)");
  }
  return out;
}

/// Whether `path` is Markdown (by its extension).
[[nodiscard]] inline bool is_markdown(std::string_view path) {
  auto lower_ends = [&](std::string_view ext) {
    if (path.size() < ext.size()) return false;
    for (std::size_t i = 0; i < ext.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(path[path.size() - ext.size() + i])) != ext[i]) return false;
    return true;
  };
  return lower_ends(".md") || lower_ends(".markdown");
}

}  // namespace selfheal::validation
