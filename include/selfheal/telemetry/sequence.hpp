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
#include <memory>
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

/// Beat 1's output: the validated request; beat 2 (stage crew: beat 1 is pure and reads no
/// clock) sets when the run started.
struct parse_run {
  parse_request request;
  time_point started_at{};
};

/// Beat 2's output. `lock` holds the store's write lock from reading the resume points to writing
/// the new ones (beat 6), so that concurrent runs count each line once (null without a store).
struct loaded_sources {
  parse_run run;
  std::vector<source_plan> sources;
  std::vector<skipped_source> skipped;
  std::shared_ptr<write_lock> lock;
};

/// Beat 3's output: thread-local partials and per-source bookkeeping.
struct extracted_telemetry {
  parse_run run;
  ingest_result ingest;
  std::vector<skipped_source> skipped;
  std::shared_ptr<write_lock> lock;
};

/// Beat 4's output: the partials with global ids.
struct normalized_telemetry {
  parse_run run;
  ingest_result ingest;
  std::vector<skipped_source> skipped;
  interner names;
  std::shared_ptr<write_lock> lock;
};

/// Beat 5's output.
struct aggregated_telemetry {
  parse_run run;
  telemetry_aggregate aggregate;
  std::shared_ptr<write_lock> lock;
};

/// Beat 6's output.
struct stored_telemetry {
  std::string record_id;
  aggregated_telemetry data;
};

// ---- telemetry.parse ---------------------------------------------------------------------------

/// Beat 1: Validate the request (paths given, options sane); new run id. Bad request → clear error, nothing written.
struct parse_telemetry_requested {
  result<parse_run> operator()(parse_request req) const {
    if (req.paths.empty()) return fail(errc::invalid_request, "no input: give at least one file, directory, glob or '-'");
    for (const auto& p : req.paths)
      if (p.empty()) return fail(errc::invalid_request, "an input path is empty");
    if (req.window < std::chrono::milliseconds(1))
      return fail(errc::invalid_request, "the aggregation window must be at least 1ms");
    if (req.threads > 1024) return fail(errc::invalid_request, "at most 1024 threads");
    if (req.execution_timeout < std::chrono::milliseconds(1))
      return fail(errc::invalid_request, "the execution timeout must be at least 1ms");
    if (req.chunk_size < 4096 || req.chunk_size > (std::size_t{1} << 30))
      return fail(errc::invalid_request, "chunk size must be between 4 KiB and 1 GiB");
    if (req.format == log_format::binary) return fail(errc::invalid_request, "'binary' is not a format to parse with");
    return parse_run{std::move(req), {}};
  }
};

/// Beat 2: Expand files, directories (recursive) and globs; skip unreadable files with a reason; open each as a padded, chunked stream (bounded memory). Remember size/mtime/offset per source so a later run ingests only what was appended.
struct load_log_files {
  result<loaded_sources> operator()(parse_run run, sh::context& ctx) const {
    run.started_at = ctx.now();
    auto found = expand_paths(run.request.paths);
    if (found.sources.empty()) {
      std::string why = "nothing to read";
      for (const auto& s : found.skipped) why += "; " + s.path + ": " + s.reason;
      return fail(errc::not_found, why);
    }
    std::shared_ptr<write_lock> lock;
    bool legacy = false;  // a store written before content fingerprints: resume by path
    if (ctx.store != nullptr) {
      if (auto m = migrate_telemetry(*ctx.store); !m) return tl::unexpected(m.error());
      auto l = write_lock::acquire(*ctx.store, run.request.lock_wait);
      if (!l) return tl::unexpected(l.error());
      lock = std::move(*l);
      auto any = has_source_states(*ctx.store);
      if (!any) return tl::unexpected(any.error());
      legacy = !*any;
    }
    std::vector<source_plan> plans;
    std::vector<std::pair<std::string, std::string>> seen;  // (fingerprint, path) of this run's sources
    std::vector<std::pair<std::int64_t, std::string>> claimed;  // state id → the path that resumes it
    for (auto& plan : found.sources) {
      std::optional<previous_source> prev;
      std::string prev_record;
      if (plan.path == "-")  // year-less timestamps on standard input: this year
        plan.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(ctx.now().time_since_epoch()).count();
      const std::string prefix = identify_content(plan);
      if (plan.fingerprint_len >= 64) {
        // the same content twice in one run (a file and its compressed copy): read once
        const auto same = std::find_if(seen.begin(), seen.end(), [&](const auto& x) { return x.first == plan.fingerprint; });
        if (same != seen.end()) {
          found.skipped.push_back({plan.path, "same content as " + same->second + " (a copy or a compressed copy): read once"});
          continue;
        }
        seen.emplace_back(plan.fingerprint, plan.path);
      }
      if (ctx.store != nullptr && plan.path != "-") {
        auto state = match_source_state(*ctx.store, prefix, plan.identity);
        if (!state) return tl::unexpected(state.error());
        if (*state) {
          const auto& st = **state;
          const auto other = std::find_if(claimed.begin(), claimed.end(), [&](const auto& c) { return c.first == st.id; });
          if (other != claimed.end()) {
            found.skipped.push_back({plan.path, "same content as " + other->second + " (a copy or a compressed copy): read once"});
            continue;
          }
          claimed.emplace_back(st.id, plan.path);
          plan.state_id = st.id;
          if (run.request.incremental) {
            prev = previous_source{st.identity, st.size, st.mtime_ns, st.end_offset, st.lines, {}, st.gzip, true, st.path};
            prev_record = st.record_id;
            plan.previous_path = st.path;
          }
        } else if (legacy && run.request.incremental) {
          auto last = last_source_state(*ctx.store, plan.path);
          if (!last) return tl::unexpected(last.error());
          if (*last) {
            const auto& l = **last;
            prev = previous_source{l.identity, l.size, l.mtime_ns, l.end_offset, l.lines, l.head_hash, plan.gzip, false, l.path};
            prev_record = l.record_id;
          }
        }
      }
      plan_resume(plan, prev);
      if (!prev && !legacy && ctx.store != nullptr && plan.path != "-" && run.request.incremental) {
        // new content under a name read before: a rotation (the old content is another source)
        auto last = last_source_state(*ctx.store, plan.path);
        if (!last) return tl::unexpected(last.error());
        if (*last) plan.note = "rotated";
      }
      // what the previous run left open at the end of this source, when this run goes on from there
      if (prev && (plan.note == "resumed" || plan.note == "unchanged" || plan.note == "moved")) {
        auto carried = load_carried(*ctx.store, prev_record, prev->identity);
        if (!carried) return tl::unexpected(carried.error());
        plan.carried = std::move(*carried);
      }
      plans.push_back(std::move(plan));
    }
    if (plans.empty()) {
      std::string why = "nothing to read";
      for (const auto& s : found.skipped) why += "; " + s.path + ": " + s.reason;
      return fail(errc::not_found, why);
    }
    return loaded_sources{std::move(run), std::move(plans), std::move(found.skipped), std::move(lock)};
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
    opt.traces.idle_timeout_ns = static_cast<std::int64_t>(req.execution_timeout.count());
    opt.progress = req.progress;
    auto result = ingest(std::move(in.sources), opt);
    bool any = false;
    for (const auto& s : result.sources) any = any || s.error.empty();
    if (!any) {
      std::string why = "nothing could be read";
      for (const auto& s : result.sources) why += "; " + s.plan.path + ": " + s.error;
      return fail(errc::io_error, why);
    }
    return extracted_telemetry{std::move(in.run), std::move(result), std::move(in.skipped), std::move(in.lock)};
  }
};

/// Beat 4: Timestamps → UTC nanoseconds (ISO-8601 with any offset, epoch s/ms/µs/ns); names trimmed and interned; event kinds mapped to one enum; started/completed pairs joined into executions with durations.
struct normalize_telemetry_data {
  normalized_telemetry operator()(extracted_telemetry in) const {
    std::vector<partial_aggregate*> parts;
    for (auto& p : in.ingest.partials) parts.push_back(p.get());
    auto names = global_names(parts);
    for (auto* p : parts) adopt_names(*p, names);
    return normalized_telemetry{std::move(in.run), std::move(in.ingest), std::move(in.skipped), std::move(names),
                                std::move(in.lock)};
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
    return aggregated_telemetry{std::move(in.run), std::move(agg), std::move(in.lock)};
  }
};

/// Beat 6: One transaction into the SQLite store: run, sources, windowed metrics, error samples. Returns the record id.
struct store_telemetry_database {
  result<stored_telemetry> operator()(aggregated_telemetry in, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: telemetry.parse needs a database in the context");
    const auto& a = in.aggregate;
    // Nothing new (every source unchanged since the run before): no record, so that later commands
    // never pick an empty one by default. The lock is dropped, which writes nothing.
    bool fresh = a.bytes > 0 || a.events > 0;
    for (const auto& s : a.sources) fresh = fresh || !s.error.empty() || s.bad_lines > 0;
    if (!fresh) {
      in.lock.reset();
      return stored_telemetry{{}, std::move(in)};
    }
    std::vector<std::string> heads;
    for (const auto& s : a.sources) heads.push_back(head_hash(s.plan.path, s.end_offset));
    if (in.lock == nullptr) {
      auto id = store_telemetry(*ctx.store, a, in.run.started_at, heads);
      if (!id) return tl::unexpected(id.error());
      return stored_telemetry{std::move(*id), std::move(in)};
    }
    auto id = write_telemetry(in.lock->db(), a, in.run.started_at, heads);
    if (!id) return tl::unexpected(id.error());
    if (auto c = in.lock->commit(); !c) return tl::unexpected(c.error());
    in.lock.reset();
    return stored_telemetry{std::move(*id), std::move(in)};
  }
};

/// Beat 7: Summary: files, bytes, events, bad lines, throughput, top handlers.
struct parse_telemetry_completed {
  parse_summary operator()(stored_telemetry in) const {
    parse_summary s;
    s.nothing_new = in.record_id.empty();
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
