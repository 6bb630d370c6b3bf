#pragma once
/// \file
/// File edits and the text operations on them: line hunks between two versions of a file, a hunk
/// reversed against a file that moved on since (`partial_revert`), and one unified diff of many
/// edits that `git apply` accepts (libgit2's patch writer, fed from memory: no I/O).
///
/// ```cpp
/// auto hunks = selfheal::fix::line_hunks(parent_text, suspect_text);           // zero context
/// auto back = selfheal::fix::reverse_hunks(current_text, suspect_text, *hunks, {{10, 30}});
/// auto diff = selfheal::fix::unified_diff({{"src/a.py", current_text, back->text}});
/// ```

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <git2.h>

#include "selfheal/core/result.hpp"
#include "selfheal/fix/model.hpp"

namespace selfheal::fix {

/// One file a fix changes: its text before (nullopt: a new file) and after (nullopt: deleted).
struct file_edit {
  std::string path;  ///< repository-relative, '/'-separated
  std::optional<std::string> before;
  std::optional<std::string> after;
};

/// A hunk of a zero-context line diff, with its lines (each with its '\n' when it has one).
struct line_hunk {
  std::uint32_t old_start = 0;
  std::uint32_t old_lines = 0;
  std::uint32_t new_start = 0;
  std::uint32_t new_lines = 0;
  std::vector<std::string> removed;  ///< the old side's lines
  std::vector<std::string> added;    ///< the new side's lines
};

/// The lines of `text`, each keeping its '\n' (the last one may lack it).
[[nodiscard]] inline std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p < text.size()) {
    const auto n = text.find('\n', p);
    if (n == std::string_view::npos) { out.emplace_back(text.substr(p)); break; }
    out.emplace_back(text.substr(p, n - p + 1));
    p = n + 1;
  }
  return out;
}

[[nodiscard]] inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l;
  return s;
}

namespace detail {

struct git_init_guard {
  git_init_guard() { git_libgit2_init(); }
  ~git_init_guard() { git_libgit2_shutdown(); }
  git_init_guard(const git_init_guard&) = delete;
  git_init_guard& operator=(const git_init_guard&) = delete;
};

struct patch_guard {
  git_patch* p = nullptr;
  ~patch_guard() { if (p) git_patch_free(p); }
};
struct buf_guard {
  git_buf b = GIT_BUF_INIT;
  ~buf_guard() { git_buf_dispose(&b); }
};

inline tl::unexpected<error> libgit2_fail(std::string_view what) {
  const git_error* e = git_error_last();
  return fail(errc::git_error, std::string(what) + ": " + ((e && e->message) ? e->message : "unknown libgit2 error"));
}

}  // namespace detail

/// The zero-context hunks that turn `before` into `after` (git's @@ -a,b +c,d @@ numbering).
[[nodiscard]] inline result<std::vector<line_hunk>> line_hunks(std::string_view before, std::string_view after) {
  detail::git_init_guard lib;
  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  opts.context_lines = 0;
  opts.interhunk_lines = 0;
  detail::patch_guard patch;
  if (git_patch_from_buffers(&patch.p, before.data(), before.size(), "a", after.data(), after.size(), "b", &opts) != 0)
    return detail::libgit2_fail("cannot diff two versions of a file");
  std::vector<line_hunk> out;
  if (!patch.p) return out;
  const std::size_t nh = git_patch_num_hunks(patch.p);
  for (std::size_t h = 0; h < nh; ++h) {
    const git_diff_hunk* gh = nullptr;
    std::size_t nlines = 0;
    if (git_patch_get_hunk(&gh, &nlines, patch.p, h) != 0) return detail::libgit2_fail("cannot read a hunk");
    line_hunk lh;
    lh.old_start = static_cast<std::uint32_t>(gh->old_start);
    lh.old_lines = static_cast<std::uint32_t>(gh->old_lines);
    lh.new_start = static_cast<std::uint32_t>(gh->new_start);
    lh.new_lines = static_cast<std::uint32_t>(gh->new_lines);
    for (std::size_t l = 0; l < nlines; ++l) {
      const git_diff_line* line = nullptr;
      if (git_patch_get_line_in_hunk(&line, patch.p, h, l) != 0) return detail::libgit2_fail("cannot read a hunk line");
      std::string text(line->content, line->content_len);
      if (line->origin == GIT_DIFF_LINE_DELETION) lh.removed.push_back(std::move(text));
      else if (line->origin == GIT_DIFF_LINE_ADDITION) lh.added.push_back(std::move(text));
    }
    out.push_back(std::move(lh));
  }
  return out;
}

/// The result of reversing hunks against a file that moved on.
struct reversed_text {
  std::string text;
  std::vector<std::string> notes;  ///< "hunk -3,0 +3,2 found 4 lines lower (later commits moved it)"
};

/// A 1-based inclusive line range of the current file (the handler's lines).
struct line_range {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
};

/// Reverses `hunks` (a zero-context diff parent → suspect) against `current`, where later commits may
/// have moved the lines: each hunk's added lines, with up to three lines of the suspect's context on
/// each side, are looked for in `current` (nearest the expected place; inside `range` when given) and
/// replaced by the lines the hunk removed. A hunk whose lines are no longer there is a refusal
/// (`errc::failed`, naming the hunk), never a guess.
[[nodiscard]] inline result<reversed_text> reverse_hunks(std::string_view current, std::string_view suspect,
                                                         const std::vector<line_hunk>& hunks,
                                                         std::optional<line_range> range = std::nullopt) {
  const auto cur = split_lines(current);
  const auto sus = split_lines(suspect);
  struct replacement {
    std::size_t at, count;
    std::vector<std::string> with;
  };
  std::vector<replacement> reps;
  reversed_text out;
  auto norm = [](std::string_view s) {  // the last line of a file may lack its '\n'
    if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    return s;
  };
  for (const auto& h : hunks) {
    const std::string name = "hunk -" + std::to_string(h.old_start) + "," + std::to_string(h.old_lines) + " +" +
                             std::to_string(h.new_start) + "," + std::to_string(h.new_lines);
    // Index of the hunk's first added line in the suspect (or of the insertion point).
    const std::size_t bi = h.new_lines > 0 ? h.new_start - 1 : h.new_start;
    const std::size_t n = h.new_lines;
    std::optional<std::size_t> found;
    std::size_t used_context = 0;
    for (int k = 3; k >= 0 && !found; --k) {
      const std::size_t kb = std::min<std::size_t>(static_cast<std::size_t>(k), bi);
      const std::size_t ka = std::min<std::size_t>(static_cast<std::size_t>(k), sus.size() > bi + n ? sus.size() - bi - n : 0);
      std::vector<std::string_view> pat;
      for (std::size_t i = bi - kb; i < bi + n + ka && i < sus.size(); ++i) pat.push_back(norm(sus[i]));
      if (pat.empty() || (n == 0 && (kb == 0 || ka == 0) && k > 0 && kb + ka < 2)) continue;
      if (n == 0 && kb == 0 && ka == 0) continue;
      std::vector<std::size_t> hits;  // current index of the hunk's first added line (or insertion point)
      for (std::size_t s = 0; s + pat.size() <= cur.size(); ++s) {
        bool eq = true;
        for (std::size_t j = 0; j < pat.size() && eq; ++j) eq = norm(cur[s + j]) == pat[j];
        if (!eq) continue;
        const std::size_t at = s + kb;
        if (range && range->first > 0) {
          const std::size_t first = at + 1, last = n > 0 ? at + n : at + 1;
          if (last < range->first || first > range->last + 1) continue;
        }
        hits.push_back(at);
      }
      if (hits.empty()) continue;
      const std::size_t expected = bi;
      std::sort(hits.begin(), hits.end(), [&](std::size_t a, std::size_t b) {
        const auto da = a > expected ? a - expected : expected - a;
        const auto db = b > expected ? b - expected : expected - b;
        return da != db ? da < db : a < b;
      });
      if (k == 0 && hits.size() > 1 && n < 2)
        return fail(errc::failed, name + " of " + "the suspect commit is ambiguous: its line occurs " +
                                      std::to_string(hits.size()) + " times in the current file");
      found = hits.front();
      used_context = static_cast<std::size_t>(k);
    }
    if (!found)
      return fail(errc::failed, name + " of the suspect commit no longer matches the current file: the lines it added "
                                "were changed or removed since (refusing to guess)");
    if (*found != bi) {
      const auto d = static_cast<long>(*found) - static_cast<long>(bi);
      out.notes.push_back(name + " found " + std::to_string(std::labs(d)) + " line(s) " + (d > 0 ? "lower" : "higher") +
                          " than in the suspect commit (later commits moved it)");
    }
    (void)used_context;
    reps.push_back({*found, n, h.removed});
  }
  std::sort(reps.begin(), reps.end(), [](const replacement& a, const replacement& b) { return a.at < b.at; });
  for (std::size_t i = 1; i < reps.size(); ++i)
    if (reps[i - 1].at + reps[i - 1].count > reps[i].at)
      return fail(errc::failed, "two hunks of the suspect commit overlap in the current file");
  std::vector<std::string> lines = cur;
  for (auto it = reps.rbegin(); it != reps.rend(); ++it) {
    auto with = it->with;
    // Keep the file's last-line state: a replaced last line without '\n' stays without one.
    const bool at_end = it->at + it->count == lines.size();
    if (!with.empty()) {
      const bool cur_last_nl = lines.empty() || lines.back().ends_with('\n');
      if (at_end && !cur_last_nl && with.back().ends_with('\n')) with.back().pop_back();
      else if (!with.back().ends_with('\n') && !at_end) with.back() += '\n';
    }
    if (at_end && it->count > 0 && with.empty() && it->at > 0 && !lines.back().ends_with('\n') &&
        lines[it->at - 1].ends_with('\n'))
      lines[it->at - 1].pop_back();
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(it->at),
                lines.begin() + static_cast<std::ptrdiff_t>(it->at + it->count));
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(it->at), with.begin(), with.end());
  }
  out.text = join_lines(lines);
  return out;
}

/// Additions and deletions of one edit.
[[nodiscard]] inline result<file_stat> edit_stat(const file_edit& e) {
  file_stat st;
  st.path = e.path;
  auto hs = line_hunks(e.before.value_or(""), e.after.value_or(""));
  if (!hs) return tl::unexpected(hs.error());
  for (const auto& h : *hs) {
    st.additions += h.added.size();
    st.deletions += h.removed.size();
  }
  return st;
}

/// One unified diff of all edits (git's format: `diff --git`, new/deleted file modes, 3 context
/// lines), in the order given. Edits that change nothing are left out.
[[nodiscard]] inline result<std::string> unified_diff(const std::vector<file_edit>& edits) {
  detail::git_init_guard lib;
  std::string out;
  for (const auto& e : edits) {
    if (e.before == e.after) continue;
    git_diff_options opts;
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    opts.context_lines = 3;
    detail::patch_guard patch;
    const char* ob = e.before ? e.before->data() : nullptr;
    const char* nb = e.after ? e.after->data() : nullptr;
    if (git_patch_from_buffers(&patch.p, ob, e.before ? e.before->size() : 0, e.before ? e.path.c_str() : nullptr, nb,
                               e.after ? e.after->size() : 0, e.after ? e.path.c_str() : nullptr, &opts) != 0)
      return detail::libgit2_fail("cannot write the diff of " + e.path);
    if (!patch.p) continue;
    detail::buf_guard buf;
    if (git_patch_to_buf(&buf.b, patch.p) != 0) return detail::libgit2_fail("cannot write the diff of " + e.path);
    out.append(buf.b.ptr, buf.b.size);
  }
  return out;
}

}  // namespace selfheal::fix
