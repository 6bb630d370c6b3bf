#pragma once
/// \file
/// The run context: what stage-crew handlers do their I/O through, and what `run` reports to.
/// It holds an injectable clock, a beat-event sink, the store, a correlation id and a stop token.
/// Pure handlers never touch it.

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/events.hpp"

namespace selfheal {

namespace store {
class database;  // defined in selfheal/store/database.hpp; core never includes SQLite
}

struct context {
  /// The store every `store*` / `load*` beat uses; may be null for pure runs.
  store::database* store = nullptr;
  /// Where beat events go; null means none (and no clock reads for timing).
  event_sink* sink = nullptr;
  /// The time source; defaults to the system clock.
  const clock_source* clock = &default_clock();
  /// Ties the events of one run together; `run` fills it in when empty.
  std::string correlation_id{};
  /// Cancellation: `run` checks it before every beat; long handlers may poll it.
  std::stop_token stop{};

  [[nodiscard]] time_point now() const { return clock->now(); }
  [[nodiscard]] bool cancelled() const noexcept { return stop.stop_requested(); }

  /// "sh-<epoch ms>-<n>": deterministic under an injected clock.
  [[nodiscard]] std::string make_correlation_id() {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
    return "sh-" + std::to_string(ms) + "-" + std::to_string(++generated_ids);
  }

  /// How many correlation ids this context has made (an aggregate, so `context{.sink = &s}` works).
  std::uint64_t generated_ids = 0;
};

}  // namespace selfheal
