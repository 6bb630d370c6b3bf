#pragma once
/// \file
/// The words of a deploy, pure: the commit message (naming the anomaly, the diagnosis, the evidence
/// and the validation), the pull request's title and Markdown body (summary, evidence with
/// numbers, the diff stat, validation results, how to roll back). Everything that came from logs
/// or code passes `sanitize_text` first: no control characters, no Markdown/HTML that could
/// hide or forge content, bounded length.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "selfheal/deployment/config.hpp"
#include "selfheal/deployment/model.hpp"
#include "selfheal/validation/model.hpp"

namespace selfheal::deployment {

/// One line of text from an untrusted source: control characters become spaces, '<', '>' and
/// '`' are replaced (no HTML, no breaking out of code spans), at most `max` bytes (cut on a UTF-8
/// boundary, with "…").
[[nodiscard]] inline std::string sanitize_text(std::string_view in, std::size_t max = 200) {
  std::string s;
  for (char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) s += ' ';
    else if (c == '<') s += "‹";
    else if (c == '>') s += "›";
    else if (c == '`') s += '\'';
    else s += c;
  }
  if (s.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "…";
  }
  return s;
}

/// Per-file additions and deletions of a unified diff.
struct diff_stat_line {
  std::string path;
  std::size_t additions = 0, deletions = 0;
};

[[nodiscard]] inline std::vector<diff_stat_line> diff_stat(std::string_view diff) {
  std::vector<diff_stat_line> out;
  std::size_t pos = 0;
  std::uint64_t old_left = 0, new_left = 0;
  while (pos < diff.size()) {
    auto end = diff.find('\n', pos);
    if (end == std::string_view::npos) end = diff.size();
    const auto line = diff.substr(pos, end - pos);
    pos = end + 1;
    if (old_left > 0 || new_left > 0) {
      if (line.starts_with('+')) { if (!out.empty()) ++out.back().additions; if (new_left) --new_left; }
      else if (line.starts_with('-')) { if (!out.empty()) ++out.back().deletions; if (old_left) --old_left; }
      else if (!line.starts_with('\\')) { if (old_left) --old_left; if (new_left) --new_left; }
      continue;
    }
    if (line.starts_with("+++ ")) {
      auto p = line.substr(4);
      if (p.starts_with("b/")) p.remove_prefix(2);
      if (p != "/dev/null") out.push_back({std::string(p), 0, 0});
      continue;
    }
    if (line.starts_with("--- ") && !out.empty()) continue;
    if (line.starts_with("--- /dev/null")) continue;
    if (line.starts_with("@@ -")) {
      std::size_t i = 4;
      auto num = [&](std::uint64_t& v) { v = 0; while (i < line.size() && line[i] >= '0' && line[i] <= '9') v = v * 10 + static_cast<std::uint64_t>(line[i++] - '0'); };
      std::uint64_t a = 0, b = 1, c = 0, d = 1;
      num(a);
      if (i < line.size() && line[i] == ',') { ++i; num(b); }
      if (line.substr(i).starts_with(" +")) { i += 2; num(c); if (i < line.size() && line[i] == ',') { ++i; num(d); } }
      old_left = b;
      new_left = d;
    }
  }
  return out;
}

namespace detail {
inline std::string num(double v) {
  return fmt::format("{:.4g}", v);
}
}  // namespace detail

/// "selfheal: revert fix for checkout (anomaly-2.1)".
[[nodiscard]] inline std::string pr_title(const validation::report& v) {
  std::string t = "selfheal: " + sanitize_text(v.strategy.empty() ? "fix" : v.strategy, 40) + " fix for " +
                  sanitize_text(v.handler.empty() ? std::string("the service") : v.handler, 80);
  if (!v.anomaly_id.empty()) t += " (" + sanitize_text(v.anomaly_id, 40) + ")";
  return t;
}

/// The commit message: a subject, then the anomaly, diagnosis, evidence and validation.
[[nodiscard]] inline std::string commit_message(const validation::report& v, std::string_view diagnosis_record,
                                                const record& r) {
  std::string m = pr_title(v) + "\n\n";
  m += "Anomaly: " + sanitize_text(v.anomaly_id.empty() ? "(none: a --patch validation)" : v.anomaly_id, 60) +
       (v.anomaly_type.empty() ? "" : " (" + sanitize_text(v.anomaly_type, 40) + ")") + "\n";
  m += "Diagnosis: " + sanitize_text(diagnosis_record.empty() ? "(unknown)" : diagnosis_record, 60) + "\n";
  m += "Fix: " + sanitize_text(v.patch_id, 60) + ", strategy " + sanitize_text(v.strategy, 40) + "\n";
  m += "Evidence: tests " + std::to_string(v.tests.passed) + " passed, " + std::to_string(v.tests.failed) + " failed";
  if (!v.performance.handler.empty())
    m += "; " + sanitize_text(v.performance.handler, 80) + " p50 " + detail::num(v.performance.main_p50_ms) + " ms → " +
         detail::num(v.performance.candidate_p50_ms) + " ms (ratio " + detail::num(v.performance.ratio) + ", p " +
         detail::num(v.performance.p_value) + ")";
  m += "\n";
  m += "Validation: " + sanitize_text(v.record_id, 60) + ", verdict " + sanitize_text(v.verdict, 10) + " on " +
       v.base_commit.substr(0, 12) + "\n";
  m += "Deployment: " + r.record_id + "\n";
  return m;
}

/// The pull request's Markdown body.
[[nodiscard]] inline std::string pr_body(const validation::report& v, const record& r, const deploy_config& c,
                                         std::string_view diagnosis_record) {
  std::string b;
  b += "## Summary\n\n";
  b += "selfheal proposes a **" + sanitize_text(v.strategy, 40) + "** fix for handler `" + sanitize_text(v.handler, 80) +
       "`, made for anomaly " + sanitize_text(v.anomaly_id, 60) + (v.anomaly_type.empty() ? "" : " (" + sanitize_text(v.anomaly_type, 40) + ")") +
       " and validated in " + sanitize_text(v.record_id, 60) + ".\n\n";
  b += "## Evidence\n\n";
  b += "- diagnosis: " + sanitize_text(diagnosis_record.empty() ? "(unknown)" : diagnosis_record, 60) + "\n";
  if (!v.performance.handler.empty())
    b += "- `" + sanitize_text(v.performance.handler, 80) + "` p50: main " + detail::num(v.performance.main_p50_ms) +
         " ms, with the fix " + detail::num(v.performance.candidate_p50_ms) + " ms (ratio " + detail::num(v.performance.ratio) +
         ", Mann-Whitney p " + detail::num(v.performance.p_value) + ")\n";
  b += "- tests: " + std::to_string(v.tests.passed) + " passed, " + std::to_string(v.tests.failed) + " failed, " +
       std::to_string(v.tests.skipped) + " skipped, " + std::to_string(v.tests.flaky) + " flaky\n\n";
  b += "## Changes\n\n| file | + | - |\n|---|---|---|\n";
  for (const auto& f : diff_stat(v.diff))
    b += "| " + sanitize_text(f.path, 200) + " | " + std::to_string(f.additions) + " | " + std::to_string(f.deletions) + " |\n";
  b += "\n## Validation\n\n| check | status | seconds | detail |\n|---|---|---|---|\n";
  for (const auto& ch : v.checks) {
    std::string d = sanitize_text(ch.detail, 160);
    for (auto& x : d) if (x == '|') x = '/';
    b += "| " + sanitize_text(ch.name, 30) + " | " + sanitize_text(ch.status, 10) + " | " + detail::num(ch.seconds) + " | " + d + " |\n";
  }
  b += "\n## Rollout\n\nStages: ";
  for (std::size_t i = 0; i < c.stages.size(); ++i) b += (i ? " → " : "") + sanitize_text(c.stages[i], 40);
  b += ". Each stage is judged by the canary judge (pass " + detail::num(c.canary.pass) + ", marginal " +
       detail::num(c.canary.marginal) + "); a failing stage is rolled back automatically.\n\n";
  b += "## How to roll back\n\nselfheal reverts the merge itself when a stage fails. By hand: `git revert -m 1 <merge commit>` on `" +
       sanitize_text(c.main_branch, 60) + "` (deployment " + r.record_id + " records the merge commit), then deploy.\n";
  return b;
}

}  // namespace selfheal::deployment
