#include <catch2/catch.hpp>

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

#include "postgres.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/dialect.hpp"
#include "selfheal/store/records.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;
namespace st = selfheal::store;
using sh::test::store_backend;

// Every case below runs on both backends: an SQLite file and a fresh PostgreSQL database.
#define EACH_BACKEND()                                                                           \
  const auto backend = GENERATE(store_backend::sqlite, store_backend::postgresql);               \
  CAPTURE(sh::test::to_string(backend));                                                         \
  sh::test::temp_dir dir;                                                                        \
  const std::string url = sh::test::fresh_store_url(backend, dir)

TEST_CASE("a new SQLite store has the core schema, WAL and foreign keys", "[store][database]") {
  sh::test::temp_dir dir;
  auto db = st::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  CHECK_FALSE(db->is_postgres());
  CHECK(*db->user_version() == 1);
  auto mode = db->prepare("PRAGMA journal_mode");
  REQUIRE(mode);
  REQUIRE(*mode->step());
  CHECK(mode->column_text(0) == "wal");
  auto fk = db->prepare("PRAGMA foreign_keys");
  REQUIRE(*fk->step());
  CHECK(fk->column_int(0) == 1);
}

TEST_CASE("a new PostgreSQL store has the core schema, once, and its shims", "[store][database][postgres]") {
  const auto url = sh::test::fresh_postgres_url();
  auto db = st::database::open(url);
  REQUIRE(db);
  CHECK(db->is_postgres());
  CHECK(*db->user_version() == 1);
  auto again = st::database::open(url);  // the schema is there: nothing applied twice
  REQUIRE(again);
  CHECK(*again->user_version() == 1);
  auto tables = db->query("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('records', 'audit_log') ORDER BY name",
                          [](st::statement&) {}, [](const st::statement& q) { return q.column_text(0); });
  REQUIRE(tables);
  CHECK(*tables == std::vector<std::string>{"audit_log", "records"});
  auto cols = db->query("SELECT name FROM pragma_table_info(?1)", [](st::statement& q) { q.bind(1, "records"); },
                        [](const st::statement& q) { return q.column_text(0); });
  REQUIRE(cols);
  CHECK(*cols == std::vector<std::string>{"id", "kind", "seq", "created_at_ns", "parent", "summary"});
}

TEST_CASE("open_existing refuses a store that is not there", "[store][database][postgres]") {
  sh::test::temp_dir dir;
  auto file = st::database::open_existing((dir.path() / "none.db").string());
  REQUIRE_FALSE(file);
  CHECK(file.error().code == sh::errc::not_found);
  const auto url = sh::test::fresh_postgres_url();
  auto empty = st::database::open_existing(url);  // the database exists but holds no store
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == sh::errc::not_found);
  auto missing = st::database::open_existing(sh::test::shared_postgres().url("no_such_database"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == sh::errc::not_found);
  CHECK(missing.error().detail.find("no_such_database") != std::string::npos);
  REQUIRE(st::database::open(url));
  CHECK(st::database::open_existing(url));
}

TEST_CASE("migrations apply once per component and survive reopening", "[store][migrate]") {
  EACH_BACKEND();
  constexpr std::array<std::string_view, 2> v2{"CREATE TABLE a(x INTEGER);", "ALTER TABLE a ADD COLUMN y TEXT;"};
  {
    auto db = st::database::open(url);
    REQUIRE(db);
    REQUIRE(st::migrate(*db, "demo", std::span(v2).first(1)));
    REQUIRE(st::migrate(*db, "demo", v2));
    REQUIRE(st::migrate(*db, "demo", v2));  // nothing left to apply: no "table exists" error
  }
  auto db = st::database::open(url);
  REQUIRE(db);
  auto q = db->prepare("SELECT COUNT(*) FROM schema_migrations WHERE component = 'demo'");
  REQUIRE(*q->step());
  CHECK(q->column_int(0) == 2);
  REQUIRE(db->exec("INSERT INTO a(x, y) VALUES (1, 'ok')"));
}

TEST_CASE("a failed migration names its component and version and leaves nothing half-applied", "[store][migrate]") {
  EACH_BACKEND();
  auto db = st::database::open(url);
  REQUIRE(db);
  constexpr std::array<std::string_view, 1> bad{"CREATE TABLE b(x INTEGER); CREATE TABLEX oops;"};
  auto r = st::migrate(*db, "broken", bad);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == sh::errc::store_error);
  CHECK(r.error().detail.rfind("broken migration 1: ", 0) == 0);
  CHECK_FALSE(db->exec("SELECT * FROM b"));  // rolled back with the transaction
}

TEST_CASE("records get readable sequential ids per kind, and a rollback keeps nothing", "[store][records]") {
  EACH_BACKEND();
  auto db = st::database::open(url);
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
  EACH_BACKEND();
  auto db = st::database::open(url);
  REQUIRE(db);
  const sh::time_point t{std::chrono::seconds(1700000000)};
  REQUIRE(st::audit(*db, t, "selfheal", "create-branch", "fix/x", "", "from test"));
  const auto first = db->last_insert_rowid();
  REQUIRE(st::audit(*db, t, "selfheal", "merge", "main", "", ""));
  CHECK(db->last_insert_rowid() == first + 1);
  auto update = db->exec("UPDATE audit_log SET action = 'nothing'");
  REQUIRE_FALSE(update);
  CHECK(update.error().detail.find("append-only") != std::string::npos);
  CHECK_FALSE(db->exec("DELETE FROM audit_log"));
  auto q = db->prepare("SELECT action FROM audit_log ORDER BY id");
  REQUIRE(*q->step());
  CHECK(q->column_text(0) == "create-branch");
}

TEST_CASE("the row loop reads every row, the first row, or stops at the row function's error", "[store][rows]") {
  EACH_BACKEND();
  auto db = st::database::open(url);
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
  // Insertion order (SQLite's rowid, a hidden identity column on PostgreSQL)
  auto order = db->query("SELECT v FROM t ORDER BY rowid DESC", [](st::statement&) {}, text);
  REQUIRE(order);
  CHECK(*order == std::vector<std::string>{"c", "b", "a"});
  CHECK(db->exec("DELETE FROM t WHERE k >= 2"));
  CHECK(db->changes() == 2);
}

TEST_CASE("values of every type survive a round trip", "[store][rows]") {
  EACH_BACKEND();
  auto db = st::database::open(url);
  REQUIRE(db);
  REQUIRE(db->exec("CREATE TABLE v(id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)"));
  auto ins = db->prepare("INSERT INTO v(i, d, s, b, n) VALUES (?1, ?2, ?3, ?4, ?5)");
  REQUIRE(ins);
  const std::array<std::byte, 5> blob{std::byte{0}, std::byte{1}, std::byte{0xff}, std::byte{'\\'}, std::byte{'x'}};
  const std::string text = "it's \"quoted\"\n\ttabbed, ?1 and $1 and a \xe2\x9c\x93";
  ins->bind(1, std::int64_t{-9'000'000'000'000'000'000}).bind(2, 0.1 + 0.2).bind(3, text).bind_blob(4, blob).bind(5, std::optional<std::string>{});
  REQUIRE(ins->exec());
  const auto id = db->last_insert_rowid();
  CHECK(id == 1);
  ins->bind(1, std::uint64_t{7}).bind(2, std::numeric_limits<double>::infinity()).bind(3, "").bind_blob(4, {}).bind(5, "x");
  REQUIRE(ins->exec());
  CHECK(db->last_insert_rowid() == 2);
  auto q = db->prepare("SELECT i, d, s, b, n, COUNT(*) OVER (), SUM(i) OVER () FROM v WHERE id = ?1");
  REQUIRE(q);
  q->bind(1, id);
  REQUIRE(*q->step());
  CHECK(q->column_int(0) == -9'000'000'000'000'000'000);
  CHECK(q->column_double(1) == 0.1 + 0.2);
  CHECK(q->column_text(2) == text);
  CHECK(q->column_blob(3) == std::vector<std::byte>(blob.begin(), blob.end()));
  CHECK(q->is_null(4));
  CHECK_FALSE(q->is_null(0));
  CHECK(q->column_int(5) == 1);
  CHECK_FALSE(*q->step());
  q->reset();
  q->bind(1, std::int64_t{2});
  REQUIRE(*q->step());
  CHECK(q->column_double(1) == std::numeric_limits<double>::infinity());
  CHECK(q->column_blob(3).empty());
  CHECK(q->column_text(4) == "x");
  // INSERT … ON CONFLICT and RETURNING, the portable forms of INSERT OR IGNORE and last_insert_rowid
  REQUIRE(db->exec("CREATE TABLE u(k TEXT PRIMARY KEY, n INTEGER NOT NULL)"));
  auto up = db->prepare("INSERT INTO u(k, n) VALUES (?1, 1) ON CONFLICT(k) DO UPDATE SET n = u.n + 1 RETURNING n");
  REQUIRE(up);
  for (int i = 1; i <= 3; ++i) {
    up->bind(1, "a");
    REQUIRE(*up->step());
    CHECK(up->column_int(0) == i);
    up->reset();
  }
  auto ignore = db->prepare("INSERT INTO u(k, n) VALUES (?1, 0) ON CONFLICT DO NOTHING");
  ignore->bind(1, "a");
  REQUIRE(ignore->exec());
  CHECK(db->changes() == 0);
}

TEST_CASE("a store error names the statement that failed", "[store][rows]") {
  EACH_BACKEND();
  auto db = st::database::open(url);
  REQUIRE(db);
  auto bad = db->query("SELECT nope FROM   missing\n  WHERE x = ?1", [](st::statement&) {}, [](const st::statement&) { return 1; });
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == sh::errc::store_error);
  if (backend == store_backend::sqlite)
    CHECK(bad.error().detail.find("prepare of 'SELECT nope FROM missing WHERE x = ?1': no such table: missing") != std::string::npos);
  else
    CHECK(bad.error().detail.find("step of 'SELECT nope FROM missing WHERE x = ?1': relation \"missing\" does not exist "
                                  "(postgresql sqlstate 42P01)") != std::string::npos);
  REQUIRE(db->exec("CREATE TABLE u(k INTEGER UNIQUE); INSERT INTO u VALUES (1);"));
  auto dup = db->prepare("INSERT INTO u(k) VALUES (?1)");
  REQUIRE(dup);
  dup->bind(1, 1);
  auto r = dup->exec();
  REQUIRE_FALSE(r);
  if (backend == store_backend::sqlite)
    CHECK(r.error().detail.find("step of 'INSERT INTO u(k) VALUES (?1)': UNIQUE constraint failed") != std::string::npos);
  else
    CHECK(r.error().detail.find("step of 'INSERT INTO u(k) VALUES (?1)': duplicate key value violates unique constraint") !=
          std::string::npos);
  CHECK(st::split_nl(st::join_nl({"a", "", "b"})) == std::vector<std::string>{"a", "", "b"});
  CHECK(st::split_nl("").empty());
}

TEST_CASE("two connections writing at once both commit and the totals add up", "[store][concurrency]") {
  EACH_BACKEND();
  {
    auto db = st::database::open(url);
    REQUIRE(db);
    REQUIRE(db->exec("CREATE TABLE counts(worker INTEGER NOT NULL, n INTEGER NOT NULL)"));
  }
  constexpr int per_worker = 40;
  std::array<std::string, 2> errors;
  std::array<std::thread, 2> workers;
  for (int w = 0; w < 2; ++w) {
    workers[static_cast<std::size_t>(w)] = std::thread([&, w] {
      auto db = st::database::open(url);
      if (!db) { errors[static_cast<std::size_t>(w)] = db.error().detail; return; }
      db->set_busy_timeout(std::chrono::seconds(30));
      for (int i = 0; i < per_worker; ++i) {
        st::transaction tx(*db);
        // read-modify-write inside the write transaction: a lost update would show in the totals
        auto seq = st::create_record(*db, "telemetry", sh::time_point{std::chrono::seconds(i)});
        auto ins = db->prepare("INSERT INTO counts(worker, n) VALUES (?1, ?2)");
        if (!seq || !ins) { errors[static_cast<std::size_t>(w)] = "insert"; return; }
        ins->bind(1, w).bind(2, i + 1);
        if (!ins->exec() || !tx.commit()) { errors[static_cast<std::size_t>(w)] = "commit"; return; }
      }
    });
  }
  for (auto& t : workers) t.join();
  CHECK(errors[0].empty());
  CHECK(errors[1].empty());
  auto db = st::database::open(url);
  REQUIRE(db);
  auto q = db->prepare("SELECT COUNT(*), SUM(n), (SELECT COUNT(DISTINCT seq) FROM records WHERE kind = 'telemetry') FROM counts");
  REQUIRE(*q->step());
  CHECK(q->column_int(0) == 2 * per_worker);
  CHECK(q->column_int(1) == 2 * per_worker * (per_worker + 1) / 2);
  CHECK(q->column_int(2) == 2 * per_worker);
  CHECK(*st::latest_record(*db, "telemetry") == "telemetry-" + std::to_string(2 * per_worker));
}

TEST_CASE("the PostgreSQL dialect translates only what is syntax", "[store][dialect]") {
  const auto pg = [](std::string_view s) { return st::to_postgres(s).text; };
  CHECK(pg("SELECT a FROM t WHERE x = ?1 AND y = ?12 AND z = '?3'") == "SELECT a FROM t WHERE x = $1 AND y = $12 AND z = '?3'");
  CHECK(st::to_postgres("UPDATE t SET a = ?2 WHERE id = ?1").parameters == 2);
  CHECK(st::to_postgres("INSERT INTO t(a, b) VALUES (?3, ?5)").parameters == 5);
  CHECK(pg("CREATE TABLE p(id INTEGER PRIMARY KEY AUTOINCREMENT, v REAL, b BLOB)") ==
        "CREATE TABLE p(id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v DOUBLE PRECISION, b BYTEA)");
  CHECK(pg("CREATE TABLE q(k TEXT NOT NULL, n INTEGER, PRIMARY KEY(k))") ==
        "CREATE TABLE q(k TEXT NOT NULL, n BIGINT, PRIMARY KEY(k), rowid BIGINT GENERATED ALWAYS AS IDENTITY)");
  CHECK(pg("CREATE TABLE r(a TEXT, PRIMARY KEY(a)) WITHOUT ROWID;") == "CREATE TABLE r(a TEXT, PRIMARY KEY(a));");
  CHECK(pg("CREATE TABLE IF NOT EXISTS s(c TEXT CHECK(c IN ('a', 'b')))") ==
        "CREATE TABLE IF NOT EXISTS s(c TEXT CHECK(c IN ('a', 'b')), rowid BIGINT GENERATED ALWAYS AS IDENTITY)");
  CHECK(pg("begin immediate") == "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(st::postgres_writer_lock_key) + ")");
  CHECK(pg("SELECT 'INTEGER', \"REAL\" -- BLOB ?1\nFROM t") == "SELECT 'INTEGER', \"REAL\" -- BLOB ?1\nFROM t");
  CHECK(pg("SELECT CAST(x AS INTEGER) FROM t WHERE a = ? AND b = ?") == "SELECT CAST(x AS BIGINT) FROM t WHERE a = $1 AND b = $2");
  CHECK(pg("SELECT s.overlaps, user FROM s") == "SELECT s.\"overlaps\", \"user\" FROM s");
}

TEST_CASE("without PostgreSQL support a postgresql:// store is refused clearly", "[store][database]") {
  if constexpr (st::postgres_supported()) {
    SUCCEED("this build has PostgreSQL support: the refusal is compiled out");
  } else {
    auto db = st::database::open("postgresql:///selfheal");
    REQUIRE_FALSE(db);
    CHECK(db.error().detail.find("built without PostgreSQL support") != std::string::npos);
  }
}
