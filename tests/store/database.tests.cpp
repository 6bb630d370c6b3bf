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

TEST_CASE("the row loop reads every row, the first row, or stops at the row function's error", "[store][rows]") {
  sh::test::temp_dir dir;
  auto db = st::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  REQUIRE(db->exec("CREATE TABLE t(k INTEGER, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');"));
  const auto above = [](std::int64_t k) { return [k](st::statement& q) { q.bind(1, k); }; };
  const auto text = [](const st::statement& q) { return q.column_text(0); };
  auto all = db->query("SELECT v FROM t WHERE k > ?1 ORDER BY k", above(1), text);
  REQUIRE(all);
  CHECK(*all == std::vector<std::string>{"b", "c"});
  auto first = db->query_one("SELECT v FROM t WHERE k > ?1 ORDER BY k", above(1), text);
  REQUIRE(first);
  CHECK(*first == std::optional<std::string>{"b"});
  auto none = db->query_one("SELECT v FROM t WHERE k > ?1", above(9), text);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  // A statement is reset after its loop: bound again, it runs again.
  auto stmt = db->prepare("SELECT k FROM t WHERE k >= ?1 ORDER BY k");
  REQUIRE(stmt);
  std::int64_t sum = 0;
  for (std::int64_t from : {1, 3}) {
    stmt->bind(1, from);
    REQUIRE(stmt->each([&](const st::statement& q) { sum += q.column_int(0); }));
  }
  CHECK(sum == 1 + 2 + 3 + 3);
  // A row function that fails stops the loop with its error.
  int seen = 0;
  auto stopped = db->each("SELECT k FROM t ORDER BY k", [](st::statement&) {}, [&](const st::statement& q) -> sh::result<void> {
    ++seen;
    if (q.column_int(0) == 2) return sh::fail(sh::errc::parse_error, "row 2 is bad");
    return {};
  });
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().detail == "row 2 is bad");
  CHECK(seen == 2);
  auto parsed = db->query("SELECT k FROM t ORDER BY k", [](st::statement&) {}, [](const st::statement& q) -> sh::result<int> {
    return static_cast<int>(q.column_int(0)) * 10;
  });
  REQUIRE(parsed);
  CHECK(*parsed == std::vector<int>{10, 20, 30});
}

TEST_CASE("a SQLite error names the statement that failed", "[store][rows]") {
  sh::test::temp_dir dir;
  auto db = st::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  auto bad = db->query("SELECT nope FROM   missing\n  WHERE x = ?1", [](st::statement&) {}, [](const st::statement&) { return 1; });
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == sh::errc::store_error);
  CHECK(bad.error().detail.find("prepare of 'SELECT nope FROM missing WHERE x = ?1': no such table: missing") != std::string::npos);
  REQUIRE(db->exec("CREATE TABLE u(k INTEGER UNIQUE); INSERT INTO u VALUES (1);"));
  auto dup = db->prepare("INSERT INTO u(k) VALUES (?1)");
  REQUIRE(dup);
  dup->bind(1, 1);
  auto r = dup->exec();
  REQUIRE_FALSE(r);
  CHECK(r.error().detail.find("step of 'INSERT INTO u(k) VALUES (?1)': UNIQUE constraint failed") != std::string::npos);
  CHECK(st::split_nl(st::join_nl({"a", "", "b"})) == std::vector<std::string>{"a", "", "b"});
  CHECK(st::split_nl("").empty());
}
