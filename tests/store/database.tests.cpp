#include <catch2/catch.hpp>

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;
namespace st = selfheal::store;

TEST_CASE("a new store has the core schema, WAL and foreign keys", "[store][database]") {
  sh::test::temp_dir dir;
  auto db = st::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  CHECK(*db->user_version() == 1);
  auto mode = db->prepare("PRAGMA journal_mode");
  REQUIRE(mode);
  REQUIRE(*mode->step());
  CHECK(mode->column_text(0) == "wal");
  auto fk = db->prepare("PRAGMA foreign_keys");
  REQUIRE(*fk->step());
  CHECK(fk->column_int(0) == 1);
}

TEST_CASE("migrations apply once per component and survive reopening", "[store][migrate]") {
  sh::test::temp_dir dir;
  const auto file = (dir.path() / "s.db").string();
  constexpr std::array<std::string_view, 2> v2{"CREATE TABLE a(x INTEGER);", "ALTER TABLE a ADD COLUMN y TEXT;"};
  {
    auto db = st::database::open(file);
    REQUIRE(db);
    REQUIRE(st::migrate(*db, "demo", std::span(v2).first(1)));
    REQUIRE(st::migrate(*db, "demo", v2));
    REQUIRE(st::migrate(*db, "demo", v2));  // nothing left to apply: no "table exists" error
  }
  auto db = st::database::open(file);
  REQUIRE(db);
  auto q = db->prepare("SELECT COUNT(*) FROM schema_migrations WHERE component = 'demo'");
  REQUIRE(*q->step());
  CHECK(q->column_int(0) == 2);
  REQUIRE(db->exec("INSERT INTO a(x, y) VALUES (1, 'ok')"));
}

TEST_CASE("a failed migration names its component and version and leaves nothing half-applied", "[store][migrate]") {
  sh::test::temp_dir dir;
  auto db = st::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  constexpr std::array<std::string_view, 1> bad{"CREATE TABLE b(x INTEGER); CREATE TABLEX oops;"};
  auto r = st::migrate(*db, "broken", bad);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == sh::errc::store_error);
  CHECK(r.error().detail.rfind("broken migration 1: ", 0) == 0);
  CHECK_FALSE(db->exec("SELECT * FROM b"));  // rolled back with the transaction
}

TEST_CASE("records get readable sequential ids per kind, and a rollback keeps nothing", "[store][records]") {
  sh::test::temp_dir dir;
  auto db = st::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  const sh::time_point t{std::chrono::seconds(1700000000)};
  {
    st::transaction tx(*db);
    CHECK(*st::create_record(*db, "telemetry", t) == "telemetry-1");
    CHECK(*st::create_record(*db, "telemetry", t) == "telemetry-2");
    CHECK(*st::create_record(*db, "anomaly", t, std::string_view("telemetry-2")) == "anomaly-1");
    REQUIRE(tx.commit());
  }
  {
    st::transaction tx(*db);
    CHECK(*st::create_record(*db, "telemetry", t) == "telemetry-3");
    // no commit: rolled back
  }
  CHECK(*st::latest_record(*db, "telemetry") == "telemetry-2");
  auto none = st::latest_record(*db, "diagnosis");
  REQUIRE_FALSE(none);
  CHECK(none.error().code == sh::errc::not_found);
  SECTION("a record's parent must exist (foreign keys are on)") {
    st::transaction tx(*db);
    CHECK_FALSE(st::create_record(*db, "fix", t, std::string_view("diagnosis-9")));
  }
}

TEST_CASE("the audit log is append-only", "[store][audit]") {
  sh::test::temp_dir dir;
  auto db = st::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  const sh::time_point t{std::chrono::seconds(1700000000)};
  REQUIRE(st::audit(*db, t, "selfheal", "create-branch", "fix/x", "", "from test"));
  CHECK_FALSE(db->exec("UPDATE audit_log SET action = 'nothing'"));
  CHECK_FALSE(db->exec("DELETE FROM audit_log"));
  auto q = db->prepare("SELECT action FROM audit_log");
  REQUIRE(*q->step());
  CHECK(q->column_text(0) == "create-branch");
}
