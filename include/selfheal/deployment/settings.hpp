#pragma once
/// \file
/// `deploy_config` from the repository's `selfheal.toml` (HEALING.md's tables).

#include <filesystem>
#include <string>

#include "selfheal/core/result.hpp"
#include "selfheal/deployment/config.hpp"

namespace selfheal::deployment {

/// Reads `path` (relative paths are relative to `repo`).
[[nodiscard]] inline result<deploy_config> load_deploy_config(const std::string& path, const std::filesystem::path& repo) {
  static_cast<void>(repo);
  return fail(errc::not_implemented, "reading " + path + " needs source/settings.hpp; pass a deploy_config");
}

}  // namespace selfheal::deployment
