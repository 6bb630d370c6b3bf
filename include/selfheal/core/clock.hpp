#pragma once
/// \file
/// Time is injected. Every handler asks `ctx.now()`; production uses `system_clock_source`, tests a
/// `manual_clock` that they advance by hand, so runs and their beat events are deterministic.

#include <chrono>
#include <cstdint>
#include <string>

namespace selfheal {

using time_point = std::chrono::system_clock::time_point;

/// A source of the current time. Models: `system_clock_source`, `manual_clock`, or yours.
class clock_source {
 public:
  virtual ~clock_source() = default;
  [[nodiscard]] virtual time_point now() const = 0;
};

/// The real wall clock.
class system_clock_source final : public clock_source {
 public:
  [[nodiscard]] time_point now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that moves only when told to; each `now()` optionally advances by `tick`.
class manual_clock final : public clock_source {
 public:
  explicit manual_clock(time_point start, std::chrono::nanoseconds tick = {}) : now_(start), tick_(tick) {}
  [[nodiscard]] time_point now() const override {
    const time_point t = now_;
    now_ += std::chrono::duration_cast<time_point::duration>(tick_);
    return t;
  }
  void advance(std::chrono::nanoseconds d) { now_ += std::chrono::duration_cast<time_point::duration>(d); }
  void set(time_point t) { now_ = t; }

 private:
  mutable time_point now_;
  std::chrono::nanoseconds tick_;
};

/// The process-wide real clock, used when a context is given no clock.
[[nodiscard]] inline const clock_source& default_clock() noexcept {
  static const system_clock_source clock;
  return clock;
}

/// How much of the second `append_iso8601` writes.
enum class iso_precision { seconds, milliseconds };

/// Appends UTC time `ns` (nanoseconds since the epoch) as ISO-8601: "2025-11-15T16:38:23.985Z", or
/// "2025-11-15T16:38:23Z" with `iso_precision::seconds`; times before the epoch round down. The one
/// ISO-8601 formatter of selfheal (beat events, anomaly onsets, commit times, record listings).
/// Howard Hinnant's days-to-civil algorithm: no locale, no libc time calls.
inline void append_iso8601(std::string& out, std::int64_t ns, iso_precision precision = iso_precision::milliseconds) {
  std::int64_t ms_total = ns / 1'000'000;
  if (ns < 0 && ns % 1'000'000 != 0) --ms_total;
  std::int64_t days = ms_total / 86'400'000;
  std::int64_t ms_of_day = ms_total % 86'400'000;
  if (ms_of_day < 0) { ms_of_day += 86'400'000; days -= 1; }
  const std::int64_t z = days + 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const std::int64_t doe = z - era * 146'097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[24];
  auto put = [&buf](std::size_t at, std::int64_t v, std::size_t width) {
    for (std::size_t i = width; i-- > 0; v /= 10) buf[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, y, 4);
  buf[4] = '-';
  put(5, m, 2);
  buf[7] = '-';
  put(8, d, 2);
  buf[10] = 'T';
  put(11, ms_of_day / 3'600'000, 2);
  buf[13] = ':';
  put(14, ms_of_day / 60'000 % 60, 2);
  buf[16] = ':';
  put(17, ms_of_day / 1000 % 60, 2);
  if (precision == iso_precision::seconds) {
    buf[19] = 'Z';
    out.append(buf, 20);
    return;
  }
  buf[19] = '.';
  put(20, ms_of_day % 1000, 3);
  buf[23] = 'Z';
  out.append(buf, sizeof buf);
}

[[nodiscard]] inline std::string format_iso8601(std::int64_t ns, iso_precision precision = iso_precision::milliseconds) {
  std::string out;
  append_iso8601(out, ns, precision);
  return out;
}

/// Appends "2025-11-15T16:38:23.985Z": ISO-8601 UTC with milliseconds, as beat events carry it.
inline void append_iso8601_ms(std::string& out, time_point t) {
  append_iso8601(out, std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

[[nodiscard]] inline std::string format_iso8601_ms(time_point t) {
  std::string out;
  append_iso8601_ms(out, t);
  return out;
}

}  // namespace selfheal
