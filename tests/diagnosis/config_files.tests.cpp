#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "selfheal/source/repository.hpp"

// Configuration files read with libraries (issue #9, item 1): valid YAML and TOML that a line-by-line
// reader got wrong or rejected.

namespace src = selfheal::source;

namespace {

const src::config_entry* key(const std::vector<src::config_entry>& c, const std::string& k) {
  for (const auto& e : c)
    if (e.key == k) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("valid YAML the line reader got wrong", "[source][config]") {
  std::vector<std::string> warnings;
  const auto c = src::parse_config("app.yaml",
                                   "http: {timeout_ms: 2000, retries: 3}\n"
                                   "banner: |\n"
                                   "  welcome: to the shop\n"
                                   "  no: key here\n"
                                   "pool:\n"
                                   "  - a: 1\n"
                                   "cache:\n"
                                   "  size: 64\n",
                                   "yaml", warnings);
  CHECK(warnings.empty());
  REQUIRE(key(c, "http.timeout_ms"));
  CHECK(key(c, "http.timeout_ms")->value == "2000");
  CHECK(key(c, "http.retries")->value == "3");
  REQUIRE(key(c, "banner"));
  CHECK(key(c, "banner")->value == "welcome: to the shop\nno: key here\n");
  CHECK_FALSE(key(c, "banner.welcome"));
  CHECK(key(c, "cache.size")->value == "64");
  CHECK(key(c, "cache.size")->line == 8);
}

TEST_CASE("valid TOML the line reader got wrong", "[source][config]") {
  std::vector<std::string> warnings;
  const auto c = src::parse_config("app.toml",
                                   "cache = { size = 64, ttl_ms = 500 }\n"
                                   "motd = \"\"\"\n"
                                   "a = 1\n"
                                   "\"\"\"\n"
                                   "[[servers]]\n"
                                   "host = \"a\" # first\n",
                                   "toml", warnings);
  CHECK(warnings.empty());
  REQUIRE(key(c, "cache.size"));
  CHECK(key(c, "cache.size")->value == "64");
  CHECK(key(c, "cache.ttl_ms")->value == "500");
  CHECK_FALSE(key(c, "a"));
  CHECK(key(c, "motd")->value == "a = 1\n");
  CHECK(key(c, "servers.host")->value == "a");
  CHECK(key(c, "servers.host")->line == 6);
}

TEST_CASE("malformed YAML and TOML are warnings naming file and line", "[source][config]") {
  std::vector<std::string> warnings;
  CHECK(src::parse_config("bad.yaml", "a: 1\nb: [1, 2\n", "yaml", warnings).empty());
  CHECK(src::parse_config("bad.toml", "a = 1\nb = \n", "toml", warnings).empty());
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find("bad.yaml:") == 0);
  CHECK(warnings[1].find("bad.toml:2") == 0);
}

TEST_CASE("dotenv files", "[source][config]") {
  std::vector<std::string> warnings;
  CHECK(src::config_format(".env") == "env");
  CHECK(src::config_format("deploy/.env.production") == "env");
  const auto c = src::parse_config(".env", "# c\nexport DB_POOL_MAX=20\nNAME=\"a b\" \nTTL=5 # s\n", "env", warnings);
  CHECK(warnings.empty());
  CHECK(key(c, "DB_POOL_MAX")->value == "20");
  CHECK(key(c, "NAME")->value == "a b");
  CHECK(key(c, "TTL")->value == "5");
}
