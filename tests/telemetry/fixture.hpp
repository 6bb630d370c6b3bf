#pragma once
// A telemetry.parse run against a real store in a fresh temporary folder, with an injected clock.
// Shared by the telemetry test files.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "temp_dir.hpp"

namespace selfheal::test {

struct telemetry_fixture {
  temp_dir tmp;
  const std::filesystem::path& dir = tmp.path();
  std::optional<store::database> db;
  manual_clock clock{time_point(std::chrono::seconds(1'763'224'800))};
  context ctx;

  telemetry_fixture() {
    auto d = store::database::open((dir / "store.db").string());
    REQUIRE(d);
    db.emplace(std::move(*d));
    ctx.store = &*db;
    ctx.clock = &clock;
  }

  /// Runs telemetry.parse; `chunk` 0 keeps the request's default chunk size.
  result<telemetry::parse_summary> parse(std::vector<std::string> paths, unsigned threads = 2,
                                         std::size_t chunk = 0, bool incremental = true) {
    telemetry::parse_request req;
    req.paths = std::move(paths);
    req.threads = threads;
    if (chunk != 0) req.chunk_size = chunk;
    req.incremental = incremental;
    return run(telemetry::parse_telemetry, ctx, std::move(req));
  }
};

}  // namespace selfheal::test
