#pragma once
/// \file
/// Normalization (beat 4's concern): timestamps → UTC ns, names trimmed and interned, event kinds
/// mapped onto `event_kind`, `beat-started`/`beat-completed` pairs joined by (correlation id,
/// sequence, beat) into one execution.
///
/// Streaming split: `event_normalizer` runs inside the ingest loop, one per task (a chunk of an
/// NDJSON file or a whole text file), turning each `raw_event_view` into a `normalized_event` with
/// ids from the worker's thread-local `interner`. Pairs that straddle tasks are finished in input
/// order by `pairing_table::apply` (see `task_pairing`), so results equal a one-thread run.

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/timestamp.hpp"

namespace selfheal::telemetry {

/// `id` value meaning "no name".
inline constexpr std::uint32_t no_name = 0xffffffffu;

/// Spaces, tabs, CR/LF trimmed from both ends.
[[nodiscard, gnu::always_inline]] constexpr inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

namespace detail {
/// The last `n` (1 to 7) bytes at `p` as one little-endian word, zero-extended: the value of
/// `memcpy(&v, p, n)` into a zeroed `v`, read with two overlapping loads instead of a byte loop
/// (whose byte stores a word load cannot forward from: a stall of ~15 cycles per hash). `size` is
/// the whole string's length: when it is at least 8, the word ending at `p + n` is in the string.
[[nodiscard, gnu::always_inline]] inline std::uint64_t tail_bytes(const char* p, std::size_t n, std::size_t size) noexcept {
  if constexpr (std::endian::native != std::endian::little) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, n);
    return v;
  } else {
    if (size >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p + n - 8, 8);
      return w >> (8 * (8 - n));
    }
    if (n >= 4) {
      std::uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      return std::uint64_t{lo} | (std::uint64_t{hi} << (8 * (n - 4)));
    }
    if (n >= 2) {
      std::uint16_t lo, hi;
      std::memcpy(&lo, p, 2);
      std::memcpy(&hi, p + n - 2, 2);
      return std::uint64_t{lo} | (std::uint64_t{hi} << (8 * (n - 2)));
    }
    return static_cast<unsigned char>(*p);
  }
}
/// A 64-bit hash of a short string, 8 bytes a step (ids and names are short): no library call.
[[nodiscard, gnu::always_inline]] inline std::uint64_t short_hash(std::string_view s, std::uint64_t seed = 0) noexcept {
  const auto mix = [](std::uint64_t x) noexcept {
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 31);
  };
  // the seed is mixed before any data meets it: seed ^ data alone would make ("1", 1) == ("2", 2)
  std::uint64_t h = mix(0x9E3779B97F4A7C15ull ^ seed) ^ (s.size() * 0xff51afd7ed558ccdull);
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    h = mix(h ^ v) * 0x94d049bb133111ebull;
  }
  if (n != 0) h = mix(h ^ tail_bytes(p, n, s.size()));
  return mix(h ^ (h >> 29));
}
/// A name's first and last 8 bytes (zero-extended when shorter) and its length: for names of at
/// most 16 bytes these hold every byte, so two such names are equal exactly when their ends are.
struct name_ends {
  std::uint64_t first = 0, last = 0;
  std::size_t size = 0;
  [[nodiscard, gnu::always_inline]] static name_ends of(std::string_view s) noexcept {
    name_ends e;
    e.size = s.size();
    if (e.size >= 8) {
      std::memcpy(&e.first, s.data(), 8);
      std::memcpy(&e.last, s.data() + e.size - 8, 8);
    } else if (e.size != 0) {
      e.first = tail_bytes(s.data(), e.size, e.size);
    }
    return e;
  }
  /// A cheap 64-bit hash for a hash table slot (not for keys that are stored), mixed once: names
  /// that share both ends only probe further.
  [[nodiscard, gnu::always_inline]] std::uint64_t hash() const noexcept {
    std::uint64_t h = (first ^ (last << 29 | last >> 35) ^ (size * 0x9E3779B97F4A7C15ull)) * 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
  }
};
}  // namespace detail

/// Names → dense integer ids (per thread; merged by name at the end). One open-addressing table
/// probed by the name's ends (`name_ends`): each slot holds a name's ends and id, so a known name
/// of at most 16 bytes (nearly every handler, sequence and release name) is found with one slot
/// read and no string compare; a longer one is then compared in full. The table grows with the
/// names (a handler set larger than a small cache never thrashes it).
class interner {
  static constexpr std::uint32_t empty = 0xffffffffu;

 public:
  [[nodiscard]] std::uint32_t intern(std::string_view name) {
    const auto ends = detail::name_ends::of(name);
    const std::uint64_t h = ends.hash();
    if (!table_.empty())
      for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
        const slot& s = table_[i];
        if (s.id == empty) break;
        if (s.holds(ends) && (ends.size <= 16 || names_[s.id] == name)) return s.id;
      }
    if ((names_.size() + 1) * 2 > table_.size()) grow();
    const auto id = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(name);
    place(id, ends, h);
    return id;
  }
  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view name) const {
    if (table_.empty()) return std::nullopt;
    const auto ends = detail::name_ends::of(name);
    for (std::size_t i = ends.hash() & mask_;; i = (i + 1) & mask_) {
      const slot& s = table_[i];
      if (s.id == empty) return std::nullopt;
      if (s.holds(ends) && (ends.size <= 16 || names_[s.id] == name)) return s.id;
    }
  }
  [[nodiscard]] const std::string& name(std::uint32_t id) const { return names_[id]; }
  [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }

 private:
  struct slot {
    std::uint64_t first = 0, last = 0;
    std::uint32_t size = 0;  ///< the name's length (names are far below 4 GiB)
    std::uint32_t id = empty;
    [[nodiscard]] bool holds(const detail::name_ends& e) const noexcept {
      return first == e.first && last == e.last && size == e.size;
    }
  };
  void place(std::uint32_t id, const detail::name_ends& ends, std::uint64_t h) noexcept {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_)
      if (table_[i].id == empty) {
        table_[i] = {ends.first, ends.last, static_cast<std::uint32_t>(ends.size), id};
        return;
      }
  }
  void grow() {
    table_.assign(table_.empty() ? 256 : table_.size() * 2, slot{});
    mask_ = table_.size() - 1;
    for (std::uint32_t id = 0; id < names_.size(); ++id) {
      const auto ends = detail::name_ends::of(names_[id]);
      place(id, ends, ends.hash());
    }
  }
  std::vector<std::string> names_;
  std::vector<slot> table_;  // by hash slot; `id == empty` where none
  std::size_t mask_ = 0;
};

namespace detail {
[[nodiscard]] inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}
}  // namespace detail

/// `event|type|kind` text → kind. Case, `_`, `.`, `:` and spaces do not matter
/// ("beat_completed", "Beat.Completed" and "beat-completed" are one kind).
[[nodiscard]] inline event_kind map_event_kind(std::string_view text) noexcept {
  // Fast path: the canonical spellings (what selfheal's own beat events carry).
  // (memcmp with a constant length compiles to a few loads; string_view's == was a call)
  switch (text.size()) {
    case 11: if (std::memcmp(text.data(), "beat-failed", 11) == 0) return event_kind::beat_failed; break;
    case 12: if (std::memcmp(text.data(), "beat-started", 12) == 0) return event_kind::beat_started; break;
    case 14: if (std::memcmp(text.data(), "beat-completed", 14) == 0) return event_kind::beat_completed; break;
    case 15: if (std::memcmp(text.data(), "sequence-failed", 15) == 0) return event_kind::sequence_failed; break;
    case 16: if (std::memcmp(text.data(), "sequence-started", 16) == 0) return event_kind::sequence_started; break;
    case 18: if (std::memcmp(text.data(), "sequence-completed", 18) == 0) return event_kind::sequence_completed; break;
    default: break;
  }
  char buf[32];
  text = trim(text);
  if (text.empty() || text.size() > sizeof buf) return event_kind::other;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    buf[i] = (c == '_' || c == '.' || c == ':' || c == ' ') ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string_view k(buf, text.size());
  struct entry { std::string_view name; event_kind kind; };
  static constexpr entry table[] = {
      {"sequence-started", event_kind::sequence_started}, {"sequence-start", event_kind::sequence_started},
      {"sequence-completed", event_kind::sequence_completed}, {"sequence-complete", event_kind::sequence_completed},
      {"sequence-finished", event_kind::sequence_completed}, {"sequence-end", event_kind::sequence_completed},
      {"sequence-failed", event_kind::sequence_failed}, {"sequence-error", event_kind::sequence_failed},
      {"beat-started", event_kind::beat_started}, {"beat-start", event_kind::beat_started},
      {"started", event_kind::beat_started}, {"start", event_kind::beat_started}, {"begin", event_kind::beat_started},
      {"span-start", event_kind::beat_started},
      {"beat-completed", event_kind::beat_completed}, {"beat-complete", event_kind::beat_completed},
      {"beat-end", event_kind::beat_completed}, {"completed", event_kind::beat_completed},
      {"complete", event_kind::beat_completed}, {"finished", event_kind::beat_completed},
      {"end", event_kind::beat_completed}, {"done", event_kind::beat_completed}, {"span-end", event_kind::beat_completed},
      {"beat-failed", event_kind::beat_failed}, {"beat-error", event_kind::beat_failed},
      {"failed", event_kind::beat_failed}, {"failure", event_kind::beat_failed},
  };
  for (const auto& e : table)
    if (e.name == k) return e.kind;
  return event_kind::other;
}

/// `level|severity|lvl` values that mean an error (case-insensitive; Serilog's ERR/FTL included).
[[nodiscard]] inline bool is_error_level(std::string_view level) noexcept {
  level = trim(level);
  if (level.empty()) return false;
  switch (level[0]) {  // every error level starts with one of these
    case 'e': case 'E': case 'f': case 'F': case 'c': case 'C': case 'a': case 'A': case 'p': case 'P':
    case 's': case 'S': break;
    default: return false;
  }
  for (std::string_view e : {"error", "err", "fatal", "ftl", "critical", "crit", "crt", "emerg", "emergency", "alert",
                             "panic", "severe", "e", "f"})
    if (detail::iequals(level, e)) return true;
  return false;
}

/// `status` values that mean failure.
[[nodiscard]] inline bool is_error_status(std::string_view status) noexcept {
  status = trim(status);
  if (status.empty()) return false;
  switch (status[0]) {
    case 'e': case 'E': case 'f': case 'F': case 'k': case 'K': break;
    default: return false;
  }
  for (std::string_view e : {"error", "failed", "failure", "fail", "err", "errored", "ko"})
    if (detail::iequals(status, e)) return true;
  return false;
}

/// An error field counts when it is present and not empty/false/null/0.
[[nodiscard]] inline bool is_error_value(std::string_view v) noexcept {
  v = trim(v);
  return !(v.empty() || v == "false" || v == "null" || v == "0" || detail::iequals(v, "none"));
}

/// Duration in ms → integer ns; nullopt when negative, not finite or above ~31 years.
[[nodiscard]] inline std::optional<std::int64_t> duration_ms_to_ns(double ms) noexcept {
  if (!std::isfinite(ms) || ms < 0 || ms > 1e12) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(ms * 1e6));
}

/// Start of the window holding `ts` (floor division, so negative times work); `no_time` stays.
[[nodiscard]] constexpr std::int64_t window_start(std::int64_t ts, std::int64_t window_ns) noexcept {
  if (ts == no_time || window_ns <= 0) return no_time;
  std::int64_t q = ts / window_ns;
  if (ts % window_ns < 0) --q;
  return q * window_ns;
}

/// One event after normalization: ids, not names; the error text still borrows the chunk.
struct normalized_event {
  std::int64_t ts_ns = no_time;
  event_kind kind = event_kind::other;
  std::uint32_t handler = no_name;
  std::uint32_t sequence = no_name;
  std::uint32_t release = no_name;
  std::int64_t duration_ns = -1;     ///< -1: none logged (pairing may supply one)
  bool failed = false;
  bool execution = false;            ///< a handler execution by the issue's definition
  bool sequence_execution = false;   ///< a sequence completion/failure
  std::string_view error_message;    ///< non-empty when the event is an error
};

/// The time of a raw event, or an error reason for an unparsable one. `no_time` when it has none.
/// With `memo`, ISO-8601 text goes through it (same results, faster on a log's repeating prefix).
[[nodiscard]] inline std::optional<std::int64_t> normalize_time(const raw_event_view& e, std::string& reason,
                                                                iso8601_memo* memo = nullptr) {
  if (e.has_ts_number) {
    auto t = e.ts_is_integer ? epoch_to_ns(e.ts_integer) : epoch_to_ns(e.ts_number);
    if (!t) reason = "timestamp number out of range";
    return t;
  }
  if (!e.ts_text.empty()) {
    auto t = memo ? memo->parse(e.ts_text) : parse_iso8601(e.ts_text);
    if (!t) {
      reason = "unparsable timestamp '" + std::string(e.ts_text.substr(0, 40)) + "'";
      return std::nullopt;
    }
    return t;
  }
  return no_time;
}

namespace detail {
/// The home slot of a hashed key in a power-of-two table of `mask + 1` slots (the key mixed once
/// more: its high bits decide).
[[nodiscard]] inline std::size_t home_slot(std::uint64_t key, std::size_t mask) noexcept {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}
/// Rebuilds a linear-probing table of `Slot`s (a `key` of 0 marks an empty slot) at `cap` slots.
template <class Slot>
void rehash_slots(std::vector<Slot>& slots, std::size_t& mask, std::size_t cap) {
  std::vector<Slot> old = std::move(slots);
  slots.assign(cap, Slot{});
  mask = cap - 1;
  for (const auto& sl : old) {
    if (sl.key == 0) continue;
    std::size_t i = home_slot(sl.key, mask);
    while (slots[i].key != 0) i = (i + 1) & mask;
    slots[i] = sl;
  }
}

/// uint64 → int64 with open addressing (linear probing, power-of-two capacity, at most half full):
/// one flat array of 16-byte slots, no allocation per entry. Keys are already hashes; they are
/// mixed once more for the slot. Key 0 marks an empty slot, so the key 0 itself is kept aside.
class flat_key_map {
 public:
  /// The value of `key`, or nullptr.
  [[nodiscard]] std::int64_t* find(std::uint64_t key) noexcept {
    if (key == 0) return has_zero_ ? &zero_value_ : nullptr;
    if (slots_.empty()) return nullptr;
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask_) {
      auto& sl = slots_[i];
      if (sl.key == key) return &sl.value;
      if (sl.key == 0) return nullptr;
    }
  }
  /// Sets `key` to `value` (inserting it when absent).
  void set(std::uint64_t key, std::int64_t value) {
    bool inserted = false;
    find_or_insert(key, value, inserted) = value;
  }
  /// The value of `key`, inserting `value` when absent (`inserted` says which): one probe.
  std::int64_t& find_or_insert(std::uint64_t key, std::int64_t value, bool& inserted) {
    if (key == 0) {
      inserted = !has_zero_;
      if (inserted) {
        has_zero_ = true;
        zero_value_ = value;
        ++size_;
      }
      return zero_value_;
    }
    if ((size_ + 1) * 2 > slots_.size()) grow();
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask_) {
      auto& sl = slots_[i];
      if (sl.key == key) {
        inserted = false;
        return sl.value;
      }
      if (sl.key == 0) {
        sl = {key, value};
        ++size_;
        inserted = true;
        return sl.value;
      }
    }
  }
  /// Removes `key` if present (backward shift: no tombstones, probes stay short).
  void erase(std::uint64_t key) noexcept {
    if (key == 0) {
      if (has_zero_) --size_;
      has_zero_ = false;
      return;
    }
    if (size_ == 0 || slots_.empty()) return;
    std::size_t i = slot_of(key);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].key == 0) return;
      if (slots_[i].key == key) break;
    }
    // move later entries of the run into the hole when their home allows it
    for (std::size_t j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
      const std::size_t h = slot_of(slots_[j].key);
      const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = slot{};
    --size_;
  }
  /// Calls `f(key, value)` for every entry (in no particular order).
  template <class F>
  void for_each(F&& f) const {
    if (has_zero_) f(std::uint64_t{0}, zero_value_);
    for (const auto& sl : slots_)
      if (sl.key != 0) f(sl.key, sl.value);
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Room for `n` entries without growing.
  void reserve(std::size_t n) {
    std::size_t cap = slots_.empty() ? 64 : slots_.size();
    while (n * 2 > cap) cap *= 2;
    if (cap != slots_.size()) rehash(cap);
  }
  /// Removes every entry, keeping the capacity.
  void clear() noexcept {
    if (size_ == 0) return;
    std::fill(slots_.begin(), slots_.end(), slot{});
    has_zero_ = false;
    size_ = 0;
  }

 private:
  struct slot {
    std::uint64_t key = 0;  // 0: empty
    std::int64_t value = 0;
  };
  [[nodiscard]] std::size_t slot_of(std::uint64_t key) const noexcept { return home_slot(key, mask_); }
  void grow() { rehash(slots_.empty() ? 64 : slots_.size() * 2); }
  void rehash(std::size_t cap) { rehash_slots(slots_, mask_, cap); }
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;  // entries, the key 0 included
  bool has_zero_ = false;
  std::int64_t zero_value_ = 0;
};
}  // namespace detail

/// Started/completed joining state of one task (a chunk or a whole text file).
///
/// A completion that finds its start in this task is joined here. A completion whose key this task
/// has not touched before is *deferred*: its start, if any, is in an earlier task. At the end the
/// task reports, per touched key, whether a start is left open (`final_starts`), and the ordered
/// reducer (`pairing_table::apply`) replays deferred completions then final states, task by task in
/// input order: exactly what one thread reading everything in order would do.
struct task_pairing {
  static constexpr std::int64_t cleared = no_time + 1;

  struct deferred {
    std::uint64_t key = 0;
    std::int64_t ts_ns = no_time;
    std::string handler;   ///< names, not ids: the reducer has its own interner
    std::string sequence;
    std::string error_message;
    bool failed = false;
    bool sequence_level = false;  ///< a sequence completion (else a beat/handler execution)
  };
  detail::flat_key_map touched;  ///< key hash → open start ts, or `cleared`
  std::vector<deferred> deferred_completions;
};

/// The ordered, cross-task start table (one per run).
class pairing_table {
 public:
  /// Looks up and consumes the open start of `key`: the execution's start time, if any.
  std::optional<std::int64_t> take(std::uint64_t key) {
    const auto* ts = open_.find(key);
    if (ts == nullptr) return std::nullopt;
    const auto out = *ts;
    open_.erase(key);
    return out;
  }
  /// Applies a task's end state (after its deferred completions were resolved with `take`).
  void apply_final(const task_pairing& t) {
    t.touched.for_each([this](std::uint64_t key, std::int64_t ts) {
      if (ts != task_pairing::cleared) open_.set(key, ts);
      else open_.erase(key);  // the common case (nothing open) costs nothing
    });
  }
  [[nodiscard]] std::size_t open_starts() const noexcept { return open_.size(); }
  /// The open starts, sorted by key (what a resumed run picks up).
  [[nodiscard]] std::vector<std::pair<std::uint64_t, std::int64_t>> open_entries() const {
    std::vector<std::pair<std::uint64_t, std::int64_t>> out;
    out.reserve(open_.size());
    open_.for_each([&out](std::uint64_t key, std::int64_t ts) { out.emplace_back(key, ts); });
    std::sort(out.begin(), out.end());
    return out;
  }
  /// Starts left open by the previous run of the same source.
  void preload(const std::vector<std::pair<std::uint64_t, std::int64_t>>& starts) {
    for (const auto& [key, ts] : starts) open_.set(key, ts);
  }

 private:
  detail::flat_key_map open_;  // key → its open start
};

/// Per-task normalizer: raw event → `normalized_event`, joining pairs it can join locally.
class event_normalizer {
 public:
  explicit event_normalizer(interner& names) : names_(&names) {}

  /// Normalizes `e`. Returns the event, or nullopt with `reason` set (the line is bad).
  /// A completion without duration whose start is in an earlier task is deferred: it is returned
  /// with `deferred = true` and must not be aggregated by the caller.
  std::optional<normalized_event> normalize(const raw_event_view& e, std::string& reason, bool& deferred) {
    deferred = false;
    normalized_event n;
    auto ts = normalize_time(e, reason, &iso_);
    if (!ts) return std::nullopt;
    n.ts_ns = *ts;
    n.kind = e.has_known_kind ? e.known_kind : map_event_kind(e.kind);
    const auto handler = trim(e.handler);
    const auto sequence = trim(e.sequence);
    const auto release = trim(e.release);
    if (!handler.empty()) n.handler = names_->intern(handler);
    if (!sequence.empty()) n.sequence = names_->intern(sequence);
    if (!release.empty()) n.release = names_->intern(release);
    if (e.has_duration) {
      auto d = duration_ms_to_ns(e.duration_ms);
      if (!d) {
        reason = "duration out of range";
        return std::nullopt;
      }
      n.duration_ns = *d;
    }
    const bool error_field = e.has_error && is_error_value(e.error);
    n.failed = n.kind == event_kind::beat_failed || n.kind == event_kind::sequence_failed || error_field ||
               (!e.level.empty() && is_error_level(e.level)) || (!e.status.empty() && is_error_status(e.status));
    if (n.failed) {
      // The most specific text there is: the error, the message, else what marked it failed.
      if (error_field && e.error != "true") {
        n.error_message = trim(e.error);
      } else if (!trim(e.message).empty()) {
        n.error_message = trim(e.message);
      } else if (!e.status.empty() && is_error_status(e.status)) {
        msg_.assign("status=").append(trim(e.status));
        n.error_message = msg_;
      } else if (!e.level.empty() && is_error_level(e.level)) {
        msg_.assign("level=").append(trim(e.level));
        n.error_message = msg_;
      } else {
        n.error_message = to_string(n.kind);
      }
    }
    switch (n.kind) {
      case event_kind::beat_completed:
      case event_kind::beat_failed:
        n.execution = true;
        break;
      case event_kind::sequence_completed:
      case event_kind::sequence_failed:
        n.sequence_execution = true;
        break;
      case event_kind::beat_started:
      case event_kind::sequence_started:
        break;
      case event_kind::other:
        // a line of a raw log counts as a call of its component, timed or not (counts, error rates)
        n.execution = n.handler != no_name && (n.duration_ns >= 0 || e.component_handler);
        break;
    }
    // Joining: starts open a key, completions close it.
    const bool is_start = n.kind == event_kind::beat_started || n.kind == event_kind::sequence_started;
    const bool is_end = n.execution ? n.kind != event_kind::other : n.sequence_execution;
    if (is_start || is_end) {
      const bool seq_level = n.kind == event_kind::sequence_started || n.sequence_execution;
      const std::uint64_t key = make_key(e, seq_level, handler, sequence);
      bool fresh = false;  // (one probe: a key this task has not touched is inserted as cleared)
      std::int64_t& slot = pairs_.touched.find_or_insert(key, task_pairing::cleared, fresh);
      if (is_start) {
        slot = n.ts_ns == no_time ? task_pairing::cleared : n.ts_ns;
      } else if (!fresh) {
        if (n.duration_ns < 0 && slot != task_pairing::cleared && n.ts_ns != no_time && n.ts_ns >= slot)
          n.duration_ns = n.ts_ns - slot;
        slot = task_pairing::cleared;
      } else {
        if (n.duration_ns < 0) {
          deferred = true;
          pairs_.deferred_completions.push_back(
              {key, n.ts_ns, std::string(handler), std::string(sequence), std::string(n.error_message), n.failed,
               n.sequence_execution});
        }
      }
    }
    return n;
  }

  /// Hands over the task's pairing state (for `pairing_table`).
  /// The next task's table starts at this one's size (a task of the same file touches about as
  /// many keys): it does not grow through every power of two again.
  [[nodiscard]] task_pairing take_pairing() {
    const std::size_t touched = pairs_.touched.size();
    auto out = std::exchange(pairs_, {});
    pairs_.touched.reserve(touched);
    return out;
  }

 private:
  /// The joining key (correlation id, sequence, beat or handler) as a 64-bit hash: pairs are joined
  /// by key equality, and 64 bits make an accidental collision negligible (~n²/2⁶⁵). `short_hash`
  /// chained over the three parts (each part's length is mixed in, so no part can shift into the
  /// next): no text put together per event, and the same value with any standard library. The
  /// stored open starts of a resumed source hold it, so it must not change (until telemetry
  /// migration 5 it was `std::hash` of the parts joined by \x1f, which libstdc++ and libc++ compute
  /// differently; that migration drops the starts stored with it).
  static std::uint64_t make_key(const raw_event_view& e, bool seq_level, std::string_view handler, std::string_view sequence) noexcept {
    std::string_view last;
    if (!seq_level) {
      const auto beat = trim(e.beat);
      last = beat.empty() ? handler : beat;
    }
    constexpr std::uint64_t seed = 0x70616972696e67ull;
    return detail::short_hash(last, detail::short_hash(sequence, detail::short_hash(trim(e.correlation), seed)));
  }

  interner* names_;
  iso8601_memo iso_;
  task_pairing pairs_;
  std::string msg_;  // composed error text; valid until the next event
};

}  // namespace selfheal::telemetry
