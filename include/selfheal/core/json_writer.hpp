#pragma once
/// \file
/// A small streaming JSON writer: correct escaping (control characters, quotes, invalid UTF-8 replaced
/// by U+FFFD), no DOM, appends to a `std::string`. Used for beat events and the CLI's `--json` output.
/// Reading JSON is simdjson's job and lives outside `core/`.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace selfheal {

/// Appends `s` to `out` as a JSON string literal (with quotes).
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c == '"') { out += "\\\""; ++p; continue; }
    if (c == '\\') { out += "\\\\"; ++p; continue; }
    if (c < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: out += "\\u00"; out += hex[c >> 4]; out += hex[c & 0xF];
      }
      ++p;
      continue;
    }
    if (c < 0x80) { out += static_cast<char>(c); ++p; continue; }
    // Validate one UTF-8 sequence; copy it when valid, otherwise emit U+FFFD for the lead byte.
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1Fu; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0Fu; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07u; }
    bool ok = len != 0 && static_cast<std::size_t>(end - p) >= len;
    for (std::size_t i = 1; ok && i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if (ok) {
      ok = !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
             (cp >= 0xD800 && cp <= 0xDFFF));
    }
    if (ok) {
      out.append(reinterpret_cast<const char*>(p), len);
      p += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++p;
    }
  }
  out += '"';
}

/// Appends a number in its shortest round-trip form (`std::to_chars`); non-finite doubles become
/// `null` (JSON has no NaN).
inline void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) { out += "null"; return; }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

/// Streaming writer: `w.begin_object(); w.key("a"); w.value(1); w.end_object();`.
/// Commas are inserted for you; nesting is tracked on a small stack.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(&out) {}

  json_writer& begin_object() { before_value(); *out_ += '{'; first_.push_back(true); return *this; }
  json_writer& end_object() { *out_ += '}'; first_.pop_back(); return *this; }
  json_writer& begin_array() { before_value(); *out_ += '['; first_.push_back(true); return *this; }
  json_writer& end_array() { *out_ += ']'; first_.pop_back(); return *this; }

  json_writer& key(std::string_view k) {
    comma();
    append_json_string(*out_, k);
    *out_ += ':';
    after_key_ = true;
    return *this;
  }
  json_writer& value(std::string_view s) { before_value(); append_json_string(*out_, s); return *this; }
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(bool b) { before_value(); *out_ += b ? "true" : "false"; return *this; }
  json_writer& value(std::nullptr_t) { before_value(); *out_ += "null"; return *this; }
  template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  json_writer& value(T v) { before_value(); *out_ += std::to_string(v); return *this; }
  json_writer& value(double v) { before_value(); append_json_number(*out_, v); return *this; }
  json_writer& value(float v) { return value(static_cast<double>(v)); }

  /// `key(k).value(v)` in one call.
  template <class V>
  json_writer& member(std::string_view k, const V& v) { key(k); return value(v); }

 private:
  void comma() {
    if (!first_.empty()) {
      if (!first_.back()) *out_ += ',';
      first_.back() = false;
    }
  }
  void before_value() {
    if (after_key_) { after_key_ = false; return; }
    comma();
  }

  std::string* out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace selfheal
