#pragma once
/// \file
/// Timestamps → UTC nanoseconds since the Unix epoch.
///
/// - ISO-8601: `YYYY-MM-DD[T| ]HH:MM[:SS[(.|,)fraction]][ ](Z|±HH[:MM]|±HHMM)?`, a fraction of any
///   length (digits past nanoseconds are truncated), no zone means UTC.
/// - Epoch numbers, unit told apart by magnitude: |x| < 1e11 seconds, < 1e14 milliseconds,
///   < 1e17 microseconds, otherwise nanoseconds.
/// Results must fit an int64 of nanoseconds (years 1678..2261); anything else is "unparsable".

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace selfheal::telemetry {

namespace detail {

/// Days from 1970-01-01 to y-m-d (proleptic Gregorian), H. Hinnant's algorithm.
[[nodiscard]] constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Reads exactly `n` digits at `s[i]`; advances `i`.
[[nodiscard]] constexpr bool read_digits(std::string_view s, std::size_t& i, std::size_t n, unsigned& out) noexcept {
  if (i + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const char c = s[i + k];
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  i += n;
  return true;
}

[[nodiscard]] constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned table[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2) {
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return leap ? 29 : 28;
  }
  return table[m - 1];
}

}  // namespace detail

namespace detail {
/// What follows "YYYY-MM-DDTHH:MM" at `s[i]`: optional `:SS` with a fraction, then an optional zone
/// (Z, or [space]±HH[[:]MM]; a space not followed by a sign is not part of the timestamp). Sets
/// `sec_minus_offset` (seconds minus the zone offset, in s) and `frac_ns`; advances `i`.
[[nodiscard]] constexpr bool iso8601_tail(std::string_view s, std::size_t& i, std::int64_t& sec_minus_offset,
                                          std::int64_t& frac_ns) noexcept {
  unsigned second = 0;
  frac_ns = 0;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!read_digits(s, i, 2, second)) return false;
    if (i < s.size() && (s[i] == '.' || s[i] == ',') && i + 1 < s.size() && is_digit(s[i + 1])) {
      ++i;
      // Up to nine digits count (ns); further digits are read and ignored.
      constexpr std::int64_t scale[] = {1000000000, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
      std::int64_t v = 0;
      std::size_t digits = 0;
      while (i < s.size() && is_digit(s[i])) {
        if (digits < 9) {
          v = v * 10 + static_cast<std::int64_t>(s[i] - '0');
          ++digits;
        }
        ++i;
      }
      frac_ns = v * scale[digits];
    }
  }
  if (second > 60) return false;
  std::int64_t offset_s = 0;
  std::size_t j = i;
  if (j < s.size() && s[j] == ' ' && j + 1 < s.size() && (s[j + 1] == '+' || s[j + 1] == '-')) ++j;
  if (j < s.size() && (s[j] == 'Z' || s[j] == 'z')) {
    i = j + 1;
  } else if (j < s.size() && (s[j] == '+' || s[j] == '-')) {
    const bool neg = s[j] == '-';
    std::size_t k = j + 1;
    unsigned oh = 0, om = 0;
    if (read_digits(s, k, 2, oh)) {
      if (k < s.size() && s[k] == ':') {
        ++k;
        if (!read_digits(s, k, 2, om)) return false;
      } else {
        std::size_t k2 = k;
        if (read_digits(s, k2, 2, om)) k = k2;
      }
      if (oh > 23 || om > 59) return false;
      offset_s = static_cast<std::int64_t>(oh * 3600 + om * 60) * (neg ? -1 : 1);
      i = k;
    }
  }
  sec_minus_offset = static_cast<std::int64_t>(second) - offset_s;
  return true;
}

/// Seconds → ns, or nullopt outside what int64 ns holds (±9.22e9 s: up to ~2262-04-11).
[[nodiscard]] constexpr std::optional<std::int64_t> iso8601_ns(std::int64_t secs, std::int64_t frac_ns) noexcept {
  if (secs > 9'223'372'035 || secs < -9'223'372'035) return std::nullopt;
  return secs * 1'000'000'000 + frac_ns;
}
}  // namespace detail

/// Parses an ISO-8601 timestamp at the start of `s`. On success returns UTC ns and sets `consumed`
/// to the number of characters used (so text parsers can continue after it).
[[nodiscard]] constexpr std::optional<std::int64_t> parse_iso8601_prefix(std::string_view s,
                                                                         std::size_t& consumed) noexcept {
  std::size_t i = 0;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0;
  if (!detail::read_digits(s, i, 4, year)) return std::nullopt;
  if (i >= s.size() || s[i] != '-') return std::nullopt;
  ++i;
  if (!detail::read_digits(s, i, 2, month)) return std::nullopt;
  if (i >= s.size() || s[i] != '-') return std::nullopt;
  ++i;
  if (!detail::read_digits(s, i, 2, day)) return std::nullopt;
  if (i >= s.size() || (s[i] != 'T' && s[i] != 't' && s[i] != ' ')) return std::nullopt;
  ++i;
  if (!detail::read_digits(s, i, 2, hour)) return std::nullopt;
  if (i >= s.size() || s[i] != ':') return std::nullopt;
  ++i;
  if (!detail::read_digits(s, i, 2, minute)) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > detail::days_in_month(year, month)) return std::nullopt;
  if (hour > 23 || minute > 59) return std::nullopt;
  if (year < 1678 || year > 2261) return std::nullopt;
  std::int64_t rest_s = 0, frac_ns = 0;
  if (!detail::iso8601_tail(s, i, rest_s, frac_ns)) return std::nullopt;
  const std::int64_t days = detail::days_from_civil(year, month, day);
  const std::int64_t secs = days * 86400 + static_cast<std::int64_t>(hour) * 3600 +
                            static_cast<std::int64_t>(minute) * 60 + rest_s;
  auto ns = detail::iso8601_ns(secs, frac_ns);
  if (ns) consumed = i;
  return ns;
}

/// Whole-string ISO-8601 parsing that remembers the last few "YYYY-MM-DDTHH:MM" it saw: timestamps
/// in a log share them line after line (one per zone or service writing), so only seconds, fraction
/// and zone are read again. Results are exactly `parse_iso8601`'s.
class iso8601_memo {
 public:
  [[nodiscard]] std::optional<std::int64_t> parse(std::string_view text) noexcept;

 private:
  struct entry {
    char key[16] = {};
    std::int64_t base_s = 0;  ///< seconds of `key` (date, hour, minute; UTC before the zone)
    bool valid = false;
  };
  entry entries_[4];
  unsigned next_ = 0;  ///< the entry replaced next (round robin)
};

/// Parses a whole string as ISO-8601 (surrounding spaces allowed, nothing else).
[[nodiscard]] constexpr std::optional<std::int64_t> parse_iso8601(std::string_view s) noexcept {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  std::size_t used = 0;
  auto t = parse_iso8601_prefix(s, used);
  if (!t || used != s.size()) return std::nullopt;
  return t;
}

/// Epoch number → UTC ns, the unit chosen by magnitude (see the file comment).
[[nodiscard]] inline std::optional<std::int64_t> epoch_to_ns(double x) noexcept {
  if (!std::isfinite(x)) return std::nullopt;
  const double a = std::fabs(x);
  std::int64_t unit = 1;
  if (a < 1e11) unit = 1'000'000'000;
  else if (a < 1e14) unit = 1'000'000;
  else if (a < 1e17) unit = 1'000;
  if (!(a * static_cast<double>(unit) < 9.2e18)) return std::nullopt;
  // Whole units and the fraction separately, so 1735689600.25 s is exact to the nanosecond.
  const double whole = std::floor(x);
  const double frac = x - whole;
  return static_cast<std::int64_t>(whole) * unit + static_cast<std::int64_t>(std::llround(frac * static_cast<double>(unit)));
}

/// Integral epoch → UTC ns, exact (no double rounding for ns/µs values).
[[nodiscard]] constexpr std::optional<std::int64_t> epoch_to_ns(std::int64_t x) noexcept {
  const std::int64_t a = x < 0 ? -(x + 1) : x;  // avoid overflow on INT64_MIN
  std::int64_t unit = 1;
  if (a < 100'000'000'000LL) unit = 1'000'000'000LL;
  else if (a < 100'000'000'000'000LL) unit = 1'000'000LL;
  else if (a < 100'000'000'000'000'000LL) unit = 1'000LL;
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(x, unit, &ns)) return std::nullopt;  // e.g. 2e10 s: past year 2262
  return ns;
}

inline std::optional<std::int64_t> iso8601_memo::parse(std::string_view text) noexcept {
  std::string_view s = text;  // parse_iso8601's trimming
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 16) {
    for (const auto& e : entries_) {
      if (!e.valid || std::memcmp(s.data(), e.key, 16) != 0) continue;
      // The usual tail, ":SS.f…fZ" with 1 to 9 fraction digits, read straight (what
      // iso8601_tail reads from it, without its branches for other shapes).
      const std::size_t n = s.size();
      if (n >= 22 && n <= 30 && s[16] == ':' && s[19] == '.' && s[n - 1] == 'Z' && detail::is_digit(s[17]) &&
          detail::is_digit(s[18])) {
        const unsigned second = static_cast<unsigned>(s[17] - '0') * 10 + static_cast<unsigned>(s[18] - '0');
        std::int64_t frac = 0;
        bool digits = true;
        for (std::size_t k = 20; k + 1 < n; ++k) {
          digits = digits && detail::is_digit(s[k]);
          frac = frac * 10 + (s[k] - '0');
        }
        if (digits && second <= 60) {
          constexpr std::int64_t scale[] = {1000000000, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
          return detail::iso8601_ns(e.base_s + second, frac * scale[n - 21]);
        }
      }
      std::size_t i = 16;
      std::int64_t rest_s = 0, frac_ns = 0;
      if (!detail::iso8601_tail(s, i, rest_s, frac_ns) || i != s.size()) return std::nullopt;
      return detail::iso8601_ns(e.base_s + rest_s, frac_ns);
    }
  }
  auto t = parse_iso8601(text);
  if (t && s.size() >= 16) {
    std::size_t used = 0;
    if (auto base = parse_iso8601_prefix(s.substr(0, 16), used); base && used == 16) {
      auto& e = entries_[next_];
      next_ = (next_ + 1) % 4;
      std::memcpy(e.key, s.data(), 16);
      e.base_s = *base / 1'000'000'000;
      e.valid = true;
    }
  }
  return t;
}

// ---- the timestamp shapes of raw logs ---------------------------------------------------------

namespace detail {
/// "Jan".."Dec" (any case) → 1..12; 0 for anything else.
[[nodiscard]] constexpr unsigned month_number(std::string_view m) noexcept {
  if (m.size() != 3) return 0;
  constexpr std::string_view names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  char low[3] = {};
  for (std::size_t k = 0; k < 3; ++k) low[k] = (m[k] >= 'A' && m[k] <= 'Z') ? static_cast<char>(m[k] + 32) : m[k];
  for (unsigned k = 0; k < 12; ++k)
    if (names[k] == std::string_view(low, 3)) return k + 1;
  return 0;
}

/// Year (proleptic Gregorian) of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
[[nodiscard]] constexpr int year_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<int>(y + (m <= 2 ? 1 : 0));
}

/// `HH:MM:SS` with an optional `.`/`,` fraction at `s[i]`; advances `i`.
[[nodiscard]] constexpr bool read_clock(std::string_view s, std::size_t& i, std::int64_t& secs, std::int64_t& frac_ns) noexcept {
  unsigned h = 0, m = 0, sec = 0;
  if (!read_digits(s, i, 2, h) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!read_digits(s, i, 2, m) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!read_digits(s, i, 2, sec)) return false;
  if (h > 23 || m > 59 || sec > 60) return false;
  frac_ns = 0;
  if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && is_digit(s[i + 1])) {
    ++i;
    std::int64_t scale = 100'000'000;
    while (i < s.size() && is_digit(s[i])) {
      frac_ns += static_cast<std::int64_t>(s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
  }
  secs = static_cast<std::int64_t>(h) * 3600 + static_cast<std::int64_t>(m) * 60 + static_cast<std::int64_t>(sec);
  return true;
}

/// Reads 1 or 2 digits (a day of month, optionally space-padded: "Dec  4").
[[nodiscard]] constexpr bool read_day(std::string_view s, std::size_t& i, unsigned& day) noexcept {
  if (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || !is_digit(s[i])) return false;
  day = static_cast<unsigned>(s[i++] - '0');
  if (i < s.size() && is_digit(s[i])) day = day * 10 + static_cast<unsigned>(s[i++] - '0');
  return true;
}

[[nodiscard]] constexpr bool at_word_end(std::string_view s, std::size_t i) noexcept {
  return i >= s.size() || s[i] == ' ' || s[i] == '\t' || s[i] == ']' || s[i] == ',' || s[i] == ':';
}

/// UTC ns of a civil time; `year` 0 means "take it from `ref_ns`": the year of `ref_ns`, or the one
/// before when that would put the time more than a day after `ref_ns` (December lines in a file
/// last written in January).
[[nodiscard]] constexpr std::optional<std::int64_t> civil_ns(int year, unsigned month, unsigned day, std::int64_t secs,
                                                             std::int64_t frac_ns, std::int64_t ref_ns) noexcept {
  const bool guess = year == 0;
  if (guess) year = year_from_days(ref_ns / 86'400'000'000'000);
  if (month < 1 || month > 12 || year < 1678 || year > 2261) return std::nullopt;
  if (day < 1 || day > days_in_month(static_cast<unsigned>(year), month)) {
    if (!(guess && month == 2 && day == 29)) return std::nullopt;
  }
  auto at = [&](int y) { return iso8601_ns(days_from_civil(static_cast<unsigned>(y), month, day) * 86400 + secs, frac_ns); };
  auto t = at(year);
  if (guess && (!t || *t > ref_ns + 86'400'000'000'000)) t = at(year - 1);
  return t;
}

/// The shapes inside or without brackets (see `parse_log_timestamp_prefix`).
[[nodiscard]] constexpr std::optional<std::int64_t> log_timestamp_shape(std::string_view s, std::int64_t ref_ns,
                                                                        std::size_t& consumed) noexcept {
  std::size_t i = 0;
  std::int64_t secs = 0, frac = 0;
  unsigned a = 0, b = 0, c = 0;
  // `Www Mmm DD HH:MM:SS[.f] YYYY` (ctime, Apache) and `Mmm DD HH:MM:SS[.f][ YYYY]` (syslog)
  std::size_t m0 = 0;
  if (s.size() > 4 && s[3] == ' ' && month_number(s.substr(0, 3)) == 0 && month_number(s.substr(4, 3)) != 0) m0 = 4;
  if (month_number(s.substr(m0, 3)) != 0 && s.size() > m0 + 3 && s[m0 + 3] == ' ') {
    const unsigned month = month_number(s.substr(m0, 3));
    i = m0 + 4;
    unsigned day = 0;
    if (!read_day(s, i, day) || i >= s.size() || s[i] != ' ') return std::nullopt;
    ++i;
    if (!read_clock(s, i, secs, frac)) return std::nullopt;
    int year = 0;
    if (i + 4 < s.size() + 0 && s[i] == ' ') {
      std::size_t k = i + 1;
      unsigned y = 0;
      if (read_digits(s, k, 4, y) && at_word_end(s, k)) {
        year = static_cast<int>(y);
        i = k;
      }
    }
    if (!at_word_end(s, i)) return std::nullopt;
    auto t = civil_ns(year, month, day, secs, frac, ref_ns);
    if (t) consumed = i;
    return t;
  }
  // digit shapes: `YYMMDD HHMMSS` (HDFS), `YY/MM/DD HH:MM:SS` (Spark), `YYYY/MM/DD HH:MM:SS` (nginx),
  // `MM-DD HH:MM:SS.f` (Android logcat), `MM.DD HH:MM:SS` (Proxifier)
  if (read_digits(s, i, 6, a) && i < s.size() && s[i] == ' ') {
    std::size_t k = i + 1;
    unsigned hms = 0;
    if (!read_digits(s, k, 6, hms) || !at_word_end(s, k)) return std::nullopt;
    const unsigned h = hms / 10000, mi = hms / 100 % 100, se = hms % 100;
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;
    auto t = civil_ns(2000 + static_cast<int>(a / 10000), a / 100 % 100, a % 100,
                      static_cast<std::int64_t>(h) * 3600 + mi * 60 + se, 0, ref_ns);
    if (t) consumed = k;
    return t;
  }
  i = 0;
  int year = 0;
  unsigned month = 0, day = 0;
  if (read_digits(s, i, 4, a) && i < s.size() && s[i] == '/') {
    year = static_cast<int>(a);
    ++i;
    if (!read_digits(s, i, 2, month) || i >= s.size() || s[i] != '/') return std::nullopt;
    ++i;
    if (!read_digits(s, i, 2, day)) return std::nullopt;
  } else {
    i = 0;
    if (!read_digits(s, i, 2, a) || i >= s.size()) return std::nullopt;
    const char sep = s[i];
    ++i;
    if (sep == '/') {  // YY/MM/DD
      if (!read_digits(s, i, 2, b) || i >= s.size() || s[i] != '/') return std::nullopt;
      ++i;
      if (!read_digits(s, i, 2, c)) return std::nullopt;
      year = 2000 + static_cast<int>(a);
      month = b;
      day = c;
    } else if (sep == '-' || sep == '.') {  // MM-DD, MM.DD: the year from the file
      if (!read_digits(s, i, 2, b)) return std::nullopt;
      month = a;
      day = b;
    } else {
      return std::nullopt;
    }
  }
  if (i >= s.size() || s[i] != ' ') return std::nullopt;
  ++i;
  if (!read_clock(s, i, secs, frac) || !at_word_end(s, i)) return std::nullopt;
  auto t = civil_ns(year, month, day, secs, frac, ref_ns);
  if (t) consumed = i;
  return t;
}
}  // namespace detail

/// A timestamp at the start of a raw log line, in any of the common shapes, as UTC ns:
/// ISO-8601 (`2015-10-18 18:01:47,978` too), `[…]` around any shape, `Sun Dec 04 04:47:44 2005`
/// (ctime, Apache), `Dec 10 06:55:46` (syslog), `081109 203615` (HDFS), `17/06/09 20:10:40` (Spark),
/// `2024/01/05 10:00:00` (nginx), `03-17 16:13:38.811` (Android logcat), `10.30 16:49:06`
/// (Proxifier). Times without a zone are UTC. A shape without a year takes it from `ref_ns` (the
/// file's modification time; the year before when the date would fall after it). Sets `consumed`.
[[nodiscard]] constexpr std::optional<std::int64_t> parse_log_timestamp_prefix(std::string_view s, std::int64_t ref_ns,
                                                                               std::size_t& consumed) noexcept {
  if (auto t = parse_iso8601_prefix(s, consumed)) return t;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close > 40) return std::nullopt;
    std::size_t used = 0;
    const auto inner = s.substr(1, close - 1);
    auto t = parse_iso8601_prefix(inner, used);
    if (!t) t = detail::log_timestamp_shape(inner, ref_ns, used);
    if (!t || used != inner.size()) return std::nullopt;
    consumed = close + 1;
    return t;
  }
  return detail::log_timestamp_shape(s, ref_ns, consumed);
}

}  // namespace selfheal::telemetry
