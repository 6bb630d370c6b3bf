#pragma once
/// \file
/// Plain data of the fix sequence. The request is what its first beat validates.

#include <string>

namespace selfheal::fix {

struct generate_request {
  std::string diagnosis_record;  ///< the diagnosis record to fix (default: latest)
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
};

}  // namespace selfheal::fix
