#pragma once
/// \file
/// `selfheal validate`'s output: the JSON object of HEALING.md (`validation_json`) and a text summary.
///
/// ```json
/// {"record_id":"validation-1","fix_record":"fix-1","patch_id":"fix-1.1","base_commit":"…","verdict":"fail",
///  "reasons":["tests failed: test_cart.TestCart.test_total (AssertionError: 3 != 4)"],
///  "checks":[{"name":"apply","status":"pass","seconds":0.01,"detail":"…"}, …],
///  "tests":{"passed":3,"failed":1,"skipped":0,"flaky":0,"failures":[{"name":"…","message":"…"}],"flaky_tests":[],…},
///  "performance":{"handler":"price","main_p50_ms":2.1,"candidate_p50_ms":1.0,"ratio":0.48,"p_value":1e-9,
///                 "regressions":[],"handlers":[…]}}
/// ```

#include <string>

#include <fmt/format.h>

#include "selfheal/core/json_writer.hpp"
#include "selfheal/validation/model.hpp"

namespace selfheal::validation {

[[nodiscard]] inline std::string validation_json(const report& r) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.member("record_id", r.record_id).member("fix_record", r.fix_record).member("patch_id", r.patch_id);
  w.member("base_commit", r.base_commit).member("handler", r.handler).member("anomaly_id", r.anomaly_id);
  w.member("strategy", r.strategy).member("verdict", r.verdict);
  w.key("reasons").begin_array();
  for (const auto& s : r.reasons) w.value(s);
  w.end_array();
  w.key("checks").begin_array();
  for (const auto& c : r.checks)
    w.begin_object().member("name", c.name).member("status", c.status).member("seconds", c.seconds)
        .member("detail", c.detail).end_object();
  w.end_array();
  const auto& t = r.tests;
  w.key("tests").begin_object();
  w.member("passed", t.passed).member("failed", t.failed).member("skipped", t.skipped).member("flaky", t.flaky);
  w.key("failures").begin_array();
  for (const auto& f : t.failures) w.begin_object().member("name", f.name).member("message", f.message).end_object();
  w.end_array();
  w.key("flaky_tests").begin_array();
  for (const auto& f : t.flaky_tests) w.value(f);
  w.end_array();
  w.member("format", t.format).member("attempts", t.attempts);
  w.end_object();
  const auto& p = r.performance;
  w.key("performance").begin_object();
  w.member("handler", p.handler).member("main_p50_ms", p.main_p50_ms).member("candidate_p50_ms", p.candidate_p50_ms);
  w.member("ratio", p.ratio).member("p_value", p.p_value);
  w.key("regressions").begin_array();
  for (const auto& s : p.regressions) w.value(s);
  w.end_array();
  w.key("handlers").begin_array();
  for (const auto& h : p.handlers)
    w.begin_object().member("handler", h.handler).member("main_p50_ms", h.main_p50_ms)
        .member("candidate_p50_ms", h.candidate_p50_ms).member("ratio", h.ratio).member("p_value", h.p_value).end_object();
  w.end_array();
  w.end_object();
  w.end_object();
  return out;
}

/// A few lines for a person: the verdict, each check, the reasons.
[[nodiscard]] inline std::string validation_text(const report& r) {
  std::string s = "validation " + r.record_id + " of " + (r.patch_id.empty() ? std::string("the patch") : r.patch_id) +
                  " on " + r.base_commit.substr(0, 12) + ": " + r.verdict + "\n";
  for (const auto& c : r.checks) {
    const std::string secs = fmt::format("{:.2f} s", c.seconds);
    s += "  " + c.name + std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') + c.status +
         std::string(c.status.size() < 8 ? 8 - c.status.size() : 1, ' ') + secs + "  " + c.detail + "\n";
  }
  for (const auto& why : r.reasons) s += "  - " + why + "\n";
  return s;
}

}  // namespace selfheal::validation
