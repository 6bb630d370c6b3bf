#pragma once
/// \file
/// `quantile_sketch`: a DDSketch-style mergeable quantile sketch with 1% relative accuracy.
///
/// A value x > 0 goes into log bucket i = ceil(log_gamma(x)), gamma = (1 + a) / (1 - a), a = 0.01;
/// the bucket's representative 2 gamma^i / (gamma + 1) is within a of every value in the bucket.
/// Values at or below 1e-6 (ms: one nanosecond) go into a zero bucket. Counts are integers, so
/// merging is exact, commutative and associative: merge(sketch(A), sketch(B)) == sketch(A ∪ B),
/// bit for bit, whatever the order or the threads. Quantiles are nearest-rank (rank ceil(q n)),
/// clamped to the exact minimum and maximum, so q = 0 and q = 1 are exact.
///
/// Memory: one 8-byte counter per bucket between the smallest and largest index seen
/// (about 350 buckets for values spanning 1 ms .. 1 s). Serialised with varints for the store.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace selfheal::telemetry {

class quantile_sketch {
 public:
  static constexpr double relative_accuracy = 0.01;
  static constexpr double min_positive = 1e-6;

  /// Adds `count` copies of `value` (negative and NaN values are ignored: durations are >= 0).
  void add(double value, std::uint64_t count = 1) {
    if (!(value >= 0) || count == 0 || !std::isfinite(value)) return;
    total_ += count;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    if (value <= min_positive) {
      zero_count_ += count;
      return;
    }
    const auto idx = index_of(value);
    if (counts_.empty()) {
      offset_ = idx;
      counts_.assign(1, 0);
    } else if (idx < offset_) {
      counts_.insert(counts_.begin(), static_cast<std::size_t>(offset_ - idx), 0);
      offset_ = idx;
    } else if (idx >= offset_ + static_cast<std::int32_t>(counts_.size())) {
      counts_.resize(static_cast<std::size_t>(idx - offset_) + 1, 0);
    }
    counts_[static_cast<std::size_t>(idx - offset_)] += count;
  }

  /// Adds every value of `other`; equal to having added them here.
  void merge(const quantile_sketch& other) {
    if (other.total_ == 0) return;
    total_ += other.total_;
    zero_count_ += other.zero_count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    if (other.counts_.empty()) return;
    if (counts_.empty()) {
      offset_ = other.offset_;
      counts_ = other.counts_;
      return;
    }
    const std::int32_t lo = std::min(offset_, other.offset_);
    const std::int32_t hi = std::max(offset_ + static_cast<std::int32_t>(counts_.size()),
                                     other.offset_ + static_cast<std::int32_t>(other.counts_.size()));
    if (lo < offset_) {
      counts_.insert(counts_.begin(), static_cast<std::size_t>(offset_ - lo), 0);
      offset_ = lo;
    }
    if (static_cast<std::size_t>(hi - offset_) > counts_.size()) counts_.resize(static_cast<std::size_t>(hi - offset_), 0);
    for (std::size_t k = 0; k < other.counts_.size(); ++k)
      counts_[static_cast<std::size_t>(other.offset_ - offset_) + k] += other.counts_[k];
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] bool empty() const noexcept { return total_ == 0; }
  [[nodiscard]] double min() const noexcept { return total_ ? min_ : 0.0; }
  [[nodiscard]] double max() const noexcept { return total_ ? max_ : 0.0; }

  /// Nearest-rank quantile, q in [0, 1], within 1% of the exact nearest-rank value; 0 when empty.
  [[nodiscard]] double quantile(double q) const noexcept {
    if (total_ == 0) return 0.0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
    rank = std::clamp<std::uint64_t>(rank, 1, total_);
    if (rank == total_) return max_;
    if (rank == 1) return min_;
    if (rank <= zero_count_) return std::clamp(0.0, min_, max_);
    std::uint64_t seen = zero_count_;
    for (std::size_t k = 0; k < counts_.size(); ++k) {
      seen += counts_[k];
      if (seen >= rank) return std::clamp(value_of(offset_ + static_cast<std::int32_t>(k)), min_, max_);
    }
    return max_;
  }

  /// Compact binary form for a SQLite BLOB: "DDS1", varints, then min and max as raw doubles.
  [[nodiscard]] std::string serialize() const {
    std::string out = "DDS1";
    put_varint(out, total_);
    put_varint(out, zero_count_);
    put_varint(out, zigzag(offset_));
    put_varint(out, counts_.size());
    for (auto c : counts_) put_varint(out, c);
    put_double(out, min_);
    put_double(out, max_);
    return out;
  }

  /// Inverse of `serialize`; nullopt for a blob that is not one.
  [[nodiscard]] static std::optional<quantile_sketch> deserialize(std::string_view in) {
    if (in.substr(0, 4) != "DDS1") return std::nullopt;
    in.remove_prefix(4);
    quantile_sketch s;
    std::uint64_t off = 0, n = 0;
    if (!get_varint(in, s.total_) || !get_varint(in, s.zero_count_) || !get_varint(in, off) || !get_varint(in, n))
      return std::nullopt;
    if (n > in.size()) return std::nullopt;  // every count takes at least one byte
    s.offset_ = unzigzag(off);
    s.counts_.resize(static_cast<std::size_t>(n));
    std::uint64_t sum = s.zero_count_;
    for (auto& c : s.counts_) {
      if (!get_varint(in, c)) return std::nullopt;
      sum += c;
    }
    if (!get_double(in, s.min_) || !get_double(in, s.max_) || !in.empty() || sum != s.total_) return std::nullopt;
    return s;
  }

  friend bool operator==(const quantile_sketch& a, const quantile_sketch& b) noexcept {
    if (a.total_ != b.total_ || a.zero_count_ != b.zero_count_) return false;
    if (a.total_ == 0) return true;
    return a.min_ == b.min_ && a.max_ == b.max_ && a.offset_ == b.offset_ && a.counts_ == b.counts_;
  }

 private:
  static constexpr double gamma = (1.0 + relative_accuracy) / (1.0 - relative_accuracy);

  [[nodiscard]] static double log_gamma() noexcept {
    static const double v = std::log(gamma);
    return v;
  }
  [[nodiscard]] static std::int32_t index_of(double x) noexcept {
    return static_cast<std::int32_t>(std::ceil(std::log(x) / log_gamma()));
  }
  [[nodiscard]] static double value_of(std::int32_t i) noexcept {
    return 2.0 * std::exp(static_cast<double>(i) * log_gamma()) / (gamma + 1.0);
  }
  static std::uint64_t zigzag(std::int32_t v) noexcept {
    return v < 0 ? (static_cast<std::uint64_t>(-static_cast<std::int64_t>(v)) << 1) - 1 : static_cast<std::uint64_t>(v) << 1;
  }
  static std::int32_t unzigzag(std::uint64_t v) noexcept {
    const auto half = static_cast<std::int64_t>(v >> 1);
    return static_cast<std::int32_t>((v & 1) ? -half - 1 : half);
  }
  static void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
      out += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  }
  static bool get_varint(std::string_view& in, std::uint64_t& v) noexcept {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (in.empty()) return false;
      const auto b = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  static void put_double(std::string& out, double d) {
    char buf[sizeof(double)];
    std::memcpy(buf, &d, sizeof d);
    out.append(buf, sizeof buf);
  }
  static bool get_double(std::string_view& in, double& d) noexcept {
    if (in.size() < sizeof(double)) return false;
    std::memcpy(&d, in.data(), sizeof d);
    in.remove_prefix(sizeof d);
    return true;
  }

  std::uint64_t total_ = 0;
  std::uint64_t zero_count_ = 0;
  std::int32_t offset_ = 0;
  std::vector<std::uint64_t> counts_;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

}  // namespace selfheal::telemetry
