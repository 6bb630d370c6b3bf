#pragma once
// Shared by the telemetry fuzz targets: a sink that runs every extracted event through
// normalization and aggregation (the whole per-event path of telemetry.parse), and checks that
// every line is accounted for at most once; executions traced by correlation id are joined and
// each counted once.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "selfheal/telemetry/aggregate.hpp"
#include "selfheal/telemetry/formats.hpp"
#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/normalize.hpp"
#include "selfheal/telemetry/traces.hpp"

namespace selfheal_fuzz {

struct sink {
  selfheal::telemetry::partial_aggregate agg;
  selfheal::telemetry::event_normalizer norm{agg.names};
  selfheal::telemetry::trace_table table;
  selfheal::telemetry::trace_builder traces{table.labels(), agg.names};
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
    traces.add(e, *n);
  }
  /// Joins the traced executions as the reducer does and checks that every one is counted once.
  void finish_traces() {
    selfheal::telemetry::trace_table::file_state file;
    table.apply(file, traces.finish());
    table.end_file(file);
    const auto t = table.summary();
    std::uint64_t counted = 0;
    for (const auto& p : t.paths) counted += p.executions;
    if (counted != t.executions || t.incomplete > t.executions) std::abort();
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

/// The body of every text-format target: feed `data` to `parser` line by line, as the ingest does
/// (line numbers from 1), then run format detection on the same bytes.
template <class Parser>
int fuzz_text_lines(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  std::string_view text = all;
  Parser parser;
  sink s;
  std::uint64_t line = 1;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    parser.line(text.substr(0, nl), line++, s);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  s.finish_traces();
  static_cast<void>(selfheal::telemetry::detect_format(all));
  return 0;
}

}  // namespace selfheal_fuzz
