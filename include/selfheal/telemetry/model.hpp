#pragma once
/// \file
/// Plain data of telemetry.parse: the request, log formats, event kinds, the borrowed view of one
/// extracted event, bad-line records and per-source bookkeeping. No parsing, no I/O here.
///
/// Lifetimes: `raw_event_view` borrows the chunk (or the simdjson string buffer) it was extracted
/// from and is valid only inside the sink callback that receives it; everything else owns its data.

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace selfheal::telemetry {

/// How a file's lines are read. `auto_detect` looks at the first lines of each file.
enum class log_format : std::uint8_t {
  auto_detect,  ///< decide per file from its first lines
  ndjson,       ///< one JSON object a line, DESIGN.md field aliases
  conductor,    ///< Musical-Conductor console text
  serilog,      ///< `[2025-11-09 14:30:45.123 -05:00] [INF] Source.Context: message`
  text,         ///< `2025-01-01T00:00:00Z INFO handler:parse duration=12ms message`
  binary,       ///< detected only: NUL bytes in the head; the file is skipped with a reason
};

[[nodiscard]] constexpr std::string_view to_string(log_format f) noexcept {
  switch (f) {
    case log_format::auto_detect: return "auto";
    case log_format::ndjson: return "ndjson";
    case log_format::conductor: return "conductor";
    case log_format::serilog: return "serilog";
    case log_format::text: return "text";
    case log_format::binary: return "binary";
  }
  return "unknown";
}

/// `"auto"|"ndjson"|"conductor"|"serilog"|"text"` → format; anything else → nullopt.
[[nodiscard]] constexpr std::optional<log_format> parse_log_format(std::string_view s) noexcept {
  if (s == "auto") return log_format::auto_detect;
  if (s == "ndjson" || s == "jsonl" || s == "json") return log_format::ndjson;
  if (s == "conductor") return log_format::conductor;
  if (s == "serilog") return log_format::serilog;
  if (s == "text" || s == "kv") return log_format::text;
  return std::nullopt;
}

/// Every event kind of every format, mapped onto one enum by `normalize.hpp`.
enum class event_kind : std::uint8_t {
  other,               ///< a log line that is none of the below
  sequence_started,
  sequence_completed,
  sequence_failed,
  beat_started,
  beat_completed,
  beat_failed,
};

[[nodiscard]] constexpr std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::other: return "other";
    case event_kind::sequence_started: return "sequence-started";
    case event_kind::sequence_completed: return "sequence-completed";
    case event_kind::sequence_failed: return "sequence-failed";
    case event_kind::beat_started: return "beat-started";
    case event_kind::beat_completed: return "beat-completed";
    case event_kind::beat_failed: return "beat-failed";
  }
  return "other";
}

/// "No timestamp" marker for nanosecond time values (events without a parsable time field).
inline constexpr std::int64_t no_time = std::numeric_limits<std::int64_t>::min();

/// One event as a format parser extracted it: views, nothing copied. Text fields are empty when
/// absent. Valid only during the sink callback.
struct raw_event_view {
  std::string_view ts_text;        ///< ISO-8601 text, when the time was a string
  double ts_number = 0;            ///< epoch number (s/ms/µs/ns by magnitude) when `has_ts_number`
  std::int64_t ts_integer = 0;     ///< exact integral epoch when `ts_is_integer`
  bool has_ts_number = false;
  bool ts_is_integer = false;
  std::string_view handler;
  std::string_view sequence;
  std::string_view beat;
  std::string_view topic;          ///< the beat's event name (`topic`)
  std::string_view kind;           ///< `event|type|kind` text, mapped to `event_kind` later
  event_kind known_kind = event_kind::other;  ///< set directly by text parsers that know the kind
  bool has_known_kind = false;
  std::string_view level;
  std::string_view status;
  std::string_view error;          ///< error message (or "true" for a boolean error flag)
  bool has_error = false;
  std::string_view correlation;
  std::string_view release;
  std::string_view message;        ///< `message|msg` text (used for error samples)
  double duration_ms = 0;
  bool has_duration = false;
  bool component_handler = false;  ///< `handler` is a raw log's logger/component: a call even untimed
  std::uint64_t line = 0;          ///< 1-based line number within its source (as known to the parser)
};

/// Bytes readable after every chunk handed to a parser (simdjson's SIMDJSON_PADDING is 64).
inline constexpr std::size_t chunk_padding = 64;
/// The read chunk (one task of the ingest) unless a request says otherwise: 256 KiB, so that a
/// chunk, the task's tables and the parser's state stay in a core's L2 cache together (1 MiB was
/// 5-6 % slower on the nested, flat and Conductor shapes, one thread; 128 KiB no faster).
inline constexpr std::size_t default_chunk_size = std::size_t{256} << 10;

/// A borrowed byte range followed by at least `chunk_padding` readable bytes: the only kind of
/// buffer the NDJSON parser accepts, so an unpadded `string_view` can never reach simdjson.
class padded_view {
 public:
  /// `capacity` counts the readable bytes from `data` on; it must be >= size + chunk_padding.
  constexpr padded_view(const char* data, std::size_t size, std::size_t capacity) noexcept
      : data_(data), size_(size), capacity_(capacity) {}
  /// The view of a buffer that holds `size` bytes of data followed by its padding.
  [[nodiscard]] static padded_view of(const std::string& padded_buffer, std::size_t size) noexcept {
    return {padded_buffer.data(), size, padded_buffer.size()};
  }
  [[nodiscard]] constexpr bool padded() const noexcept { return capacity_ >= size_ + chunk_padding; }
  [[nodiscard]] constexpr const char* data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] constexpr std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data_, size_}; }

 private:
  const char* data_;
  std::size_t size_;
  std::size_t capacity_;
};

/// A line that could not be used: where and why.
struct bad_line {
  std::string path;
  std::uint64_t line = 0;  ///< 1-based; 0 for a file-level problem (unreadable, binary)
  std::string reason;
  friend bool operator==(const bad_line&, const bad_line&) = default;
};

/// What telemetry.parse is asked to do.
struct parse_request {
  std::vector<std::string> paths;                  ///< files, directories, globs, or "-" (stdin)
  log_format format = log_format::auto_detect;     ///< `--format`
  unsigned threads = 0;                            ///< 0 → all hardware threads
  std::chrono::nanoseconds window = std::chrono::seconds(60);  ///< aggregation window
  std::size_t chunk_size = default_chunk_size;     ///< read chunk (bytes); lines longer grow it once
  bool incremental = true;                         ///< resume each source at its stored offset
  std::size_t max_bad_line_samples = 20;           ///< bad lines kept with file:line:reason
  bool trace_executions = true;                    ///< rebuild executions by correlation id (`traces.hpp`)
  /// An execution without `sequence-started` ends after this long without a beat (`--execution-timeout`).
  std::chrono::nanoseconds execution_timeout = std::chrono::minutes(5);
  /// How long to wait for another writer of the store (a concurrent parse) before failing.
  std::chrono::milliseconds lock_wait = std::chrono::minutes(10);
  /// Bytes read so far, about once a second while reading (thread-safe, quick); empty: none.
  std::function<void(std::uint64_t)> progress;
};

/// One beat of an execution path, as logged: any of the three may be empty.
struct path_step {
  std::string beat;     ///< beat number or name as logged ("3")
  std::string topic;    ///< the beat's event name (`topic`), e.g. "app:cart:checkout"
  std::string handler;
  friend auto operator<=>(const path_step&, const path_step&) = default;
};

/// An execution still open when its source's data ended, kept for the run that resumes the source.
struct carried_execution {
  std::uint64_t key = 0;                   ///< hash of its correlation id
  std::string sequence;                    ///< "" when not known yet
  std::int64_t first_ns = no_time;
  std::vector<std::pair<path_step, std::int64_t>> steps;  ///< beats so far with their times
  friend bool operator==(const carried_execution&, const carried_execution&) = default;
};

/// What one run hands the next about a source it will resume: started/completed pairs and
/// executions still open at the end of the data, so neither is cut at the run boundary.
struct carried_state {
  std::vector<std::pair<std::uint64_t, std::int64_t>> open_starts;  ///< joining key → start time
  std::vector<carried_execution> executions;
  [[nodiscard]] bool empty() const noexcept { return open_starts.empty() && executions.empty(); }
  friend bool operator==(const carried_state&, const carried_state&) = default;
};

/// One input source as beat 2 found it: identity and where to start reading.
struct source_plan {
  std::string path;              ///< as given/expanded; "-" for stdin
  std::string identity;          ///< "dev:inode" (or "stdin")
  std::uint64_t size = 0;        ///< bytes at stat time (compressed size for .gz)
  std::int64_t mtime_ns = 0;
  std::uint64_t start_offset = 0;  ///< first byte to read (uncompressed offset)
  std::uint64_t start_line = 1;    ///< number of the line at `start_offset`
  bool gzip = false;
  bool utf16 = false;            ///< starts with a UTF-16 byte-order mark (read as UTF-8; offsets are UTF-8 bytes)
  std::string note;              ///< "resumed", "moved", "rotated", "truncated", "unchanged" or empty
  carried_state carried;         ///< what the previous run left open in this source (when resumed)
  std::string fingerprint;       ///< hash of the first `fingerprint_len` bytes of content ("" : none)
  std::uint64_t fingerprint_len = 0;
  std::int64_t state_id = 0;     ///< its row in `telemetry_source_states` (0: a new source)
  std::string previous_path;     ///< where it was read last time, when resumed
  /// Data held in memory (a message of `selfheal ingest`), read instead of `path` when its
  /// `data()` is not null; must outlive the ingest. Read to its last byte (like standard input),
  /// and what is left open at its end is closed, never carried to a later run.
  std::string_view memory{};
};

/// A path that could not be used as a source, with the reason (unreadable, loop, not found …).
struct skipped_source {
  std::string path;
  std::string reason;
};

/// What was read from one source by one run.
struct source_result {
  source_plan plan;
  log_format format = log_format::auto_detect;
  std::uint64_t bytes = 0;        ///< bytes read this run
  std::uint64_t end_offset = 0;   ///< offset consumed up to (resume point of the next run)
  std::uint64_t lines = 0;        ///< lines up to `end_offset`, from the start of the source
  std::uint64_t events = 0;
  std::uint64_t bad_lines = 0;
  std::string error;              ///< non-empty when the source failed part-way
  carried_state carried;          ///< open at the end of this run's data, for the next run
  std::uint64_t held_back_bytes = 0;  ///< an unterminated last line left for a later run (not read)
  std::string hint;               ///< why a source that had lines gave no event (with its first line)
};

}  // namespace selfheal::telemetry
