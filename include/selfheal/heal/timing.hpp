#pragma once
/// \file
/// selfheal's own share of a heal, and the heal's test hook.
///
/// **Own share.** Every sequence `heal` runs (parse, baseline, detect, diagnose, fix, validate,
/// deploy, learn) emits its beat events through `heal_sink`, which forwards them to the user's sink
/// (`--events FILE`) and keeps them as NDJSON. After each sequence, heal adds one event of its own:
/// `beat-completed` of sequence `self-healing-heal-symphony`, handler `externalWait`, whose
/// `durationMs` is the wall time that sequence spent waiting on the outside world (child processes:
/// builds, tests, deploy commands, traffic; and deploy settle waits — `external_wait_ns()` in
/// core/process.hpp). `own_share` parses these NDJSON lines with the telemetry layer's own NDJSON
/// parser: the heal's sequence time is the sum of `sequence-completed`/`sequence-failed`
/// durations, the outside world's the sum of `externalWait` durations, selfheal's own the difference.
/// A second selfheal reading the `--events` file gets the same figures.
///
/// **Test hook** (for the kill tests; no effect unless set): `SELFHEAL_TEST_KILL_AFTER=<point>` makes
/// the process raise SIGKILL on itself right after `<point>` was recorded. Points: `baseline`,
/// `anomaly` (a new anomaly's row saved), the step names `diagnosis`, `fix`, `validation`,
/// `deployment`, `learning` (that step's record id saved in the heal run), or `<sequence>:<beat>`
/// (e.g. `self-healing-deployment-deploy-symphony:9`: right after that beat completed, so inside a
/// step, between two of its beats).

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "selfheal/core/context.hpp"
#include "selfheal/core/events.hpp"
#include "selfheal/core/process.hpp"
#include "selfheal/telemetry/ndjson.hpp"
#include "selfheal/telemetry/normalize.hpp"

namespace selfheal::heal {

inline constexpr std::string_view heal_sequence_id = "self-healing-heal-symphony";
inline constexpr std::string_view external_wait_handler = "externalWait";

/// The test hook's point, read once ("" when unset).
inline const std::string& test_kill_point() {
  static const std::string point = [] {
    const char* v = std::getenv("SELFHEAL_TEST_KILL_AFTER");
    return std::string(v ? v : "");
  }();
  return point;
}

/// Raises SIGKILL when `point` is the test hook's point.
inline void kill_point(std::string_view point) {
  if (!test_kill_point().empty() && point == test_kill_point()) std::raise(SIGKILL);
}

/// selfheal's own share of the heal time, from the heal's NDJSON beat events.
struct own_share {
  double sequences_s = 0;  ///< wall time inside the sequences heal ran
  double external_s = 0;   ///< of which: child processes and settle waits
  double selfheal_s = 0;   ///< sequences_s - external_s
  std::size_t sequences = 0;
};

/// Parses `ndjson` (beat events, one per line) with the telemetry NDJSON parser and sums them.
[[nodiscard]] inline own_share share_of(std::string_view ndjson) {
  struct summing_sink {
    own_share s;
    void event(const telemetry::raw_event_view& e) {
      const auto kind = e.has_known_kind ? e.known_kind : telemetry::map_event_kind(e.kind);
      if (!e.has_duration) return;
      if ((kind == telemetry::event_kind::sequence_completed || kind == telemetry::event_kind::sequence_failed) &&
          e.sequence != heal_sequence_id) {
        s.sequences_s += e.duration_ms / 1e3;
        ++s.sequences;
      } else if (kind == telemetry::event_kind::beat_completed && e.sequence == heal_sequence_id &&
                 e.handler == external_wait_handler) {
        s.external_s += e.duration_ms / 1e3;
      }
    }
    void bad(std::uint64_t, std::string) {}
  } sink;
  std::string buffer(ndjson);
  const std::size_t size = buffer.size();
  buffer.resize(size + telemetry::chunk_padding, '\0');
  telemetry::ndjson_parser parser;
  parser.parse(telemetry::padded_view::of(buffer, size), 1, sink);
  sink.s.selfheal_s = std::max(0.0, sink.s.sequences_s - sink.s.external_s);
  return sink.s;
}

/// Forwards beat events to `inner` (may be null), keeps them as NDJSON, and applies the
/// `<sequence>:<beat>` test hook.
class heal_sink final : public event_sink {
 public:
  explicit heal_sink(event_sink* inner) : inner_(inner) {
    const auto& p = test_kill_point();
    if (const auto colon = p.rfind(':'); colon != std::string::npos) {
      kill_sequence_ = p.substr(0, colon);
      kill_beat_ = std::strtoul(p.c_str() + colon + 1, nullptr, 10);
    }
  }
  void emit(const beat_event_view& e) override {
    if (inner_) inner_->emit(e);
    {
      std::lock_guard lock(mutex_);
      append_ndjson(lines_, e);
      lines_ += '\n';
    }
    if (kill_beat_ != 0 && e.type == event_type::beat_completed && e.beat == kill_beat_ && e.sequence == kill_sequence_)
      std::raise(SIGKILL);
  }
  [[nodiscard]] std::string ndjson() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  event_sink* inner_;
  mutable std::mutex mutex_;
  std::string lines_;
  std::string kill_sequence_;
  std::size_t kill_beat_ = 0;
};

/// Emits the `externalWait` event for the wait that began at `since_ns` (an `external_wait_ns()`
/// reading).
inline void emit_external_wait(context& ctx, std::int64_t since_ns) {
  if (!ctx.sink) return;
  const double ms = static_cast<double>(external_wait_ns().load() - since_ns) / 1e6;
  ctx.sink->emit(beat_event_view{event_type::beat_completed, ctx.now(), heal_sequence_id, 1,
                                 "self-healing:heal:wait:external", external_wait_handler, ms, ctx.correlation_id, {}});
}

}  // namespace selfheal::heal
