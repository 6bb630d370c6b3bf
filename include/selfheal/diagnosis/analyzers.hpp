#pragma once
/// \file
/// The analyzers of diagnosis.analyze, one per anomaly type, and the suspect-commit ranking they
/// share. All pure: they read an `anomaly_input` and a `codebase` and return a `diagnosis_item`.
///
/// Suspect ranking (`rank_suspects`), per target (a function's line range, or a whole file):
/// - the target's HEAD line range is carried back through history, commit by commit (newest
///   first), with each commit's hunks, so a hunk is compared with the lines the function had
///   *in that commit* (later commits that add lines above it do not hide or fake an overlap);
/// - a commit scores (weights in `ranking_weights`, documented defaults):
///     overlap      0.45  when a hunk changes lines inside the range
///     + 0.10 × share of the range's lines it changed (capped at 1)
///     file_only    0.15  when it touched the file but not the range (instead of overlap)
///     proximity    0.25 × exp(−Δt / 48 h), Δt = onset − commit time
///     size         0.05 × min(1, lines changed inside the range / 20)
///     config_read  0.90 when it changed a configuration value the code in question reads (its key
///                  appears in the function's body or in a function it calls; see `config_reads_of`),
///                  instead of the overlap/file terms when higher: a config-only commit outranks
///                  code commits nearby
///     release      1.00 when it is in the release deployed at the onset (see below)
/// - commits after the onset are not suspects;
/// - with deploy markers, commits between the release before the onset and the release after it
///   (`git before..after`, releases resolved by tag name, `v`-prefix or commit-id prefix) get the
///   release bonus, which puts them first;
/// - suspects are listed by score, highest first (ties: newer first), so the order is the score's.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "selfheal/diagnosis/history.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/diagnosis/symbols.hpp"
#include "selfheal/source/paths.hpp"

namespace selfheal::diagnosis {

/// Weights of the suspect score. The defaults are the documented priors above.
struct ranking_weights {
  double overlap = 0.45;
  double overlap_share = 0.10;
  double file_only = 0.15;
  double proximity = 0.25;
  double proximity_tau_hours = 48.0;
  double size = 0.05;
  double size_lines = 20.0;
  double config_read = 0.90;
  double release = 1.00;
  std::size_t max_suspects = 5;
};

/// A configuration key the code in question reads: `where` is `file:line` of the read, `via` the
/// called function holding it (empty when the read is in the code itself).
struct config_read {
  std::string key;
  std::string where;
  std::string via;
};

/// What to blame commits for: lines [line, end_line] of `file` at HEAD, or the whole file (line 0).
struct code_target {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t end_line = 0;
  std::string label;  ///< "computeTax" or "the sequence definition"
};

/// The commit window the anomaly allows.
struct blame_window {
  std::int64_t onset = 0;                      ///< commits after it are not suspects (0: no limit)
  std::unordered_set<std::string> release_range;  ///< commits of the suspect release, when known
  std::string release_note;                    ///< how the range was found (evidence)
};

namespace detail {

inline std::string short_id(std::string_view id) { return std::string(id.substr(0, 7)); }

inline std::string human_duration(std::int64_t seconds) {
  if (seconds < 0) seconds = -seconds;
  if (seconds < 120) return std::to_string(seconds) + " s";
  if (seconds < 7200) return std::to_string(seconds / 60) + " min";
  if (seconds < 2 * 86400) return std::to_string(seconds / 3600) + " h";
  return std::to_string(seconds / 86400) + " days";
}

inline std::string fixed(double v, int decimals = 2) {
  return fmt::format("{:.{}f}", v, decimals);
}

/// Position `x` (1-based, in the file after a commit) mapped to the file before it. Lines inside
/// an added region map to the start (`to_end` false) or end (`to_end` true) of the region it replaced.
inline std::int64_t map_to_parent(const std::vector<hunk>& hunks, std::int64_t x, bool to_end) {
  std::int64_t offset = 0;
  for (const auto& h : hunks) {
    const auto ns = static_cast<std::int64_t>(h.new_start), nl = static_cast<std::int64_t>(h.new_lines);
    const auto os = static_cast<std::int64_t>(h.old_start), ol = static_cast<std::int64_t>(h.old_lines);
    if (nl == 0) {  // pure deletion after line ns
      if (x > ns) offset += ol;
      else break;
      continue;
    }
    if (x > ns + nl - 1) { offset += ol - nl; continue; }
    if (x >= ns) {
      if (ol == 0) return to_end ? os : os + 1;  // inserted lines: before them / after them
      return to_end ? os + ol - 1 : os;
    }
    break;
  }
  return x + offset;
}

/// The 40-hex sha right after `marker` in `message`, or empty.
inline std::string sha_after(std::string_view message, std::string_view marker) {
  const auto at = message.find(marker);
  if (at == std::string_view::npos) return {};
  const auto sha = message.substr(at + marker.size(), 40);
  if (sha.size() != 40 || !std::all_of(sha.begin(), sha.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      }))
    return {};
  return std::string(sha);
}

/// Commits whose change a later commit took back, and those later commits: together they changed
/// nothing, so neither made anything slower. A revert names what it reverts — `git revert`'s
/// "This reverts commit <sha>", selfheal's rollback "selfheal rolled back <sha>" —; a reverted
/// merge takes its branch's commits (its other parents) with it. Without this, the round after a
/// rollback blamed selfheal's own reverted fix instead of the commit that caused the anomaly.
inline std::unordered_set<std::string> undone_commits(const history& h) {
  std::unordered_map<std::string_view, const commit_info*> by_id;
  for (const auto& c : h.commits) by_id.emplace(c.id, &c);
  std::unordered_set<std::string> out;
  for (const auto& c : h.commits) {
    std::string reverted = sha_after(c.message, "This reverts commit ");
    if (reverted.empty()) reverted = sha_after(c.message, "selfheal rolled back ");
    if (reverted.empty() || out.count(c.id)) continue;  // a revert of a revert: the original stands again
    out.insert(c.id);
    out.insert(reverted);
    if (auto it = by_id.find(reverted); it != by_id.end())
      for (std::size_t i = 1; i < it->second->parents.size(); ++i) out.insert(it->second->parents[i]);
  }
  return out;
}

}  // namespace detail

/// The release window around the onset from the telemetry's deploy markers, resolved to commits.
[[nodiscard]] inline blame_window release_window(const anomaly_input& a, const history& h) {
  blame_window w;
  w.onset = a.onset;
  if (a.releases.empty()) return w;
  auto resolve = [&](const std::string& version) -> std::string {
    if (version.empty()) return {};
    for (const auto& t : h.tags)
      if (t.name == version || t.name == "v" + version || "v" + t.name == version) return t.target;
    if (version.size() >= 7 && std::all_of(version.begin(), version.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
      for (const auto& c : h.commits)
        if (c.id.starts_with(version)) return c.id;
    return {};
  };
  const release_marker* before = nullptr;
  const release_marker* after = nullptr;
  for (const auto& r : a.releases) {
    if (a.onset == 0 || r.first_seen < a.onset) {
      if (!before || r.first_seen >= before->first_seen) before = &r;
    }
    if (a.onset != 0 && r.first_seen >= a.onset && (!after || r.first_seen < after->first_seen)) after = &r;
  }
  // With no release starting after the onset, the newest release before it is the suspect one.
  if (!after && before) {
    after = before;
    before = nullptr;
    for (const auto& r : a.releases)
      if (r.first_seen < after->first_seen && (!before || r.first_seen > before->first_seen)) before = &r;
  }
  if (!after) return w;
  const std::string to = resolve(after->version);
  const std::string from = before ? resolve(before->version) : std::string{};
  if (to.empty()) {
    w.release_note = "release '" + after->version + "' seen from the onset matches no tag or commit; ranked by time";
    return w;
  }
  if (from.empty()) {
    // Without the release before, "everything up to the new release" would mark all history.
    w.release_note = before ? "release '" + before->version + "' before the onset matches no tag or commit; ranked by time"
                            : "no release seen before '" + after->version + "'; ranked by time";
    return w;
  }
  w.release_range = commits_between(h, from, to);
  w.release_note = "deploy markers: " + before->version + " → " + after->version + " spans " +
                   std::to_string(w.release_range.size()) + " commit(s)";
  return w;
}

/// The configuration keys `s` reads, in its body or in a function it calls (one call level), from
/// `codebase::config_uses`.
[[nodiscard]] inline std::vector<config_read> config_reads_of(const codebase& cb, const symbol& s) {
  std::vector<config_read> out;
  auto inside = [&](const std::string& file, std::uint32_t line) { return file == s.file && line >= s.line && line <= s.end_line; };
  for (const auto& u : cb.config_uses) {
    const std::string where = u.file + ":" + std::to_string(u.line);
    if (inside(u.file, u.line)) {
      out.push_back({u.key, where, {}});
      continue;
    }
    if (std::any_of(u.called_at.begin(), u.called_at.end(), [&](const auto& c) { return inside(c.first, c.second); }))
      out.push_back({u.key, where, u.function});
  }
  return out;
}

/// Rank the commits that changed `targets` (or a configuration value in `reads`) before the onset;
/// see the file comment for the score.
[[nodiscard]] inline std::vector<suspect_commit> rank_suspects(const history& h, const std::vector<code_target>& targets,
                                                               const blame_window& window,
                                                               const ranking_weights& wts = {},
                                                               const std::vector<config_read>& reads = {}) {
  struct acc {
    suspect_commit s;
    double overlap_score = 0;
    bool touched = false;
  };
  std::unordered_map<std::string, acc> by_commit;
  const auto undone = detail::undone_commits(h);
  for (const auto& target : targets) {
    std::string path = target.file;
    std::int64_t lo = target.line, hi = target.end_line;
    const bool whole = target.line == 0;
    bool alive = true;      // the range still exists in older versions
    bool file_alive = true;  // the file still exists in older versions
    const double range_len = whole ? 1.0 : static_cast<double>(std::max<std::int64_t>(hi - lo + 1, 1));
    for (const auto& c : h.commits) {
      if (!file_alive) break;
      const file_change* fc = nullptr;
      for (const auto& f : c.files)
        if (f.path == path) { fc = &f; break; }
      if (!fc) continue;
      std::uint32_t inside = 0;
      std::vector<hunk> in_hunks;
      if (!fc->hunks_known) {
        // Its blobs are missing (blob-less clone): it touched the file, where is unknown.
      } else if (!whole && alive) {
        for (const auto& hk : fc->hunks) {
          std::int64_t changed = 0;
          if (hk.new_lines > 0) {
            const std::int64_t a = std::max<std::int64_t>(lo, hk.new_start);
            const std::int64_t b = std::min<std::int64_t>(hi, static_cast<std::int64_t>(hk.new_start + hk.new_lines) - 1);
            if (b >= a) changed = b - a + 1;
          } else if (static_cast<std::int64_t>(hk.new_start) >= lo && static_cast<std::int64_t>(hk.new_start) < hi) {
            changed = hk.old_lines;  // lines deleted from inside the range
          }
          if (changed > 0) {
            inside += static_cast<std::uint32_t>(changed);
            in_hunks.push_back(hk);
          }
        }
      } else if (whole) {
        inside = fc->additions + fc->deletions;
        in_hunks = fc->hunks;
      }
      const bool eligible = (window.onset == 0 || c.commit_time <= window.onset) && !undone.count(c.id);
      if (eligible) {
        auto& e = by_commit[c.id];
        if (!e.touched) {
          e.touched = true;
          e.s.commit = c.id;
          e.s.summary = c.summary;
          e.s.author = c.author;
          e.s.time = c.time;
          for (const auto& f : c.files) e.s.lines_changed += f.additions + f.deletions;
        }
        // A commit that created the code (the file, or the whole range) did not make it slower: there
        // was no earlier version to regress from. It counts as touching the file, no more.
        const bool created = fc->status == 'A' ||
                             (!whole && alive && fc->hunks_known &&
                              detail::map_to_parent(fc->hunks, hi, true) < detail::map_to_parent(fc->hunks, lo, false));
        double sc = 0;
        if (inside > 0 && created) {
          sc = wts.file_only;
          if (e.s.file.empty()) e.s.file = path;
          e.s.reasons.push_back("created " + target.label + " (" + path + "): no earlier version to regress from");
        } else if (inside > 0) {
          sc = wts.overlap + wts.overlap_share * std::min(1.0, static_cast<double>(inside) / range_len) +
               wts.size * std::min(1.0, static_cast<double>(inside) / wts.size_lines);
          if (!e.s.overlaps || sc > e.overlap_score) {
            e.s.file = path;
            e.s.target_hunks = in_hunks;
          }
          e.s.overlaps = true;
          e.s.lines_in_target += inside;
          e.s.reasons.push_back(whole ? "changed " + target.label + " (" + path + ", " + std::to_string(inside) + " lines)"
                                      : "changed " + std::to_string(inside) + " line(s) inside " + target.label + " (" +
                                            path + ":" + std::to_string(lo) + "-" + std::to_string(hi) + " at that commit)");
        } else if (!fc->hunks_known) {
          sc = wts.file_only;
          if (e.s.file.empty()) e.s.file = path;
          e.s.reasons.push_back("touched " + path + " (where is unknown: its objects are missing from the clone)");
        } else {
          sc = wts.file_only;
          if (e.s.file.empty()) e.s.file = path;
          e.s.reasons.push_back("touched " + path + " outside " + target.label);
        }
        e.overlap_score = std::max(e.overlap_score, sc);
      }
      // Carry the range back to the parent's version of the file.
      if (fc->status == 'A') { file_alive = false; continue; }
      if (!whole && alive && fc->hunks_known) {
        const auto nlo = detail::map_to_parent(fc->hunks, lo, false);
        const auto nhi = detail::map_to_parent(fc->hunks, hi, true);
        if (nhi < nlo) alive = false;  // the whole range was added by this commit
        lo = nlo;
        hi = nhi;
      }
      if (fc->status == 'R' && !fc->old_path.empty()) path = fc->old_path;
    }
  }
  // Commits that changed a configuration value the code reads.
  if (!reads.empty()) {
    for (const auto& c : h.commits) {
      if ((window.onset != 0 && c.commit_time > window.onset) || undone.count(c.id)) continue;
      std::vector<config_value_change> hit;
      std::vector<std::string> why;
      for (const auto& ch : c.config_changes)
        for (const auto& r : reads)
          if (ch.key == r.key) {
            hit.push_back(ch);
            why.push_back("changed " + ch.key + " in " + ch.file + " from " + (ch.added ? "(unset)" : ch.old_value) + " to " +
                          (ch.removed ? "(unset)" : ch.new_value) + ", read at " + r.where +
                          (r.via.empty() ? std::string{} : " in " + r.via + ", which it calls"));
            break;
          }
      if (hit.empty()) continue;
      auto& e = by_commit[c.id];
      if (!e.touched) {
        e.touched = true;
        e.s.commit = c.id;
        e.s.summary = c.summary;
        e.s.author = c.author;
        e.s.time = c.time;
        for (const auto& f : c.files) e.s.lines_changed += f.additions + f.deletions;
      }
      if (e.s.file.empty() || !e.s.overlaps) e.s.file = hit.front().file;
      e.s.config_changes = std::move(hit);
      e.s.reasons.insert(e.s.reasons.begin(), why.begin(), why.end());
      e.overlap_score = std::max(e.overlap_score, wts.config_read);
    }
  }
  // In-release commits that did not touch the targets still belong to the suspect release.
  if (!window.release_range.empty()) {
    for (const auto& c : h.commits) {
      if (!window.release_range.count(c.id) || by_commit.count(c.id) || undone.count(c.id)) continue;
      if (window.onset != 0 && c.commit_time > window.onset) continue;
      auto& e = by_commit[c.id];
      e.s.commit = c.id;
      e.s.summary = c.summary;
      e.s.author = c.author;
      e.s.time = c.time;
      for (const auto& f : c.files) e.s.lines_changed += f.additions + f.deletions;
      e.s.reasons.push_back("in the suspect release but did not touch the code in question");
    }
  }
  std::unordered_map<std::string, std::int64_t> commit_time;
  for (const auto& c : h.commits) commit_time.emplace(c.id, c.commit_time);
  std::vector<suspect_commit> out;
  out.reserve(by_commit.size());
  for (auto& [id, e] : by_commit) {
    auto& s = e.s;
    s.in_release_range = window.release_range.count(id) > 0;
    double prox = 0;
    if (window.onset != 0) {
      const auto dt = window.onset - commit_time[id];
      prox = std::exp(-static_cast<double>(std::max<std::int64_t>(dt, 0)) / (wts.proximity_tau_hours * 3600.0));
      s.reasons.push_back("committed " + detail::human_duration(dt) + " before the onset");
    }
    s.score = e.overlap_score + wts.proximity * prox + (s.in_release_range ? wts.release : 0.0);
    if (s.in_release_range) s.reasons.push_back("in the release deployed at the onset");
    s.score = std::round(s.score * 1000.0) / 1000.0;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const suspect_commit& a, const suspect_commit& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.time != b.time) return a.time > b.time;
    return a.commit < b.commit;
  });
  if (out.size() > wts.max_suspects) out.resize(wts.max_suspects);
  return out;
}

/// Confidence in the top suspect: its score, discounted when the runner-up is close.
[[nodiscard]] inline double suspect_confidence(const std::vector<suspect_commit>& s) {
  if (s.empty()) return 0;
  const double top = std::min(1.0, s[0].score);
  if (s.size() == 1) return std::round(top * 1000.0) / 1000.0;
  const double ratio = s[1].score / std::max(s[0].score, 1e-9);
  return std::round(top * (1.0 - 0.5 * std::min(1.0, ratio) * (s[1].in_release_range == s[0].in_release_range ? 1.0 : 0.5)) * 1000.0) / 1000.0;
}

// ---------------------------------------------------------------------------------------------
// Locating a handler
// ---------------------------------------------------------------------------------------------

/// The handler's definition as a `location`, with the match note (and candidates) in `item`.
inline const symbol* locate_handler(const codebase& cb, diagnosis_item& item) {
  if (item.handler.empty()) {
    item.evidence.push_back(item.sequence.empty() ? "the anomaly names no handler"
                                                  : "a whole-sequence anomaly of " + item.sequence +
                                                        ": no single handler's code to locate");
    return nullptr;
  }
  const auto m = match_handler(cb.symbols, item.handler);
  item.evidence.push_back(m.note);
  if (m.status == match_status::ambiguous)
    for (auto i : m.candidates) {
      const auto& s = cb.symbols.symbols[i];
      item.candidates.push_back(s.qualified() + " " + s.file + ":" + std::to_string(s.line));
    }
  const symbol* s = m.chosen(cb.symbols);
  if (s) item.where = location{s->file, s->line, s->end_line, s->qualified()};
  return s;
}

// ---------------------------------------------------------------------------------------------
// Performance
// ---------------------------------------------------------------------------------------------

/// shift (the median moved), tail (only p95/p99 moved), or unknown; `ratio` ≥ 1.3 counts.
[[nodiscard]] inline std::string distribution_shape(const anomaly_input& a, double ratio = 1.3) {
  const double r50 = a.baseline_p50 > 0 ? a.current_p50 / a.baseline_p50 : 0;
  const double r95 = a.baseline_p95 > 0 ? a.current_p95 / a.baseline_p95 : 0;
  const double r99 = a.baseline_p99 > 0 ? a.current_p99 / a.baseline_p99 : 0;
  if (r50 >= ratio) return "shift";
  if (r95 >= ratio || r99 >= ratio) return "tail";
  return "unknown";
}

namespace detail {

inline std::vector<std::string> symptom_words(std::string_view type, std::string_view shape) {
  if (type == "error") return {"retries", "retry", "timeout", "fallback"};
  if (shape == "tail") return {"timeout", "pool", "retries", "retry", "concurrency", "queue", "cache"};
  return {"cache", "batch", "pool", "timeout", "concurrency", "limit", "size"};
}

inline std::vector<config_entry> related_config(const codebase& cb, const anomaly_input& a, std::string_view shape,
                                                const symbol* s) {
  std::vector<config_entry> out;
  const auto words = symptom_words(a.type, shape);
  auto handler_words = identifier_words(a.handler);
  if (s) {
    auto more = identifier_words(s->file.substr(s->file.rfind('/') == std::string::npos ? 0 : s->file.rfind('/') + 1));
    handler_words.insert(handler_words.end(), more.begin(), more.end());
  }
  for (const auto& e : cb.configs) {
    const auto kw = identifier_words(e.key);
    const bool symptom = std::any_of(kw.begin(), kw.end(), [&](const std::string& w) {
      return std::find(words.begin(), words.end(), w) != words.end();
    });
    if (!symptom) continue;
    out.push_back(e);
  }
  // Keys naming the handler's words first.
  std::stable_sort(out.begin(), out.end(), [&](const config_entry& x, const config_entry& y) {
    auto rel = [&](const config_entry& e) {
      const auto kw = identifier_words(e.key);
      return std::any_of(kw.begin(), kw.end(), [&](const std::string& w) {
        return w.size() > 3 && std::find(handler_words.begin(), handler_words.end(), w) != handler_words.end();
      });
    };
    return rel(x) && !rel(y);
  });
  if (out.size() > 5) out.resize(5);
  return out;
}

inline void nearby_tests(const codebase& cb, const symbol* s, std::string_view handler, diagnosis_item& item) {
  if (!s) return;
  const std::string stem = [&] {
    std::string f = s->file.substr(s->file.rfind('/') == std::string::npos ? 0 : s->file.rfind('/') + 1);
    return f.substr(0, f.find('.'));
  }();
  const auto want = normalized_name(s->name);
  for (const auto& t : cb.tests) {
    const bool mentions = std::binary_search(t.identifiers.begin(), t.identifiers.end(), s->name) ||
                          std::binary_search(t.identifiers.begin(), t.identifiers.end(), std::string(handler));
    const bool same_stem = t.file.find(stem) != std::string::npos;
    if (!mentions && !same_stem) continue;
    bool named = false;
    for (const auto& tc : t.tests)
      if (normalized_name(tc.name).find(want) != std::string::npos) {
        item.nearby_tests.push_back(t.file + ":" + std::to_string(tc.line) + " " + tc.name);
        named = true;
      }
    if (!named) item.nearby_tests.push_back(t.file + (mentions ? " (mentions " + s->name + ")" : " (same module)"));
  }
}

}  // namespace detail

/// Beat 4: where the handler is, how its latency changed, and which commits changed it.
[[nodiscard]] inline diagnosis_item analyze_performance(const anomaly_input& a, const codebase& cb,
                                                        const ranking_weights& wts = {}) {
  diagnosis_item d;
  d.anomaly_id = a.id;
  d.type = a.type.empty() ? "performance" : a.type;
  d.handler = a.handler;
  d.sequence = a.sequence;
  d.shape = distribution_shape(a);
  const double r50 = a.baseline_p50 > 0 ? a.current_p50 / a.baseline_p50 : 0;
  const double r95 = a.baseline_p95 > 0 ? a.current_p95 / a.baseline_p95 : 0;
  if (a.baseline_p50 > 0)
    d.evidence.push_back("p50 " + detail::fixed(a.baseline_p50) + " ms → " + detail::fixed(a.current_p50) + " ms (×" +
                         detail::fixed(r50) + "), p95 " + detail::fixed(a.baseline_p95) + " ms → " +
                         detail::fixed(a.current_p95) + " ms (×" + detail::fixed(r95) + "): " + d.shape);
  const symbol* s = locate_handler(cb, d);
  const blame_window w = release_window(a, cb.git);
  if (!w.release_note.empty()) d.evidence.push_back(w.release_note);
  // Without a location, the suspect release's commits (if deploy markers gave one) are still listed.
  std::vector<code_target> targets;
  if (s) targets.push_back(code_target{s->file, s->line, s->end_line, s->qualified()});
  const auto reads = s ? config_reads_of(cb, *s) : std::vector<config_read>{};
  d.suspects = rank_suspects(cb.git, targets, w, wts, reads);
  d.related_config = detail::related_config(cb, a, d.shape, s);
  detail::nearby_tests(cb, s, a.handler, d);
  d.confidence = suspect_confidence(d.suspects);
  if (!s) d.confidence = 0;
  std::string what = d.shape == "tail" ? "tail latency p95 ×" + detail::fixed(r95)
                                       : "median latency p50 ×" + detail::fixed(r50);
  if (!s) {
    d.root_cause = subject(d) + " got slower (" + what + ") but its code was not located: " + d.evidence.back();
  } else if (!d.suspects.empty() && !d.suspects[0].config_changes.empty()) {
    const auto& top = d.suspects[0];
    const auto& ch = top.config_changes.front();
    d.root_cause = a.handler + " (" + s->file + ":" + std::to_string(s->line) + "-" + std::to_string(s->end_line) +
                   ") got slower (" + what + ") after commit " + detail::short_id(top.commit) + " \"" + top.summary +
                   "\" by " + top.author + " changed the configuration value " + ch.key + " in " + ch.file + " from " +
                   (ch.added ? "(unset)" : ch.old_value) + " to " + (ch.removed ? "(unset)" : ch.new_value) + ", which it reads";
  } else if (d.suspects.empty() || !d.suspects[0].overlaps) {
    d.root_cause = a.handler + " (" + s->file + ":" + std::to_string(s->line) + ") got slower (" + what +
                   "); no commit before the onset changed its code" +
                   (d.suspects.empty() ? std::string{} : ": the release's changes are listed as suspects");
    d.confidence = std::min(d.confidence, 0.3);
  } else {
    const auto& top = d.suspects[0];
    d.root_cause = a.handler + " (" + s->file + ":" + std::to_string(s->line) + "-" + std::to_string(s->end_line) +
                   ") got slower (" + what + ") after commit " + detail::short_id(top.commit) + " \"" + top.summary +
                   "\" by " + top.author + ", which changed " + std::to_string(top.lines_in_target) +
                   " line(s) inside it" + (top.in_release_range ? " in the release deployed at the onset" : "");
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// Behavioral
// ---------------------------------------------------------------------------------------------

/// Beat 5: which change to the sequence definition or to the code of the affected beats explains it.
[[nodiscard]] inline diagnosis_item analyze_behavioral(const anomaly_input& a, const codebase& cb,
                                                       const ranking_weights& wts = {}) {
  diagnosis_item d;
  d.anomaly_id = a.id;
  d.type = "behavioral";
  d.handler = a.handler;
  d.sequence = a.sequence;
  std::vector<code_target> targets;
  const sequence_file* seq = nullptr;
  const auto want = normalized_name(a.sequence);
  for (const auto& s : cb.sequences)
    if (!a.sequence.empty() && (s.id == a.sequence || s.name == a.sequence || normalized_name(s.id) == want ||
                                normalized_name(s.name) == want))
      seq = &s;
  if (seq) {
    targets.push_back({seq->file, 0, 0, "the sequence definition"});
    d.evidence.push_back("sequence '" + a.sequence + "' is defined in " + seq->file + " (" +
                         std::to_string(seq->beats.size()) + " beats)");
    d.where = location{seq->file, 1, 0, seq->id};
  } else if (!a.sequence.empty()) {
    d.evidence.push_back("no sequence file defines '" + a.sequence + "'");
  }
  std::vector<std::string> beats = a.missing_beats;
  beats.insert(beats.end(), a.reordered_beats.begin(), a.reordered_beats.end());
  beats.insert(beats.end(), a.unexpected_beats.begin(), a.unexpected_beats.end());
  std::vector<std::string> handlers;
  if (!a.handler.empty()) handlers.push_back(a.handler);
  for (const auto& b : beats) {
    std::string h = b;
    if (seq)
      for (const auto& def : seq->beats)
        if (def.event == b || def.handler == b) h = def.handler;
    if (std::find(handlers.begin(), handlers.end(), h) == handlers.end()) handlers.push_back(h);
  }
  for (const auto& h : handlers) {
    const auto m = match_handler(cb.symbols, h);
    if (const symbol* s = m.chosen(cb.symbols)) {
      targets.push_back({s->file, s->line, s->end_line, s->qualified()});
      if (!d.where || d.where->end_line == 0) d.where = location{s->file, s->line, s->end_line, s->qualified()};
    }
    d.evidence.push_back(m.note);
  }
  const blame_window w = release_window(a, cb.git);
  if (!w.release_note.empty()) d.evidence.push_back(w.release_note);
  d.suspects = rank_suspects(cb.git, targets, w, wts);
  d.confidence = suspect_confidence(d.suspects);
  std::string symptom;
  if (!a.missing_beats.empty()) symptom = "missing beat(s) " + a.missing_beats.front();
  else if (!a.reordered_beats.empty()) symptom = "out-of-order beat(s) " + a.reordered_beats.front();
  else if (!a.unexpected_beats.empty()) symptom = "unexpected beat(s) " + a.unexpected_beats.front();
  else symptom = a.description.empty() ? "changed behaviour" : a.description;
  if (!d.suspects.empty() && d.suspects[0].overlaps)
    d.root_cause = "sequence " + a.sequence + ": " + symptom + " after commit " + detail::short_id(d.suspects[0].commit) +
                   " \"" + d.suspects[0].summary + "\" (" + d.suspects[0].reasons.front() + ")";
  else
    d.root_cause = "sequence " + a.sequence + ": " + symptom + "; no change to its definition or beat code found before the onset";
  return d;
}

// ---------------------------------------------------------------------------------------------
// Coverage
// ---------------------------------------------------------------------------------------------

namespace detail {

/// The repository file a path from a log or report names: `source::resolve_path`, the resolver
/// the coverage index uses too, with the one-file-of-that-name rule for stack frames. "" when none
/// or when several files fit (named in `note`).
inline std::string resolve_repo_path(const codebase& cb, std::string_view raw, std::string* note = nullptr) {
  std::error_code ec;
  auto root = std::filesystem::canonical(cb.root, ec);
  if (ec) root = cb.root;
  const auto r = source::resolve_path(root, raw, cb.files, true);
  if (r.match == source::source_match::direct || r.match == source::source_match::by_suffix) return r.path;
  if (r.ambiguous > 1 && note) *note = "'" + std::string(raw) + "' matches " + std::to_string(r.ambiguous) + " files";
  return {};
}

}  // namespace detail

/// Beat 6: uncovered lines of the hot handler (from the lcov records) and tests near it.
[[nodiscard]] inline diagnosis_item analyze_coverage(const anomaly_input& a, const codebase& cb) {
  diagnosis_item d;
  d.anomaly_id = a.id;
  d.type = "coverage";
  d.handler = a.handler;
  d.sequence = a.sequence;
  const symbol* s = locate_handler(cb, d);
  std::uint32_t lines = 0, covered = 0, branches = 0, taken = 0;
  if (s) {
    for (const auto& fc : a.coverage) {
      if (detail::resolve_repo_path(cb, fc.file) != s->file) continue;
      for (const auto& [line, hits] : fc.lines) {
        if (line < s->line || line > s->end_line) continue;
        ++lines;
        if (hits > 0) ++covered;
        else d.uncovered_lines.push_back(line);
      }
      for (const auto& [line, hits] : fc.branches) {
        if (line < s->line || line > s->end_line) continue;
        ++branches;
        if (hits > 0) ++taken;
      }
    }
    std::sort(d.uncovered_lines.begin(), d.uncovered_lines.end());
    d.uncovered_lines.erase(std::unique(d.uncovered_lines.begin(), d.uncovered_lines.end()), d.uncovered_lines.end());
  }
  detail::nearby_tests(cb, s, a.handler, d);
  const double ratio = lines ? static_cast<double>(covered) / lines : 0.0;
  if (s) {
    d.evidence.push_back(std::to_string(covered) + "/" + std::to_string(lines) + " lines covered (" +
                         detail::fixed(100 * ratio, 0) + "%), " + std::to_string(taken) + "/" + std::to_string(branches) +
                         " branches taken");
    d.root_cause = a.handler + " (" + s->file + ":" + std::to_string(s->line) + "-" + std::to_string(s->end_line) +
                   ") is hot in production but " + std::to_string(d.uncovered_lines.size()) + " of its " +
                   std::to_string(lines) + " instrumented lines are never run by tests" +
                   (d.nearby_tests.empty() ? " and no test mentions it" : "");
    d.confidence = lines ? 0.9 : 0.4;
  } else {
    d.root_cause = subject(d) + " is poorly covered but its code was not located";
    d.confidence = 0.2;
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Stack frames and `file:line` mentions in an error message, in order (top of stack first).
[[nodiscard]] inline std::vector<stack_frame> parse_stack_frames(std::string_view message) {
  static const std::regex js(R"(at\s+(?:(?:async\s+)?([\w$.<>\[\] ]+?)\s+\()?((?:[A-Za-z]:)?[^\s():]+):(\d+)(?::\d+)?\)?)");
  static const std::regex py(R"re(File "([^"]+)", line (\d+)(?:, in ([\w<>]+))?)re");
  static const std::regex java(R"(at\s+([\w$.]+)\(([\w$]+\.(?:java|kt|scala)):(\d+)\))");
  static const std::regex generic(R"(((?:[\w.~-]+/)*[\w.-]+\.(?:js|mjs|cjs|ts|tsx|jsx|py|go|java|c|cc|cpp|cxx|h|hpp|rb|rs|cs)):(\d+))");
  std::vector<stack_frame> out;
  const std::string text(message);
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(start, nl - start);
    start = nl + 1;
    std::smatch m;
    stack_frame f;
    if (std::regex_search(line, m, py)) {
      f = {line, m[1].str(), static_cast<std::uint32_t>(std::stoul(m[2].str())), m[3].str()};
    } else if (std::regex_search(line, m, java)) {
      f = {line, m[2].str(), static_cast<std::uint32_t>(std::stoul(m[3].str())), m[1].str()};
    } else if (std::regex_search(line, m, js)) {
      f = {line, m[2].str(), static_cast<std::uint32_t>(std::stoul(m[3].str())), m[1].str()};
    } else if (std::regex_search(line, m, generic)) {
      f = {line, m[1].str(), static_cast<std::uint32_t>(std::stoul(m[2].str())), {}};
    } else {
      continue;
    }
    while (!f.raw.empty() && std::isspace(static_cast<unsigned char>(f.raw.front()))) f.raw.erase(0, 1);
    out.push_back(std::move(f));
  }
  return out;
}

/// Beat 7: frames resolved to repository files and functions; commits before the first-seen time.
[[nodiscard]] inline diagnosis_item analyze_errors(const anomaly_input& a, const codebase& cb, const ranking_weights& wts = {}) {
  diagnosis_item d;
  d.anomaly_id = a.id;
  d.type = "error";
  d.handler = a.handler;
  d.sequence = a.sequence;
  std::vector<std::string> messages = a.error_samples;
  if (!a.error_template.empty()) messages.push_back(a.error_template);
  for (const auto& msg : messages) {
    for (auto f : parse_stack_frames(msg)) {
      std::string note;
      const std::string raw_file = f.file;
      f.file = detail::resolve_repo_path(cb, raw_file, &note);
      if (!f.file.empty()) {
        if (const symbol* s = enclosing_symbol(cb.symbols, f.file, f.line)) f.function = s->qualified();
      } else if (!note.empty()) {
        d.evidence.push_back(note);
      }
      const bool dup = std::any_of(d.frames.begin(), d.frames.end(), [&](const stack_frame& g) {
        return g.file == f.file && g.line == f.line && g.raw == f.raw;
      });
      if (!dup) d.frames.push_back(std::move(f));
    }
    if (!d.frames.empty()) break;  // the first message with frames is the evidence
  }
  const stack_frame* top = nullptr;
  for (const auto& f : d.frames)
    if (!f.file.empty() && !is_test_path(f.file)) { top = &f; break; }
  const symbol* s = nullptr;
  if (top) {
    s = enclosing_symbol(cb.symbols, top->file, top->line);
    d.where = location{top->file, top->line, top->line, s ? s->qualified() : top->function};
    d.evidence.push_back("top frame resolved: " + top->raw + " → " + top->file + ":" + std::to_string(top->line) +
                         (s ? " in " + s->qualified() : std::string{}));
  } else {
    s = locate_handler(cb, d);
  }
  anomaly_input windowed = a;
  if (a.first_seen) windowed.onset = a.first_seen;
  const blame_window w = release_window(windowed, cb.git);
  if (!w.release_note.empty()) d.evidence.push_back(w.release_note);
  std::vector<code_target> targets;
  if (top) {
    // The failing line (±2) first, then its function.
    const std::uint32_t lo = top->line > 2 ? top->line - 2 : 1;
    targets.push_back({top->file, lo, top->line + 2, "the failing line " + top->file + ":" + std::to_string(top->line)});
  }
  if (s) targets.push_back({s->file, s->line, s->end_line, s->qualified()});
  d.suspects = rank_suspects(cb.git, targets, w, wts);
  d.confidence = suspect_confidence(d.suspects);
  const std::string what = !a.error_template.empty() ? a.error_template
                           : !a.error_samples.empty() ? a.error_samples.front().substr(0, a.error_samples.front().find('\n'))
                                                      : std::string("errors");
  if (top && !d.suspects.empty() && d.suspects[0].overlaps)
    d.root_cause = "\"" + what + "\" raised at " + top->file + ":" + std::to_string(top->line) +
                   (s ? " in " + s->qualified() : std::string{}) + "; that code was changed by commit " +
                   detail::short_id(d.suspects[0].commit) + " \"" + d.suspects[0].summary + "\"" +
                   (a.first_seen ? ", " + detail::human_duration(a.first_seen - d.suspects[0].time) +
                                       " before the error was first seen"
                                 : std::string{});
  else if (top)
    d.root_cause = "\"" + what + "\" raised at " + top->file + ":" + std::to_string(top->line) +
                   "; no commit before it was first seen changed that code";
  else
    d.root_cause = "\"" + what + "\": no stack frame resolved to a repository file";
  return d;
}

}  // namespace selfheal::diagnosis
