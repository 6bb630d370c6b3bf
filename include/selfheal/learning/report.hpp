#pragma once
/// \file
/// The JSON document of `selfheal learn --json` (HEALING.md; fields beyond the contract are extra):
/// `{"record_id","deployment_record","already_learned","anomaly_id","anomaly_type","handler","strategy",
/// "deployment_status","outcome","reasons":[…],"metrics":[{"name","before","after","change","ci_low",
/// "ci_high","during","normal_high","before_n","after_n","from_judge","relative_change","recovered",
/// "within_normal","better","worse"}],"posteriors":[{"anomaly_type","strategy","alpha","beta","mean",
/// "prior_mean","observations"}],"threshold_changes":[{"anomaly_id","handler","kind","verdict",
/// "factor_before","factor_after"}],"baseline_record","insights":[…],"insight_topics":[…],"mttr_s"}`.
/// Latency metrics are in ms, error rates are fractions; `change` is after − before and
/// `ci_low`/`ci_high` bound it at the request's confidence (95 % by default).
///
/// And of `selfheal feedback --json`: `{"anomaly_id","handler","kind","verdict","factor_before",
/// "factor_after","feedback_id"}`.

#include <string>

#include "selfheal/anomaly/thresholds.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/learning/model.hpp"

namespace selfheal::learning {

[[nodiscard]] inline std::string to_json(const track_summary& s) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.member("record_id", s.record_id).member("deployment_record", s.deployment_record).member("already_learned", s.already_learned);
  w.member("anomaly_id", s.anomaly_id).member("anomaly_type", s.anomaly_type).member("handler", s.handler);
  w.member("strategy", s.strategy).member("deployment_status", s.deployment_status).member("outcome", to_string(s.result));
  w.key("reasons").begin_array();
  for (const auto& r : s.reasons) w.value(r);
  w.end_array();
  w.key("metrics").begin_array();
  for (std::size_t i = 0; i < s.metrics.size(); ++i) {
    const auto& m = s.metrics[i];
    if (!m.has_data) continue;
    w.begin_object();
    w.member("name", m.name).member("before", m.before).member("after", m.after).member("change", m.change);
    w.member("ci_low", m.ci_low).member("ci_high", m.ci_high);
    w.key("during");
    if (m.during) w.value(*m.during); else w.value(nullptr);
    w.member("normal_high", m.normal_high).member("before_n", m.before_n).member("after_n", m.after_n);
    w.member("from_judge", m.from_judge);
    if (i < s.improvements.size()) {
      const auto& imp = s.improvements[i];
      w.member("relative_change", imp.relative_change);
      w.key("recovered");
      if (imp.recovered) w.value(*imp.recovered); else w.value(nullptr);
      w.member("within_normal", imp.within_normal).member("better", imp.better).member("worse", imp.worse);
    }
    w.end_object();
  }
  w.end_array();
  w.key("posteriors").begin_array();
  for (const auto& p : s.posteriors)
    w.begin_object()
        .member("anomaly_type", p.anomaly_type)
        .member("strategy", p.strategy)
        .member("alpha", p.alpha)
        .member("beta", p.beta)
        .member("mean", p.mean())
        .member("prior_mean", p.prior_mean)
        .member("observations", p.observations)
        .end_object();
  w.end_array();
  w.key("threshold_changes").begin_array();
  for (const auto& t : s.threshold_changes)
    w.begin_object()
        .member("anomaly_id", t.anomaly_id)
        .member("handler", t.handler)
        .member("kind", t.kind)
        .member("verdict", t.verdict)
        .member("factor_before", t.factor_before)
        .member("factor_after", t.factor_after)
        .end_object();
  w.end_array();
  w.key("baseline_record");
  if (s.baseline_record) w.value(*s.baseline_record); else w.value(nullptr);
  w.key("insights").begin_array();
  for (const auto& i : s.insights) w.value(i.text);
  w.end_array();
  w.key("insight_topics").begin_array();
  for (const auto& i : s.insights) w.value(i.topic);
  w.end_array();
  w.key("mttr_s");
  if (s.time_to_heal_s >= 0) w.value(s.time_to_heal_s); else w.value(nullptr);
  w.end_object();
  return out;
}

[[nodiscard]] inline std::string to_json(const anomaly::feedback_entry& e) {
  std::string out;
  json_writer w(out);
  w.begin_object()
      .member("anomaly_id", e.anomaly_id)
      .member("handler", e.handler)
      .member("kind", e.kind)
      .member("verdict", anomaly::to_string(e.given))
      .member("factor_before", e.factor_before)
      .member("factor_after", e.factor_after)
      .member("feedback_id", e.id)
      .end_object();
  return out;
}

}  // namespace selfheal::learning
