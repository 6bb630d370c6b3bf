#pragma once
/// \file
/// What deployment.deploy is configured with: the `[service]`, `[build]`, `[test]`, `[deploy]`,
/// `[canary]`, `[policy]` and `[git]` tables of `selfheal.toml` (HEALING.md) as plain data, with
/// their defaults. `settings.hpp` fills it from the repository's file; tests and hosts may build
/// one by hand. Commands are argv arrays whose elements may hold placeholders (`{commit}`,
/// `{stage}`, …), expanded right before they run.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "selfheal/core/result.hpp"

namespace selfheal::deployment {

/// The `[canary]` table of selfheal.toml plus the classifier's fixed constants.
struct judge_options {
  double pass = 95;                ///< score at or above → Pass
  double marginal = 75;            ///< score at or above → Marginal
  double confidence = 0.98;        ///< confidence level of the shift's interval
  double allowed_increase = 1.2;   ///< effect size (mean ratio) a metric may grow before it is High
  double min_effect_ms = 0.5;      ///< latency shifts below this never count
  std::size_t min_samples = 30;    ///< fewer samples on a side → nodata
  double tolerance = 0.25;         ///< Kayenta's band: ± this share of |Hodges-Lehmann|
  std::size_t exact_limit = 4096;  ///< sides up to this many samples are judged on exact values
};

/// "1/24h" → at most `count` deploys per `window`.
struct rate_limit {
  std::uint32_t count = 1;
  std::chrono::nanoseconds window = std::chrono::hours{24};
};

/// Parses "N/<duration>" with durations like "90s", "5m", "24h", "7d".
[[nodiscard]] inline result<rate_limit> parse_rate_limit(std::string_view text) {
  const auto slash = text.find('/');
  auto bad = [&] {
    return fail(errc::invalid_request, "policy.max_deploys_per_handler '" + std::string(text) +
                                           "' is not N/<duration> (e.g. \"1/24h\")");
  };
  if (slash == std::string_view::npos || slash == 0 || slash + 2 > text.size()) return bad();
  std::uint64_t n = 0;
  for (char c : text.substr(0, slash)) {
    if (c < '0' || c > '9' || n > 1'000'000) return bad();
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  auto dur = text.substr(slash + 1);
  const char unit = dur.back();
  dur.remove_suffix(1);
  std::uint64_t v = dur.empty() ? 1 : 0;  // "1/h" reads as one hour
  for (char c : dur) {
    if (c < '0' || c > '9' || v > 100'000'000) return bad();
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  const auto secs = static_cast<std::int64_t>(v);
  rate_limit r;
  r.count = static_cast<std::uint32_t>(n);
  switch (unit) {
    case 's': r.window = std::chrono::seconds{secs}; break;
    case 'm': r.window = std::chrono::minutes{secs}; break;
    case 'h': r.window = std::chrono::hours{secs}; break;
    case 'd': r.window = std::chrono::hours{24 * secs}; break;
    default: return bad();
  }
  if (r.window.count() <= 0) return bad();
  return r;
}

/// The `[policy]` table.
struct policy_options {
  std::string mode = "dry-run";  ///< dry-run | approve | auto
  std::vector<std::string> strategies{"revert", "partial_revert", "config_change"};
  std::size_t max_changed_lines = 200;
  rate_limit max_deploys_per_handler{};
  std::string kill_switch = ".selfheal-stop";
};

/// One configured command and its time limit.
struct command_spec {
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{std::chrono::seconds{300}};
};

/// Everything a deploy reads from `selfheal.toml`.
struct deploy_config {
  // [service]
  std::string service_name;
  std::string main_branch = "main";
  std::vector<std::string> service_telemetry;  ///< globs, relative to the repository root
  // [build] [test]: CI on the fix branch
  std::optional<command_spec> build;
  std::optional<command_spec> test;
  std::string junit;
  unsigned test_retries = 0;
  // [deploy]
  std::vector<std::string> deploy_command;      ///< empty: nothing is deployed (status says so)
  std::vector<std::string> stages{"full"};
  std::vector<std::string> traffic;             ///< optional
  std::vector<std::string> deploy_telemetry;    ///< default: service_telemetry
  std::chrono::milliseconds settle{0};
  std::chrono::milliseconds deploy_timeout{std::chrono::seconds{300}};
  // [canary] [policy]
  judge_options canary;
  policy_options policy;
  // [git]
  std::string git_author = "selfheal <selfheal@localhost>";
  std::string git_remote;                       ///< optional
  std::vector<std::string> forge;               ///< optional

  [[nodiscard]] const std::vector<std::string>& telemetry_globs() const {
    return deploy_telemetry.empty() ? service_telemetry : deploy_telemetry;
  }
};

/// Substitutes `{name}` placeholders inside each argv element (textually, element by element; no
/// shell ever sees the result). Unknown placeholders are left as they are (settings rejects them
/// at load time).
[[nodiscard]] inline std::vector<std::string> expand_argv(const std::vector<std::string>& argv,
                                                          const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& a : argv) {
    std::string s;
    for (std::size_t i = 0; i < a.size();) {
      bool done = false;
      if (a[i] == '{') {
        for (const auto& [k, v] : values) {
          if (a.compare(i + 1, k.size(), k) == 0 && i + 1 + k.size() < a.size() && a[i + 1 + k.size()] == '}') {
            s += v;
            i += k.size() + 2;
            done = true;
            break;
          }
        }
      }
      if (!done) s += a[i++];
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace selfheal::deployment
