#pragma once
/// \file
/// `deploy_config` from the repository's `selfheal.toml`, read by `source::load_settings`
/// (HEALING.md's tables; every error names file, line and key).

#include <chrono>
#include <filesystem>
#include <string>

#include "selfheal/core/result.hpp"
#include "selfheal/deployment/config.hpp"
#include "selfheal/source/settings.hpp"

namespace selfheal::deployment {

namespace detail {
inline std::chrono::milliseconds ms(source::seconds_d s) {
  return std::chrono::milliseconds{static_cast<std::int64_t>(s.count() * 1000.0)};
}
}  // namespace detail

/// What deploy reads of the settings.
[[nodiscard]] inline deploy_config to_deploy_config(const source::settings& s) {
  deploy_config c;
  c.service_name = s.service.name;
  c.main_branch = s.service.main;
  c.service_telemetry = s.service.telemetry;
  if (!s.build.command.empty()) c.build = command_spec{s.build.command, detail::ms(s.build.timeout)};
  if (!s.test.command.empty()) c.test = command_spec{s.test.command, detail::ms(s.test.timeout)};
  c.junit = s.test.junit;
  c.test_retries = s.test.retries;
  c.deploy_command = s.deploy.command;
  c.stages = s.deploy.stages.empty() ? std::vector<std::string>{"full"} : s.deploy.stages;
  c.traffic = s.deploy.traffic;
  c.deploy_telemetry = s.deploy.telemetry;
  c.settle = detail::ms(s.deploy.settle);
  c.deploy_timeout = detail::ms(s.deploy.timeout);
  c.canary.pass = s.canary.pass;
  c.canary.marginal = s.canary.marginal;
  c.canary.confidence = s.canary.confidence;
  c.canary.allowed_increase = s.canary.allowed_increase;
  c.canary.min_effect_ms = s.canary.min_effect_ms;
  c.canary.min_samples = s.canary.min_samples;
  c.policy.mode = s.policy.mode;
  c.policy.strategies = s.policy.strategies;
  c.policy.max_changed_lines = s.policy.max_changed_lines;
  c.policy.max_deploys_per_handler.count = s.policy.max_deploys;
  c.policy.max_deploys_per_handler.window =
      std::chrono::nanoseconds{static_cast<std::int64_t>(s.policy.deploy_window.count() * 1e9)};
  c.policy.kill_switch = s.policy.kill_switch;
  c.git_author = s.git.author;
  c.git_remote = s.git.remote;
  c.forge = s.git.forge;
  return c;
}

/// Reads `path` (empty: `<repo>/selfheal.toml`).
[[nodiscard]] inline result<deploy_config> load_deploy_config(const std::string& path, const std::filesystem::path& repo) {
  auto s = source::load_settings(repo, path);
  if (!s) return tl::unexpected(s.error());
  return to_deploy_config(*s);
}

}  // namespace selfheal::deployment
