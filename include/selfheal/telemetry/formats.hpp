#pragma once
/// \file
/// Format detection and the line parsers of the text formats (beat 3's concern): Musical-Conductor
/// console text, Serilog-style text and plain `key=value` text. NDJSON lives in `ndjson.hpp`.
///
/// A parser is fed one line at a time (without its newline) and reports to a *sink*: any object with
///   `void event(const raw_event_view&)` — an extracted event, views valid during the call only, and
///   `void bad(std::uint64_t line, std::string reason)` — a line that cannot be used, with why.
/// Blank lines are ignored. Nothing is copied except the small per-file context the Conductor
/// format needs (current sequence, beat → event, event → handler).

#include <algorithm>
#include <charconv>
#include <cstring>
#include <cstdint>
#include <unordered_map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/timestamp.hpp"

namespace selfheal::telemetry {

/// The DESIGN.md field aliases, shared by NDJSON and `key=value` text.
enum class field : std::uint8_t {
  none, ts, handler, duration, kind, level, error, sequence, beat, topic, correlation, release, status, message
};

namespace detail {
/// `k == lit`, as a fixed-size compare the compiler inlines (this runs for every key of every line).
template <std::size_t N>
[[nodiscard]] constexpr bool key_is(std::string_view k, const char (&lit)[N]) noexcept {
  if (std::is_constant_evaluated()) return k == std::string_view(lit, N - 1);
  return k.size() == N - 1 && __builtin_memcmp(k.data(), lit, N - 1) == 0;
}
}  // namespace detail

/// Which field an (exact, case-sensitive) key names; `field::none` for unknown keys.
[[nodiscard, gnu::always_inline]] constexpr inline field field_of(std::string_view k) noexcept {
  // Dispatch on length and first byte, then one comparison: this runs for every key of every line.
  switch (k.size()) {
    case 2: return detail::key_is(k, "ts") ? field::ts : field::none;
    case 3:
      if (detail::key_is(k, "err")) return field::error;
      if (detail::key_is(k, "lvl")) return field::level;
      if (detail::key_is(k, "msg")) return field::message;
      return field::none;
    case 4:
      switch (k[0]) {
        case 't': return detail::key_is(k, "time") ? field::ts : detail::key_is(k, "type") ? field::kind : field::none;
        case 's': return detail::key_is(k, "span") ? field::handler : field::none;
        case 'k': return detail::key_is(k, "kind") ? field::kind : field::none;
        case 'b': return detail::key_is(k, "beat") ? field::beat : field::none;
        default: return field::none;
      }
    case 5:
      switch (k[0]) {
        case 'e': return detail::key_is(k, "event") ? field::kind : detail::key_is(k, "error") ? field::error : field::none;
        case 'l': return detail::key_is(k, "level") ? field::level : field::none;
        case 't': return detail::key_is(k, "topic") ? field::topic : field::none;
        default: return field::none;
      }
    case 6:
      if (k[0] == 'c') return detail::key_is(k, "commit") ? field::release : field::none;
      if (k[0] == 's') return detail::key_is(k, "status") ? field::status : field::none;
      return field::none;
    case 7:
      switch (k[0]) {
        case 'h': return detail::key_is(k, "handler") ? field::handler : field::none;
        case 'v': return detail::key_is(k, "version") ? field::release : field::none;
        case 'r': return detail::key_is(k, "release") ? field::release : field::none;
        case 'm': return detail::key_is(k, "message") ? field::message : field::none;
        case 't': return detail::key_is(k, "traceId") ? field::correlation : field::none;
        default: return field::none;
      }
    case 8:
      switch (k[0]) {
        case 'd': return detail::key_is(k, "duration") ? field::duration : field::none;
        case 's': return detail::key_is(k, "severity") ? field::level : detail::key_is(k, "sequence") ? field::sequence : field::none;
        case 't': return detail::key_is(k, "trace_id") ? field::correlation : field::none;
        default: return field::none;
      }
    case 9:
      switch (k[0]) {
        case 't': return detail::key_is(k, "timestamp") ? field::ts : field::none;
        case 'o': return detail::key_is(k, "operation") ? field::handler : field::none;
        case 'e': return detail::key_is(k, "exception") ? field::error : field::none;
        default: return field::none;
      }
    case 10:
      switch (k[0]) {
        case '@': return detail::key_is(k, "@timestamp") ? field::ts : field::none;
        case 'd': return detail::key_is(k, "durationMs") ? field::duration : field::none;
        case 'e': return detail::key_is(k, "elapsed_ms") ? field::duration : field::none;
        case 'l': return detail::key_is(k, "latency_ms") ? field::duration : field::none;
        case 's': return detail::key_is(k, "sequenceId") ? field::sequence : field::none;
        default: return field::none;
      }
    case 11:
      switch (k[0]) {
        case 'h': return detail::key_is(k, "handlerName") ? field::handler : field::none;
        case 'd': return detail::key_is(k, "duration_ms") ? field::duration : field::none;
        case 's': return detail::key_is(k, "sequence_id") ? field::sequence : field::none;
        default: return field::none;
      }
    case 12: return detail::key_is(k, "handler_name") ? field::handler : field::none;
    case 13:
      if (k[0] == 'c') return detail::key_is(k, "correlationId") ? field::correlation : field::none;
      if (k[0] == 'e') return detail::key_is(k, "error.message") ? field::error : field::none;
      return field::none;
    case 14: return detail::key_is(k, "correlation_id") ? field::correlation : field::none;
    default: return field::none;
  }
}

namespace detail {

[[nodiscard]] constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

/// Parses a decimal number at the start of `s` (digits, optional fraction); advances `s`.
[[nodiscard]] inline bool read_number(std::string_view& s, double& out) noexcept {
  std::size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || (i == 0 && s[i] == '-'))) ++i;
  if (i == 0) return false;
  const auto r = std::from_chars(s.data(), s.data() + i, out);
  if (r.ec != std::errc() || r.ptr != s.data() + i) return false;
  s.remove_prefix(i);
  return true;
}

}  // namespace detail

/// `v` in `unit` ("", "ms", "s", "sec", "us", "µs", "ns", "m", "min") → milliseconds.
[[nodiscard]] inline bool unit_to_ms(double v, std::string_view unit, double& ms) noexcept {
  if (unit.empty() || unit == "ms") ms = v;
  else if (unit == "s" || unit == "sec") ms = v * 1e3;
  else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") ms = v / 1e3;
  else if (unit == "ns") ms = v / 1e6;
  else if (unit == "m" || unit == "min") ms = v * 60e3;
  else return false;
  return true;
}

/// "12", "12ms", "12.5 ms", "1.2s", "300us", "300µs", "5ns", "2m" → milliseconds. A bare number
/// is milliseconds. Returns false for anything else (including trailing garbage).
[[nodiscard]] inline bool parse_duration_ms(std::string_view s, double& ms) noexcept {
  while (!s.empty() && detail::is_space(s.front())) s.remove_prefix(1);
  double v = 0;
  if (!detail::read_number(s, v)) return false;
  while (!s.empty() && detail::is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && (detail::is_space(s.back()) || s.back() == ',' || s.back() == ')' || s.back() == '\r')) s.remove_suffix(1);
  return unit_to_ms(v, s, ms);
}

/// "12.5 ms …" / "12ms, …" at the start of `s` → milliseconds; the unit must be a known one.
[[nodiscard]] inline bool leading_duration_ms(std::string_view s, double& ms) noexcept {
  double v = 0;
  if (!detail::read_number(s, v)) return false;
  while (!s.empty() && detail::is_space(s.front())) s.remove_prefix(1);
  std::size_t n = 0;
  while (n < s.size() && s[n] != ' ' && s[n] != ',' && s[n] != ';' && s[n] != ')' && s[n] != '.') ++n;
  const auto unit = s.substr(0, n);
  return !unit.empty() && unit_to_ms(v, unit, ms);
}

/// Scans `key=value` / `key:value` tokens (values may be "double quoted") and fills the aliased
/// fields of `e`. Returns how many known fields were found.
inline int scan_key_values(std::string_view s, raw_event_view& e) {
  int found = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && detail::is_space(s[i])) ++i;
    const std::size_t key_begin = i;
    while (i < s.size() && !detail::is_space(s[i]) && s[i] != '=' && s[i] != ':') ++i;
    if (i >= s.size() || detail::is_space(s[i])) continue;  // a bare word
    const std::string_view key = s.substr(key_begin, i - key_begin);
    ++i;  // '=' or ':'
    std::string_view value;
    if (i < s.size() && s[i] == '"') {
      const std::size_t vb = ++i;
      while (i < s.size() && s[i] != '"') i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
      value = s.substr(vb, std::min(i, s.size()) - vb);
      if (i < s.size()) ++i;
    } else {
      const std::size_t vb = i;
      while (i < s.size() && !detail::is_space(s[i])) ++i;
      value = s.substr(vb, i - vb);
    }
    if (key.empty() || value.empty()) continue;
    switch (field_of(key)) {
      case field::none: continue;
      case field::ts: e.ts_text = value; break;
      case field::handler: e.handler = value; break;
      case field::duration: {
        double ms = 0;
        if (!parse_duration_ms(value, ms)) continue;
        e.duration_ms = ms;
        e.has_duration = true;
        break;
      }
      case field::kind: e.kind = value; break;
      case field::level: e.level = value; break;
      case field::error: e.error = value; e.has_error = true; break;
      case field::sequence: e.sequence = value; break;
      case field::beat: e.beat = value; break;
      case field::topic: e.topic = value; break;
      case field::correlation: e.correlation = value; break;
      case field::release: e.release = value; break;
      case field::status: e.status = value; break;
      case field::message: e.message = value; break;
    }
    ++found;
  }
  return found;
}

// ---- detection -------------------------------------------------------------------------------

namespace detail {

/// Skips an optional `File.ts:NN ` prefix (any `name.ext:digits ` token).
[[nodiscard]] inline std::string_view skip_source_prefix(std::string_view line) noexcept {
  const auto sp = line.find(' ');
  if (sp == std::string_view::npos || sp == 0) return line;
  const auto tok = line.substr(0, sp);
  const auto colon = tok.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= tok.size() || tok.find('.') == std::string_view::npos) return line;
  for (std::size_t k = colon + 1; k < tok.size(); ++k)
    if (tok[k] < '0' || tok[k] > '9') return line;
  return line.substr(sp + 1);
}

[[nodiscard]] inline bool has_conductor_marker(std::string_view line) noexcept {
  for (std::string_view m : {"PerformanceTracker", "SequenceExecutor", "BeatExecutor", "ExecutionQueue", "Conductor:",
                             "DataBaton", "[EVENTBUS]", "EventRouter", "Movement:", "\xF0\x9F\x8E\xBC" /* 🎼 */,
                             "\xF0\x9F\x8E\xBD" /* 🎽 */})
    if (line.find(m) != std::string_view::npos) return true;
  return false;
}

[[nodiscard]] inline bool starts_with_iso(std::string_view s) noexcept {
  std::size_t used = 0;
  return parse_iso8601_prefix(s, used).has_value();
}

}  // namespace detail

/// Bytes of a file's first block that `is_binary_block` judges.
inline constexpr std::size_t first_block_bytes = 4096;

/// Whether a file's first block (`first_block_bytes` of it, or all of a shorter file) is mostly not
/// text: at least 30 % of its bytes are NUL or C0 controls other than tab, newline, CR, FF, VT and
/// ESC. A text log with a damaged region further on (a NUL run, a zeroed block after a crash,
/// invalid UTF-8) is not binary: its bad lines are counted one by one (`scrub_nul_runs`).
[[nodiscard]] inline bool is_binary_block(std::string_view head) noexcept {
  head = head.substr(0, first_block_bytes);
  if (head.empty()) return false;
  std::size_t bad = 0;
  for (const char ch : head) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b) ++bad;
  }
  return bad * 10 >= head.size() * 3;
}

/// A line whose NUL bytes `scrub_nul_runs` blanked: its number (1-based in the scrubbed data), how
/// many NUL bytes, and whether other text stood before the last NUL (then that text was dropped).
struct scrubbed_line {
  std::uint64_t line = 0;
  std::uint64_t nul_bytes = 0;
  bool text_dropped = false;
  [[nodiscard]] std::string reason() const {
    if (!text_dropped)
      return "a zeroed region (" + std::to_string(nul_bytes) + " NUL bytes, e.g. after a crash) skipped";
    return "NUL bytes inside the line (" + std::to_string(nul_bytes) + "): the text up to the last one skipped";
  }
};

/// Blanks NUL bytes so that the lines around a damaged region are read: in each line holding NUL
/// bytes, everything up to and including its last NUL becomes spaces (what follows a zeroed block
/// is usually the first line written after a restart) and the line is listed in `out`. Cost
/// without NUL bytes: one `memchr` over the data.
inline void scrub_nul_runs(char* data, std::size_t size, std::vector<scrubbed_line>& out) {
  out.clear();
  const void* hit = std::memchr(data, '\0', size);
  if (hit == nullptr) return;
  std::uint64_t line = 1;
  std::size_t counted = 0;  // newlines before `counted` are in `line`
  std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
  while (pos < size) {
    line += static_cast<std::uint64_t>(std::count(data + counted, data + pos, '\n'));
    counted = pos;
    std::size_t start = pos;
    while (start > 0 && data[start - 1] != '\n') --start;
    const void* nl = std::memchr(data + pos, '\n', size - pos);
    const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) : size;
    std::size_t last = pos;
    std::uint64_t nuls = 0;
    bool text = false;
    for (std::size_t k = start; k < end; ++k) {
      if (data[k] == '\0') {
        ++nuls;
        last = k;
      }
    }
    for (std::size_t k = start; k <= last; ++k) {
      if (data[k] != '\0' && data[k] != ' ' && data[k] != '\t' && data[k] != '\r') text = true;
      data[k] = ' ';
    }
    out.push_back({line, nuls, text});
    if (end >= size) break;
    hit = std::memchr(data + end, '\0', size - end);
    if (hit == nullptr) break;
    pos = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
  }
}

/// Guesses a file's format from its head (the first bytes, any number of lines): votes of up to 20
/// non-blank lines; a first block that is mostly not text (`is_binary_block`) means binary, and
/// lines holding NUL bytes do not vote. Ties prefer ndjson, conductor, serilog, text.
[[nodiscard]] inline log_format detect_format(std::string_view head) noexcept {
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  if (is_binary_block(head)) return log_format::binary;
  int votes[4] = {0, 0, 0, 0};  // ndjson, conductor, serilog, text
  int lines = 0;
  while (!head.empty() && lines < 20) {
    auto nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    while (!line.empty() && (detail::is_space(line.front()) || line.front() == '\r')) line.remove_prefix(1);
    if (line.empty() || line == "\r" || line.find('\0') != std::string_view::npos) continue;
    ++lines;
    const auto after = detail::skip_source_prefix(line);
    if (line.front() == '{') ++votes[0];
    else if (after.size() != line.size() || detail::has_conductor_marker(line)) ++votes[1];
    else if (line.front() == '[' && detail::starts_with_iso(line.substr(1))) ++votes[2];
    else ++votes[3];
  }
  if (lines == 0) return log_format::ndjson;
  int best = 0;
  for (int k = 1; k < 4; ++k)
    if (votes[k] > votes[best]) best = k;
  constexpr log_format order[] = {log_format::ndjson, log_format::conductor, log_format::serilog, log_format::text};
  return order[best];
}

// ---- Musical-Conductor console text ----------------------------------------------------------

/// Musical-Conductor console lines: `[File.ts:NN ]ISO-time emoji… Component: message`.
///
/// Recognised: `PerformanceTracker: ✅ Beat N: X ms` and `BeatExecutor: Beat N (event) completed
/// in X ms` (beat executions; `… failed …` is a failed one), `PerformanceTracker: Started timing beat
/// N for SEQ` (beat start), `Sequence Complete: SEQ (X ms)` and `Sequence "SEQ" completed in X ms`
/// (sequence executions; `failed` ones fail), DataBaton lines `seq=… beat=… event=… handler=…`
/// (context: which event a beat is and which handler serves an event), `Executing: SEQ`, and error
/// lines (❌, `Error:`). A beat timing's handler is the DataBaton handler of its event when known,
/// else the event name, else "SEQ beat N". Lines without the time prefix are bad lines.
class conductor_parser {
 public:
  template <class Sink>
  void line(std::string_view text, std::uint64_t line_no, Sink& sink) {
    while (!text.empty() && (text.back() == '\r' || detail::is_space(text.back()))) text.remove_suffix(1);
    if (text.empty()) return;
    auto rest = detail::skip_source_prefix(text);
    std::size_t used = 0;
    if (!parse_iso8601_prefix(rest, used)) {
      sink.bad(line_no, "not a Musical-Conductor console line (no ISO timestamp after the optional File.ts:NN prefix)");
      return;
    }
    raw_event_view e;
    e.line = line_no;
    e.ts_text = rest.substr(0, used);
    rest.remove_prefix(used);

    // The component is the first ASCII word after the emoji: one dispatch instead of many scans.
    std::size_t p = 0;
    while (p < rest.size() && !is_word_start(rest[p])) ++p;
    std::size_t q = p;
    while (q < rest.size() && rest[q] != ':' && rest[q] != ' ' && rest[q] != ']') ++q;
    const std::string_view component = rest.substr(p, q - p);
    const std::string_view msg = q < rest.size() ? rest.substr(q + 1) : std::string_view{};

    if (component == "PerformanceTracker") {
      if (auto b = msg.find("Beat "); b != std::string_view::npos) {
        // "✅ Beat 1: 15.20ms"
        auto tail = msg.substr(b + 5);
        const auto colon = tail.find(':');
        double ms = 0;
        if (colon != std::string_view::npos && parse_duration_ms(tail.substr(colon + 1), ms)) {
          beat_execution(e, tail.substr(0, colon), {}, ms, msg.find("\xE2\x9D\x8C") != std::string_view::npos, sink);
          return;
        }
      }
      if (auto st = msg.find("Started timing beat "); st != std::string_view::npos) {
        auto tail = msg.substr(st + 20);
        const auto sp = tail.find(" for ");
        if (sp != std::string_view::npos) {
          beat_buf_.assign(tail.substr(0, sp));
          current_.assign(tail.substr(sp + 5));
          e.known_kind = event_kind::beat_started;
          e.has_known_kind = true;
          e.sequence = current_;
          e.beat = beat_buf_;
          e.handler = handler_for(current_, beat_buf_);
          sink.event(e);
          return;
        }
      }
    } else if (component == "BeatExecutor") {
      // "Beat 1 (app:ui:theme:get) completed in 82ms" / "... failed ..."
      if (auto b = msg.find("Beat "); b != std::string_view::npos) {
        auto tail = msg.substr(b + 5);
        const auto sp = tail.find(' ');
        std::string_view beat = tail.substr(0, sp);
        std::string_view event;
        if (sp != std::string_view::npos && sp + 1 < tail.size() && tail[sp + 1] == '(') {
          const auto close = tail.find(')', sp);
          if (close != std::string_view::npos) event = tail.substr(sp + 2, close - sp - 2);
        }
        const bool failed = tail.find("failed") != std::string_view::npos;
        double ms = -1;
        if (auto in = tail.find(" in "); in != std::string_view::npos) {
          if (!leading_duration_ms(tail.substr(in + 4), ms)) ms = -1;
        }
        if (ms >= 0 || failed) {
          beat_execution(e, beat, event, ms, failed, sink, failed ? msg : std::string_view{});
          return;
        }
      }
    } else if (component == "SequenceExecutor") {
      if (auto c = msg.find("Sequence Complete: "); c != std::string_view::npos) {
        auto tail = msg.substr(c + 19);
        const auto open = tail.rfind(" (");
        double ms = 0;
        if (open != std::string_view::npos && parse_duration_ms(tail.substr(open + 2), ms)) {
          sequence_execution(e, tail.substr(0, open), ms, false, sink);
          return;
        }
      }
      if (auto c = msg.find("Sequence \""); c != std::string_view::npos) {
        auto tail = msg.substr(c + 10);
        const auto close = tail.find('"');
        if (close != std::string_view::npos) {
          const auto name = tail.substr(0, close);
          const auto after = tail.substr(close + 1);
          const bool failed = after.find("failed") != std::string_view::npos;
          double ms = -1;
          if (auto in = after.find(" in "); in != std::string_view::npos) {
            if (!leading_duration_ms(after.substr(in + 4), ms)) ms = -1;
          }
          if (ms >= 0 || failed || after.find("completed") != std::string_view::npos) {
            sequence_execution(e, name, ms, failed, sink, failed ? rest : std::string_view{});
            return;
          }
        }
      }
    } else if (component == "ExecutionQueue") {
      if (auto x = msg.find("Executing: "); x != std::string_view::npos) current_.assign(msg.substr(x + 11));
    } else if (component == "Data" || component == "DataBaton") {
      if (auto x = msg.find("seq="); x != std::string_view::npos) baton(msg.substr(x));
    }
    // Any other line is an event; error lines carry their message.
    if (rest.find("\xE2\x9D\x8C") != std::string_view::npos || rest.find("Error:") != std::string_view::npos ||
        rest.find(" ERROR ") != std::string_view::npos) {
      e.has_error = true;
      e.error = rest;
    }
    if (!current_.empty()) e.sequence = current_;
    sink.event(e);
  }

 private:
  static constexpr bool is_word_start(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  }

  /// `a␟b` in a reused buffer (no allocation per lookup).
  const std::string& key(std::string_view a, std::string_view b) {
    key_.assign(a);
    key_ += '\x1f';
    key_ += b;
    return key_;
  }

  static void store(std::unordered_map<std::string, std::string>& m, const std::string& k, std::string_view v) {
    auto it = m.find(k);
    if (it == m.end()) m.emplace(k, std::string(v));
    else if (it->second != v) it->second.assign(v);
  }

  /// `seq=NAME beat=N event=EV handler=H …` (values run to the next ` key=`).
  void baton(std::string_view s) {
    auto value_of = [&](std::string_view k) -> std::string_view {
      const auto p = s.find(k);
      if (p == std::string_view::npos) return {};
      auto v = s.substr(p + k.size());
      std::size_t end = v.find(' ');
      // Values may hold spaces (sequence names): run to the next " key=".
      for (std::size_t sp = end; sp != std::string_view::npos; sp = v.find(' ', sp + 1)) {
        const auto word = v.substr(sp + 1, v.find(' ', sp + 1) - sp - 1);
        if (word.find('=') != std::string_view::npos) {
          end = sp;
          break;
        }
        end = std::string_view::npos;
      }
      v = v.substr(0, end);
      while (!v.empty() && detail::is_space(v.back())) v.remove_suffix(1);
      return v;
    };
    const auto seq = value_of("seq=");
    const auto beat = value_of(" beat=");
    const auto ev = value_of(" event=");
    const auto handler = value_of(" handler=");
    if (!seq.empty() && seq != current_) current_.assign(seq);
    if (!beat.empty() && beat != "?" && !ev.empty()) store(beat_event_, key(current_, beat), ev);
    if (!ev.empty() && !handler.empty() && handler != "?") store(event_handler_, key(current_, ev), handler);
  }

  std::string_view handler_for(const std::string& seq, std::string_view beat, std::string_view event = {}) {
    if (event.empty()) {
      if (auto it = beat_event_.find(key(seq, beat)); it != beat_event_.end()) event = it->second;
    }
    if (!event.empty()) {
      if (auto it = event_handler_.find(key(seq, event)); it != event_handler_.end()) return it->second;
      handler_buf_.assign(event);
      return handler_buf_;
    }
    handler_buf_ = seq.empty() ? "beat " + std::string(beat) : seq + " beat " + std::string(beat);
    return handler_buf_;
  }

  template <class Sink>
  void beat_execution(raw_event_view& e, std::string_view beat, std::string_view event, double ms, bool failed,
                      Sink& sink, std::string_view error = {}) {
    while (!beat.empty() && detail::is_space(beat.back())) beat.remove_suffix(1);
    beat_buf_.assign(beat);
    e.known_kind = failed ? event_kind::beat_failed : event_kind::beat_completed;
    e.has_known_kind = true;
    e.sequence = current_;
    e.beat = beat_buf_;
    e.handler = handler_for(current_, beat_buf_, event);
    if (ms >= 0) {
      e.duration_ms = ms;
      e.has_duration = true;
    }
    if (failed) {
      e.has_error = true;
      e.error = error.empty() ? std::string_view("beat failed") : error;
    }
    sink.event(e);
  }

  template <class Sink>
  void sequence_execution(raw_event_view& e, std::string_view name, double ms, bool failed, Sink& sink,
                          std::string_view error = {}) {
    seq_buf_.assign(name);
    e.known_kind = failed ? event_kind::sequence_failed : event_kind::sequence_completed;
    e.has_known_kind = true;
    e.sequence = seq_buf_;
    if (ms >= 0) {
      e.duration_ms = ms;
      e.has_duration = true;
    }
    if (failed) {
      e.has_error = true;
      e.error = error;
    }
    sink.event(e);
  }

  std::string current_;      // the sequence being played
  std::string beat_buf_, seq_buf_, handler_buf_, key_;
  std::unordered_map<std::string, std::string> beat_event_;     // seq␟beat → event
  std::unordered_map<std::string, std::string> event_handler_;  // seq␟event → handler
};

// ---- Serilog-style text ----------------------------------------------------------------------

/// `[2025-11-09 14:30:45.123 -05:00] [INF] Source.Context: message key=value …`. The handler is a
/// `handler=` field, else the source context; the duration a duration field or "in X ms" in the
/// message. Lines not in this shape are bad lines.
class serilog_parser {
 public:
  template <class Sink>
  void line(std::string_view text, std::uint64_t line_no, Sink& sink) const {
    while (!text.empty() && (text.back() == '\r' || detail::is_space(text.back()))) text.remove_suffix(1);
    if (text.empty()) return;
    if (text.front() != '[') {
      sink.bad(line_no, "not a Serilog line (expected '[timestamp] [LVL] …')");
      return;
    }
    const auto close = text.find(']');
    std::size_t used = 0;
    if (close == std::string_view::npos || !parse_iso8601_prefix(text.substr(1, close - 1), used) || used != close - 1) {
      sink.bad(line_no, "unparsable Serilog timestamp");
      return;
    }
    raw_event_view e;
    e.line = line_no;
    e.ts_text = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    while (!rest.empty() && detail::is_space(rest.front())) rest.remove_prefix(1);
    if (rest.size() > 2 && rest.front() == '[') {
      const auto lc = rest.find(']');
      if (lc != std::string_view::npos) {
        e.level = rest.substr(1, lc - 1);
        rest.remove_prefix(lc + 1);
        while (!rest.empty() && detail::is_space(rest.front())) rest.remove_prefix(1);
      }
    }
    // "Source.Context: message"
    const auto sp = rest.find(' ');
    const auto first = rest.substr(0, sp);
    std::string_view context;
    if (first.size() > 1 && first.back() == ':' && first.find('=') == std::string_view::npos) {
      context = first.substr(0, first.size() - 1);
      rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp + 1);
    }
    e.message = rest;
    scan_key_values(rest, e);
    if (e.handler.empty()) e.handler = context;
    if (!e.has_duration) {
      // "… in 12.34 ms" / "… in 12ms"
      for (auto in = rest.find(" in "); in != std::string_view::npos; in = rest.find(" in ", in + 1)) {
        double ms = 0;
        if (leading_duration_ms(rest.substr(in + 4), ms)) {
          e.duration_ms = ms;
          e.has_duration = true;
          break;
        }
      }
    }
    if (!e.level.empty() && !e.has_error && (e.level == "ERR" || e.level == "FTL" || e.level == "Error" || e.level == "Fatal")) {
      e.error = rest;
      e.has_error = true;
    }
    sink.event(e);
  }
};

// ---- key=value text --------------------------------------------------------------------------

/// `2025-01-01T00:00:00Z INFO handler:parse duration=12ms message`, logfmt (`ts=… level=…`) and
/// the raw logs of common software: a leading timestamp in any shape `parse_log_timestamp_prefix`
/// knows (HDFS, Hadoop, Spark, syslog/OpenSSH/Linux, Apache, Zookeeper, Android, Proxifier …),
/// then a header of pid numbers, a level word (bare or `[bracketed]`), a `[thread]`, a host and
/// the logger/component (`dfs.DataNode$PacketResponder:`, `sshd[24200]:`, `[…:Class@123]`, or a
/// leading code word such as `mod_jk`): a line without a `handler` field takes that component as
/// its handler, so counts, error rates (from the level) and error templates work on plain
/// application logs. A line with neither a leading timestamp nor a known field is a bad line.
class text_parser {
 public:
  /// `ref_ns`: the file's modification time, which gives year-less timestamps their year.
  explicit text_parser(std::int64_t ref_ns = 0) noexcept : ref_ns_(ref_ns) {}

  template <class Sink>
  void line(std::string_view text, std::uint64_t line_no, Sink& sink) const {
    while (!text.empty() && (text.back() == '\r' || detail::is_space(text.back()))) text.remove_suffix(1);
    while (!text.empty() && detail::is_space(text.front())) text.remove_prefix(1);
    if (text.empty()) return;
    raw_event_view e;
    e.line = line_no;
    std::size_t used = 0;
    auto rest = text;
    bool leading_time = false;
    if (parse_iso8601_prefix(text, used)) {
      e.ts_text = text.substr(0, used);
      leading_time = true;
    } else if (auto t = parse_log_timestamp_prefix(text, ref_ns_, used)) {
      e.ts_integer = *t;
      e.ts_number = static_cast<double>(*t);
      e.ts_is_integer = true;
      e.has_ts_number = true;
      leading_time = true;
    }
    std::string_view component;
    if (leading_time) {
      rest = text.substr(used);
      header(rest, e, component);
    }
    const int found = scan_key_values(rest, e);
    if (!leading_time && found == 0) {
      sink.bad(line_no, "no timestamp selfheal knows at the start and no known key=value field");
      return;
    }
    if (e.message.empty()) e.message = rest;
    if (e.handler.empty() && !component.empty()) {
      e.handler = component;
      e.component_handler = true;
    }
    sink.event(e);
  }

 private:
  [[nodiscard]] static bool is_level(std::string_view w) noexcept {
    for (std::string_view lv : {"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL",
                                "CRIT", "SEVERE", "ALERT", "EMERG", "INF", "WRN", "ERR", "DBG", "FTL", "VRB", "V",
                                "D", "I", "W", "E", "F"}) {
      if (w.size() != lv.size()) continue;
      bool same = true;
      for (std::size_t k = 0; k < w.size() && same; ++k) {
        const char c = (w[k] >= 'a' && w[k] <= 'z') ? static_cast<char>(w[k] - 32) : w[k];
        same = c == lv[k];
      }
      if (same && (w.size() > 1 || (w[0] >= 'A' && w[0] <= 'Z'))) return true;  // one-letter levels: capitals
    }
    return false;
  }
  [[nodiscard]] static bool is_code_word(std::string_view w) noexcept {
    if (w.empty() || !((w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z'))) return false;
    bool marked = false;
    for (const char c : w) {
      if (c == '=' || c == '"' || c == '[' || c == ']' || c == '/' || c == ':') return false;
      marked = marked || c == '.' || c == '_' || c == '(' || c == '$';
    }
    return marked;
  }

  /// Reads the header after the timestamp (see the class comment); `rest` becomes the message.
  static void header(std::string_view& rest, raw_event_view& e, std::string_view& component) {
    auto skip_spaces = [](std::string_view& v) {
      while (!v.empty() && detail::is_space(v.front())) v.remove_prefix(1);
    };
    auto token = [](std::string_view v) { return v.substr(0, std::min(v.find(' '), v.find('\t'))); };
    skip_spaces(rest);
    for (int n = 0; n < 8 && !rest.empty(); ++n) {
      const std::string_view tok = token(rest);
      auto next = rest.substr(tok.size());
      skip_spaces(next);
      if (tok.find('=') != std::string_view::npos) return;  // key=value fields: the message
      bool digits = !tok.empty();
      for (const char c : tok) digits = digits && c >= '0' && c <= '9';
      if (tok == "-" || tok == "," || tok == "|" || digits) {  // separators, pid and thread ids
        rest = next;
        continue;
      }
      if (tok.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return;
        const auto inner = rest.substr(1, close - 1);
        if (inner.find(' ') != std::string_view::npos) return;  // "[client 1.2.3.4] …": the message
        const auto at = inner.rfind('@');
        bool line_number = at != std::string_view::npos && at + 1 < inner.size();
        for (std::size_t k = at + 1; line_number && k < inner.size(); ++k) line_number = inner[k] >= '0' && inner[k] <= '9';
        if (e.level.empty() && is_level(inner)) {
          e.level = inner;
        } else if (line_number && component.empty()) {  // "[…:FastLeaderElection@774]": Class@line
          const auto from = inner.find_last_of(":/", at);
          component = inner.substr(from == std::string_view::npos ? 0 : from + 1, at - (from == std::string_view::npos ? 0 : from + 1));
        }  // else a thread name ("[main]", "[LeaseRenewer:user@host:9000]")
        rest = rest.substr(close + 1);
        skip_spaces(rest);
        continue;
      }
      if (e.level.empty() && is_level(tok.back() == ',' ? tok.substr(0, tok.size() - 1) : tok)) {
        e.level = tok.back() == ',' ? tok.substr(0, tok.size() - 1) : tok;
        rest = next;
        // Windows CBS/CSI style: "Info  CBS  message": a capitalised code right after the level
        const auto code = token(next);
        bool caps = code.size() >= 2 && code.size() <= 8;
        for (const char c : code) caps = caps && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
        if (caps && component.empty() && next.size() > code.size() + 1 && next[code.size() + 1] == ' ') {
          component = code;
          rest = next.substr(code.size());
          skip_spaces(rest);
          return;
        }
        continue;
      }
      if (tok.size() > 1 && tok.back() == ':') {  // the logger: "org.x.Y:", "sshd[24200]:"
        if (component.empty()) {
          auto c = tok.substr(0, tok.size() - 1);
          if (c.back() == ']')
            if (const auto open = c.rfind('['); open != std::string_view::npos && open > 0) c = c.substr(0, open);
          component = c;
        }
        rest = next;
        return;
      }
      const auto after = token(next);
      if (after.size() > 1 && after.back() == ':' && component.empty() && n < 4 && tok.find(':') == std::string_view::npos) {
        rest = next;  // a host name before the program ("LabSZ sshd[24200]:")
        continue;
      }
      if (component.empty() && is_code_word(tok)) {  // "mod_jk child …", "chrome.exe - …": kept in the message
        component = tok.size() > 2 && tok.substr(tok.size() - 2) == "()" ? tok.substr(0, tok.size() - 2) : tok;
      }
      return;
    }
  }

  std::int64_t ref_ns_ = 0;
};

}  // namespace selfheal::telemetry
