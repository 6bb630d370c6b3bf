#pragma once
/// \file
/// Build and test a checkout: the `[build]` and `[test]` commands as child processes (argv, a time
/// limit, their own process group killed whole on timeout, stdin closed), results from JUnit XML
/// when configured, else from the runner's summary lines, else the exit code (`results.hpp`).
/// `retries`: a failed run is repeated; a test that fails and then passes is reported as flaky.
///
/// Reused by deployment's CI beat on the fix branch's head:
///
/// ```cpp
/// namespace val = selfheal::validation;
/// val::test_plan plan;
/// plan.build = val::command_spec{{"make", "-j2"}, std::chrono::seconds{300}};
/// plan.test = val::command_spec{{"python3", "-m", "unittest"}, std::chrono::seconds{300}};
/// plan.retries = 1;
/// val::build_and_test_result r = val::run_build_and_tests(plan, checkout_dir);
/// // r.checks: {"build", ...}, {"tests", ...}; r.tests: counts, failures, flaky; r.passed()
///
/// // or straight from selfheal.toml, placeholders filled in for this checkout:
/// auto r2 = val::run_build_and_tests(settings, checkout_dir, {{"commit", sha}, {"worktree", checkout_dir}});
/// ```

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "selfheal/core/process.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/source/settings.hpp"
#include "selfheal/validation/model.hpp"
#include "selfheal/validation/results.hpp"

namespace selfheal::validation {

/// One configured command: argv (placeholders already expanded) and its time limit.
struct command_spec {
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{std::chrono::seconds{300}};
};

/// What to build and test, as `[build]` and `[test]` of selfheal.toml say.
struct test_plan {
  std::optional<command_spec> build;  ///< absent: nothing to build (the check is "skipped")
  std::optional<command_spec> test;   ///< absent: the tests check fails (nothing is validated untested)
  std::string junit;                  ///< JUnit XML the test command writes, relative to the checkout
  unsigned retries = 0;               ///< repeats of a failed test run
  /// Extra environment of every command (on top of selfheal's own).
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::size_t keep_output = std::size_t{64} << 10;  ///< bytes of output stored per check (head + tail)
};

/// What `run_build_and_tests` found.
struct build_and_test_result {
  std::vector<check> checks;  ///< "build" then "tests"
  test_results tests;
  std::vector<std::string> reasons;  ///< why it failed, one sentence each (empty when it passed)
  [[nodiscard]] bool passed() const noexcept { return reasons.empty(); }
};

namespace detail {

/// `text` cut to at most `keep` bytes: its first eighth and its end, with a marker saying how much went.
inline std::string head_and_tail(std::string_view text, std::size_t keep) {
  if (text.size() <= keep) return std::string(text);
  const std::size_t head = keep / 8;
  const std::size_t tail = keep - head;
  std::string out(text.substr(0, head));
  out += "\n[... " + std::to_string(text.size() - head - tail) + " bytes cut ...]\n";
  out += text.substr(text.size() - tail);
  return out;
}

inline std::string describe(const std::vector<std::string>& argv) {
  std::string s;
  for (std::size_t i = 0; i < argv.size() && i < 6; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  if (argv.size() > 6) s += " ...";
  return s;
}

inline std::string seconds_text(std::chrono::milliseconds ms) {
  std::ostringstream o;
  o << static_cast<double>(ms.count()) / 1000.0 << " s";
  return o.str();
}

/// One run of a command: output (both streams), exit status, or the time-out / start failure.
struct command_run {
  bool started = false;
  bool timed_out = false;
  int exit_code = -1;
  std::string output;   ///< stdout then stderr
  std::string error;    ///< why it did not run to its end (timeout, not found, signal)
  double seconds = 0;
};

inline command_run run_command(const command_spec& cmd, const std::filesystem::path& cwd, const test_plan& plan) {
  command_run r;
  process_options opts;
  opts.cwd = cwd;
  opts.timeout = cmd.timeout;
  opts.env = plan.env;
  opts.max_output = std::size_t{16} << 20;  // runners print their summary last: keep enough to parse it
  const auto t0 = std::chrono::steady_clock::now();
  auto out = run_process(std::span<const std::string>(cmd.argv), opts);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!out) {
    r.timed_out = out.error().code == errc::timeout;
    r.started = out.error().code != errc::io_error;
    r.error = r.timed_out ? "killed with its process group after the time limit of " + seconds_text(cmd.timeout)
                          : out.error().detail;
    return r;
  }
  r.started = true;
  r.exit_code = out->exit_code;
  r.output = std::move(out->out);
  if (!out->err.empty()) {
    if (!r.output.empty() && r.output.back() != '\n') r.output += '\n';
    r.output += out->err;
  }
  return r;
}

inline std::optional<std::string> read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace detail

/// The results of one finished test run: JUnit when configured and written, else the runner's
/// summary, else the exit code. `note` says when a configured JUnit file was missing or malformed.
[[nodiscard]] inline parsed_tests results_of_run(const detail::command_run& run, const test_plan& plan,
                                                 const std::filesystem::path& checkout, std::string& note) {
  if (!plan.junit.empty()) {
    const auto path = checkout / plan.junit;
    if (auto xml = detail::read_text(path)) {
      auto j = parse_junit(*xml, plan.junit);
      if (j && !j->cases.empty()) {
        // a crash after the XML was written still fails the run
        if (run.exit_code != 0 && j->failed == 0) {
          auto e = exit_code_result(run.exit_code, detail::describe(plan.test->argv), run.output);
          j->cases.push_back(e.cases.front());
          ++j->failed;
        }
        return *j;
      }
      note = j ? plan.junit + " names no test" : j.error().detail;
    } else {
      note = plan.junit + " was not written";
    }
  }
  if (auto p = parse_test_output(run.output)) {
    if (run.exit_code != 0 && p->failed == 0) {
      auto e = exit_code_result(run.exit_code, detail::describe(plan.test->argv), run.output);
      p->cases.push_back(e.cases.front());
      ++p->failed;
    }
    return *p;
  }
  return exit_code_result(run.exit_code, detail::describe(plan.test->argv), run.output);
}

/// Runs the build (if any) and the tests (with retries) in `checkout`. Never throws and never fails
/// as a whole: a command that cannot start, times out or fails is a failed check with its reason.
[[nodiscard]] inline build_and_test_result run_build_and_tests(const test_plan& plan,
                                                               const std::filesystem::path& checkout) {
  build_and_test_result res;
  check build{"build", "skipped", 0, "no [build] command", {}};
  if (plan.build && !plan.build->argv.empty()) {
    auto run = detail::run_command(*plan.build, checkout, plan);
    build.seconds = run.seconds;
    build.output = detail::head_and_tail(run.output, plan.keep_output);
    if (!run.error.empty()) {
      build.status = "fail";
      build.detail = detail::describe(plan.build->argv) + ": " + run.error;
    } else if (run.exit_code != 0) {
      build.status = "fail";
      std::string last;
      for (auto l : detail::split_lines(run.output))
        if (!detail::trim_view(l).empty()) last = std::string(detail::trim_view(l));
      build.detail = detail::describe(plan.build->argv) + " exited with status " + std::to_string(run.exit_code) +
                     (last.empty() ? "" : ": " + last.substr(0, 300));
    } else {
      build.status = "pass";
      build.detail = detail::describe(plan.build->argv) + " succeeded";
    }
    if (build.status == "fail") res.reasons.push_back("build failed: " + build.detail);
  }
  res.checks.push_back(build);

  check tests{"tests", "skipped", 0, {}, {}};
  if (build.status == "fail") {
    tests.detail = "not run: the build failed";
    res.checks.push_back(tests);
    return res;
  }
  if (!plan.test || plan.test->argv.empty()) {
    tests.status = "fail";
    tests.detail = "no [test] command: nothing is validated untested";
    res.reasons.push_back("tests: no [test] command is configured");
    res.checks.push_back(tests);
    return res;
  }

  // Run, and repeat a failed run up to `retries` times; a test that fails and then passes is flaky.
  std::set<std::string> failed_before;
  std::string output_log;
  parsed_tests last;
  detail::command_run last_run;
  std::string note;
  const unsigned attempts_max = plan.retries + 1;
  unsigned attempts = 0;
  bool passed = false;
  while (attempts < attempts_max) {
    if (!plan.junit.empty()) {
      std::error_code ec;
      std::filesystem::remove(checkout / plan.junit, ec);  // never read a stale file
    }
    ++attempts;
    last_run = detail::run_command(*plan.test, checkout, plan);
    tests.seconds += last_run.seconds;
    if (attempts > 1) output_log += "\n[selfheal: attempt " + std::to_string(attempts) + "]\n";
    output_log += last_run.output;
    if (!last_run.error.empty()) break;  // a time-out or a command that cannot start is not retried
    note.clear();
    last = results_of_run(last_run, plan, checkout, note);
    passed = last_run.exit_code == 0 && last.failed == 0;
    if (passed) break;
    for (const auto& n : failed_names(last)) failed_before.insert(n);
  }
  tests.output = detail::head_and_tail(output_log, plan.keep_output);
  auto& t = res.tests;
  t.attempts = attempts;
  if (!last_run.error.empty()) {
    tests.status = "fail";
    tests.detail = detail::describe(plan.test->argv) + ": " + last_run.error;
    t.format = last.format.empty() ? "exit_code" : last.format;
    t.failed = 1;
    t.failures.push_back({detail::describe(plan.test->argv), last_run.error});
    res.reasons.push_back("tests: " + tests.detail);
    res.checks.push_back(tests);
    return res;
  }
  t.format = last.format;
  t.passed = last.passed;
  t.failed = last.failed;
  t.skipped = last.skipped;
  for (const auto& c : last.cases)
    if (c.status == test_status::failed) t.failures.push_back({c.name, c.message});
  if (t.failures.empty() && t.failed > 0)
    t.failures.push_back({detail::describe(plan.test->argv), std::to_string(t.failed) + " test(s) failed"});
  if (passed) {
    for (const auto& n : failed_before) t.flaky_tests.push_back(n);
    t.flaky = t.flaky_tests.size();
  }
  if (passed) {
    tests.status = "pass";
    tests.detail = std::to_string(t.passed) + " passed, " + std::to_string(t.skipped) + " skipped (" + t.format + ")";
    if (t.flaky > 0) {
      tests.detail += "; flaky: ";
      for (std::size_t i = 0; i < t.flaky_tests.size(); ++i) tests.detail += (i ? ", " : "") + t.flaky_tests[i];
    }
  } else {
    tests.status = "fail";
    std::string names;
    for (std::size_t i = 0; i < t.failures.size() && i < 10; ++i) {
      if (i) names += ", ";
      names += t.failures[i].name;
      if (!t.failures[i].message.empty()) names += " (" + t.failures[i].message + ")";
    }
    if (t.failures.size() > 10) names += ", ...";
    tests.detail = std::to_string(t.failed) + " failed, " + std::to_string(t.passed) + " passed (" + t.format +
                   "): " + names;
    res.reasons.push_back("tests failed: " + names);
  }
  if (!note.empty()) tests.detail += "; " + note;
  res.checks.push_back(tests);
  return res;
}

/// The plan `[build]` and `[test]` of selfheal.toml describe, with `{placeholders}` expanded.
[[nodiscard]] inline test_plan plan_from_settings(const source::settings& s,
                                                  const std::map<std::string, std::string, std::less<>>& values = {}) {
  test_plan plan;
  const auto ms = [](source::seconds_d d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); };
  if (!s.build.command.empty()) plan.build = command_spec{source::expand(s.build.command, values), ms(s.build.timeout)};
  if (!s.test.command.empty()) plan.test = command_spec{source::expand(s.test.command, values), ms(s.test.timeout)};
  plan.junit = s.test.junit;
  plan.retries = s.test.retries;
  return plan;
}

/// `run_build_and_tests(plan_from_settings(s, values), checkout)`: what deployment's CI beat runs on
/// the fix branch's head.
[[nodiscard]] inline build_and_test_result run_build_and_tests(const source::settings& s, const std::filesystem::path& checkout,
                                                               const std::map<std::string, std::string, std::less<>>& values = {}) {
  return run_build_and_tests(plan_from_settings(s, values), checkout);
}

}  // namespace selfheal::validation
