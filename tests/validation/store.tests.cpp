#include <catch2/catch.hpp>

#include <string>

#include "selfheal/store/database.hpp"
#include "selfheal/validation/report.hpp"
#include "selfheal/validation/store.hpp"
#include "postgres.hpp"  // both backends: SQLite and a throwaway PostgreSQL
#include "temp_dir.hpp"

namespace val = selfheal::validation;

namespace {
val::report sample() {
  val::report r;
  r.fix_record = "fix-9";
  r.patch_id = "fix-9.1";
  r.base_commit = "0123456789abcdef0123456789abcdef01234567";
  r.handler = "price";
  r.anomaly_id = "anomaly-2.1";
  r.anomaly_type = "performance";
  r.strategy = "revert";
  r.diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
  r.verdict = "fail";
  r.reasons = {"tests failed: t.a (boom)", "performance: pay is slower"};
  r.checks = {{"apply", "pass", 0.01, "1 file", ""}, {"tests", "fail", 1.5, "1 failed", "FAIL: t.a\nboom\n"}};
  r.tests.passed = 3;
  r.tests.failed = 1;
  r.tests.flaky = 1;
  r.tests.failures = {{"t.a", "boom"}};
  r.tests.flaky_tests = {"t.net"};
  r.tests.format = "unittest";
  r.tests.attempts = 2;
  r.performance.handler = "price";
  r.performance.main_p50_ms = 2.0;
  r.performance.candidate_p50_ms = 1.0;
  r.performance.ratio = 0.5;
  r.performance.p_value = 1e-6;
  r.performance.handlers = {{"price", 2.0, 1.0, 0.5, 1e-6}, {"pay", 5.0, 7.5, 1.5, 1e-5}};
  r.performance.regressions = {"pay"};
  return r;
}
}  // namespace

TEST_CASE("a stored validation reads back whole, in one record", "[validation][storeValidationResults]") {
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open(selfheal::test::fresh_store_url(GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), dir));
  REQUIRE(db);
  const auto r = sample();
  auto id = val::store_validation(*db, r, selfheal::time_point{std::chrono::seconds{1'700'000'000}});
  REQUIRE(id);
  CHECK(*id == "validation-1");
  auto back = val::load_validation(*db, *id);
  REQUIRE(back);
  CHECK(back->record_id == "validation-1");
  CHECK(back->fix_record == r.fix_record);
  CHECK(back->diff == r.diff);
  CHECK(back->verdict == "fail");
  CHECK(back->reasons == r.reasons);
  REQUIRE(back->checks.size() == 2);
  CHECK(back->checks[1].output == "FAIL: t.a\nboom\n");
  CHECK(back->checks[1].seconds == 1.5);
  CHECK(back->tests.failures.size() == 1);
  CHECK(back->tests.failures[0].message == "boom");
  CHECK(back->tests.flaky_tests == std::vector<std::string>{"t.net"});
  CHECK(back->tests.attempts == 2);
  CHECK(back->performance.regressions == std::vector<std::string>{"pay"});
  CHECK(back->performance.handlers.size() == 2);
  CHECK(back->anomaly_type == "performance");
  CHECK(validation_json(*back) == validation_json([&] { auto x = r; x.record_id = "validation-1"; return x; }()));
  SECTION("the latest by default; a missing id says so") {
    auto second = val::store_validation(*db, r, selfheal::time_point{std::chrono::seconds{1'700'000'100}});
    REQUIRE(second);
    CHECK(val::load_validation(*db, "")->record_id == "validation-2");
    auto missing = val::load_validation(*db, "validation-77");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == selfheal::errc::not_found);
  }
}

TEST_CASE("a failed write leaves no half record", "[validation][storeValidationResults]") {
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open(selfheal::test::fresh_store_url(GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), dir));
  REQUIRE(db);
  REQUIRE(val::migrate_validation(*db));
  // a trigger makes the checks insert fail after the run row went in
  if (db->is_postgres())  // the same trigger in PL/pgSQL
    REQUIRE(db->exec("CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$; "
                     "CREATE TRIGGER no_checks BEFORE INSERT ON validation_checks FOR EACH ROW EXECUTE FUNCTION disk_full();"));
  else
    REQUIRE(db->exec("CREATE TRIGGER no_checks BEFORE INSERT ON validation_checks BEGIN SELECT RAISE(ABORT, 'disk full'); END;"));
  auto id = val::store_validation(*db, sample(), selfheal::time_point{});
  REQUIRE_FALSE(id);
  auto n = db->prepare("SELECT (SELECT COUNT(*) FROM records) + (SELECT COUNT(*) FROM validation_runs)");
  REQUIRE(n);
  REQUIRE(*n->step());
  CHECK(n->column_int(0) == 0);
}

TEST_CASE("the JSON has HEALING.md's fields", "[validation][validateCompleted]") {
  auto r = sample();
  r.record_id = "validation-3";
  const auto j = val::validation_json(r);
  for (const char* k : {"\"record_id\":\"validation-3\"", "\"fix_record\":\"fix-9\"", "\"patch_id\":\"fix-9.1\"", "\"base_commit\"",
                        "\"verdict\":\"fail\"", "\"reasons\":[", "\"checks\":[{\"name\":\"apply\",\"status\":\"pass\",\"seconds\"",
                        "\"detail\"", "\"tests\":{\"passed\":3,\"failed\":1,\"skipped\":0,\"flaky\":1,\"failures\":[{\"name\":\"t.a\",\"message\":\"boom\"}]",
                        "\"performance\":{\"handler\":\"price\",\"main_p50_ms\":2,\"candidate_p50_ms\":1,\"ratio\":0.5,\"p_value\"",
                        "\"regressions\":[\"pay\"]"})
    CHECK(j.find(k) != std::string::npos);
  CHECK(j.find("FAIL: t.a") == std::string::npos);  // the output is stored, not printed
  CHECK(val::validation_text(r).find("tests failed: t.a (boom)") != std::string::npos);
}
