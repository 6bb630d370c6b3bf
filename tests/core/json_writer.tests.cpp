#include <catch2/catch.hpp>

#include <string>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/json_writer.hpp"

namespace sh = selfheal;

TEST_CASE("json_writer escapes strings and nests", "[core][json]") {
  std::string out;
  sh::json_writer w(out);
  w.begin_object();
  w.member("a", "q\"b\\\n\t\x01");
  w.key("list").begin_array().value(1).value(2.5).value(true).value(nullptr).end_array();
  w.key("o").begin_object().member("n", -3).end_object();
  w.end_object();
  CHECK(out == R"({"a":"q\"b\\\n\t\u0001","list":[1,2.5,true,null],"o":{"n":-3}})");
}

TEST_CASE("json_writer keeps valid UTF-8 and replaces invalid bytes", "[core][json]") {
  std::string out;
  sh::append_json_string(out, "\xE2\x9C\x85 ok \xFF\xC3");
  CHECK(out == "\"\xE2\x9C\x85 ok \xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST_CASE("numbers print short and round-trip, non-finite ones become null", "[core][json]") {
  std::string out;
  sh::append_json_number(out, 10.0);
  out += ' ';
  sh::append_json_number(out, 0.1);
  out += ' ';
  sh::append_json_number(out, 1.0 / 3.0);
  out += ' ';
  sh::append_json_number(out, 1.0 / 0.0);
  CHECK(out == "10 0.1 0.3333333333333333 null");
}

TEST_CASE("ISO-8601 UTC with milliseconds", "[core][clock]") {
  using namespace std::chrono;
  CHECK(sh::format_iso8601_ms(sh::time_point{milliseconds(1763224703985)}) == "2025-11-15T16:38:23.985Z");
  CHECK(sh::format_iso8601_ms(sh::time_point{milliseconds(-1)}) == "1969-12-31T23:59:59.999Z");
}
