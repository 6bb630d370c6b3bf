#pragma once
// Seeded generator of realistic telemetry with known truth, shared by `selfheal-gen` (the tool),
// the telemetry benchmark and the telemetry tests. It writes what real services log: several
// services' NDJSON field conventions (ISO and epoch times, different aliases), started/completed
// pairs with no duration, failures with messages, events that name no handler, and malformed lines;
// or Musical-Conductor console text. Alongside it keeps the truth (per handler: executions, errors,
// every duration) computed independently of selfheal, so tests can hold selfheal's output to it.
//
// Durations are whole microseconds, so every representation (ms with 3 decimals, ns, timestamp
// differences with 6-digit fractions) is exact.

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace selfheal_gen {

struct options {
  std::uint64_t seed = 1;
  std::uint64_t target_bytes = 1 << 20;   ///< stop after about this many bytes
  int handlers = 12;
  double fail_rate = 0.03;                ///< executions that fail
  double malformed_rate = 0.002;          ///< lines that are broken
  double pair_rate = 0.25;                ///< executions logged as a started/completed pair
  double info_rate = 0.1;                 ///< events without a handler
  std::int64_t start_ns = 1'735'689'600'000'000'000;  ///< 2025-01-01T00:00:00Z
  std::int64_t mean_gap_us = 5'000;       ///< mean time between events
  bool keep_durations = true;             ///< keep every duration (for exact quantiles)
  bool crlf = false;
  std::size_t pad_bytes = 0;              ///< extra `"context":"…"` bytes per JSON event (unaliased)
};

struct handler_truth {
  std::uint64_t count = 0;
  std::uint64_t errors = 0;
  std::uint64_t sum_us = 0;
  std::uint64_t max_us = 0;
  std::vector<std::uint64_t> durations_us;
  /// Exact nearest-rank quantile in ms.
  [[nodiscard]] double quantile_ms(double q) const {
    if (durations_us.empty()) return 0;
    auto v = durations_us;
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return static_cast<double>(v[rank - 1]) / 1000.0;
  }
};

struct truth {
  std::map<std::string, handler_truth> handlers;
  std::uint64_t lines = 0;
  std::uint64_t events = 0;      // good lines
  std::uint64_t executions = 0;
  std::uint64_t bad_lines = 0;
  std::uint64_t bytes = 0;
};

namespace detail {
inline std::string iso(std::int64_t ns, int offset_minutes = 0) {
  const std::int64_t local = ns + static_cast<std::int64_t>(offset_minutes) * 60'000'000'000;
  const std::time_t s = static_cast<std::time_t>(local / 1'000'000'000);
  const auto us = static_cast<long>((local % 1'000'000'000) / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06ld", us);
  out += frac;
  if (offset_minutes == 0) {
    out += 'Z';
  } else {
    char z[16];
    std::snprintf(z, sizeof z, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', std::abs(offset_minutes) / 60,
                  std::abs(offset_minutes) % 60);
    out += z;
  }
  return out;
}

/// One execution's lines, written interleaved with other executions' lines.
struct flight {
  std::uint64_t id;
  std::vector<std::string> lines;
  std::size_t next = 0;
};

/// Writes the executions `make(id)` builds until `opt.target_bytes`, eight in flight, each line
/// taken from one of them at random (as concurrent requests' lines interleave in a real log);
/// `now` moves 0.2 ms per line. Returns how many executions were written to their end.
template <class Uniform, class Rng, class Make>
std::uint64_t write_interleaved(std::FILE* out, const options& opt, truth& t, Uniform& u, Rng& rng, std::int64_t& now,
                                Make& make) {
  std::vector<flight> in_flight;
  std::uint64_t next_id = 0, finished = 0;
  while (t.bytes < opt.target_bytes) {
    while (in_flight.size() < 8) in_flight.push_back(make(next_id++));
    const std::size_t i = static_cast<std::size_t>(u(rng) * static_cast<double>(in_flight.size())) % in_flight.size();
    auto& f = in_flight[i];
    const std::string& l = f.lines[f.next++];
    std::fputs(l.c_str(), out);
    std::fputc('\n', out);
    t.bytes += l.size() + 1;
    ++t.lines;
    ++t.events;
    now += 200'000;
    if (f.next == f.lines.size()) {
      ++finished;
      if (i + 1 != in_flight.size()) f = std::move(in_flight.back());
      in_flight.pop_back();
    }
  }
  return finished;
}
}  // namespace detail

/// Writes NDJSON to `out` until `opt.target_bytes`; returns the truth.
inline truth write_ndjson(std::FILE* out, const options& opt) {
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::exponential_distribution<double> gap(1.0 / static_cast<double>(opt.mean_gap_us));
  truth t;
  std::vector<std::string> names;
  std::vector<double> medians_us;
  const char* verbs[] = {"load", "parse", "render", "save", "notify", "resolve", "fetch", "validate", "publish", "index"};
  const char* nouns[] = {"Order", "Cart", "Library", "Theme", "Canvas", "User", "Invoice", "Route"};
  for (int i = 0; i < opt.handlers; ++i) {
    names.push_back(std::string(verbs[i % 10]) + nouns[(i / 10 + i) % 8]);
    medians_us.push_back(500.0 * std::pow(1.7, i % 9) + 37.0 * i);
  }
  const char* messages[] = {"timeout after 30s calling inventory", "connection reset by peer",
                            "NullReferenceException in OrderMapper", "disk quota exceeded on /var/data"};
  const char* sequences[] = {"Checkout Flow", "Library Load", "Canvas Component Create"};
  const char* releases[] = {"1.4.2", "1.4.3"};
  const char* eol = opt.crlf ? "\r\n" : "\n";
  struct pending { std::int64_t end_ns; std::string line; int handler; std::uint64_t dur_us; bool failed; };
  std::deque<pending> open;
  std::int64_t now = opt.start_ns;
  std::uint64_t corr = 0;
  std::string line;
  std::string padded;
  auto emit = [&](const std::string& raw, bool good) {
    const std::string* lp = &raw;
    if (opt.pad_bytes > 0 && good && raw.size() > 2 && raw.back() == '}') {
      padded.assign(raw, 0, raw.size() - 1);
      padded += ",\"context\":\"";
      static const char words[] = "user session cart item region shard pool worker queue cache ";
      for (std::size_t i = 0; i < opt.pad_bytes; ++i) padded += words[(i + t.lines) % (sizeof words - 1)];
      padded += "\"}";
      lp = &padded;
    }
    const std::string& l = *lp;
    std::fputs(l.c_str(), out);
    std::fputs(eol, out);
    t.bytes += l.size() + std::char_traits<char>::length(eol);
    ++t.lines;
    if (good) ++t.events; else ++t.bad_lines;
  };
  auto record = [&](int h, std::uint64_t dur_us, bool failed) {
    auto& ht = t.handlers[names[static_cast<std::size_t>(h)]];
    ++ht.count;
    ++t.executions;
    if (failed) ++ht.errors;
    ht.sum_us += dur_us;
    ht.max_us = std::max(ht.max_us, dur_us);
    if (opt.keep_durations) ht.durations_us.push_back(dur_us);
  };
  char buf[512];
  while (t.bytes < opt.target_bytes || !open.empty()) {
    now += static_cast<std::int64_t>(gap(rng)) * 1000 + 1000;
    // Complete pairs whose time has come (or all of them once the size is reached).
    while (!open.empty() && (open.front().end_ns <= now || t.bytes >= opt.target_bytes)) {
      emit(open.front().line, true);
      record(open.front().handler, open.front().dur_us, open.front().failed);
      open.pop_front();
    }
    if (t.bytes >= opt.target_bytes) continue;
    const double r = u(rng);
    if (r < opt.malformed_rate) {
      const int kind = static_cast<int>(u(rng) * 4);
      if (kind == 0) emit("{\"ts\":\"" + detail::iso(now) + "\",\"handler\":\"" + names[0] + "\",\"durationMs\":1", false);
      else if (kind == 1) emit("this is not json at all", false);
      else if (kind == 2) emit("{\"ts\":\"" + detail::iso(now) + "\",\"handler\":\"unterminated", false);
      else emit("{\"ts\":\"not a time\",\"handler\":\"" + names[1] + "\",\"durationMs\":3}", false);
      continue;
    }
    if (r < opt.malformed_rate + opt.info_rate) {
      std::snprintf(buf, sizeof buf, "{\"ts\":\"%s\",\"level\":\"info\",\"message\":\"cache warmed\",\"service\":\"api\",\"version\":\"%s\"}",
                    detail::iso(now).c_str(), releases[now / 60'000'000'000 % 2]);
      emit(buf, true);
      continue;
    }
    const int h = static_cast<int>(u(rng) * opt.handlers) % opt.handlers;
    const auto& name = names[static_cast<std::size_t>(h)];
    std::lognormal_distribution<double> dist(std::log(medians_us[static_cast<std::size_t>(h)]), 0.6);
    const auto dur_us = static_cast<std::uint64_t>(std::max(1.0, std::round(dist(rng))));
    const bool failed = u(rng) < opt.fail_rate;
    const char* msg = messages[static_cast<std::size_t>(u(rng) * 4) % 4];
    const char* seq = sequences[h % 3];
    const double style = u(rng);
    if (style < opt.pair_rate) {
      ++corr;
      std::snprintf(buf, sizeof buf,
                    "{\"ts\":\"%s\",\"event\":\"beat-started\",\"sequence\":\"%s\",\"beat\":%d,\"handler\":\"%s\",\"correlationId\":\"c%" PRIu64 "\"}",
                    detail::iso(now).c_str(), seq, h + 1, name.c_str(), corr);
      emit(buf, true);
      const std::int64_t end = now + static_cast<std::int64_t>(dur_us) * 1000;
      if (failed)
        std::snprintf(buf, sizeof buf,
                      "{\"ts\":\"%s\",\"event\":\"beat-failed\",\"sequence\":\"%s\",\"beat\":\"%d\",\"handler\":\"%s\",\"correlationId\":\"c%" PRIu64 "\",\"error\":\"%s\"}",
                      detail::iso(end).c_str(), seq, h + 1, name.c_str(), corr, msg);
      else
        std::snprintf(buf, sizeof buf,
                      "{\"ts\":\"%s\",\"event\":\"beat-completed\",\"sequence\":\"%s\",\"beat\":\"%d\",\"handler\":\"%s\",\"correlationId\":\"c%" PRIu64 "\"}",
                      detail::iso(end).c_str(), seq, h + 1, name.c_str(), corr);
      open.push_back({end, buf, h, dur_us, failed});
      std::sort(open.begin(), open.end(), [](const pending& a, const pending& b) { return a.end_ns < b.end_ns; });
      continue;
    }
    const double ms = static_cast<double>(dur_us) / 1000.0;
    if (style < opt.pair_rate + (1 - opt.pair_rate) / 3) {
      // service A: beat events with durations (our own beat-event format)
      std::snprintf(buf, sizeof buf,
                    "{\"ts\":\"%s\",\"event\":\"%s\",\"sequence\":\"%s\",\"beat\":%d,\"topic\":\"app:%s\",\"handler\":\"%s\",\"durationMs\":%.3f,\"correlationId\":\"a%" PRIu64 "\"%s%s%s}",
                    detail::iso(now).c_str(), failed ? "beat-failed" : "beat-completed", seq, h + 1, name.c_str(),
                    name.c_str(), ms, ++corr, failed ? ",\"error\":\"" : "", failed ? msg : "", failed ? "\"" : "");
    } else if (style < opt.pair_rate + 2 * (1 - opt.pair_rate) / 3) {
      // service B: epoch milliseconds, snake_case, severity, nested error
      const auto epoch_ms = static_cast<long long>(now / 1'000'000);
      std::snprintf(buf, sizeof buf,
                    "{\"timestamp\":%lld,\"handler_name\":\"%s\",\"duration_ms\":%.3f,\"severity\":\"%s\",\"host\":\"web-%d\"%s%s%s}",
                    epoch_ms, name.c_str(), ms, failed ? "ERROR" : "INFO", h % 4, failed ? ",\"error\":{\"message\":\"" : "",
                    failed ? msg : "", failed ? "\",\"code\":500}" : "");
    } else {
      // service C: OpenTelemetry-ish, offsets, span names, status
      std::snprintf(buf, sizeof buf,
                    "{\"@timestamp\":\"%s\",\"span\":\"%s\",\"latency_ms\":%.3f,\"status\":\"%s\",\"trace_id\":\"t%" PRIu64 "\",\"release\":\"%s\",\"attrs\":{\"http.status\":%d,\"tags\":[\"x\",\"y\"]}}",
                    detail::iso(now, h % 2 ? 120 : -300).c_str(), name.c_str(), ms, failed ? "error" : "ok", ++corr,
                    releases[now / 60'000'000'000 % 2], failed ? 500 : 200);
    }
    emit(buf, true);
    record(h, dur_us, failed);
  }
  return t;
}

/// Writes Musical-Conductor console text (the shapes of the real sample) until `target_bytes`.
inline truth write_conductor(std::FILE* out, const options& opt) {
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> u(0, 1);
  truth t;
  std::int64_t now = opt.start_ns;
  const char* handlers[] = {"registerInstance", "createNode", "renderReact", "notifyUi", "enhanceLine"};
  const char* events[] = {"canvas:component:register-instance", "canvas:component:create",
                          "canvas:component:render-react", "canvas:component:notify-ui", "canvas:component:augment:line"};
  char buf[512];
  auto emit = [&](const char* l) {
    std::fputs(l, out);
    std::fputc('\n', out);
    t.bytes += std::char_traits<char>::length(l) + 1;
    ++t.lines;
    ++t.events;
  };
  while (t.bytes < opt.target_bytes) {
    std::uint64_t total_us = 0;
    for (int b = 0; b < 5; ++b) {
      now += 1'000'000;
      std::snprintf(buf, sizeof buf,
                    "EventBus.ts:56 %s \xF0\x9F\x8E\xBD \xF0\x9F\x8E\xBD Data: No changes | seq=Canvas Component Create beat=? event=%s handler=%s",
                    detail::iso(now).c_str(), events[b], handlers[b]);
      emit(buf);
      std::snprintf(buf, sizeof buf,
                    "EventBus.ts:56 %s \xF0\x9F\x8E\xBD \xF0\x9F\x8E\xBD Data: No changes | seq=Canvas Component Create beat=%d event=%s handler=?",
                    detail::iso(now).c_str(), b + 2, events[b]);
      emit(buf);
      const auto dur_us = static_cast<std::uint64_t>(5000 + u(rng) * 10000) / 100 * 100;  // 0.1 ms steps
      total_us += dur_us;
      std::snprintf(buf, sizeof buf, "EventBus.ts:56 %s \xE2\x8F\xB1\xEF\xB8\x8F PerformanceTracker: \xE2\x9C\x85 Beat %d: %.2fms",
                    detail::iso(now).c_str(), b + 2, static_cast<double>(dur_us) / 1000.0);
      emit(buf);
      auto& ht = t.handlers[handlers[b]];
      ++ht.count;
      ++t.executions;
      ht.sum_us += dur_us;
      ht.max_us = std::max(ht.max_us, dur_us);
      if (opt.keep_durations) ht.durations_us.push_back(dur_us);
    }
    std::snprintf(buf, sizeof buf,
                  "EventBus.ts:56 %s \xE2\x9C\x85 SequenceExecutor: \xF0\x9F\x8E\x8A Sequence Complete: Canvas Component Create (%" PRIu64 "ms)",
                  detail::iso(now).c_str(), total_us / 1000 + 1);
    emit(buf);
  }
  return t;
}

/// Writes whole sequence executions as selfheal's own beat events (DESIGN.md): per execution a
/// correlation id, `sequence-started`, each of 6 beats started and completed (with `topic`), then
/// `sequence-completed`; 8 executions in flight at once, their lines interleaved. 2% of executions
/// skip beat 4. Stops after about `target_bytes`; `pad_bytes` pads events as `write_ndjson` does.
/// Returns the executions written (`truth::executions`) and lines.
inline truth write_executions(std::FILE* out, const options& opt) {
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> u(0, 1);
  truth t;
  const char* beats[] = {"validateCart", "priceItems", "reserveStock", "chargeCard", "createOrder", "notifyUser"};
  std::string pad;
  static const char words[] = "user session cart item region shard pool worker queue cache ";
  for (std::size_t i = 0; i < opt.pad_bytes; ++i) pad += words[i % (sizeof words - 1)];
  std::int64_t now = opt.start_ns;
  char buf[1024];
  const auto make = [&](std::uint64_t id) {
    detail::flight f{id, {}, 0};
    const bool skip = u(rng) < 0.02;
    std::int64_t ts = now;
    const auto line = [&](const char* event, int beat) {
      const std::string when = detail::iso(ts);
      if (beat == 0)
        std::snprintf(buf, sizeof buf, "{\"ts\":\"%s\",\"event\":\"%s\",\"sequence\":\"checkout\",\"correlationId\":\"x%" PRIu64 "\",\"context\":\"%s\"}",
                      when.c_str(), event, id, pad.c_str());
      else
        std::snprintf(buf, sizeof buf,
                      "{\"ts\":\"%s\",\"event\":\"%s\",\"sequence\":\"checkout\",\"beat\":%d,\"topic\":\"shop:%s\",\"handler\":\"%s\",\"correlationId\":\"x%" PRIu64 "\",\"context\":\"%s\"}",
                      when.c_str(), event, beat, beats[beat - 1], beats[beat - 1], id, pad.c_str());
      f.lines.emplace_back(buf);
      ts += 1'000'000 + static_cast<std::int64_t>(u(rng) * 2'000'000);
    };
    line("sequence-started", 0);
    for (int b = 1; b <= 6; ++b) {
      if (skip && b == 4) continue;
      line("beat-started", b);
      line("beat-completed", b);
    }
    line("sequence-completed", 0);
    return f;
  };
  t.executions += detail::write_interleaved(out, opt, t, u, rng, now, make);
  return t;
}

/// Writes the shape of issue 10.4: realistic structured service logs. Every event carries a
/// nested context object with an array (`"ctx":{"host":…,"pid":…,"tags":[…]}`); an execution has
/// 3–12 beats whose handlers are drawn per execution from 96 (so there are about as many distinct
/// beat paths as executions); 4.5 % of beats fail with an escaped error string, which fails their
/// execution. 8 executions in flight, lines interleaved. Returns executions (`truth::executions`),
/// events and bytes.
inline truth write_nested(std::FILE* out, const options& opt) {
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> u(0, 1);
  truth t;
  std::vector<std::string> handlers;
  const char* verbs[] = {"load", "price", "reserve", "charge", "create", "notify", "resolve", "fetch", "validate", "publish",
                         "index", "audit"};
  const char* nouns[] = {"Cart", "Order", "Stock", "Card", "User", "Invoice", "Quote", "Shipment"};
  for (const char* v : verbs)
    for (const char* n : nouns) handlers.push_back(std::string(v) + n);
  const char* errors[] = {R"(card \"declined\" by issuer\nretry in 30s)", R"(timeout after 5000ms: upstream \"pricing\")",
                          R"(constraint \"stock >= 0\" violated at C:\\svc\\stock.cs)"};
  const char* tags[] = {"\"canary\"", "\"eu-west\"", "\"v2\"", "\"retry\"", "\"batch\"", "\"mobile\""};
  std::int64_t now = opt.start_ns;
  char buf[1024];
  const auto make = [&](std::uint64_t id) {
    detail::flight f{id, {}, 0};
    std::int64_t ts = now;
    const int host = static_cast<int>(u(rng) * 40);
    const int pid = 1000 + static_cast<int>(u(rng) * 9000);
    std::string ctx = "{\"host\":\"web-" + std::to_string(host) + "\",\"pid\":" + std::to_string(pid) + ",\"tags\":[";
    const int ntags = 1 + static_cast<int>(u(rng) * 3);
    for (int k = 0; k < ntags; ++k) ctx += std::string(k ? "," : "") + tags[static_cast<std::size_t>(u(rng) * 6) % 6];
    ctx += "]}";
    const auto line = [&](const char* event, int beat, const std::string& handler, const char* err, double ms) {
      const std::string when = detail::iso(ts);
      if (beat == 0)
        std::snprintf(buf, sizeof buf, "{\"ts\":\"%s\",\"event\":\"%s\",\"sequence\":\"checkout\",\"correlationId\":\"n%" PRIu64
                      "\",\"ctx\":%s%s%s%s}", when.c_str(), event, id, ctx.c_str(), err ? ",\"error\":\"" : "", err ? err : "", err ? "\"" : "");
      else if (ms < 0)
        std::snprintf(buf, sizeof buf, "{\"ts\":\"%s\",\"event\":\"%s\",\"sequence\":\"checkout\",\"beat\":%d,\"handler\":\"%s\","
                      "\"correlationId\":\"n%" PRIu64 "\",\"ctx\":%s}", when.c_str(), event, beat, handler.c_str(), id, ctx.c_str());
      else
        std::snprintf(buf, sizeof buf, "{\"ts\":\"%s\",\"event\":\"%s\",\"sequence\":\"checkout\",\"beat\":%d,\"handler\":\"%s\","
                      "\"durationMs\":%.3f,\"correlationId\":\"n%" PRIu64 "\",\"ctx\":%s%s%s%s}", when.c_str(), event, beat,
                      handler.c_str(), ms, id, ctx.c_str(), err ? ",\"error\":\"" : "", err ? err : "", err ? "\"" : "");
      f.lines.emplace_back(buf);
      ts += 500'000 + static_cast<std::int64_t>(u(rng) * 3'000'000);
    };
    line("sequence-started", 0, {}, nullptr, -1);
    const int beats = 3 + static_cast<int>(u(rng) * 10) % 10;
    const char* failure = nullptr;
    for (int b = 1; b <= beats && failure == nullptr; ++b) {
      const auto& h = handlers[static_cast<std::size_t>(u(rng) * static_cast<double>(handlers.size())) % handlers.size()];
      line("beat-started", b, h, nullptr, -1);
      const double ms = std::round(std::exp(std::log(4.0) + 0.8 * (u(rng) - 0.5) * 2) * 1000) / 1000;
      if (u(rng) < 0.045) failure = errors[static_cast<std::size_t>(u(rng) * 3) % 3];
      line(failure ? "beat-failed" : "beat-completed", b, h, failure, ms);
      ++t.executions;  // beat calls (handler executions)
    }
    line(failure ? "sequence-failed" : "sequence-completed", 0, {}, failure, -1);
    return f;
  };
  detail::write_interleaved(out, opt, t, u, rng, now, make);  // executions: counted per beat above
  return t;
}

}  // namespace selfheal_gen
