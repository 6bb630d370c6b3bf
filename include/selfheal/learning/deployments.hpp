#pragma once
/// \file
/// How learning.track reads a deployment record from the store: through `deployment/store.hpp`
/// (the deploy sequence's own reader) when the build has it. Until then a caller hands the record
/// over in `track_request::deployment` (what `heal` does: it holds the record it just deployed).

#include <string>
#include <string_view>

#include "selfheal/core/result.hpp"
#include "selfheal/deployment/model.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"

#include "selfheal/deployment/store.hpp"

namespace selfheal::learning {

/// The deployment record `id` ("deployment-2"), or the latest one when `id` is empty.
[[nodiscard]] inline result<deployment::record> load_deployment_for_learning(store::database& db, std::string_view id) {
  std::string rid(id);
  if (rid.empty()) {
    auto latest = store::latest_record(db, "deployment");
    if (!latest) return fail(errc::not_found, "the store has no deployment yet: run `selfheal deploy` first");
    rid = *latest;
  }
  return deployment::load_deployment(db, rid);
}

}  // namespace selfheal::learning
