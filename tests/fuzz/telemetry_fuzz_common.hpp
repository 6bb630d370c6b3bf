#pragma once
// Shared by the telemetry fuzz targets: a sink that runs every extracted event through
// normalization and aggregation (the whole per-event path of telemetry.parse), and checks that
// every line is accounted for at most once.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "selfheal/telemetry/aggregate.hpp"
#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/normalize.hpp"

namespace selfheal_fuzz {

struct sink {
  selfheal::telemetry::partial_aggregate agg;
  selfheal::telemetry::event_normalizer norm{agg.names};
  std::uint64_t events = 0;
  std::uint64_t bad_lines = 0;
  std::uint64_t last_line = 0;
  std::string reason;
  void event(const selfheal::telemetry::raw_event_view& e) {
    saw(e.line);
    bool deferred = false;
    reason.clear();
    auto n = norm.normalize(e, reason, deferred);
    if (!n) {
      ++bad_lines;
      return;
    }
    ++events;
    agg.add_event(*n);
    if (!deferred) agg.add_executions(*n);
  }
  void bad(std::uint64_t line, const std::string& why) {
    saw(line);
    if (why.empty()) std::abort();  // every bad line says why
    ++bad_lines;
  }
  void saw(std::uint64_t line) {
    if (line < last_line) std::abort();  // lines are reported in order, each once
    last_line = line + 1;
  }
};

}  // namespace selfheal_fuzz
