// selfheal heal: the run's record in the store (resume points), and the loop's first rounds on real
// telemetry: a baseline on the first round, nothing to do while production is healthy, and nothing
// new when nothing was appended.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "scenario.hpp"
#include "selfheal/heal/loop.hpp"
#include "selfheal/heal/store.hpp"
#include "selfheal/source/settings.hpp"
#include "postgres.hpp"  // both backends: SQLite and a throwaway PostgreSQL
#include "temp_dir.hpp"

namespace hl = selfheal::heal;
using selfheal::test::git_repo;

namespace {

selfheal::time_point at(std::int64_t s) { return selfheal::time_point{std::chrono::seconds{s}}; }

/// `n` checkouts of a healthy service, one beat event pair per handler, 10 ms apart from `t0`.
void append_traffic(const std::filesystem::path& log, std::int64_t t0, int n, double pay_ms) {
  std::ofstream out(log, std::ios::app);
  for (int i = 0; i < n; ++i) {
    const std::int64_t ms = t0 * 1000 + i * 10;
    const auto ts = selfheal::test::iso8601(ms / 1000, static_cast<int>(ms % 1000));
    out << R"({"ts":")" << ts << R"(","event":"beat-completed","sequence":"shop","beat":1,"handler":"total","durationMs":)"
        << 0.5 + 0.01 * (i % 7) << R"(,"correlationId":"c)" << i << "\"}\n";
    out << R"({"ts":")" << ts << R"(","event":"beat-completed","sequence":"shop","beat":2,"handler":"pay","durationMs":)"
        << pay_ms + 0.01 * (i % 5) << R"(,"correlationId":"c)" << i << "\"}\n";
  }
}

}  // namespace

TEST_CASE("a heal run keeps each step's record and is resumed while it did not finish", "[heal][store]") {
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open(selfheal::test::fresh_store_url(
      GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), dir));
  REQUIRE(db);
  auto none = hl::open_run(*db);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  auto id = hl::create_run(*db, at(1'700'000'000));
  REQUIRE(id);
  CHECK(*id == "heal-1");
  hl::anomaly_progress a;
  a.id = "anomaly-3.1";
  a.handler = "pay";
  a.type = "performance";
  a.kind = "latency_shift";
  a.detected_ns = 5;
  a.diagnosis = "diagnosis-2";
  a.fix = "fix-2.1";
  REQUIRE(hl::save_anomaly(*db, *id, a));
  // a run killed here is found again, with its steps so far
  auto open = hl::open_run(*db);
  REQUIRE(open);
  REQUIRE(open->has_value());
  CHECK(**open == "heal-1");
  auto loaded = hl::load_run(*db, "heal-1");
  REQUIRE(loaded);
  REQUIRE(loaded->anomalies.size() == 1);
  CHECK(loaded->anomalies[0].fix == "fix-2.1");
  CHECK(loaded->anomalies[0].validation.empty());  // the step to resume at
  CHECK_FALSE(loaded->anomalies[0].finished());
  // the handler's history says a heal is under way
  auto past = hl::history_of(*db, "pay");
  REQUIRE(past);
  REQUIRE(past->size() == 1);
  CHECK(past->front().status == "open");
  // a finished run is not resumed; a blocked one is
  loaded->status = "healed";
  REQUIRE(hl::save_run(*db, *loaded, at(1'700'000'100)));
  auto after = hl::open_run(*db);
  REQUIRE(after);
  CHECK_FALSE(after->has_value());
  loaded->status = "blocked";
  REQUIRE(hl::save_run(*db, *loaded, at(1'700'000'200)));
  auto blocked = hl::open_run(*db);
  REQUIRE(blocked);
  CHECK(blocked->value_or("") == "heal-1");
}

TEST_CASE("heal: a baseline on the first round, then nothing to do on healthy traffic, then nothing new",
          "[heal][loop]") {
  git_repo g;
  g.write("app.py", "def pay():\n    return 1\n");
  g.commit("v1", 1'700'000'000);
  std::filesystem::create_directories(g.root() / "logs");
  const auto log = g.root() / "logs" / "app.ndjson";
  append_traffic(log, 1'700'000'000, 600, 2.0);
  auto s = selfheal::source::parse_settings("[service]\nname = \"shop\"\ntelemetry = [\"logs/*.ndjson\"]\n",
                                            "selfheal.toml", g.root());
  REQUIRE(s);
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  selfheal::context ctx;
  ctx.store = &*db;
  hl::heal_request req;
  req.repo = g.root();
  std::vector<std::string> said;
  auto say = [&](std::string_view line) { said.emplace_back(line); };

  auto first = hl::heal(ctx, *s, req, say);
  REQUIRE(first);
  CHECK(first->status == "nothing_to_do");
  CHECK(first->rounds == 1);
  CHECK(first->baseline_record == "baseline-1");
  CHECK(first->anomalies.empty());

  append_traffic(log, 1'700'000'100, 600, 2.0);  // same latency: healthy
  auto second = hl::heal(ctx, *s, req, say);
  REQUIRE(second);
  CHECK(second->record_id != first->record_id);
  CHECK(second->status == "nothing_to_do");
  CHECK(second->anomalies.empty());
  REQUIRE(second->telemetry_records.size() == 1);

  auto third = hl::heal(ctx, *s, req, say);  // nothing appended
  REQUIRE(third);
  CHECK(third->status == "nothing_to_do");
  CHECK(third->telemetry_records.empty());
  bool said_nothing_new = false;
  for (const auto& l : said) said_nothing_new = said_nothing_new || l.find("no new telemetry") != std::string::npos;
  CHECK(said_nothing_new);
}

TEST_CASE("heal refuses settings without telemetry to watch", "[heal][loop]") {
  selfheal::test::temp_dir dir;
  auto s = selfheal::source::parse_settings("[service]\nname = \"shop\"\n", "selfheal.toml", dir.path());
  REQUIRE(s);
  auto db = selfheal::store::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  selfheal::context ctx;
  ctx.store = &*db;
  auto r = hl::heal(ctx, *s, hl::heal_request{});
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("[service] telemetry") != std::string::npos);
}
