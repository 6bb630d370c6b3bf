#pragma once
/// \file
/// What learning.track takes from the repository's `selfheal.toml`: the canary judge's notion of
/// "worse" (`[canary] allowed_increase`, `min_effect_ms`), so that learn and the judge that
/// decided the deploy call the same change a regression.

#include "selfheal/learning/model.hpp"
#include "selfheal/source/settings.hpp"

namespace selfheal::learning {

inline void apply_settings(track_request& req, const source::settings& s) {
  req.allowed_increase = s.canary.allowed_increase;
  req.min_effect_ms = s.canary.min_effect_ms;
  if (req.repo.empty()) req.repo = s.repo.string();
}

}  // namespace selfheal::learning
