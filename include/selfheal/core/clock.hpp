#pragma once
/// \file
/// Time is injected. Every handler asks `ctx.now()`; production uses `system_clock_source`, tests a
/// `manual_clock` that they advance by hand, so runs and their beat events are deterministic.

#include <chrono>
#include <cstdint>
#include <ctime>
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

/// "2025-11-15T16:38:23.985Z": ISO-8601 UTC with milliseconds, as beat events carry it.
[[nodiscard]] inline std::string format_iso8601_ms(time_point t) {
  using namespace std::chrono;
  const auto ms_total = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = ms_total / 1000;
  auto ms = ms_total % 1000;
  if (ms < 0) { ms += 1000; secs -= 1; }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + (ms / 10) % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
  return out;
}

}  // namespace selfheal
