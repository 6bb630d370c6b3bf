#pragma once
/// \file
/// The telemetry sequence(s), declared beat by beat so that they read like their JSON files.
/// Handlers still `pending_handler` fail with `errc::not_implemented` naming themselves.

#include "selfheal/core/beat.hpp"
#include "selfheal/core/sequence.hpp"

namespace selfheal::telemetry {

namespace sh = ::selfheal;
using ::selfheal::pending_handler;

// ---- telemetry.parse ---------------------------------------------------------------------------

/// Beat 1: Validate the request (paths given, options sane); new run id. Bad request → clear error, nothing written.
struct parse_telemetry_requested : pending_handler<"parseTelemetryRequested"> {};
/// Beat 2: Expand files, directories (recursive) and globs; skip unreadable files with a reason; open each as a padded, chunked stream (bounded memory). Remember size/mtime/offset per source so a later run ingests only what was appended.
struct load_log_files : pending_handler<"loadLogFiles"> {};
/// Beat 3: Detect each file's format (NDJSON, Musical-Conductor console text, Serilog-style text, `key=value` text) and extract events zero-copy (simdjson `iterate_many` for NDJSON). Malformed lines are counted with file, line and reason, and skipped; good lines still count.
struct extract_telemetry_events : pending_handler<"extractTelemetryEvents"> {};
/// Beat 4: Timestamps → UTC nanoseconds (ISO-8601 with any offset, epoch s/ms/µs/ns); names trimmed and interned; event kinds mapped to one enum; started/completed pairs joined into executions with durations.
struct normalize_telemetry_data : pending_handler<"normalizeTelemetryData"> {};
/// Beat 5: Per handler and per sequence, per time window: count, errors, min/max/mean and a mergeable relative-error quantile sketch (p50/p95/p99). Error messages kept as samples for template mining.
struct aggregate_telemetry_metrics : pending_handler<"aggregateTelemetryMetrics"> {};
/// Beat 6: One transaction into the SQLite store: run, sources, windowed metrics, error samples. Returns the record id.
struct store_telemetry_database : pending_handler<"storeTelemetryDatabase"> {};
/// Beat 7: Summary: files, bytes, events, bad lines, throughput, top handlers.
struct parse_telemetry_completed : pending_handler<"parseTelemetryCompleted"> {};

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
