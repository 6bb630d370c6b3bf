#pragma once
/// \file
/// The policy gate of deployment.deploy (beat 3), pure: every fact it needs (kill-switch file
/// present, earlier deploys of the handler, approvals) is gathered by the stage-crew beat before it
/// and handed in, so the decision itself can be tested without a repository or a clock.
///
/// Rules, each refusal naming its rule (the names are the `selfheal.toml` keys):
///
/// | rule | refuses when |
/// |---|---|
/// | `policy.kill_switch` | the kill-switch file exists in the repository root |
/// | `validation.verdict` | the validation did not pass |
/// | `policy.strategies` | the patch's strategy is not in the allowed list |
/// | `policy.max_changed_lines` | added + deleted lines of the patch exceed the limit |
/// | `policy.max_deploys_per_handler` | the handler had that many deploys inside the window |
/// | `approval.rejected` | a person rejected this deployment |
///
/// Then the mode: `dry-run` (the default, or `--dry-run`) → plan only, nothing written to the
/// repository or production; `approve` → blocked until `selfheal approve ID` (or `--approve`);
/// `auto` → proceed.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/core/result.hpp"
#include "selfheal/deployment/config.hpp"

namespace selfheal::deployment {

/// Everything the gate decides on, gathered beforehand.
struct policy_facts {
  std::string verdict;             ///< the validation's verdict
  std::string strategy;            ///< the patch's strategy
  std::string handler;
  std::size_t changed_lines = 0;   ///< additions + deletions of the patch
  bool kill_switch_present = false;
  std::vector<std::int64_t> recent_deploys_ns;  ///< when earlier deploys of this handler started
  std::int64_t now_ns = 0;
  bool dry_run_flag = false;       ///< --dry-run
  bool approve_flag = false;       ///< --approve: the person running the command approves
  std::optional<std::string> approved_by;  ///< an earlier `selfheal approve`
  std::optional<std::string> rejected_by;  ///< an earlier `selfheal reject`
  std::string rejected_reason;
};

/// One refused rule.
struct policy_refusal {
  std::string rule;    ///< "policy.kill_switch", …
  std::string reason;  ///< a sentence saying what and how to change it
};

/// The gate's decision.
struct policy_decision {
  std::string action = "refuse";  ///< proceed | dry_run | await_approval | refuse
  std::vector<policy_refusal> refusals;
  std::string mode;
  std::string approver;  ///< who approved, when `approve` mode proceeds

  [[nodiscard]] bool proceeds() const noexcept { return action == "proceed"; }
  /// Every refusal as "rule: reason", then the mode's note.
  [[nodiscard]] std::vector<std::string> reasons() const {
    std::vector<std::string> out;
    for (const auto& r : refusals) out.push_back(r.rule + ": " + r.reason);
    if (action == "dry_run") out.push_back("policy.mode: dry run, nothing is written to the repository or production");
    if (action == "await_approval") out.push_back("policy.mode: approve — waiting for `selfheal approve`");
    return out;
  }
};

namespace detail {
inline std::string join_list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "(none)" : s;
}
}  // namespace detail

/// The gate (see the table above). Every failing rule is reported, not only the first, so a dry
/// run shows all that stands in the way.
[[nodiscard]] inline policy_decision check_policy(const policy_options& p, const policy_facts& f) {
  policy_decision d;
  d.mode = f.dry_run_flag ? "dry-run" : p.mode;
  if (f.kill_switch_present)
    d.refusals.push_back({"policy.kill_switch", "the kill-switch file '" + p.kill_switch +
                                                    "' exists in the repository: every deploy is stopped until it is removed"});
  if (f.verdict != "pass")
    d.refusals.push_back({"validation.verdict", "the validation's verdict is '" + f.verdict + "', not 'pass'"});
  if (std::find(p.strategies.begin(), p.strategies.end(), f.strategy) == p.strategies.end())
    d.refusals.push_back({"policy.strategies", "strategy '" + f.strategy + "' is not allowed (allowed: " +
                                                   detail::join_list(p.strategies) + ")"});
  if (f.changed_lines > p.max_changed_lines)
    d.refusals.push_back({"policy.max_changed_lines", "the patch changes " + std::to_string(f.changed_lines) +
                                                          " lines, more than " + std::to_string(p.max_changed_lines)});
  const std::int64_t window = p.max_deploys_per_handler.window.count();
  std::size_t recent = 0;
  for (auto t : f.recent_deploys_ns)
    if (t <= f.now_ns && f.now_ns - t < window) ++recent;
  if (recent >= p.max_deploys_per_handler.count)
    d.refusals.push_back({"policy.max_deploys_per_handler",
                          "handler '" + f.handler + "' was deployed " + std::to_string(recent) + " time(s) in the last " +
                              std::to_string(std::chrono::duration_cast<std::chrono::minutes>(p.max_deploys_per_handler.window).count()) +
                              " min (limit " + std::to_string(p.max_deploys_per_handler.count) + ")"});
  if (f.rejected_by)
    d.refusals.push_back({"approval.rejected", "rejected by " + *f.rejected_by +
                                                   (f.rejected_reason.empty() ? "" : ": " + f.rejected_reason)});
  if (d.mode != "dry-run" && d.mode != "approve" && d.mode != "auto")
    d.refusals.push_back({"policy.mode", "unknown mode '" + d.mode + "' (dry-run | approve | auto)"});
  if (d.mode == "dry-run") { d.action = "dry_run"; return d; }
  if (!d.refusals.empty()) { d.action = "refuse"; return d; }
  if (d.mode == "approve") {
    if (f.approve_flag) { d.action = "proceed"; d.approver = "--approve"; return d; }
    if (f.approved_by) { d.action = "proceed"; d.approver = *f.approved_by; return d; }
    d.action = "await_approval";
    return d;
  }
  d.action = "proceed";
  return d;
}

/// Added + deleted lines of a unified diff. Hunk-aware: inside a hunk the `@@ -a,b +c,d @@`
/// counts say which lines belong to it, so a deleted line reading "-- x" is not a file header.
[[nodiscard]] inline std::size_t changed_lines(std::string_view diff) {
  std::size_t n = 0, pos = 0;
  std::uint64_t old_left = 0, new_left = 0;
  auto number = [](std::string_view s, std::size_t& i) {
    std::uint64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + static_cast<std::uint64_t>(s[i++] - '0');
    return v;
  };
  while (pos < diff.size()) {
    auto end = diff.find('\n', pos);
    if (end == std::string_view::npos) end = diff.size();
    const auto line = diff.substr(pos, end - pos);
    pos = end + 1;
    if (old_left > 0 || new_left > 0) {
      if (line.starts_with('+')) { ++n; if (new_left) --new_left; }
      else if (line.starts_with('-')) { ++n; if (old_left) --old_left; }
      else if (line.starts_with('\\')) {}  // "\ No newline at end of file"
      else { if (old_left) --old_left; if (new_left) --new_left; }
      continue;
    }
    if (line.starts_with("@@ -")) {
      std::size_t i = 4;
      const auto a = number(line, i);
      std::uint64_t b = 1, d = 1;
      static_cast<void>(a);
      if (i < line.size() && line[i] == ',') { ++i; b = number(line, i); }
      if (line.substr(i).starts_with(" +")) {
        i += 2;
        static_cast<void>(number(line, i));
        if (i < line.size() && line[i] == ',') { ++i; d = number(line, i); }
      }
      old_left = b;
      new_left = d;
    }
  }
  return n;
}

}  // namespace selfheal::deployment
