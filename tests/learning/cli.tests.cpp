// `selfheal feedback` and `selfheal learn` as a user runs them: the real program as a child process
// against a store the library filled from parsed logs.
#include <selfheal/anomaly/thresholds.hpp>
#include <selfheal/core/process.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "scenario.hpp"

namespace an = selfheal::anomaly;
using namespace learn_test;

namespace {
sh::process_output run_selfheal(std::vector<std::string> args) {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  REQUIRE(bin != nullptr);  // set by ctest; run this suite through ctest
  args.insert(args.begin(), (std::filesystem::path(bin) / "selfheal").string());
  sh::process_options options;
  options.timeout = std::chrono::seconds(60);
  auto out = sh::run_process(args, options);
  REQUIRE(out);
  return *out;
}
}  // namespace

TEST_CASE("selfheal feedback tunes a handler threshold, learn fails cleanly without a deployment", "[learning][cli]") {
  shop s;
  s.baseline(s.parse({0, 20}));
  s.parse({20, 35, 2.0});
  const std::string id = anomaly_on(s.detect(), "checkout");
  REQUIRE(!id.empty());
  const std::string db = (s.dir.path() / "store.db").string();

  const auto fp = run_selfheal({"feedback", id, "--verdict", "false-positive", "--db", db, "--json"});
  CHECK(fp.exit_code == 0);
  CHECK(fp.out == "{\"anomaly_id\":\"" + id +
                      "\",\"handler\":\"checkout\",\"kind\":\"latency_shift\",\"verdict\":\"false-positive\","
                      "\"factor_before\":1,\"factor_after\":1.25,\"feedback_id\":1}\n");
  auto th = an::load_thresholds(s.db);
  REQUIRE(th);
  CHECK(th->factor_of("checkout") == Approx(1.25));

  const auto missing = run_selfheal({"feedback", "anomaly-77.1", "--verdict", "true-positive", "--db", db, "--json"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.rfind("{\"error\":\"not_found\"", 0) == 0);

  const auto usage = run_selfheal({"feedback", id, "--verdict", "maybe", "--db", db});
  CHECK(usage.exit_code == 2);

  const auto learn = run_selfheal({"learn", "--deployment", "deployment-5", "--db", db, "--json", "--repo", s.dir.path().string()});
  CHECK(learn.exit_code == 1);
  CHECK(learn.out.rfind("{\"error\":\"not_found\"", 0) == 0);
  CHECK(learn.out.find('\n') == learn.out.size() - 1);
}
