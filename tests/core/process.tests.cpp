#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "selfheal/core/process.hpp"

namespace fs = std::filesystem;
using selfheal::errc;
using selfheal::process_options;
using selfheal::run_checked;
using selfheal::run_process;

TEST_CASE("run_process reports the exit status of real programs", "[core][process]") {
  SECTION("true exits 0") {
    auto r = run_process({"true"});
    REQUIRE(r);
    CHECK(r->exit_code == 0);
    CHECK(r->ok());
  }
  SECTION("false exits 1 and is not an error of run_process") {
    auto r = run_process({"false"});
    REQUIRE(r);
    CHECK(r->exit_code == 1);
    CHECK_FALSE(r->ok());
  }
  SECTION("run_checked turns a non-zero exit into process_failed with stderr") {
    auto r = run_checked({"sh", "-c", "echo boom >&2; exit 3"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::process_failed);
    CHECK(r.error().detail.find("exit status 3") != std::string::npos);
    CHECK(r.error().detail.find("boom") != std::string::npos);
  }
  SECTION("a missing program is an io_error naming it") {
    auto r = run_process({"selfheal-no-such-program-xyz"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::io_error);
    CHECK(r.error().detail.find("selfheal-no-such-program-xyz") != std::string::npos);
  }
  SECTION("an empty argv is an invalid request") {
    std::vector<std::string> none;
    auto r = run_process(std::span<const std::string>(none));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_request);
  }
  SECTION("a signal death is process_failed") {
    auto r = run_process({"sh", "-c", "kill -TERM $$"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::process_failed);
    CHECK(r.error().detail.find("signal 15") != std::string::npos);
  }
}

TEST_CASE("run_process captures stdout and stderr separately", "[core][process]") {
  auto r = run_process({"sh", "-c", "printf out; printf err >&2"});
  REQUIRE(r);
  CHECK(r->out == "out");
  CHECK(r->err == "err");
}

TEST_CASE("arguments are passed as argv, never through a shell", "[core][process]") {
  const std::string tricky = "a b; echo injected $(whoami) `id` \"q\" 'x'";
  auto r = run_process({"printf", "%s", tricky});
  REQUIRE(r);
  CHECK(r->out == tricky);
}

TEST_CASE("working directory and environment overrides", "[core][process]") {
  const fs::path dir = fs::temp_directory_path() / ("selfheal-process-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  process_options o;
  o.cwd = dir;
  SECTION("cwd") {
    auto r = run_process({"pwd"}, o);
    REQUIRE(r);
    CHECK(fs::equivalent(fs::path(r->out.substr(0, r->out.find('\n'))), dir));
  }
  SECTION("set and unset variables") {
    ::setenv("SELFHEAL_TEST_UNSET_ME", "present", 1);
    o.env = {{"SELFHEAL_TEST_VAR", "hello world"}, {"SELFHEAL_TEST_UNSET_ME", std::nullopt}};
    auto r = run_process({"sh", "-c", "printf '%s|%s' \"$SELFHEAL_TEST_VAR\" \"${SELFHEAL_TEST_UNSET_ME-unset}\""}, o);
    REQUIRE(r);
    CHECK(r->out == "hello world|unset");
    ::unsetenv("SELFHEAL_TEST_UNSET_ME");
  }
  SECTION("a missing working directory is an io_error") {
    o.cwd = dir / "does-not-exist";
    auto r = run_process({"true"}, o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::io_error);
  }
  fs::remove_all(dir);
}

TEST_CASE("the time limit kills the process group", "[core][process]") {
  process_options o;
  o.timeout = std::chrono::milliseconds{300};
  SECTION("sleep is killed") {
    auto r = run_process({"sleep", "30"}, o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::timeout);
    CHECK(r.error().detail.find("300 ms") != std::string::npos);
  }
  SECTION("a grandchild holding the pipe open is killed too") {
    const fs::path marker = fs::temp_directory_path() / ("selfheal-grandchild-" + std::to_string(::getpid()));
    fs::remove(marker);
    auto r = run_process({"sh", "-c", "(sleep 1; touch '" + marker.string() + "') & sleep 30"}, o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::timeout);
    // Had the grandchild survived, it would create the marker after one second.
    auto w = run_process({"sleep", "1.5"});
    REQUIRE(w);
    CHECK_FALSE(fs::exists(marker));
  }
}

TEST_CASE("a background grandchild holding stdout does not hold up a finished child", "[core][process]") {
  process_options o;
  o.timeout = std::chrono::seconds{20};
  auto r = run_process({"sh", "-c", "sleep 3 & echo done"}, o);
  REQUIRE(r);  // not a time-out: the child itself exited at once
  CHECK(r->exit_code == 0);
  CHECK(r->out == "done\n");
}

TEST_CASE("large output on both streams does not deadlock", "[core][process]") {
  // 4 MiB to stdout and 4 MiB to stderr, interleaved: far beyond a pipe buffer.
  auto r = run_process({"sh", "-c", "head -c 4194304 /dev/zero; head -c 4194304 /dev/zero >&2; head -c 10 /dev/zero"});
  REQUIRE(r);
  CHECK(r->out.size() == 4194304u + 10u);
  CHECK(r->err.size() == 4194304u);
  SECTION("output beyond max_output is drained and dropped") {
    process_options o;
    o.max_output = 1000;
    auto c = run_process({"head", "-c", "3000000", "/dev/zero"}, o);
    REQUIRE(c);
    CHECK(c->exit_code == 0);
    CHECK(c->out.size() == 1000u);
    CHECK(c->out_truncated);
  }
}

TEST_CASE("stdin data reaches the child", "[core][process]") {
  process_options o;
  SECTION("small input") {
    o.stdin_data = "line one\nline two\n";
    auto r = run_process({"wc", "-l"}, o);
    REQUIRE(r);
    CHECK(r->out.find('2') != std::string::npos);
  }
  SECTION("large input echoed back") {
    o.stdin_data = std::string(3'000'000, 'x');
    auto r = run_process({"cat"}, o);
    REQUIRE(r);
    CHECK(r->out.size() == 3'000'000u);
  }
  SECTION("a child that ignores stdin does not kill us with SIGPIPE") {
    o.stdin_data = std::string(3'000'000, 'x');
    auto r = run_process({"true"}, o);
    REQUIRE(r);
    CHECK(r->exit_code == 0);
  }
}
