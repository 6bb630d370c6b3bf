#pragma once
/// \file
/// The telemetry sequence(s), declared beat by beat so that they read like their JSON files.
///
/// telemetry.parse streams: no beat holds every event. How the seven beats split the work:
///  1. `parse_telemetry_requested` validates the request, stamps the start time (ctx clock).
///  2. `load_log_files` expands paths (files, directories, globs, "-"), records identity/size/mtime
///     and, from the store, where the previous run stopped in each source (resume, rotation,
///     truncation) and what it left open there (started beats, executions), so that a resumed
///     source joins them as if read in one run. Files are not read yet.
///  3. `extract_telemetry_events` runs the streaming ingest (`ingest.hpp`): per file format
///     detection, then chunk by chunk on all cores extraction (simdjson `iterate_many` for NDJSON),
///     per-event normalization and aggregation into thread-local partials. Its output is those
///     partials plus per-source counts, bad-line samples and resume offsets: bounded by the number
///     of (window × handler) cells, not by the input size.
///  4. `normalize_telemetry_data` finishes normalization across threads: one global interner
///     (names sorted, so ids are stable) and every partial's ids rewritten to it.
///  5. `aggregate_telemetry_metrics` merges the partials (exactly; identical for any thread count)
///     into windowed metrics, per-handler/per-sequence totals, releases and error samples.
///  6. `store_telemetry_database` writes one transaction and returns the record id.
///  7. `parse_telemetry_completed` builds the summary (`summary.hpp`, the CLI's JSON).

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "selfheal/core/beat.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/aggregate.hpp"
#include "selfheal/telemetry/ingest.hpp"
#include "selfheal/telemetry/metrics.hpp"
#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/source.hpp"
#include "selfheal/telemetry/store.hpp"
#include "selfheal/telemetry/summary.hpp"

namespace selfheal::telemetry {

namespace sh = ::selfheal;

/// Beat 1's output: the validated request and when the run started.
struct parse_run {
  parse_request request;
  time_point started_at{};
};

/// Beat 2's output.
struct loaded_sources {
  parse_run run;
  std::vector<source_plan> sources;
  std::vector<skipped_source> skipped;
};

/// Beat 3's output: thread-local partials and per-source bookkeeping.
struct extracted_telemetry {
  parse_run run;
  ingest_result ingest;
  std::vector<skipped_source> skipped;
};

/// Beat 4's output: the partials with global ids.
struct normalized_telemetry {
  parse_run run;
  ingest_result ingest;
  std::vector<skipped_source> skipped;
  interner names;
};

/// Beat 5's output.
struct aggregated_telemetry {
  parse_run run;
  telemetry_aggregate aggregate;
};

/// Beat 6's output.
struct stored_telemetry {
  std::string record_id;
  aggregated_telemetry data;
};

// ---- telemetry.parse ---------------------------------------------------------------------------

/// Beat 1: Validate the request (paths given, options sane); new run id. Bad request → clear error, nothing written.
struct parse_telemetry_requested {
  result<parse_run> operator()(parse_request req, sh::context& ctx) const {
    if (req.paths.empty()) return fail(errc::invalid_request, "no input: give at least one file, directory, glob or '-'");
    for (const auto& p : req.paths)
      if (p.empty()) return fail(errc::invalid_request, "an input path is empty");
    if (req.window < std::chrono::milliseconds(1))
      return fail(errc::invalid_request, "--window must be at least 1ms");
    if (req.threads > 1024) return fail(errc::invalid_request, "--threads must be at most 1024");
    if (req.chunk_size < 4096 || req.chunk_size > (std::size_t{1} << 30))
      return fail(errc::invalid_request, "chunk size must be between 4 KiB and 1 GiB");
    if (req.format == log_format::binary) return fail(errc::invalid_request, "'binary' is not a format to parse with");
    return parse_run{std::move(req), ctx.now()};
  }
};

/// Beat 2: Expand files, directories (recursive) and globs; skip unreadable files with a reason; open each as a padded, chunked stream (bounded memory). Remember size/mtime/offset per source so a later run ingests only what was appended.
struct load_log_files {
  result<loaded_sources> operator()(parse_run run, sh::context& ctx) const {
    auto found = expand_paths(run.request.paths);
    if (found.sources.empty()) {
      std::string why = "nothing to read";
      for (const auto& s : found.skipped) why += "; " + s.path + ": " + s.reason;
      return fail(errc::not_found, why);
    }
    for (auto& plan : found.sources) {
      std::optional<previous_source> prev;
      std::string prev_record;
      if (ctx.store != nullptr && run.request.incremental && plan.path != "-") {
        auto last = last_source_state(*ctx.store, plan.path);
        if (!last) return tl::unexpected(last.error());
        if (*last) {
          const auto& l = **last;
          prev = previous_source{l.identity, l.size, l.mtime_ns, l.end_offset, l.lines, l.head_hash};
          prev_record = l.record_id;
        }
      }
      plan_resume(plan, prev);
      // what the previous run left open at the end of this source, when this run goes on from there
      if (prev && (plan.note == "resumed" || plan.note == "unchanged")) {
        auto carried = load_carried(*ctx.store, prev_record, plan.identity);
        if (!carried) return tl::unexpected(carried.error());
        plan.carried = std::move(*carried);
      }
    }
    return loaded_sources{std::move(run), std::move(found.sources), std::move(found.skipped)};
  }
};

/// Beat 3: Detect each file's format (NDJSON, Musical-Conductor console text, Serilog-style text, `key=value` text) and extract events zero-copy (simdjson `iterate_many` for NDJSON). Malformed lines are counted with file, line and reason, and skipped; good lines still count.
struct extract_telemetry_events {
  result<extracted_telemetry> operator()(loaded_sources in, sh::context& ctx) const {
    if (ctx.cancelled()) return fail(errc::cancelled, "cancelled before reading");
    const auto& req = in.run.request;
    ingest_options opt;
    opt.format = req.format;
    opt.threads = req.threads;
    opt.window_ns = static_cast<std::int64_t>(req.window.count());
    opt.chunk_size = req.chunk_size;
    opt.max_bad_line_samples = req.max_bad_line_samples;
    opt.traces.enabled = req.trace_executions;
    opt.progress = req.progress;
    auto result = ingest(std::move(in.sources), opt);
    bool any = false;
    for (const auto& s : result.sources) any = any || s.error.empty();
    if (!any) {
      std::string why = "nothing could be read";
      for (const auto& s : result.sources) why += "; " + s.plan.path + ": " + s.error;
      return fail(errc::io_error, why);
    }
    return extracted_telemetry{std::move(in.run), std::move(result), std::move(in.skipped)};
  }
};

/// Beat 4: Timestamps → UTC nanoseconds (ISO-8601 with any offset, epoch s/ms/µs/ns); names trimmed and interned; event kinds mapped to one enum; started/completed pairs joined into executions with durations.
struct normalize_telemetry_data {
  normalized_telemetry operator()(extracted_telemetry in) const {
    std::vector<partial_aggregate*> parts;
    for (auto& p : in.ingest.partials) parts.push_back(p.get());
    auto names = global_names(parts);
    for (auto* p : parts) adopt_names(*p, names);
    return normalized_telemetry{std::move(in.run), std::move(in.ingest), std::move(in.skipped), std::move(names)};
  }
};

/// Beat 5: Per handler and per sequence, per time window: count, errors, min/max/mean and a mergeable relative-error quantile sketch (p50/p95/p99). Error messages kept as samples for template mining.
struct aggregate_telemetry_metrics {
  aggregated_telemetry operator()(normalized_telemetry in) const {
    auto agg = finish_aggregate(in.ingest);
    agg.skipped = std::move(in.skipped);
    for (const auto& s : agg.skipped) {
      agg.bad_lines += 1;
      if (agg.bad_line_samples.size() < in.run.request.max_bad_line_samples)
        agg.bad_line_samples.push_back({s.path, 0, s.reason});
    }
    return aggregated_telemetry{std::move(in.run), std::move(agg)};
  }
};

/// Beat 6: One transaction into the SQLite store: run, sources, windowed metrics, error samples. Returns the record id.
struct store_telemetry_database {
  result<stored_telemetry> operator()(aggregated_telemetry in, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: telemetry.parse needs a database in the context");
    std::vector<std::string> heads;
    for (const auto& s : in.aggregate.sources) heads.push_back(head_hash(s.plan.path, s.end_offset));
    auto id = store_telemetry(*ctx.store, in.aggregate, in.run.started_at, heads);
    if (!id) return tl::unexpected(id.error());
    return stored_telemetry{std::move(*id), std::move(in)};
  }
};

/// Beat 7: Summary: files, bytes, events, bad lines, throughput, top handlers.
struct parse_telemetry_completed {
  parse_summary operator()(stored_telemetry in) const {
    parse_summary s;
    s.record_id = std::move(in.record_id);
    s.aggregate = std::move(in.data.aggregate);
    if (s.aggregate.elapsed_ns > 0)
      s.bytes_per_second = static_cast<double>(s.aggregate.bytes) * 1e9 / static_cast<double>(s.aggregate.elapsed_ns);
    return s;
  }
};

/// `self-healing-telemetry-parse-symphony` — reads like `sequences/telemetry.parse.json`.
inline constexpr auto parse_telemetry = sh::sequence<"self-healing-telemetry-parse-symphony">(
    // movement: Ingest
    sh::beat<"self-healing:telemetry:parse:requested", "parseTelemetryRequested", sh::immediate, sh::pure>(parse_telemetry_requested{}),
    sh::beat<"self-healing:telemetry:load:logs", "loadLogFiles", sh::async, sh::stage_crew>(load_log_files{}),
    sh::beat<"self-healing:telemetry:extract:events", "extractTelemetryEvents", sh::async, sh::stage_crew>(extract_telemetry_events{}),
    // movement: Normalize and aggregate
    sh::beat<"self-healing:telemetry:normalize:data", "normalizeTelemetryData", sh::immediate, sh::pure>(normalize_telemetry_data{}),
    sh::beat<"self-healing:telemetry:aggregate:metrics", "aggregateTelemetryMetrics", sh::immediate, sh::pure>(aggregate_telemetry_metrics{}),
    // movement: Persist and report
    sh::beat<"self-healing:telemetry:store:database", "storeTelemetryDatabase", sh::async, sh::stage_crew>(store_telemetry_database{}),
    sh::beat<"self-healing:telemetry:parse:completed", "parseTelemetryCompleted", sh::immediate, sh::pure>(parse_telemetry_completed{}));

}  // namespace selfheal::telemetry
