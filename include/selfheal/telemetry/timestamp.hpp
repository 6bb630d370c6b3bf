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

}  // namespace selfheal::telemetry
