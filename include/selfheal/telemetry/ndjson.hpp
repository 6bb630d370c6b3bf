#pragma once
/// \file
/// NDJSON extraction with simdjson On-Demand `iterate_many` (beat 3's concern for JSON lines).
///
/// The fast path streams a whole padded chunk through `iterate_many`. Every document is checked
/// against the line it should be: it must start at the first non-blank byte of the next line and
/// end on that line (`source()`), with nothing but blanks after it. Anything else — an unclosed
/// string that flips simdjson's quote parity, unbalanced brackets, two documents on a line, invalid
/// UTF-8 (stage 1 rejects the whole batch), a document larger than the batch — sends that line (or,
/// after a batch-level error, the next batch worth of lines) through a one-document `iterate` that
/// gives a precise reason, and the stream restarts at the next line. So a malformed line costs only
/// that line and is reported with its line number and simdjson's reason.
///
/// Strings are read with `get_string` (unescaped into the parser's buffer, valid for the current
/// document only); numbers are read in place. The sink sees each event before the next document.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <simdjson.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "selfheal/telemetry/formats.hpp"
#include "selfheal/telemetry/model.hpp"

namespace selfheal::telemetry {

static_assert(chunk_padding >= simdjson::SIMDJSON_PADDING, "chunk padding must cover simdjson's");

class ndjson_parser {
 public:
  /// `batch_size`: bytes of stage 1 per `iterate_many` batch (documents larger than this take the
  /// one-line path).
  explicit ndjson_parser(std::size_t batch_size = std::size_t{256} << 10) : batch_size_(batch_size) {
    // No stage-1 helper thread: the ingest already runs one parser per core, and a threaded
    // `iterate_many` starts a thread and allocates a second parser for every stream (every chunk).
#ifdef SIMDJSON_THREADS_ENABLED
    stream_parser_.threaded = false;
#endif
  }

  /// Parses every line of `chunk` (which holds whole lines; a last line without newline is parsed
  /// too). `first_line` is the number of the chunk's first line. Returns the number of lines seen
  /// (newlines, plus one for an unterminated last line).
  template <class Sink>
  std::uint64_t parse(padded_view chunk, std::uint64_t first_line, Sink& sink) {
    if (!chunk.padded()) {
      sink.bad(first_line, "internal: chunk without simdjson padding");
      return 0;
    }
    begin_ = chunk.data();
    end_ = chunk.data() + chunk.size();
    limit_ = chunk.data() + chunk.capacity();
    cursor_ = begin_;
    line_ = first_line;
    if (fast_path_ && simdjson::validate_utf8(chunk.data(), chunk.size())) {
      // Line by line: a flat object is scanned directly; any other line goes alone through the
      // On-Demand stream path, which accepts it or reports the precise reason.
      while (cursor_ < end_) {
        skip_blank();
        if (cursor_ >= end_) break;
        raw_event_view e;
        const char* le = nullptr;
        if (*cursor_ == '{' && scan_flat(cursor_, end_, e, le)) {
          ++fast_lines_;
          e.line = line_;
          sink.event(e);
          next_line(le);
          continue;
        }
        le = line_end(cursor_);
        if (*cursor_ == '{' && static_cast<std::size_t>(le - cursor_) > unescaped_.capacity()) {
          // a line longer than the unescape buffer: once more with room for all of it
          const char* again = nullptr;
          e = raw_event_view{};
          if (make_room(static_cast<std::size_t>(le - cursor_)) && scan_flat(cursor_, le, e, again)) {
            ++fast_lines_;
            e.line = line_;
            sink.event(e);
            next_line(le);
            continue;
          }
        }
        const char* const chunk_end = end_;
        end_ = le < chunk_end ? le + 1 : chunk_end;
        while (cursor_ < end_) {
          skip_blank();
          if (cursor_ >= end_) break;
          run_stream(sink);
        }
        end_ = chunk_end;
      }
    } else {
      while (cursor_ < end_) {
        skip_blank();
        if (cursor_ >= end_) break;
        run_stream(sink);
      }
    }
    // lines = newlines seen + an unterminated last line
    const bool unterminated = chunk.size() > 0 && chunk.data()[chunk.size() - 1] != '\n';
    return line_ - first_line + (unterminated ? 1 : 0);
  }

  /// Turns the flat-object fast path off (every line through On-Demand): tests compare both.
  void set_fast_path(bool on) noexcept { fast_path_ = on; }
  /// Lines read by the fast path so far (tests check which lines take it).
  [[nodiscard]] std::uint64_t fast_lines() const noexcept { return fast_lines_; }

  /// Parses one line (no newline inside) with the one-document path; for tests and fuzzing.
  template <class Sink>
  void parse_line(padded_view line, std::uint64_t line_no, Sink& sink) {
    const char* b = line.data();
    const char* e = b + line.size();
    while (e > b && is_blank(e[-1])) --e;
    while (b < e && is_blank(*b)) ++b;
    if (b == e) return;
    one_line(b, e, line.data() + line.capacity(), line_no, sink);
  }

 private:
  static constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

  /// Advances the cursor over blanks and blank lines (counting newlines).
  void skip_blank() noexcept {
    while (cursor_ < end_ && is_blank(*cursor_)) {
      if (*cursor_ == '\n') ++line_;
      ++cursor_;
    }
  }
  /// End of the line holding `p` (the newline, or `end_`).
  const char* line_end(const char* p) const noexcept {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end_ - p));
    return nl ? static_cast<const char*>(nl) : end_;
  }
  /// Moves past the line ending at `le`.
  void next_line(const char* le) noexcept {
    cursor_ = le;
    if (cursor_ < end_) {
      ++cursor_;
      ++line_;
    }
  }

  template <class Sink>
  void run_stream(Sink& sink) {
    const char* start = cursor_;
    simdjson::ondemand::document_stream stream;
    if (stream_parser_.iterate_many(start, static_cast<std::size_t>(end_ - start), batch_size_).get(stream)) {
      lines_alone(start + batch_size_, sink);
      return;
    }
    bool yielded = false;
    for (auto it = stream.begin(); it != stream.end(); ++it) {
      auto doc = *it;
      if (doc.error()) {  // stream-level: stage 1 of a batch failed, or the stream lost its way
        if (!yielded) lines_alone(cursor_ + batch_size_, sink);
        return;  // restart at the cursor
      }
      const char* s = start + it.current_index();
      if (s < cursor_) continue;  // more atoms on a line already reported
      skip_blank();
      if (s != cursor_) {  // content simdjson did not start a document at: out of step
        const char* le = line_end(cursor_);
        one_line_at(le, sink);
        return;
      }
      yielded = true;
      const char* le = line_end(s);
      const char c = *s;
      if (c == '{' || c == '[') {
        if (c == '{' && fast_path_) {  // a flat object on its line: no On-Demand walk needed
          raw_event_view e;
          const char* flat_end = nullptr;
          if (make_room(static_cast<std::size_t>(le - s)) && scan_flat(s, le, e, flat_end)) {
            ++fast_lines_;
            e.line = line_;
            sink.event(e);
            next_line(le);
            continue;  // the untouched document is skipped by ++it
          }
        }
        const std::string_view src = it.source();
        const char* doc_end = s + src.size();
        bool clean = doc_end <= le;
        for (const char* p = doc_end; clean && p < le; ++p) clean = is_blank(*p);
        if (!clean) {  // spans lines, or trailing content: report precisely, then restart
          one_line_at(le, sink);
          return;
        }
        bool clean_doc = true;
        if (c == '[') {
          sink.bad(line_, "not a JSON object (an array)");
        } else {
          simdjson::ondemand::document_reference ref = doc.value_unsafe();
          clean_doc = extract(ref, sink);
        }
        next_line(le);
        // After an error inside a document On-Demand may abandon its iterator (simdjson 3.0.1 then
        // dereferences a null parser on ++it): never advance such a stream, restart it instead.
        if (!clean_doc) return;
      } else {
        sink.bad(line_, "not a JSON object");
        next_line(le);
        if (c == '"') return;  // a string may have flipped the quote parity: restart
      }
    }
    // The stream ended: anything left that it did not yield (e.g. a truncated last document that
    // iterate_many drops silently) goes through the one-line path.
    skip_blank();
    if (cursor_ < end_) one_line_at(line_end(cursor_), sink);
  }

  /// One-line path for the line at the cursor, ending at `le`; moves past it.
  template <class Sink>
  void one_line_at(const char* le, Sink& sink) {
    const char* e = le;
    while (e > cursor_ && is_blank(e[-1])) --e;
    one_line(cursor_, e, limit_, line_, sink);
    next_line(le);
  }

  /// One-line path for every line from the cursor until at least `until` (or the end).
  template <class Sink>
  void lines_alone(const char* until, Sink& sink) {
    do {
      skip_blank();
      if (cursor_ >= end_) return;
      one_line_at(line_end(cursor_), sink);
    } while (cursor_ < end_ && cursor_ < until);
  }

  template <class Sink>
  void one_line(const char* b, const char* e, const char* limit, std::uint64_t line_no, Sink& sink) {
    const auto len = static_cast<std::size_t>(e - b);
    simdjson::ondemand::document doc;
    if (auto err = line_parser_.iterate(b, len, static_cast<std::size_t>(limit - b)).get(doc)) {
      sink.bad(line_no, std::string("invalid JSON: ") + simdjson::error_message(err));
      return;
    }
    const std::uint64_t saved = line_;
    line_ = line_no;
    simdjson::ondemand::document_reference ref(doc);
    static_cast<void>(extract(ref, sink, &doc));
    line_ = saved;
  }

  /// A string (or number/boolean, as its text; null as empty) without copying: a view into the
  /// chunk when the string holds no escape, otherwise unescaped into the parser's buffer. An
  /// unconsumed value is skipped by On-Demand when the next field is read.
  static bool read_string(simdjson::ondemand::value& v, std::string_view& out) {
    std::string_view tok = v.raw_json_token();
    if (tok.empty()) return false;
    switch (tok.front()) {
      case '"': {
        // The token runs to the next structural (',' '}' ']'): the string and maybe blanks.
        while (tok.size() > 1 && is_blank(tok.back())) tok.remove_suffix(1);
        if (tok.size() >= 2 && tok.back() == '"') {
          const auto body = tok.substr(1, tok.size() - 2);
          if (std::memchr(body.data(), '\\', body.size()) == nullptr) {
            out = body;
            return true;
          }
        }
        return !v.get_string().get(out);
      }
      case '{': case '[': return false;
      case 'n':
        out = {};
        return true;
      default:
        while (!tok.empty() && is_blank(tok.back())) tok.remove_suffix(1);
        out = tok;
        return true;
    }
  }

  /// Fields of one document → a `raw_event_view` for the sink, or one bad line with the reason.
  /// Returns false when the document was bad (the sink got `bad`).
  template <class Sink>
  bool extract(simdjson::ondemand::document_reference& doc, Sink& sink,
               simdjson::ondemand::document* whole = nullptr) {
    using simdjson::ondemand::json_type;
    raw_event_view e;
    e.line = line_;
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) {
      sink.bad(line_, "not a JSON object");
      return false;
    }
    for (auto fr : obj) {
      simdjson::ondemand::field f;
      if (auto err = std::move(fr).get(f)) {
        sink.bad(line_, std::string("invalid JSON: ") + simdjson::error_message(err));
        return false;
      }
      // The key in place (no copy) unless it holds an escape; stage 1 guarantees its closing quote.
      std::string_view key;
      {
        const char* k = f.key().raw();
        std::size_t n = 0;
        while (k[n] != '"' && k[n] != '\\') ++n;
        if (k[n] == '"') {
          key = std::string_view(k, n);
        } else if (auto err = f.unescaped_key().get(key)) {
          sink.bad(line_, std::string("invalid JSON key: ") + simdjson::error_message(err));
          return false;
        }
      }
      const field which = field_of(key);
      if (which == field::none) continue;
      simdjson::ondemand::value v = f.value();
      json_type t{};
      if (which == field::ts || which == field::duration || which == field::error) {  // others: read_string
        if (auto err = v.type().get(t)) {
          sink.bad(line_, std::string(key) + ": " + simdjson::error_message(err));
          return false;
        }
      }
      bool ok = true;
      std::string reason;
      switch (which) {
        case field::none: break;
        case field::ts:
          if (t == json_type::string) {
            ok = read_string(v, e.ts_text);
          } else if (t == json_type::number) {
            simdjson::ondemand::number_type nt{};
            ok = !v.get_number_type().get(nt);
            if (ok && nt == simdjson::ondemand::number_type::signed_integer) {
              ok = !v.get_int64().get(e.ts_integer);
              e.ts_is_integer = true;
            } else if (ok) {
              ok = !v.get_double().get(e.ts_number);
            }
            if (!ok) reason = std::string(key) + ": number out of range";
            e.has_ts_number = true;
          } else if (t != json_type::null) {
            ok = false;
            reason = std::string(key) + ": expected a string or a number";
          }
          break;
        case field::duration:
          if (t == json_type::number) {
            ok = !v.get_double().get(e.duration_ms);
            if (!ok) reason = std::string(key) + ": number out of range";
            e.has_duration = ok;
          } else if (t == json_type::string) {
            std::string_view s;
            ok = read_string(v, s) && parse_duration_ms(s, e.duration_ms);
            if (!ok) reason = std::string(key) + ": not a duration";
            e.has_duration = ok;
          } else if (t != json_type::null) {
            ok = false;
            reason = std::string(key) + ": expected a number";
          }
          break;
        case field::error:
          if (t == json_type::object) {
            simdjson::ondemand::object eo;
            ok = !v.get_object().get(eo);
            std::string_view msg = "error";
            if (ok) {
              for (auto inner : eo) {
                simdjson::ondemand::field g;
                if (std::move(inner).get(g)) { ok = false; break; }
                std::string_view k2;
                if (g.unescaped_key().get(k2)) { ok = false; break; }
                if (k2 == "message" || k2 == "msg") {
                  simdjson::ondemand::value mv = g.value();
                  std::string_view m;
                  if (read_string(mv, m) && !m.empty()) msg = m;
                }
              }
            }
            e.error = msg;
            e.has_error = ok;
          } else if (t == json_type::boolean) {
            bool b = false;
            ok = !v.get_bool().get(b);
            if (b) {
              e.error = "true";
              e.has_error = true;
            }
          } else {
            std::string_view s;
            ok = read_string(v, s);
            if (ok && !s.empty()) {
              e.error = s;
              e.has_error = true;
            }
          }
          if (!ok && reason.empty()) reason = std::string(key) + ": malformed value";
          break;
        default: {
          std::string_view s;
          ok = read_string(v, s);
          if (!ok) {
            reason = std::string(key) + ": expected a string";
            break;
          }
          switch (which) {
            case field::handler: e.handler = s; break;
            case field::kind: e.kind = s; break;
            case field::level: e.level = s; break;
            case field::sequence: e.sequence = s; break;
            case field::beat: e.beat = s; break;
            case field::topic: e.topic = s; break;
            case field::correlation: e.correlation = s; break;
            case field::release: e.release = s; break;
            case field::status: e.status = s; break;
            case field::message: e.message = s; break;
            default: break;
          }
        }
      }
      if (!ok) {
        sink.bad(line_, reason.empty() ? std::string(key) + ": malformed value" : reason);
        return false;
      }
    }
    const char* trailing = nullptr;
    if (whole != nullptr && !whole->current_location().get(trailing)) {
      sink.bad(line_, "trailing content after the JSON object");
      return false;
    }
    sink.event(e);
    return true;
  }

  // ---- fast path: a flat object on one line, scanned directly -------------------------------
  //
  // Most lines are one flat object of strings, numbers and literals. For those, `scan_flat` reads
  // the keys and values straight from the line (stage 1 of the stream has already validated the
  // UTF-8 and the string boundaries) and fills the event exactly as `extract` would. It accepts only
  // strict JSON that `extract` accepts with the same values, and gives up (returns false, nothing
  // reported) on anything else: an escape in a key, a `\u` escape in a kept string (the simple ones are unescaped into a per-line buffer), a nested object or array, a
  // number other than a plain decimal for a number field, any syntax error, content after the
  // object. Such a line takes the On-Demand path (`extract`), which also gives the precise reason.

  static constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }
  static constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  /// A string body at `p` (after the opening quote), ending before `le`; `p` moves past the closing
  /// quote. `escaped` tells whether the body holds a backslash (the end is then found by skipping
  /// escapes, and the body is not usable as is). An unescaped control character fails (simdjson's
  /// stage 1 rejects it). Reads 16 bytes at a time: the chunk's padding covers reads past `le`.
  [[gnu::always_inline]] static bool scan_string(const char*& p, const char* le, std::string_view& body, bool& escaped) noexcept {
    const char* b = p;
    const char* x = p;
    escaped = false;
    for (;;) {
      if (x >= le) return false;
#if defined(__SSE2__)
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x));
      const __m128i hits = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
          _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f)));
      const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
      if (mask == 0) {
        x += 16;
        continue;
      }
      x += __builtin_ctz(mask);
#else
      const auto u = static_cast<unsigned char>(*x);
      if (u != '"' && u != '\\' && u >= 0x20) {
        ++x;
        continue;
      }
#endif
      if (x >= le) return false;
      if (*x == '"') break;
      if (*x != '\\') return false;  // a control character
      escaped = true;
      x += 2;  // the backslash and the byte it escapes
    }
    body = std::string_view(b, static_cast<std::size_t>(x - b));
    p = x + 1;
    return true;
  }

  /// A JSON number token (strict grammar).
  struct number_token {
    std::string_view text;
    std::uint64_t mantissa = 0;  ///< the digits (without the dot) when `digits` <= 19
    int digits = 0;
    int frac = 0;                ///< digits after the dot
    bool negative = false;
    bool exponent = false;
    /// A decimal without exponent whose double simdjson computes by Clinger's fast path (mantissa
    /// below 2^53, at most 22 fraction digits): `value()` is then bit-identical to `get_double`.
    [[nodiscard]] bool plain() const noexcept {
      return !exponent && digits <= 19 && frac <= 22 && mantissa < (std::uint64_t{1} << 53);
    }
    [[nodiscard]] double value() const noexcept {
      static constexpr double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                         1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
      double d = static_cast<double>(mantissa);
      if (frac > 0) d = d / pow10[frac];
      return negative ? -d : d;
    }
    /// An integer simdjson types as `signed_integer` (no dot, no exponent, at most 18 digits, not -0).
    [[nodiscard]] bool small_integer() const noexcept {
      return !exponent && frac == 0 && digits <= 18 && !(negative && mantissa == 0);
    }
  };

  /// A number at `p`; `p` moves past it.
  [[gnu::always_inline]] static bool scan_number(const char*& p, const char* le, number_token& n) noexcept {
    const char* b = p;
    const char* x = p;
    n.negative = x < le && *x == '-';
    if (n.negative) ++x;
    if (x >= le || !is_digit(*x)) return false;
    if (*x == '0') {
      ++x;
      n.digits = 1;
    } else {
      while (x < le && is_digit(*x)) {
        if (n.digits < 19) n.mantissa = n.mantissa * 10 + static_cast<unsigned>(*x - '0');
        ++n.digits;
        ++x;
      }
    }
    if (x < le && *x == '.') {
      ++x;
      if (x >= le || !is_digit(*x)) return false;
      while (x < le && is_digit(*x)) {
        if (n.digits < 19) n.mantissa = n.mantissa * 10 + static_cast<unsigned>(*x - '0');
        ++n.digits;
        ++n.frac;
        ++x;
      }
    }
    if (x < le && (*x == 'e' || *x == 'E')) {
      n.exponent = true;
      ++x;
      if (x < le && (*x == '+' || *x == '-')) ++x;
      if (x >= le || !is_digit(*x)) return false;
      while (x < le && is_digit(*x)) ++x;
    }
    n.text = std::string_view(b, static_cast<std::size_t>(x - b));
    p = x;
    return true;
  }

  /// `true`, `false` or `null` at `p`; `p` moves past it.
  [[gnu::always_inline]] static bool scan_literal(const char*& p, const char* le, std::string_view& text) noexcept {
    const auto left = static_cast<std::size_t>(le - p);
    const char* lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
    const std::size_t n = *p == 'f' ? 5 : 4;
    if (left < n || std::memcmp(p, lit, n) != 0) return false;
    text = std::string_view(p, n);
    p += n;
    return true;
  }

  /// Blanks (not newlines) at `x`. Most calls find none: one compare decides that (the byte at
  /// `le` may be read, the chunk's padding follows it).
  [[gnu::always_inline]] static void skip_ws(const char*& x, const char* le) noexcept {
    if (static_cast<unsigned char>(*x) > ' ') return;
    while (x < le && is_ws(*x)) ++x;
  }
  /// A key and its colon at `x` (inside an object, after `{` or `,` and blanks); `x` moves past
  /// the blanks after the colon.
  [[gnu::always_inline]] static bool skip_key(const char*& x, const char* le) noexcept {
    if (x >= le || *x != '"') return false;
    ++x;
    std::string_view text;
    bool escaped = false;
    if (!scan_string(x, le, text, escaped)) return false;
    if (x < le && *x == ':') {
      ++x;
    } else {
      skip_ws(x, le);
      if (x >= le || *x != ':') return false;
      ++x;
    }
    skip_ws(x, le);
    return true;
  }
  /// Skips the value of a field the event does not read (`ctx`-like objects and arrays nested up
  /// to `depth` levels, or a scalar); `p` moves past it. A container is skipped as On-Demand skips
  /// a value it is not asked for: by its brackets, 64 bytes at a time, without checking the grammar
  /// inside (On-Demand accepts `{"a" 1}` there too, and the differential test pins that the two
  /// agree); strings are still exact (their quotes, no raw control character, no line end inside
  /// the value). A container holding a backslash takes the exact loop below.
  static bool skip_value(const char*& p, const char* le, int depth) noexcept {
#if defined(__SSE2__)
    if (p < le && (*p == '{' || *p == '[')) {
      switch (skip_container(p, le, depth)) {
        case skipped::yes: return true;
        case skipped::no: return false;
        case skipped::escapes: break;
      }
    }
#endif
    return skip_value_exact(p, le, depth);
  }

#if defined(__SSE2__)
  enum class skipped { yes, no, escapes };

  /// Bit i of each mask: byte i of the 64 at `x` is a quote, a backslash, `{` or `[`, `}` or `]`, a
  /// control character, a tab or carriage return.
  struct block_bits {
    std::uint64_t quote = 0, backslash = 0, open = 0, close = 0, control = 0, blank = 0;
  };
  [[gnu::always_inline]] static block_bits classify(const char* x) noexcept {
    block_bits b;
    const auto bits = [](__m128i m, int at) { return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(m))) << at; };
    for (int at = 0; at < 64; at += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + at));
      const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));  // '[' -> '{', ']' -> '}'
      b.quote |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), at);
      b.backslash |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')), at);
      b.open |= bits(_mm_cmpeq_epi8(lower, _mm_set1_epi8('{')), at);
      b.close |= bits(_mm_cmpeq_epi8(lower, _mm_set1_epi8('}')), at);
      b.control |= bits(_mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f)), at);
      b.blank |= bits(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))), at);
    }
    return b;
  }
  /// Bit i: an odd number of bits at or below i are set in `q` (inside a string, from its opening
  /// quote to before its closing one).
  [[gnu::always_inline]] static std::uint64_t prefix_xor(std::uint64_t q) noexcept {
    for (int shift = 1; shift < 64; shift <<= 1) q ^= q << shift;
    return q;
  }
  /// The object or array at `p` by its brackets (see `skip_value`).
  static skipped skip_container(const char*& p, const char* le, int depth) noexcept {
    const char* x = p;
    std::uint64_t objects = 0;  // bit i: the container at level i + 1 is an object
    int level = 0;
    std::uint64_t carried = 0;  // all ones when the previous block ended inside a string
    const int max_level = std::min(depth, 64);
    while (x < le) {
      const auto left = static_cast<std::size_t>(le - x);
      const std::uint64_t valid = left >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << left) - 1;
      const block_bits b = classify(x);  // reads up to 63 bytes past `le`: the chunk's padding
      const std::uint64_t in_string = prefix_xor(b.quote & valid) ^ carried;
      const std::uint64_t escapes = b.backslash & valid;
      // a raw control character in a string, or one other than a blank outside (a newline: the line ended)
      const std::uint64_t bad = b.control & (in_string | ~b.blank) & valid;
      for (std::uint64_t brackets = (b.open | b.close) & ~in_string & valid; brackets != 0; brackets &= brackets - 1) {
        const int i = __builtin_ctzll(brackets);
        const std::uint64_t before = (std::uint64_t{1} << i) - 1;
        if (escapes & before) return skipped::escapes;
        if (bad & before) return skipped::no;
        const char c = x[i];
        if (c == '{' || c == '[') {
          if (level >= max_level) return skipped::no;
          objects = (objects & ~(std::uint64_t{1} << level)) | (std::uint64_t{c == '{'} << level);
          ++level;
          continue;
        }
        if (level == 0 || (((objects >> (level - 1)) & 1u) != 0) != (c == '}')) return skipped::no;
        if (--level == 0) {
          p = x + i + 1;
          return skipped::yes;
        }
      }
      if (escapes) return skipped::escapes;
      if (bad) return skipped::no;
      carried = (in_string >> 63) != 0 ? ~std::uint64_t{0} : 0;
      x += 64;
    }
    return skipped::no;
  }
#endif

  /// `skip_value` for any value, each scalar, key and separator checked as strictly as a parser
  /// would. One loop with the open containers as a bit stack (no recursion).
  static bool skip_value_exact(const char*& p, const char* le, int depth) noexcept {
    const char* x = p;
    std::uint64_t objects = 0;  // bit i: the container at level i + 1 is an object
    int level = 0;
    std::string_view text;
    bool escaped = false;
    for (;;) {
      // a value at x
      if (x >= le) return false;
      const char c = *x;
      if (c == '"') {
        ++x;
        if (!scan_string(x, le, text, escaped)) return false;
      } else if (c == '-' || is_digit(c)) {
        number_token n;
        if (!scan_number(x, le, n)) return false;
      } else if (c == 't' || c == 'f' || c == 'n') {
        if (!scan_literal(x, le, text)) return false;
      } else if (c == '{' || c == '[') {
        if (level >= depth || level >= 64) return false;
        const bool object = c == '{';
        objects = (objects & ~(std::uint64_t{1} << level)) | (std::uint64_t{object} << level);
        ++level;
        ++x;
        skip_ws(x, le);
        if (x < le && *x == (object ? '}' : ']')) {
          ++x;
          --level;
        } else {
          if (object && !skip_key(x, le)) return false;
          continue;  // its first value
        }
      } else {
        return false;
      }
      // after a value: the end of the outermost one, or a separator / the end of its container
      for (;;) {
        if (level == 0) {
          p = x;
          return true;
        }
        skip_ws(x, le);
        if (x >= le) return false;
        const char sep = *x++;
        const bool object = ((objects >> (level - 1)) & 1u) != 0;
        if (sep == ',') {
          skip_ws(x, le);
          if (object && !skip_key(x, le)) return false;
          break;  // the next value
        }
        if (sep != (object ? '}' : ']')) return false;
        --level;
      }
    }
  }

  /// Unescapes a string body holding only the escapes `\" \\ \/ \b \f \n \r \t` (as simdjson's
  /// `get_string` does) into `unescaped_`, which the caller sized for the whole line, so earlier
  /// views into it stay valid. Any other escape (`\u`, or an invalid one): false, and the line
  /// takes the On-Demand path.
  bool unescape(std::string_view body, std::string_view& out) noexcept {
    const std::size_t start = unescaped_.size();
    if (start + body.size() > unescaped_.capacity()) return false;  // (the caller retries with room)
    for (std::size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c == '\\') {
        if (++i >= body.size()) return false;
        switch (body[i]) {
          case '"': c = '"'; break;
          case '\\': c = '\\'; break;
          case '/': c = '/'; break;
          case 'b': c = '\b'; break;
          case 'f': c = '\f'; break;
          case 'n': c = '\n'; break;
          case 'r': c = '\r'; break;
          case 't': c = '\t'; break;
          default: return false;
        }
      }
      unescaped_.push_back(c);  // within the reserved capacity: no allocation
    }
    out = std::string_view(unescaped_.data() + start, unescaped_.size() - start);
    return true;
  }

  /// Room in the unescape buffer for a line of `n` bytes (false: out of memory).
  bool make_room(std::size_t n) noexcept {
    if (unescaped_.capacity() >= n) return true;
    try {
      unescaped_.reserve(n);
    } catch (...) {
      return false;
    }
    return true;
  }

  /// The keys of the last lines, each with the (at most two) keys that followed it, so that the
  /// next key is usually recognised by one 16-byte compare instead of a scan for its closing quote
  /// and a `field_of` dispatch: lines of one producer repeat their keys in one order, with a few
  /// optional ones. A prediction is exact: it matches only the known key's bytes and its closing
  /// quote (a known key holds no backslash or control character), so a match is that key. Keys of
  /// more than 15 bytes, and keys past the first `capacity` distinct ones, are not predicted.
  class key_predictor {
   public:
    /// The next key starts at `p` (after its opening quote). On a match, `p` moves past its
    /// closing quote and `which` is its field.
    [[gnu::always_inline]] bool match(const char*& p, const char* le, field& which) noexcept {
      const auto& from = keys_[prev_];
      for (const std::uint8_t k : from.next) {
        if (k == untracked) break;
        const auto& key = keys_[k];
        if (key.len >= le - p || !same(p, key)) continue;
        p += key.len + 1;
        which = key.which;
        prev_ = k;
        return true;
      }
      return false;
    }
    /// `key` (field `which`) followed the previous key: remember it (cold: only on a miss).
    [[gnu::noinline]] void learn(std::string_view key, field which) noexcept {
      std::uint8_t k = untracked;
      for (std::uint8_t i = 1; i < size_; ++i)
        if (keys_[i].len == key.size() && std::memcmp(keys_[i].bytes, key.data(), key.size()) == 0) k = i;
      if (k == untracked && key.size() < sizeof(entry::bytes) && size_ < capacity) {
        k = size_++;
        auto& e = keys_[k];
        std::memcpy(e.bytes, key.data(), key.size());
        e.bytes[key.size()] = '"';
        e.len = static_cast<std::uint8_t>(key.size());
        e.mask = (1u << (key.size() + 1)) - 1;
        e.which = which;
      }
      if (prev_ != untracked && k != untracked && keys_[prev_].next[0] != k) {
        keys_[prev_].next[1] = keys_[prev_].next[0];
        keys_[prev_].next[0] = k;
      }
      prev_ = k;
    }
    /// A new object: its first key follows the start.
    void begin_object() noexcept { prev_ = 0; }

   private:
    static constexpr std::uint8_t capacity = 32;
    static constexpr std::uint8_t untracked = capacity;
    struct entry {
      char bytes[16] = {};  ///< the key and its closing quote
      std::uint32_t mask = 0;  ///< bit i: byte i is compared
      std::uint8_t len = 0;
      field which = field::none;
      std::uint8_t next[2] = {untracked, untracked};
    };
    [[gnu::always_inline]] static bool same(const char* p, const entry& key) noexcept {
#if defined(__SSE2__)
      // reads 16 bytes at `p`: the chunk's padding covers what lies past the line
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key.bytes));
      const auto eq = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, k)));
      return (eq & key.mask) == key.mask;
#else
      return std::memcmp(p, key.bytes, key.len + 1u) == 0;
#endif
    }
    // entry 0 is the start of an object; `untracked` (the last) never predicts anything
    std::array<entry, capacity + 1> keys_{};
    std::uint8_t size_ = 1;
    std::uint8_t prev_ = 0;
  };

  /// See the comment above: true when the line starting at `s` was one flat object, read into
  /// `e`; `line_end` is then set to its end (its newline, or `bound`). The line is not measured
  /// first: no token of an accepted line can hold a newline (a string stops at a control
  /// character, a number or literal at a non-digit/letter, blanks here are never `\n`), so the
  /// object must end before `bound`, the end of the line or of the chunk, and be followed only by
  /// blanks up to a newline or `bound`.
  bool scan_flat(const char* s, const char* bound, raw_event_view& e, const char*& line_end) noexcept {
    const char* p = s + 1;  // past '{'
    const char* const le = bound;
    // unescaped strings of this line go here (`unescape` refuses what does not fit)
    unescaped_.clear();
    if (!make_room(4096)) return false;
    keys_.begin_object();
    skip_ws(p, le);
    if (p < le && *p == '}') {
      ++p;
    } else {
      for (;;) {
        if (p >= le || *p != '"') return false;
        ++p;
        bool escaped = false;
        field which = field::none;
        if (!keys_.match(p, le, which)) {
          std::string_view key;
          if (!scan_string(p, le, key, escaped) || escaped) return false;
          which = field_of(key);
          keys_.learn(key, which);
        }
        if (p < le && *p == ':') {
          ++p;
        } else {
          skip_ws(p, le);
          if (p >= le || *p != ':') return false;
          ++p;
        }
        skip_ws(p, le);
        if (p >= le) return false;
        // The value: its kind, its text (string body, number or literal text) and a number's value.
        enum class kind { string, number, literal } k = kind::literal;
        std::string_view text;
        number_token num;
        const char c = *p;
        if (which == field::none) {
          if (c == '"') {  // the usual unknown value, inline
            ++p;
            if (!scan_string(p, le, text, escaped)) return false;
          } else {
            const char* q = p;  // (p itself stays out of memory)
            if (!skip_value(q, le, 32)) return false;
            p = q;
          }
        } else if (c == '"') {
          ++p;
          if (!scan_string(p, le, text, escaped)) return false;
          if (escaped && !unescape(text, text)) return false;  // other escapes: On-Demand
          k = kind::string;
        } else if (c == '-' || is_digit(c)) {
          if (!scan_number(p, le, num)) return false;
          text = num.text;
          k = kind::number;
        } else if (c == 't' || c == 'f' || c == 'n') {
          if (!scan_literal(p, le, text)) return false;
          k = kind::literal;
        } else {
          return false;  // a nested object/array in a known field, or not JSON
        }
        skip_ws(p, le);
        if (p >= le) return false;
        const char sep = *p++;
        if (sep != ',' && sep != '}') return false;
        switch (which) {
          case field::none: break;
          case field::ts:
            if (k == kind::string) {
              e.ts_text = text;
            } else if (k == kind::number) {  // as extract: an int64 when simdjson types it so
              if (num.small_integer()) {
                const auto m = static_cast<std::int64_t>(num.mantissa);
                e.ts_integer = num.negative ? -m : m;
                e.ts_is_integer = true;
              } else if (num.plain() && num.frac > 0) {  // a decimal: floating point
                e.ts_number = num.value();
              } else {
                return false;
              }
              e.has_ts_number = true;
            } else if (text[0] != 'n') {
              return false;
            }
            break;
          case field::duration:
            if (k == kind::number) {
              if (!num.plain()) return false;
              e.duration_ms = num.value();
              e.has_duration = true;
            } else if (k == kind::string) {
              if (!parse_duration_ms(text, e.duration_ms)) return false;
              e.has_duration = true;
            } else if (text[0] != 'n') {
              return false;
            }
            break;
          case field::error:
            if (k == kind::literal && text[0] == 'f') break;
            if (k == kind::literal && text[0] == 't') {
              e.error = "true";
              e.has_error = true;
              break;
            }
            if (k == kind::literal) text = {};  // null
            if (!text.empty()) {
              e.error = text;
              e.has_error = true;
            }
            break;
          default: {
            if (k == kind::literal && text[0] == 'n') text = {};
            switch (which) {
              case field::handler: e.handler = text; break;
              case field::kind: e.kind = text; break;
              case field::level: e.level = text; break;
              case field::sequence: e.sequence = text; break;
              case field::beat: e.beat = text; break;
              case field::topic: e.topic = text; break;
              case field::correlation: e.correlation = text; break;
              case field::release: e.release = text; break;
              case field::status: e.status = text; break;
              case field::message: e.message = text; break;
              default: break;
            }
          }
        }
        if (sep == '}') break;
        skip_ws(p, le);
      }
    }
    skip_ws(p, le);
    if (p < le && *p != '\n') return false;
    line_end = p;
    return true;
  }

  simdjson::ondemand::parser stream_parser_;
  simdjson::ondemand::parser line_parser_;
  std::string unescaped_;  // the fast path's unescaped strings of the current line
  key_predictor keys_;     // the fast path's guess of each next key
  std::size_t batch_size_;
  bool fast_path_ = true;
  std::uint64_t fast_lines_ = 0;
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  const char* limit_ = nullptr;
  const char* cursor_ = nullptr;
  std::uint64_t line_ = 1;
};

}  // namespace selfheal::telemetry
