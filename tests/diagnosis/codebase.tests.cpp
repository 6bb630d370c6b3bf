#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "scenario.hpp"
#include "selfheal/diagnosis/codebase.hpp"

namespace dx = selfheal::diagnosis;
using selfheal::test::git_repo;

namespace {

const dx::config_entry* key(const std::vector<dx::config_entry>& c, const std::string& file, const std::string& k) {
  for (const auto& e : c)
    if (e.file == file && e.key == k) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("test names in five languages", "[diagnosis][codebase]") {
  SECTION("JavaScript") {
    const auto t = dx::test_names("describe('cart', () => {\n  it(\"adds items\", () => {});\n  test(`x`, f);\n});\n", "JavaScript");
    REQUIRE(t.size() == 3);
    CHECK(t[0].name == "cart");
    CHECK(t[1].name == "adds items");
    CHECK(t[1].line == 2);
  }
  SECTION("Python") {
    const auto t = dx::test_names("import x\n\ndef test_tax():\n    pass\ndef helper():\n    pass\n", "Python");
    REQUIRE(t.size() == 1);
    CHECK(t[0].name == "test_tax");
    CHECK(t[0].line == 3);
  }
  SECTION("Go, Java, C++") {
    CHECK(dx::test_names("func TestTax(t *testing.T) {\n}\n", "Go").at(0).name == "TestTax");
    CHECK(dx::test_names("class A {\n  @Test\n  public void computesTax() {}\n}\n", "Java").at(0).name == "computesTax");
    const auto c = dx::test_names("TEST_CASE(\"parses\", \"[x]\") {}\nTEST(Cart, Adds) {}\n", "C++");
    REQUIRE(c.size() == 2);
    CHECK(c[0].name == "parses");
    CHECK(c[1].name == "Cart.Adds");
  }
}

TEST_CASE("configuration keys from JSON, YAML, TOML and INI", "[diagnosis][codebase]") {
  std::vector<std::string> warnings;
  SECTION("YAML nesting and comments") {
    const auto c = dx::parse_config("config/app.yaml",
                                    "# top\nhttp:\n  timeout_ms: 2000  # ms\n  retries: 3\ndb:\n  pool:\n    size: 10\nname: 'shop'\n",
                                    "yaml", warnings);
    REQUIRE(key(c, "config/app.yaml", "http.timeout_ms"));
    CHECK(key(c, "config/app.yaml", "http.timeout_ms")->value == "2000");
    CHECK(key(c, "config/app.yaml", "http.timeout_ms")->line == 3);
    CHECK(key(c, "config/app.yaml", "http.retries")->value == "3");
    CHECK(key(c, "config/app.yaml", "db.pool.size")->value == "10");
    CHECK(key(c, "config/app.yaml", "name")->value == "shop");
    CHECK(warnings.empty());
  }
  SECTION("TOML sections") {
    const auto c = dx::parse_config("a.toml", "title = \"x\"\n[cache]\nsize = 64 # entries\n[server.http]\nbatch_size=5\n", "toml", warnings);
    CHECK(key(c, "a.toml", "title")->value == "x");
    CHECK(key(c, "a.toml", "cache.size")->value == "64");
    CHECK(key(c, "a.toml", "server.http.batch_size")->line == 5);
  }
  SECTION("INI, with a malformed line reported by file and line") {
    const auto c = dx::parse_config("svc.ini", "; c\n[pool]\nmax = 8\nthis line is broken\nidle: 30\n", "ini", warnings);
    CHECK(key(c, "svc.ini", "pool.max")->value == "8");
    CHECK(key(c, "svc.ini", "pool.idle")->value == "30");
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("svc.ini:4:") == 0);
  }
  SECTION("JSON objects flattened") {
    const auto c = dx::parse_config("c.json", "{\n \"retry\": {\"max\": 5, \"backoff\": \"exp\"},\n \"cache\": true\n}\n", "json", warnings);
    CHECK(key(c, "c.json", "retry.max")->value == "5");
    CHECK(key(c, "c.json", "retry.backoff")->value == "exp");
    CHECK(key(c, "c.json", "cache")->value == "true");
    CHECK(key(c, "c.json", "cache")->line == 3);
  }
  SECTION("malformed JSON is a warning naming the file") {
    const auto c = dx::parse_config("bad.json", "{\"a\": ", "json", warnings);
    CHECK(c.empty());
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("bad.json") == 0);
  }
}

TEST_CASE("sequence definition files", "[diagnosis][codebase]") {
  auto s = dx::parse_sequence_file("sequences/a.json",
                                   R"({"id":"a-symphony","name":"A","movements":[{"beats":[{"beat":1,"event":"a:b","handler":"doA"}]},{"beats":[{"beat":2,"event":"a:c","handler":"doB"}]}]})");
  REQUIRE(s);
  CHECK(s->id == "a-symphony");
  REQUIRE(s->beats.size() == 2);
  CHECK(s->beats[1].handler == "doB");
  CHECK(s->beats[1].number == 2);
  auto bad = dx::parse_sequence_file("sequences/b.json", R"({"id":"x"})");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == selfheal::errc::parse_error);
  CHECK(bad.error().detail.find("sequences/b.json") == 0);
}

TEST_CASE("load_codebase indexes a generated repository", "[diagnosis][codebase]") {
  selfheal::test::scenario_options o;
  o.seed = 3;
  auto sc = selfheal::test::make_scenario(o);
  sc.repo.write("config/broken.json", "{ not json");
  sc.repo.commit("add a broken config", 1800000000);
  auto cb = dx::load_codebase(sc.repo.root());
  REQUIRE(cb);
  CHECK(cb->symbols.source == "ctags");
  CHECK(std::find(cb->files.begin(), cb->files.end(), "src/cart.js") != cb->files.end());
  const auto m = dx::match_handler(cb->symbols, "computeTax");
  REQUIRE(m.status == dx::match_status::unique);
  CHECK(m.chosen(cb->symbols)->file == "services/pricing.py");
  CHECK(m.chosen(cb->symbols)->name == "compute_tax");
  REQUIRE(cb->sequences.size() == 1);
  CHECK(cb->sequences[0].id == "checkout-symphony");
  CHECK(cb->sequences[0].beats.size() == 5);
  CHECK(key(cb->configs, "config/app.yaml", "http.timeout_ms"));
  CHECK(key(cb->configs, "config/app.yaml", "database.pool_size"));
  REQUIRE(cb->tests.size() == 2);
  const auto& js = cb->tests[0].file == "tests/cart.test.js" ? cb->tests[0] : cb->tests[1];
  CHECK(std::binary_search(js.identifiers.begin(), js.identifiers.end(), std::string("applyDiscount")));
  CHECK(js.tests.at(0).name == "applies a spring discount");
  CHECK(std::any_of(cb->warnings.begin(), cb->warnings.end(),
                    [](const std::string& w) { return w.find("config/broken.json") == 0; }));
  CHECK(cb->git.commits.size() >= 8);
  CHECK(cb->git.commits.front().time == 1800000000);
}
