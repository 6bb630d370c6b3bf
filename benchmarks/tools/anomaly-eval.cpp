// anomaly-eval: precision and recall of anomaly.detect per kind on generated telemetry with known truth.
//
//   anomaly-eval [--seeds N] [--first-seed S] [--verbose]
//
// Each seed generates a baseline period and a current period (60 one-minute windows each) for ~70
// handlers, simulating every call (log-normal latency, Poisson traffic with ±10% window-to-window
// wobble, Bernoulli errors with messages from a template pool), then injects one anomaly of every
// kind on its own handler (a template spike is a change of the error mix at a constant error
// rate: 10% → 70% of a handler's errors; plus a latency regression that also breaches a p95 SLO and an error
// rise that also burns an error-rate SLO, to exercise merging), and adds control handlers that must
// not fire: pure noise, a 5% latency and traffic drift, rare steady errors, tiny samples, a handler
// seen in one window only, a cold handler with poor coverage, SLOs that are met.
// Detection runs with the library's defaults; anomalies are aggregated and every kind an anomaly
// carries counts as a prediction for (kind, handler). Prints precision/recall per kind and the
// number of anomalies on control handlers; exit 1 if any kind is below 0.95 or a control fired.

#include <selfheal/anomaly/baseline.hpp>
#include <selfheal/anomaly/detectors.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace an = selfheal::anomaly;

namespace {

constexpr std::int64_t window_ns = 60'000'000'000;
constexpr std::size_t windows = 60;

struct profile {
  std::string name;
  double rate = 100;          // calls per window
  double median_ms = 50;
  double sigma = 0.5;         // log-normal shape
  double error_p = 0.002;
  // changes in the current period, from `onset`
  std::size_t onset = windows;
  double latency_factor = 1;  // whole distribution
  double tail_share = 0;      // share of calls made slow
  double tail_factor = 1;
  double rate_factor = 1;
  double error_p_after = -1;  // < 0: unchanged
  std::vector<std::string> extra_messages;  // messages of a new template (current only)
  double extra_per_window = 0;
  bool spike_template = false;               // multiply a known template ×6 in current
  bool only_current = false;                 // new handler
  bool single_window = false;                // tiny: one window only
};

const char* const error_pool[] = {
    "Timeout calling inventory-service after %d ms",
    "Connection reset by peer 10.0.%d.7:5432",
    "Validation failed for field quantity: value %d out of range",
};

std::string render(const char* pattern, int v) {
  char buf[160];
  std::snprintf(buf, sizeof buf, pattern, v);
  return buf;
}

double nearest_rank(std::vector<double>& v, double q) {
  const double rank = std::ceil(q * static_cast<double>(v.size()));
  const std::size_t idx = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return v[idx];
}

void simulate(const profile& p, bool current, std::int64_t t0, std::mt19937_64& rng, an::telemetry_data& out) {
  if (p.only_current && !current) return;
  an::handler_series s;
  s.handler = p.name;
  std::lognormal_distribution<double> lat(std::log(p.median_ms), p.sigma);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::map<std::string, std::uint64_t> messages;
  std::vector<double> lats;
  for (std::size_t w = 0; w < windows; ++w) {
    if (p.single_window && w != 30) continue;
    const bool after = current && w >= p.onset;
    double rate = p.rate * (0.9 + 0.2 * u(rng));
    if (after) rate *= p.rate_factor;
    std::poisson_distribution<int> pois(rate);
    const int n = pois(rng);
    if (n == 0) continue;
    lats.clear();
    std::uint64_t errors = 0;
    const double ep = after && p.error_p_after >= 0 ? p.error_p_after : p.error_p;
    for (int i = 0; i < n; ++i) {
      double l = lat(rng);
      if (after) {
        l *= p.latency_factor;
        if (p.tail_share > 0 && u(rng) < p.tail_share) l *= p.tail_factor;
      }
      lats.push_back(l);
      if (u(rng) < ep) {
        ++errors;
        // a template spike changes the mix, not the rate: 10% of errors before, 70% after
        if (p.spike_template && u(rng) < (after ? 0.7 : 0.1)) {
          messages[render("Lock wait timeout exceeded on table orders row %d", static_cast<int>(u(rng) * 9000) + 1000)]++;
          continue;
        }
        const std::size_t k = static_cast<std::size_t>(u(rng) * 3) % 3;
        messages[render(error_pool[k], static_cast<int>(u(rng) * 900) + 100)]++;
      }
    }
    if (current && !p.extra_messages.empty()) {
      std::poisson_distribution<int> extra(p.extra_per_window);
      const int k = after ? extra(rng) : 0;
      for (int i = 0; i < k; ++i) {
        messages[render(p.extra_messages[static_cast<std::size_t>(i) % p.extra_messages.size()].c_str(),
                        static_cast<int>(u(rng) * 90) + 10)]++;
        ++errors;
      }
    }
    an::window_point wp;
    wp.start_ns = t0 + static_cast<std::int64_t>(w) * window_ns;
    wp.count = static_cast<std::uint64_t>(n);
    wp.errors = std::min<std::uint64_t>(errors, wp.count);
    wp.p50_ms = nearest_rank(lats, 0.50);
    wp.p95_ms = nearest_rank(lats, 0.95);
    wp.p99_ms = nearest_rank(lats, 0.99);
    s.windows.push_back(wp);
  }
  for (const auto& [m, c] : messages) out.errors.push_back({p.name, m, c, t0, t0});
  out.handlers.push_back(std::move(s));
}

struct truth_item {
  an::anomaly_kind kind;
  std::string handler;
  bool operator<(const truth_item& o) const { return std::tie(kind, handler) < std::tie(o.kind, o.handler); }
};

struct scenario {
  an::telemetry_data base_data, cur_data;
  an::slo_config slo;
  std::vector<an::sequence_definition> defs;
  std::string lcov;
  std::set<truth_item> truth;
  std::set<std::string> controls;
};

std::string fn_name(const std::string& handler) {
  // handlerNoise12 → app::handler_noise12(Request const&)
  std::string s = "app::";
  for (char c : handler) {
    if (c >= 'A' && c <= 'Z') { s += '_'; s += static_cast<char>(c - 'A' + 'a'); }
    else s += c;
  }
  return s + "(Request const&)";
}

scenario make_scenario(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  scenario sc;
  std::vector<profile> ps;
  auto base_profile = [&](std::string name) {
    profile p;
    p.name = std::move(name);
    p.rate = 40 + 160 * u(rng);
    p.median_ms = 5 + 195 * u(rng);
    p.sigma = 0.3 + 0.5 * u(rng);
    p.error_p = 0.004 * u(rng);
    return p;
  };
  auto onset = [&] { return static_cast<std::size_t>(10 + 35 * u(rng)); };
  // 40 noise controls
  for (int i = 0; i < 40; ++i) {
    ps.push_back(base_profile("handlerNoise" + std::to_string(i)));
    sc.controls.insert(ps.back().name);
  }
  // drift controls: 5% slower and 5% more traffic
  for (int i = 0; i < 4; ++i) {
    auto p = base_profile("handlerDrift" + std::to_string(i));
    p.onset = 0; p.latency_factor = 1.05; p.rate_factor = 1.05;
    ps.push_back(p);
    sc.controls.insert(p.name);
  }
  // rare steady errors
  for (int i = 0; i < 3; ++i) {
    auto p = base_profile("handlerRareErrors" + std::to_string(i));
    p.error_p = 0.001;
    ps.push_back(p);
    sc.controls.insert(p.name);
  }
  // tiny samples: a few calls per window, very noisy; and one seen in one window only, 10× slower
  for (int i = 0; i < 3; ++i) {
    auto p = base_profile("handlerTiny" + std::to_string(i));
    p.rate = 0.3 + u(rng); p.sigma = 1.2;
    p.onset = 30; p.latency_factor = 2.0;  // slower, but far too few calls to claim it
    ps.push_back(p);
    sc.controls.insert(p.name);
  }
  {
    auto p = base_profile("handlerOneWindow");
    p.single_window = true; p.onset = 0; p.latency_factor = 10;
    ps.push_back(p);
    sc.controls.insert(p.name);
  }
  {  // cold handler with poor coverage: too little traffic to matter
    auto p = base_profile("handlerCold");
    p.rate = 1.0;
    ps.push_back(p);
    sc.controls.insert(p.name);
  }
  auto inject = [&](profile p, std::initializer_list<an::anomaly_kind> kinds) {
    for (auto k : kinds) sc.truth.insert({k, p.name});
    ps.push_back(std::move(p));
  };
  {
    auto p = base_profile("handlerShift");
    p.onset = onset(); p.latency_factor = 1.5 + 1.5 * u(rng);
    inject(p, {an::anomaly_kind::latency_shift});
  }
  {
    auto p = base_profile("handlerTail");
    p.rate = 150 + 100 * u(rng);
    p.onset = onset(); p.tail_share = 0.10; p.tail_factor = 5 + 3 * u(rng);
    inject(p, {an::anomaly_kind::latency_tail});
  }
  {
    auto p = base_profile("handlerSurge");
    p.onset = onset(); p.rate_factor = 2 + 2 * u(rng);
    inject(p, {an::anomaly_kind::traffic_surge});
  }
  {
    auto p = base_profile("handlerDrop");
    p.onset = onset(); p.rate_factor = 0.1 + 0.3 * u(rng);
    inject(p, {an::anomaly_kind::traffic_drop});
  }
  {
    auto p = base_profile("handlerBrandNew");
    p.only_current = true;
    inject(p, {an::anomaly_kind::new_handler});
  }
  {
    auto p = base_profile("handlerErrors");
    p.onset = onset(); p.error_p_after = 0.03 + 0.07 * u(rng);
    inject(p, {an::anomaly_kind::error_rate});
  }
  {
    auto p = base_profile("handlerNewTemplate");
    p.rate = 200 + 100 * u(rng);
    p.onset = onset();
    p.extra_messages = {"Shard %d unavailable: replica set has no primary"};
    p.extra_per_window = 1.0;
    inject(p, {an::anomaly_kind::new_error_template});
  }
  {
    auto p = base_profile("handlerTemplateSpike");
    p.rate = 250 + 100 * u(rng);
    p.error_p = 0.01;
    p.onset = onset(); p.spike_template = true;
    inject(p, {an::anomaly_kind::error_template_spike});
  }
  {  // hot handler with poor coverage
    auto p = base_profile("handlerHotUncovered");
    p.rate = 300;
    inject(p, {an::anomaly_kind::coverage_gap});
  }
  {  // error SLO burning: an error-rate rise that also breaches the SLO (merged into one anomaly)
    auto p = base_profile("handlerSloErrors");
    p.error_p = 0.001;
    p.onset = onset(); p.error_p_after = 0.2;
    sc.slo.objectives.push_back({p.name, std::nullopt, std::nullopt, 0.01, std::nullopt});
    inject(p, {an::anomaly_kind::slo_burn, an::anomaly_kind::error_rate});
  }
  {  // latency SLO: a regression that breaches p95 (merged into one anomaly)
    auto p = base_profile("handlerSloLatency");
    p.onset = onset(); p.latency_factor = 3;
    const double base_p95 = p.median_ms * std::exp(1.645 * p.sigma);
    sc.slo.objectives.push_back({p.name, base_p95 * 1.6, std::nullopt, std::nullopt, std::nullopt});
    inject(p, {an::anomaly_kind::slo_burn, an::anomaly_kind::latency_shift});
  }
  // SLOs that are met, on noise and drift handlers
  for (const auto& p : ps)
    if (p.name.rfind("handlerNoise1", 0) == 0 || p.name.rfind("handlerDrift", 0) == 0) {
      const double base_p95 = p.median_ms * std::exp(1.645 * p.sigma);
      sc.slo.objectives.push_back({p.name, base_p95 * 1.5, std::nullopt, 0.02, 0.99});
    }

  const std::int64_t base_t0 = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
  const std::int64_t cur_t0 = base_t0 + 86'400'000'000'000;
  sc.base_data.window_ns = sc.cur_data.window_ns = window_ns;
  sc.base_data.record_id = "telemetry-1";
  sc.cur_data.record_id = "telemetry-2";
  for (const auto& p : ps) {
    simulate(p, false, base_t0, rng, sc.base_data);
    simulate(p, true, cur_t0, rng, sc.cur_data);
  }

  // sequences: four definitions, executions by correlation id
  const char* seq_names[] = {"checkout-flow", "search-flow", "signup-flow", "report-flow"};
  for (int s = 0; s < 4; ++s) {
    an::sequence_definition d;
    d.id = seq_names[s];
    const int nb = 4 + s % 3;
    for (int b = 1; b <= nb; ++b)
      d.beats.push_back({b, std::string(seq_names[s]) + ":beat" + std::to_string(b), std::string("beat") + std::to_string(s) + "x" + std::to_string(b)});
    sc.defs.push_back(d);
  }
  // executions: 400 per sequence; injected share 5–15%
  const double share = 0.05 + 0.10 * u(rng);
  std::uint64_t cid = 0;
  for (int s = 0; s < 4; ++s) {
    const auto& d = sc.defs[static_cast<std::size_t>(s)];
    for (int e = 0; e < 400; ++e) {
      const std::string id = "c" + std::to_string(seed) + "-" + std::to_string(++cid);
      std::vector<std::size_t> order(d.beats.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      bool extra = false;
      const bool hit = u(rng) < share;
      if (hit && s == 0) order.erase(order.begin() + 1);                    // missing beat 2
      if (hit && s == 1) std::swap(order[1], order[2]);                      // beats 2 and 3 swapped
      if (hit && s == 2) extra = true;                                       // an unexpected beat
      // report-flow: a fraction stops early after a failure (not "missing": nothing later ran)
      if (s == 3 && u(rng) < 0.2) order.resize(2);
      std::int64_t t = cur_t0 + static_cast<std::int64_t>(u(rng) * 3.5e12);
      for (std::size_t k = 0; k < order.size(); ++k) {
        const auto& b = d.beats[order[k]];
        for (const char* phase : {"started", "completed"}) {
          (void)phase;
          sc.cur_data.beats.push_back({id, d.id, b.event, b.handler, t, b.number});
          t += 1'000'000;
        }
        if (extra && k == 1) {
          sc.cur_data.beats.push_back({id, d.id, "signup-flow:debug:dump", "debugDump", t, -1});
          t += 1'000'000;
        }
      }
    }
  }
  sc.truth.insert({an::anomaly_kind::missing_beat, sc.defs[0].beats[1].handler});
  sc.truth.insert({an::anomaly_kind::out_of_order, sc.defs[1].beats[1].handler});
  sc.truth.insert({an::anomaly_kind::out_of_order, sc.defs[1].beats[2].handler});  // either beat names the swap
  sc.truth.insert({an::anomaly_kind::unexpected_beat, "debugDump"});

  // lcov: every handler has a function; the hot uncovered one and the cold one are poorly covered
  std::string& l = sc.lcov;
  l += "TN:\nSF:src/app/handlers.cpp\n";
  std::uint64_t line = 10;
  std::string da;
  for (const auto& p : ps) {
    const std::string fn = fn_name(p.name);
    l += "FN:" + std::to_string(line) + "," + fn + "\n";
    const bool poor = p.name == "handlerHotUncovered" || p.name == "handlerCold";
    const double cov = poor ? 0.2 + 0.4 * u(rng) : 0.85 + 0.15 * u(rng);
    for (int k = 1; k <= 20; ++k)
      da += "DA:" + std::to_string(line + static_cast<std::uint64_t>(k)) + "," + (static_cast<double>(k) <= cov * 20 ? "3" : "0") + "\n";
    line += 30;
  }
  l += da + "end_of_record\n";
  return sc;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seeds = 20, first = 1;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seeds" && i + 1 < argc) seeds = std::stoull(argv[++i]);
    else if (a == "--first-seed" && i + 1 < argc) first = std::stoull(argv[++i]);
    else if (a == "--verbose") verbose = true;
    else { std::fprintf(stderr, "usage: anomaly-eval [--seeds N] [--first-seed S] [--verbose]\n"); return 2; }
  }
  struct tally { std::uint64_t tp = 0, fp = 0, fn = 0; };
  std::map<an::anomaly_kind, tally> per_kind;
  std::uint64_t control_firings = 0;
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    auto sc = make_scenario(seed);
    auto base = an::build_baseline(sc.base_data.handlers, window_ns, sc.base_data.errors);
    base.id = "baseline-1";
    const auto lcov = an::parse_lcov(sc.lcov, "generated.info");
    an::detect_inputs in;
    in.slo = &sc.slo;
    in.definitions = sc.defs;
    in.coverage = &lcov;
    auto found = an::aggregate_anomalies(an::detect_all(sc.cur_data, base, in).all());
    std::set<truth_item> predicted;
    for (const auto& a : found) {
      for (auto k : a.kinds) predicted.insert({k, a.handler});
      if (sc.controls.count(a.handler)) {
        ++control_firings;
        std::printf("seed %llu: CONTROL FIRED %s %s: %s\n", static_cast<unsigned long long>(seed),
                    std::string(an::to_string(a.kind)).c_str(), a.handler.c_str(), a.description.c_str());
      }
    }
    // out_of_order: the swap may be reported on either swapped beat; count the pair once
    std::set<truth_item> truth = sc.truth;
    const std::string oo_a = sc.defs[1].beats[1].handler, oo_b = sc.defs[1].beats[2].handler;
    const bool oo_hit = predicted.count({an::anomaly_kind::out_of_order, oo_a}) || predicted.count({an::anomaly_kind::out_of_order, oo_b});
    truth.erase({an::anomaly_kind::out_of_order, oo_a});
    truth.erase({an::anomaly_kind::out_of_order, oo_b});
    auto& oo = per_kind[an::anomaly_kind::out_of_order];
    if (oo_hit) ++oo.tp; else ++oo.fn;
    for (const auto& p : predicted) {
      if (p.kind == an::anomaly_kind::out_of_order && (p.handler == oo_a || p.handler == oo_b)) continue;
      if (truth.count(p)) ++per_kind[p.kind].tp;
      else {
        ++per_kind[p.kind].fp;
        if (verbose) std::printf("seed %llu: false positive %s %s\n", static_cast<unsigned long long>(seed),
                                 std::string(an::to_string(p.kind)).c_str(), p.handler.c_str());
      }
    }
    for (const auto& t : truth)
      if (!predicted.count(t)) {
        ++per_kind[t.kind].fn;
        if (verbose) {
          std::printf("seed %llu: missed %s %s\n", static_cast<unsigned long long>(seed),
                      std::string(an::to_string(t.kind)).c_str(), t.handler.c_str());
          const auto* b = base.find(t.handler);
          for (const auto& s : sc.cur_data.handlers)
            if (s.handler == t.handler && b) {
              std::printf("  baseline p50 %.2f (mad %.2f) p95 %.2f (mad %.2f) rate %.1f samples %llu errors %llu\n  current:",
                          b->p50_windows.median, b->p50_windows.mad, b->p95_windows.median, b->p95_windows.mad,
                          b->rate_windows.median, static_cast<unsigned long long>(b->samples),
                          static_cast<unsigned long long>(b->errors));
              for (const auto& w : s.windows)
                std::printf(" %llu/%llu:%.2f/%.2f", static_cast<unsigned long long>(w.count), static_cast<unsigned long long>(w.errors),
                            w.p50_ms / b->p50_windows.median, w.p95_ms / b->p95_windows.median);
              std::printf("\n");
            }
        }
      }
  }
  bool ok = control_firings == 0;
  std::printf("%-22s %6s %6s %6s %9s %7s\n", "kind", "tp", "fp", "fn", "precision", "recall");
  for (auto k : an::all_kinds) {
    const auto& t = per_kind[k];
    const double precision = t.tp + t.fp ? static_cast<double>(t.tp) / static_cast<double>(t.tp + t.fp) : 1.0;
    const double recall = t.tp + t.fn ? static_cast<double>(t.tp) / static_cast<double>(t.tp + t.fn) : 1.0;
    if (precision < 0.95 || recall < 0.95) ok = false;
    std::printf("%-22s %6llu %6llu %6llu %9.3f %7.3f\n", std::string(an::to_string(k)).c_str(),
                static_cast<unsigned long long>(t.tp), static_cast<unsigned long long>(t.fp),
                static_cast<unsigned long long>(t.fn), precision, recall);
  }
  std::printf("control handler firings: %llu (seeds %llu..%llu)\n", static_cast<unsigned long long>(control_firings),
              static_cast<unsigned long long>(first), static_cast<unsigned long long>(first + seeds - 1));
  return ok ? 0 : 1;
}
