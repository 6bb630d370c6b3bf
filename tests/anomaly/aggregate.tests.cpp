#include <selfheal/anomaly/aggregate.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

namespace an = selfheal::anomaly;

namespace {
an::anomaly make(an::anomaly_kind k, const char* handler, an::severity s, double conf, std::int64_t onset = 0) {
  an::anomaly a;
  a.kind = k;
  a.handler = handler;
  a.level = s;
  a.confidence = conf;
  a.onset_ns = onset;
  a.description = std::string(an::to_string(k)) + " on " + handler;
  return a;
}
}  // namespace

TEST_CASE("one root symptom makes one anomaly with all its evidence", "[anomaly][aggregateAnomalyResults]") {
  std::vector<an::anomaly> in;
  in.push_back(make(an::anomaly_kind::latency_shift, "checkout", an::severity::high, 0.99, 300));
  auto slo = make(an::anomaly_kind::slo_burn, "checkout", an::severity::critical, 0.95, 200);
  slo.text("sli", "p95_ms").number("burn_rate_long", 20);
  in.push_back(slo);
  in.push_back(make(an::anomaly_kind::error_rate, "pay", an::severity::medium, 1.0));
  auto spike = make(an::anomaly_kind::error_template_spike, "pay", an::severity::low, 0.9);
  spike.text("template", "Timeout <*>");
  in.push_back(spike);
  auto err_slo = make(an::anomaly_kind::slo_burn, "pay", an::severity::high, 0.9);
  err_slo.text("sli", "error_rate");
  in.push_back(err_slo);
  in.push_back(make(an::anomaly_kind::traffic_surge, "search", an::severity::low, 0.8));
  in.push_back(make(an::anomaly_kind::traffic_surge, "search", an::severity::medium, 0.7));  // duplicate

  const auto out = an::aggregate_anomalies(in, "anomaly-1-");
  REQUIRE(out.size() == 3);
  // scores: checkout critical (merged) × 0.99 = 0.99; pay high × 1.0 = 0.75; search medium × 0.8 = 0.4
  CHECK(out[0].handler == "checkout");
  CHECK(out[0].kind == an::anomaly_kind::latency_shift);
  CHECK(out[0].has_kind(an::anomaly_kind::slo_burn));
  CHECK(out[0].level == an::severity::critical);
  CHECK(out[0].onset_ns == 200);
  CHECK(out[0].score == Approx(0.99));
  CHECK(out[0].find("slo_burn.burn_rate_long")->number == 20);
  CHECK(out[0].id == "anomaly-1-1");
  CHECK(out[1].handler == "pay");
  CHECK(out[1].kind == an::anomaly_kind::error_rate);
  CHECK(out[1].kinds.size() == 3);
  CHECK(out[1].score == Approx(0.75));
  CHECK(out[2].handler == "search");
  CHECK(out[2].score == Approx(0.5 * 0.8));
  CHECK(out[2].id == "anomaly-1-3");

  const auto counts = an::count_anomalies(out);
  CHECK(counts.by_type.at("performance") == 1);
  CHECK(counts.by_type.at("error") == 1);
  CHECK(counts.by_type.at("behavioral") == 1);
  CHECK(counts.by_severity.at("critical") == 1);
  CHECK(counts.by_severity.at("high") == 1);
  CHECK(counts.by_severity.at("medium") == 1);
}

TEST_CASE("an SLO breach without a matching root stays on its own", "[anomaly][aggregateAnomalyResults]") {
  auto slo = make(an::anomaly_kind::slo_burn, "checkout", an::severity::low, 1.0);
  slo.text("sli", "p99_ms");
  const auto out = an::aggregate_anomalies({slo, make(an::anomaly_kind::error_rate, "checkout", an::severity::low, 1.0)});
  REQUIRE(out.size() == 2);  // a latency SLO does not merge into an error-rate rise
  CHECK(an::type_of(an::anomaly_kind::slo_burn) == an::anomaly_type::slo);
  CHECK(an::aggregate_anomalies({}).empty());
}

TEST_CASE("a sequence's slowdown joins the regression of its handler that caused it", "[anomaly][aggregateAnomalyResults][sequence]") {
  std::vector<an::anomaly> in;
  auto handler = make(an::anomaly_kind::latency_shift, "applyDiscount", an::severity::critical, 0.9, 100);
  handler.sequence = "checkout";
  in.push_back(handler);
  auto other = make(an::anomaly_kind::latency_tail, "computeTax", an::severity::low, 0.6, 100);
  other.sequence = "checkout";
  in.push_back(other);
  auto seq = make(an::anomaly_kind::latency_tail, "", an::severity::low, 0.5, 200);  // the whole sequence, later
  seq.sequence = "checkout";
  seq.number("p95_ratio", 1.35);
  in.push_back(seq);
  auto unrelated = make(an::anomaly_kind::latency_shift, "", an::severity::medium, 0.8, 50);  // no handler of it regressed
  unrelated.sequence = "search";
  in.push_back(unrelated);

  const auto out = an::aggregate_anomalies(in, "a");
  REQUIRE(out.size() == 3);
  CHECK(out[0].handler == "applyDiscount");  // the strongest handler of the sequence takes it
  CHECK(out[0].has_kind(an::anomaly_kind::latency_tail));
  REQUIRE(out[0].find("latency_tail.p95_ratio") != nullptr);
  CHECK(out[0].find("latency_tail.p95_ratio")->number == 1.35);
  CHECK(out[0].onset_ns == 100);
  const auto search = std::find_if(out.begin(), out.end(), [](const an::anomaly& a) { return a.sequence == "search"; });
  REQUIRE(search != out.end());
  CHECK(search->handler.empty());

  SECTION("a handler whose regression began after the sequence's did not cause it") {
    in[0].onset_ns = 300;
    in[1].onset_ns = 300;
    const auto later = an::aggregate_anomalies(in, "a");
    CHECK(later.size() == 4);
  }
}

TEST_CASE("a sequence's traffic drop takes its handlers' drops", "[anomaly][aggregateAnomalyResults][sequence]") {
  std::vector<an::anomaly> in;
  auto seq = make(an::anomaly_kind::traffic_drop, "", an::severity::critical, 0.99, 100);
  seq.sequence = "checkout";
  in.push_back(seq);
  for (const char* h : {"computeTotal", "applyDiscount"}) {
    auto a = make(an::anomaly_kind::traffic_drop, h, an::severity::high, 0.9, 100);
    a.sequence = "checkout";
    in.push_back(a);
  }
  in.push_back(make(an::anomaly_kind::traffic_drop, "loadCatalog", an::severity::high, 0.9, 100));  // in no sequence
  const auto out = an::aggregate_anomalies(in, "a");
  REQUIRE(out.size() == 2);
  CHECK(out[0].handler.empty());
  CHECK(out[0].sequence == "checkout");
  CHECK(out[0].description.find("traffic_drop on computeTotal") != std::string::npos);
  CHECK(out[1].handler == "loadCatalog");
}
