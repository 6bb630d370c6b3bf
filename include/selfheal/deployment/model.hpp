#pragma once
/// \file
/// Plain data of the deployment sequence. The request is what its first beat validates.

#include <string>

namespace selfheal::deployment {

struct deploy_request {
  std::string validation_record;  ///< the validation record whose patch to deploy (default: latest)
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
};

}  // namespace selfheal::deployment
