#pragma once
/// \file
/// Diagnoses as JSON (the `diagnose --json` schema of issue 5) and as readable text.
///
/// ```
/// {"record_id":"diagnosis-1","anomaly_record":"anomaly-1",
///  "diagnoses":[{"anomaly_id":"…","type":"performance","handler":"applyDiscount","root_cause":"…","confidence":0.53,
///    "location":{"file":"src/cart.js","line":16,"end_line":26,"symbol":"applyDiscount"},      (null when not located)
///    "suspect_commits":[{"commit":"<40 hex>","summary":"…","author":"…","time":"2025-03-02T10:00:00Z","score":0.72,
///                        "reasons":["…"]}],
///    "impact":{"severity":"high","traffic_share":0.19,"sequences":["checkout-symphony"],"slo_budget_burn":0},
///    "recommendations":[{"strategy":"revert","priority":1,"expected_benefit":0.5,"rationale":"…"}]}]}
/// ```

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/diagnosis/model.hpp"

namespace selfheal::diagnosis {

/// Seconds since the epoch as ISO-8601 UTC: `2025-03-02T10:00:00Z` (core's `format_iso8601`).
[[nodiscard]] inline std::string iso8601_utc(std::int64_t seconds) {
  return format_iso8601(seconds * 1'000'000'000, iso_precision::seconds);
}

inline void write_json(json_writer& w, const diagnosis_item& d) {
  w.begin_object();
  w.member("anomaly_id", d.anomaly_id).member("type", d.type).member("handler", d.handler);
  w.member("root_cause", d.root_cause).member("confidence", d.confidence);
  w.key("location");
  if (d.where) {
    w.begin_object()
        .member("file", d.where->file)
        .member("line", static_cast<std::int64_t>(d.where->line))
        .member("end_line", static_cast<std::int64_t>(d.where->end_line))
        .member("symbol", d.where->symbol)
        .end_object();
  } else {
    w.value(nullptr);
  }
  w.key("suspect_commits").begin_array();
  for (const auto& s : d.suspects) {
    w.begin_object().member("commit", s.commit).member("summary", s.summary).member("author", s.author);
    w.member("time", iso8601_utc(s.time)).member("score", s.score).member("in_release", s.in_release_range);
    w.key("reasons").begin_array();
    for (const auto& r : s.reasons) w.value(r);
    w.end_array();
    if (!s.config_changes.empty()) {
      w.key("config_changes").begin_array();
      for (const auto& c : s.config_changes)
        w.begin_object().member("file", c.file).member("key", c.key).member("old_value", c.old_value)
            .member("new_value", c.new_value).end_object();
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();
  w.key("impact").begin_object().member("severity", d.effect.severity).member("traffic_share", d.effect.traffic_share);
  w.key("sequences").begin_array();
  for (const auto& s : d.effect.sequences) w.value(s);
  w.end_array().member("slo_budget_burn", d.effect.slo_budget_burn).end_object();
  w.key("recommendations").begin_array();
  for (const auto& r : d.recommendations) {
    w.begin_object()
        .member("strategy", r.strategy)
        .member("priority", static_cast<std::int64_t>(r.priority))
        .member("expected_benefit", r.expected_benefit)
        .member("rationale", r.rationale);
    if (!r.commit.empty()) w.member("commit", r.commit);
    if (!r.file.empty()) w.member("file", r.file);
    if (!r.key.empty()) w.member("key", r.key);
    if (r.strategy == "config_change" && !r.commit.empty()) w.member("old_value", r.old_value).member("new_value", r.new_value);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

/// The whole `diagnose --json` object.
[[nodiscard]] inline std::string diagnoses_json(std::string_view record_id, std::string_view anomaly_record,
                                                const std::vector<diagnosis_item>& items) {
  std::string out;
  json_writer w(out);
  w.begin_object().member("record_id", record_id).member("anomaly_record", anomaly_record);
  w.key("diagnoses").begin_array();
  for (const auto& d : items) write_json(w, d);
  w.end_array().end_object();
  return out;
}

/// A readable diagnosis: the slow function, the commit to blame, the evidence, the fix.
[[nodiscard]] inline std::string diagnosis_text(const diagnosis_item& d) {
  std::string s;
  const std::string conf = fmt::format("{:.0f}%", d.confidence * 100);
  s += "● " + d.type + " anomaly in " + subject(d) + "  [severity " + d.effect.severity + ", confidence " + conf + "]\n";
  if (d.where)
    s += "  where:   " + d.where->symbol + " at " + d.where->file + ":" + std::to_string(d.where->line) +
         (d.where->end_line > d.where->line ? "-" + std::to_string(d.where->end_line) : std::string{}) + "\n";
  s += "  cause:   " + d.root_cause + "\n";
  if (!d.suspects.empty()) {
    s += "  blame:\n";
    for (std::size_t i = 0; i < d.suspects.size() && i < 3; ++i) {
      const auto& c = d.suspects[i];
      const std::string sc = fmt::format("{:.2f}", c.score);
      s += "    " + std::to_string(i + 1) + ". " + c.commit.substr(0, 12) + " " + c.summary + " (" + c.author + ", " +
           iso8601_utc(c.time) + ", score " + sc + ")\n";
      for (const auto& r : c.reasons) s += "         - " + r + "\n";
    }
  }
  if (!d.evidence.empty()) {
    s += "  evidence:\n";
    for (const auto& e : d.evidence) s += "    - " + e + "\n";
  }
  if (!d.effect.reasons.empty()) {
    s += "  impact:  ";
    for (std::size_t i = 0; i < d.effect.reasons.size(); ++i) s += (i ? ", " : "") + d.effect.reasons[i];
    s += "\n";
  }
  if (!d.recommendations.empty()) {
    s += "  fix:\n";
    for (const auto& r : d.recommendations) {
      const std::string b = fmt::format("{:.2f}", r.expected_benefit);
      s += "    " + std::to_string(r.priority) + ". " + r.strategy + " (expected benefit " + b + "): " + r.rationale + "\n";
    }
  }
  return s;
}

}  // namespace selfheal::diagnosis
