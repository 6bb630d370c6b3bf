#pragma once
/// \file
/// Beat events: what `run` tells the world while it runs. One NDJSON object per line with `ts`
/// (ISO-8601 UTC, ms), `event`, `sequence`, `beat`, `topic`, `handler`, `durationMs`,
/// `correlationId`, `error` — exactly what telemetry.parse reads, so selfheal can watch itself.

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/json_writer.hpp"

namespace selfheal {

enum class event_type : unsigned char {
  sequence_started,
  beat_started,
  beat_completed,
  beat_failed,
  sequence_completed,
  sequence_failed,
};

[[nodiscard]] constexpr std::string_view to_string(event_type t) noexcept {
  switch (t) {
    case event_type::sequence_started: return "sequence-started";
    case event_type::beat_started: return "beat-started";
    case event_type::beat_completed: return "beat-completed";
    case event_type::beat_failed: return "beat-failed";
    case event_type::sequence_completed: return "sequence-completed";
    case event_type::sequence_failed: return "sequence-failed";
  }
  return "unknown";
}

/// One beat event. Borrows its strings from the sequence and the run: copy what you keep.
struct beat_event_view {
  event_type type{};
  time_point ts{};
  std::string_view sequence;
  std::size_t beat = 0;              ///< 1-based; 0 on sequence-level events
  std::string_view topic;            ///< the beat's event name, e.g. "self-healing:telemetry:load:logs"
  std::string_view handler;          ///< e.g. "loadLogFiles"
  double duration_ms = std::nan(""); ///< on *-completed / *-failed
  std::string_view correlation_id;
  std::string_view error;            ///< on *-failed
};

/// The NDJSON line for an event (without the newline). Fields absent for an event are left out.
inline void append_ndjson(std::string& out, const beat_event_view& e) {
  // Written by hand (a fixed, flat shape): this runs twice per beat when a sink is attached.
  out += R"({"ts":")";
  append_iso8601_ms(out, e.ts);
  out += R"(","event":")";
  out += to_string(e.type);
  out += R"(","sequence":)";
  append_json_string(out, e.sequence);
  if (e.beat != 0) {
    out += R"(,"beat":)";
    out += std::to_string(e.beat);
    out += R"(,"topic":)";
    append_json_string(out, e.topic);
    out += R"(,"handler":)";
    append_json_string(out, e.handler);
  }
  if (!std::isnan(e.duration_ms)) {
    out += R"(,"durationMs":)";
    append_json_number(out, e.duration_ms);
  }
  out += R"(,"correlationId":)";
  append_json_string(out, e.correlation_id);
  if (e.type == event_type::beat_failed || e.type == event_type::sequence_failed) {
    out += R"(,"error":)";
    append_json_string(out, e.error);
  }
  out += '}';
}

/// Receives beat events. Models: `ndjson_sink`, `collecting_sink`, or yours.
/// A context without a sink (nullptr) emits nothing and reads no clock: the zero-cost path.
class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual void emit(const beat_event_view& e) = 0;
};

/// Writes one NDJSON line per event to a `FILE*` (standard error, a log file). Thread-safe.
class ndjson_sink final : public event_sink {
 public:
  explicit ndjson_sink(std::FILE* out) : out_(out) {}
  void emit(const beat_event_view& e) override {
    std::lock_guard lock(mutex_);
    line_.clear();
    append_ndjson(line_, e);
    line_ += '\n';
    std::fwrite(line_.data(), 1, line_.size(), out_);
  }

 private:
  std::FILE* out_;
  std::mutex mutex_;
  std::string line_;
};

/// Keeps every event as an NDJSON line; for tests and hosts that forward events themselves.
class collecting_sink final : public event_sink {
 public:
  void emit(const beat_event_view& e) override {
    std::lock_guard lock(mutex_);
    std::string line;
    append_ndjson(line, e);
    lines_.push_back(std::move(line));
  }
  [[nodiscard]] const std::vector<std::string>& lines() const noexcept { return lines_; }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace selfheal
