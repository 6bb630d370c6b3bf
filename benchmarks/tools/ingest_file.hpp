#pragma once
// What the throughput tools time: one file through selfheal's ingest and the merge of its partials
// (what `selfheal parse` does before the store), shared by telemetry_bench, telemetry-ratio and
// ab-ingest. In namespace selfheal, so that ab-ingest's renamed builds (-Dselfheal=…) each get
// their own.
#include <string>
#include <utility>

#include "selfheal/telemetry/ingest.hpp"

namespace selfheal::bench {

/// The merged aggregate of `path` ingested on `threads` workers, with execution paths or without.
[[nodiscard]] inline telemetry::telemetry_aggregate ingest_file(const std::string& path, unsigned threads, bool traces) {
  auto found = telemetry::expand_paths({path});
  telemetry::ingest_options opt;
  opt.threads = threads;
  opt.traces.enabled = traces;
  return telemetry::finish_aggregate(telemetry::ingest(std::move(found.sources), opt));
}

}  // namespace selfheal::bench
