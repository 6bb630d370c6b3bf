#pragma once
/// \file
/// Plain data of the learning sequence. The request is what its first beat validates.

#include <string>

namespace selfheal::learning {

struct track_request {
  std::string deployment_record;  ///< the deployment record to learn from (default: latest)
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
};

}  // namespace selfheal::learning
