#include <catch2/catch.hpp>

#include <string>

#include "selfheal/fix/config_edit.hpp"
#include "selfheal/fix/edits.hpp"

namespace fx = selfheal::fix;

TEST_CASE("config values are found at their byte range in every format", "[fix][config_edit]") {
  SECTION("TOML: tables, quotes and comments") {
    const std::string t = "# pool\n[database]\npool_size = 10 # tuned\nname = \"shop\"\n[http]\nretries = 3\n";
    auto v = fx::find_config_value(t, fx::config_format::toml, "database.pool_size");
    REQUIRE(v);
    CHECK(t.substr(v->begin, v->end - v->begin) == "10");
    CHECK(v->line == 3);
    auto out = fx::set_config_value(t, fx::config_format::toml, "database.name", "store");
    REQUIRE(out);
    CHECK(*out == "# pool\n[database]\npool_size = 10 # tuned\nname = \"store\"\n[http]\nretries = 3\n");
    CHECK(*fx::set_config_value(t, fx::config_format::toml, "http.retries", "5") ==
          "# pool\n[database]\npool_size = 10 # tuned\nname = \"shop\"\n[http]\nretries = 5\n");
  }
  SECTION("YAML: nested maps, a trailing comment, single quotes") {
    const std::string y = "# Shop\nhttp:\n  timeout_ms: 2000   # p99 budget\n  name: 'front door'\nlist:\n  - a\n  - b\n";
    CHECK(*fx::set_config_value(y, fx::config_format::yaml, "http.timeout_ms", "500") ==
          "# Shop\nhttp:\n  timeout_ms: 500   # p99 budget\n  name: 'front door'\nlist:\n  - a\n  - b\n");
    CHECK(*fx::set_config_value(y, fx::config_format::yaml, "http.name", "it's") ==
          "# Shop\nhttp:\n  timeout_ms: 2000   # p99 budget\n  name: 'it''s'\nlist:\n  - a\n  - b\n");
    CHECK(*fx::set_config_value(y, fx::config_format::yaml, "list.1", "c") ==
          "# Shop\nhttp:\n  timeout_ms: 2000   # p99 budget\n  name: 'front door'\nlist:\n  - a\n  - c\n");
  }
  SECTION("JSON: whitespace and key order kept") {
    const std::string j = "{\n  \"cache\": {\"size\": 128, \"on\": true},\n  \"name\": \"x\\\"y\"\n}\n";
    CHECK(*fx::set_config_value(j, fx::config_format::json, "cache.size", "256") ==
          "{\n  \"cache\": {\"size\": 256, \"on\": true},\n  \"name\": \"x\\\"y\"\n}\n");
    CHECK(*fx::set_config_value(j, fx::config_format::json, "name", "a\"b") ==
          "{\n  \"cache\": {\"size\": 128, \"on\": true},\n  \"name\": \"a\\\"b\"\n}\n");
  }
  SECTION(".env: export, quotes, comments") {
    const std::string e = "# env\nPOOL=10 # small\nexport NAME=\"shop\"\n";
    CHECK(*fx::set_config_value(e, fx::config_format::env, "POOL", "20") == "# env\nPOOL=20 # small\nexport NAME=\"shop\"\n");
    CHECK(*fx::set_config_value(e, fx::config_format::env, "NAME", "store") == "# env\nPOOL=10 # small\nexport NAME=\"store\"\n");
  }
}

TEST_CASE("config edits refuse what they cannot do cleanly", "[fix][config_edit]") {
  CHECK(fx::set_config_value("a = 1\n", fx::config_format::toml, "b", "2").error().code == selfheal::errc::not_found);
  auto broken = fx::config_values("{\"a\": [1, 2,]}", fx::config_format::json, "x.json");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == selfheal::errc::parse_error);
  CHECK(broken.error().detail.find("x.json:1") != std::string::npos);
  CHECK_FALSE(fx::check_config_syntax("a = [1,\n", fx::config_format::toml, "bad.toml"));
  CHECK_FALSE(fx::check_config_syntax("a: [1, 2\n", fx::config_format::yaml, "bad.yaml"));
  CHECK(fx::set_config_value("a: 1\n", fx::config_format::yaml, "a", "1\nb: 2").error().code == selfheal::errc::invalid_request);
}

TEST_CASE("config differences name the keys a commit changed", "[fix][config_edit]") {
  auto d = fx::config_differences("db:\n  pool: 10\n  host: a\n", "db:\n  pool: 1\n  host: a\n  port: 5\n", fx::config_format::yaml);
  REQUIRE(d);
  REQUIRE(d->size() == 2);
  CHECK((*d)[0].key == "db.pool");
  CHECK((*d)[0].before == "10");
  CHECK((*d)[0].after == "1");
  CHECK((*d)[1].added);
}

TEST_CASE("reverse_hunks: moved lines found again, ambiguous or changed lines refused", "[fix][edits]") {
  const std::string parent = "def f():\n    a = 1\n    return a\n";
  const std::string suspect = "def f():\n    a = 1\n    slow()\n    return a\n";
  auto hunks = fx::line_hunks(parent, suspect);
  REQUIRE(hunks);
  REQUIRE(hunks->size() == 1);
  SECTION("moved down by a later commit") {
    const std::string current = "import x\n\n" + suspect;
    auto r = fx::reverse_hunks(current, suspect, *hunks);
    REQUIRE(r);
    CHECK(r->text == "import x\n\n" + parent);
    REQUIRE(r->notes.size() == 1);
  }
  SECTION("the added line was edited since") {
    auto r = fx::reverse_hunks("def f():\n    a = 1\n    slow(2)\n    return a\n", suspect, *hunks);
    REQUIRE_FALSE(r);
    CHECK(r.error().detail.find("no longer matches") != std::string::npos);
  }
  SECTION("outside the handler's range it is not touched") {
    const std::string current = suspect + "\ndef g():\n    slow()\n";
    auto r = fx::reverse_hunks(current, suspect, *hunks, fx::line_range{1, 4});
    REQUIRE(r);
    CHECK(r->text == parent + "\ndef g():\n    slow()\n");
  }
}

TEST_CASE("unified_diff writes new files and changes that git apply takes", "[fix][edits]") {
  auto d = fx::unified_diff({{"a.txt", std::string("one\ntwo\n"), std::string("one\n2\n")}, {"docs/n.md", std::nullopt, std::string("# n\n")}});
  REQUIRE(d);
  CHECK(d->find("diff --git a/a.txt b/a.txt") != std::string::npos);
  CHECK(d->find("new file mode 100644") != std::string::npos);
  CHECK(d->find("+++ b/docs/n.md") != std::string::npos);
  auto st = fx::edit_stat({"a.txt", std::string("one\ntwo\n"), std::string("one\n2\nthree\n")});
  REQUIRE(st);
  CHECK(st->additions == 2);
  CHECK(st->deletions == 1);
}
