#pragma once
/// \file
/// `recommendFixes`: ranked fix strategies per diagnosis, each with a rationale and an expected
/// benefit, from strategy types that model the `fix_strategy` concept — users add their own.
///
/// ## The `fix_strategy` concept
///
/// A type `S` models `fix_strategy` when
/// - `S::name` is a `std::string_view` constant: the strategy's name in JSON and in the priors
///   table (`"revert"`, `"config_change"`, …);
/// - `s.propose(item, code)` (const) takes a `diagnosis_item` and the `codebase` and returns
///   `std::optional<recommendation>`: `std::nullopt` when the strategy does not apply, otherwise a
///   recommendation whose `expected_benefit` is the strategy's *applicability* in [0, 1].
/// Laws: `propose` is pure (no I/O, same answer for the same input) and sets `strategy = S::name`.
/// `rank_fixes` multiplies applicability by the prior success rate of (anomaly type,
/// strategy), ranks by the product and numbers the priorities 1, 2, …
///
/// Models: `revert_strategy`, `partial_revert_strategy`, `config_change_strategy`,
/// `regression_test_strategy`, `coverage_test_strategy`, `doc_update_strategy`.
///
/// Example — a strategy of one's own, added to the defaults:
/// ```cpp
/// struct feature_flag_strategy {
///   static constexpr std::string_view name = "feature_flag";
///   std::optional<selfheal::diagnosis::recommendation> propose(const selfheal::diagnosis::diagnosis_item& d,
///                                                              const selfheal::diagnosis::codebase&) const {
///     if (d.type != "performance") return std::nullopt;
///     selfheal::diagnosis::recommendation r;
///     r.strategy = std::string(name);
///     r.expected_benefit = 0.7;
///     r.rationale = "turn off the flag guarding " + d.handler;
///     return r;
///   }
/// };
/// static_assert(selfheal::diagnosis::fix_strategy<feature_flag_strategy>);
/// auto recs = selfheal::diagnosis::rank_fixes_using<feature_flag_strategy>(item, code, priors);  // only it
/// auto all  = selfheal::diagnosis::rank_fixes_with_defaults<feature_flag_strategy>(item, code, priors);
/// ```
///
/// ## Priors
///
/// `strategy_priors` holds the success rate per (anomaly type, strategy). Until the learning
/// sequence has written its table, the documented defaults below apply:
///
/// | type \ strategy | revert | partial_revert | config_change | regression_test | coverage_test | doc_update |
/// |---|---|---|---|---|---|---|
/// | performance, slo | 0.85 | 0.75 | 0.35 | 0.60 | 0.30 | 0.20 |
/// | error            | 0.80 | 0.70 | 0.25 | 0.70 | 0.40 | 0.20 |
/// | behavioral       | 0.75 | 0.60 | 0.20 | 0.60 | 0.30 | 0.25 |
/// | coverage         | 0.05 | 0.05 | 0.05 | 0.40 | 0.80 | 0.20 |
/// | anything else / a user strategy | 0.50 |
///
/// `load_priors(db)` reads table `learning_strategy_priors(anomaly_type TEXT, strategy TEXT,
/// successes REAL, failures REAL)` when it exists and overrides each pair with the posterior mean
/// (successes + 1) / (successes + failures + 2) (a Beta(1,1) prior).

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "selfheal/core/result.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/diagnosis/symbols.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::diagnosis {

template <class S>
concept fix_strategy = requires(const S& s, const diagnosis_item& d, const codebase& cb) {
  { S::name } -> std::convertible_to<std::string_view>;
  { s.propose(d, cb) } -> std::same_as<std::optional<recommendation>>;
};

/// Success rate per (anomaly type, strategy): documented defaults, overridable from the store.
struct strategy_priors {
  std::map<std::pair<std::string, std::string>, double> rates;
  double fallback = 0.5;
  std::string source = "defaults";

  [[nodiscard]] static strategy_priors defaults() {
    strategy_priors p;
    const char* strategies[] = {"revert", "partial_revert", "config_change", "regression_test", "coverage_test", "doc_update"};
    const std::pair<const char*, std::array<double, 6>> table[] = {
        {"performance", {0.85, 0.75, 0.35, 0.60, 0.30, 0.20}}, {"slo", {0.85, 0.75, 0.35, 0.60, 0.30, 0.20}},
        {"error", {0.80, 0.70, 0.25, 0.70, 0.40, 0.20}},       {"behavioral", {0.75, 0.60, 0.20, 0.60, 0.30, 0.25}},
        {"coverage", {0.05, 0.05, 0.05, 0.40, 0.80, 0.20}},
    };
    for (const auto& [type, row] : table)
      for (std::size_t i = 0; i < 6; ++i) p.rates[{type, strategies[i]}] = row[i];
    return p;
  }
  [[nodiscard]] double rate(std::string_view type, std::string_view strategy) const {
    auto it = rates.find({std::string(type), std::string(strategy)});
    return it == rates.end() ? fallback : it->second;
  }
};

/// Defaults overridden by the learning sequence's table when the store has it.
[[nodiscard]] inline result<strategy_priors> load_priors(store::database& db) {
  strategy_priors p = strategy_priors::defaults();
  auto exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'learning_strategy_priors'");
  if (!exists) return tl::unexpected(exists.error());
  auto row = exists->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return p;
  auto st = db.prepare("SELECT anomaly_type, strategy, successes, failures FROM learning_strategy_priors");
  if (!st) return tl::unexpected(st.error());
  std::size_t n = 0;
  for (auto r = st->step(); ; r = st->step()) {
    if (!r) return tl::unexpected(r.error());
    if (!*r) break;
    const double s = std::max(0.0, st->column_double(2)), f = std::max(0.0, st->column_double(3));
    p.rates[{st->column_text(0), st->column_text(1)}] = (s + 1.0) / (s + f + 2.0);
    ++n;
  }
  if (n) p.source = "learning (" + std::to_string(n) + " pairs)";
  return p;
}

namespace detail {
inline std::string pct(double v) {
  return fmt::format("{:.0f}%", v * 100.0);
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// The built-in strategies
// ---------------------------------------------------------------------------------------------

/// Revert the whole top suspect commit: applies when it changed the code in question; less
/// applicable the more of the commit lies outside it.
struct revert_strategy {
  static constexpr std::string_view name = "revert";
  [[nodiscard]] std::optional<recommendation> propose(const diagnosis_item& d, const codebase&) const {
    if (d.suspects.empty() || !d.suspects[0].overlaps) return std::nullopt;
    const auto& s = d.suspects[0];
    const double inside = s.lines_changed ? static_cast<double>(s.lines_in_target) / s.lines_changed : 1.0;
    recommendation r;
    r.strategy = std::string(name);
    r.commit = s.commit;
    r.file = s.file;
    r.expected_benefit = std::min(1.0, s.score) * (0.6 + 0.4 * std::min(1.0, inside));
    r.rationale = "revert " + s.commit.substr(0, 7) + " \"" + s.summary + "\" (" + std::to_string(s.lines_changed) +
                  " changed lines, " + detail::pct(std::min(1.0, inside)) + " of them inside " + d.handler + ")";
    return r;
  }
};

/// Revert only the top suspect's hunks inside the handler: better than a full revert when the
/// commit also changed other code.
struct partial_revert_strategy {
  static constexpr std::string_view name = "partial_revert";
  [[nodiscard]] std::optional<recommendation> propose(const diagnosis_item& d, const codebase&) const {
    if (d.suspects.empty() || !d.suspects[0].overlaps || d.suspects[0].target_hunks.empty()) return std::nullopt;
    const auto& s = d.suspects[0];
    const double outside = s.lines_changed ? 1.0 - std::min(1.0, static_cast<double>(s.lines_in_target) / s.lines_changed) : 0.0;
    recommendation r;
    r.strategy = std::string(name);
    r.commit = s.commit;
    r.file = s.file;
    r.hunks = s.target_hunks;
    r.expected_benefit = std::min(1.0, s.score) * (0.7 + 0.3 * outside);
    r.rationale = "revert only the " + std::to_string(s.target_hunks.size()) + " hunk(s) of " + s.commit.substr(0, 7) +
                  " inside " + d.handler + " (" + s.file + "), keeping the rest of the commit";
    return r;
  }
};

/// Restore a configuration value the top suspect changed and the code reads (`old_value`,
/// `new_value`, `commit` set: fix.generate writes `old_value` back); otherwise tune a key whose name
/// matches the symptom (timeout, retries, pool, cache, batch).
struct config_change_strategy {
  static constexpr std::string_view name = "config_change";
  [[nodiscard]] std::optional<recommendation> propose(const diagnosis_item& d, const codebase&) const {
    if (!d.suspects.empty() && !d.suspects[0].config_changes.empty()) {
      const auto& s = d.suspects[0];
      const auto& c = s.config_changes.front();
      recommendation r;
      r.strategy = std::string(name);
      r.commit = s.commit;
      r.file = c.file;
      r.key = c.key;
      r.old_value = c.old_value;
      r.new_value = c.new_value;
      r.expected_benefit = std::min(1.0, s.score);
      r.rationale = "restore " + c.key + " in " + c.file + " to " + (c.added ? std::string("(unset)") : c.old_value) +
                    ": commit " + s.commit.substr(0, 7) + " \"" + s.summary + "\" set it to " +
                    (c.removed ? std::string("(unset)") : c.new_value) + " and " + subject(d) + " reads it";
      return r;
    }
    if (d.related_config.empty()) return std::nullopt;
    const auto& c = d.related_config.front();
    recommendation r;
    r.strategy = std::string(name);
    r.file = c.file;
    r.key = c.key;
    const bool code_change = !d.suspects.empty() && d.suspects[0].overlaps;
    r.expected_benefit = code_change ? 0.25 : 0.5;
    r.rationale = "tune " + c.key + " (" + c.file + ":" + std::to_string(c.line) + ", now " + c.value + ")" +
                  (code_change ? ": a mitigation while the code change is reverted" : ": no code change explains the symptom");
    return r;
  }
};

/// A regression test that pins the production evidence (latency budget or the failing input).
struct regression_test_strategy {
  static constexpr std::string_view name = "regression_test";
  [[nodiscard]] std::optional<recommendation> propose(const diagnosis_item& d, const codebase&) const {
    if (!d.where || d.type == "coverage") return std::nullopt;
    recommendation r;
    r.strategy = std::string(name);
    r.file = d.nearby_tests.empty() ? std::string{} : d.nearby_tests.front().substr(0, d.nearby_tests.front().find_first_of(": "));
    r.expected_benefit = 0.8;
    r.rationale = (d.type == "error" ? "a test reproducing the failure at " : "a test bounding the latency of ") + d.where->symbol +
                  " (" + d.where->file + ":" + std::to_string(d.where->line) + ")" +
                  (r.file.empty() ? std::string(", in a new test file") : ", next to " + r.file);
    return r;
  }
};

/// Tests for the uncovered lines of a hot handler.
struct coverage_test_strategy {
  static constexpr std::string_view name = "coverage_test";
  [[nodiscard]] std::optional<recommendation> propose(const diagnosis_item& d, const codebase&) const {
    if (!d.where) return std::nullopt;
    if (d.type != "coverage" && d.uncovered_lines.empty() && !d.nearby_tests.empty()) return std::nullopt;
    recommendation r;
    r.strategy = std::string(name);
    r.file = d.where->file;
    r.expected_benefit = d.type == "coverage" ? 0.9 : 0.4;
    r.rationale = d.uncovered_lines.empty()
                      ? "no test mentions " + d.where->symbol + ": add one covering its main path"
                      : "cover the " + std::to_string(d.uncovered_lines.size()) + " uncovered line(s) of " + d.where->symbol +
                            " (first: " + d.where->file + ":" + std::to_string(d.uncovered_lines.front()) + ")";
    return r;
  }
};

/// A runbook / changelog entry with the symptom, the cause and the fix.
struct doc_update_strategy {
  static constexpr std::string_view name = "doc_update";
  [[nodiscard]] std::optional<recommendation> propose(const diagnosis_item& d, const codebase&) const {
    recommendation r;
    r.strategy = std::string(name);
    r.expected_benefit = 0.5;
    r.rationale = "a runbook entry for " + subject(d) + ": symptom, cause (" +
                  (d.suspects.empty() ? std::string("unknown") : d.suspects[0].commit.substr(0, 7)) + "), fix and evidence";
    return r;
  }
};

static_assert(fix_strategy<revert_strategy>);
static_assert(fix_strategy<partial_revert_strategy>);
static_assert(fix_strategy<config_change_strategy>);
static_assert(fix_strategy<regression_test_strategy>);
static_assert(fix_strategy<coverage_test_strategy>);
static_assert(fix_strategy<doc_update_strategy>);

/// Ask each strategy, weigh applicability by the prior, rank, number the priorities.
template <fix_strategy... Strategies>
[[nodiscard]] std::vector<recommendation> rank_fixes(const diagnosis_item& d, const codebase& cb,
                                                          const strategy_priors& priors, const Strategies&... strategies) {
  std::vector<recommendation> out;
  auto one = [&](const auto& s) {
    using S = std::remove_cvref_t<decltype(s)>;
    auto r = s.propose(d, cb);
    if (!r) return;
    r->strategy = std::string(S::name);
    // Restoring a value a suspect commit changed is that commit's revert: it is weighed with the
    // revert prior (the config_change prior is for tuning a key no commit is blamed for).
    const bool restores = S::name == std::string_view("config_change") && !r->commit.empty();
    const double prior = priors.rate(d.type, restores ? std::string_view("revert") : S::name);
    r->expected_benefit = std::round(std::clamp(r->expected_benefit, 0.0, 1.0) * prior * 1000.0) / 1000.0;
    out.push_back(std::move(*r));
  };
  (one(strategies), ...);
  std::stable_sort(out.begin(), out.end(),
                   [](const recommendation& a, const recommendation& b) { return a.expected_benefit > b.expected_benefit; });
  for (std::size_t i = 0; i < out.size(); ++i) out[i].priority = static_cast<int>(i + 1);
  return out;
}

/// Default-constructed strategies only: `rank_fixes_using<my_strategy>(d, cb, priors)`.
template <fix_strategy... Strategies>
[[nodiscard]] std::vector<recommendation> rank_fixes_using(const diagnosis_item& d, const codebase& cb,
                                                          const strategy_priors& priors) {
  return rank_fixes(d, cb, priors, Strategies{}...);
}

/// The six built-in strategies plus any of the user's.
template <fix_strategy... Extra>
[[nodiscard]] std::vector<recommendation> rank_fixes_with_defaults(const diagnosis_item& d, const codebase& cb,
                                                                  const strategy_priors& priors) {
  return rank_fixes(d, cb, priors, revert_strategy{}, partial_revert_strategy{}, config_change_strategy{},
                         regression_test_strategy{}, coverage_test_strategy{}, doc_update_strategy{}, Extra{}...);
}

}  // namespace selfheal::diagnosis
