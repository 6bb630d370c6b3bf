#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "fixture.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
using fixture = sh::test::telemetry_fixture;
const tel::named_metric* find(const std::vector<tel::named_metric>& v, std::string_view name) {
  for (const auto& m : v)
    if (m.name == name) return &m;
  return nullptr;
}
}  // namespace

TEST_CASE("the real Conductor sample gives two sequence executions and six beat timings",
          "[telemetry][parseTelemetryCompleted][conductor]") {
  fixture f;
  auto s = f.parse({std::string(SELFHEAL_SOURCE_DIR) + "/examples/data/conductor-drop-sample.log"});
  REQUIRE(s);
  const auto& a = s->aggregate;
  REQUIRE(a.sources.size() == 1);
  CHECK(a.sources[0].format == tel::log_format::conductor);
  CHECK(a.sources[0].events == 46);
  CHECK(a.bad_lines == 0);
  REQUIRE(a.sequences.size() == 2);
  const auto* drop = find(a.sequences, "Library Component Drop");
  const auto* create = find(a.sequences, "Canvas Component Create");
  REQUIRE(drop);
  REQUIRE(create);
  CHECK(drop->stats.count == 1);
  CHECK(drop->stats.max_ns == 17'000'000);
  CHECK(create->stats.count == 1);
  CHECK(create->stats.max_ns == 73'000'000);
  CHECK(a.executions == 6);
  REQUIRE(a.handlers.size() == 6);
  struct want { const char* handler; std::int64_t ns; };
  for (auto w : {want{"library:component:drop", 15'200'000}, want{"registerInstance", 11'400'000},
                 want{"createNode", 12'200'000}, want{"renderReact", 10'700'000}, want{"notifyUi", 12'300'000},
                 want{"enhanceLine", 10'800'000}}) {
    const auto* h = find(a.handlers, w.handler);
    INFO(w.handler);
    REQUIRE(h);
    CHECK(h->stats.count == 1);
    CHECK(h->stats.max_ns == w.ns);
  }
  CHECK(s->record_id == "telemetry-1");
}
