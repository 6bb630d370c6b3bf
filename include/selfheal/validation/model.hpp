#pragma once
/// \file
/// Plain data of the validation sequence. The request is what its first beat validates.

#include <string>

namespace selfheal::validation {

struct run_request {
  std::string patch_record;  ///< the patch record to validate (default: latest)
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
};

}  // namespace selfheal::validation
