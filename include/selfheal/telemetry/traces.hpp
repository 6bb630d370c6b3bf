#pragma once
/// \file
/// Execution paths: which beats each sequence execution ran, and in which order, counted by path.
///
/// An *execution* is what one correlation id did from its `sequence-started` event to its
/// `sequence-completed` or `sequence-failed` event (DESIGN.md's beat events, which selfheal writes
/// itself). Its *path* is its sequence and the beats that completed or failed in it, each known by
/// (beat, topic, handler) as logged, in time order and each beat once (a retry folds into the first
/// occurrence); `beat-started` events add nothing. A run stores paths with counts, never single
/// executions, so storage is bounded by the distinct paths, not by traffic. anomaly.detect compares
/// them with the monitored application's sequence definitions (missing, out-of-order and unexpected
/// beats, with the share of executions).
///
/// Work split, as for started/completed pairs: each worker's `trace_builder` groups the beat events
/// of its task (a chunk) by correlation id and counts the executions that start and end there by
/// path, with no shared state; `trace_table` joins what is left (executions open at a task's end,
/// beats of executions started earlier) per file in input order, so the result does not depend on
/// the thread count. Cost: `telemetry_bench`'s `BM_selfheal_executions` (traces on vs off).
///
/// Bounds and what is not guessed:
/// - At most `trace_limits::max_open` executions are open per file; beyond, the oldest is closed
///   as incomplete and counted in `evicted`.
/// - An execution still open at the end of a file that the next run resumes (not standard input,
///   not a source that failed) is *carried*: stored with the record, not counted in it, and picked
///   up by the run that resumes the file, where it is counted when it ends. Elsewhere an execution
///   open at the end of its data is closed as incomplete.
/// - At most `max_paths_per_sequence` distinct paths are kept per sequence: the executions of the
///   rarer paths go into one `rest` row, so every share computed from the paths stays exact.
/// - During the run at most `max_held_per_sequence` distinct paths are held per sequence (and
///   `max_paths` in all), so memory does not grow with the input: under that bound every count is
///   exact; beyond it `path_counter` is a space-saving summary (the least frequent held path makes
///   room, its executions go to the rest row, counted in `paths_replaced`), which keeps every path
///   more frequent than 1/`max_held_per_sequence` of its sequence, and totals stay exact.
/// - A log without `sequence-started` events (OpenTelemetry-style spans have none either; decided
///   per file: once a file shows one, its stray beats stay untraced as below): beats
///   that carry a correlation id and a sequence are grouped by (correlation id, sequence) into an
///   *implicit* execution, ordered by timestamp (not by their `beat` field: that is what the code
///   says, not what ran), which ends at its `sequence-completed`/`-failed` event, after
///   `trace_limits::idle_timeout_ns` without a beat (default 5 min, `--execution-timeout`), or at
///   the end of its input; it is complete then (never carried to the next run, so a run boundary
///   can cut one in two). The same correlation id running two sequences makes two executions.
/// - A beat with a correlation id but no sequence and no open execution (an execution that began
///   before the data, in another file or in a rotated-away file) is counted in `untraced_beats`,
///   never attached to a guess.

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "selfheal/telemetry/metrics.hpp"
#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/normalize.hpp"

namespace selfheal::telemetry {

namespace detail {
/// Whether two label-id sequences of `n` are equal: an inline loop (paths are a dozen ids; a
/// library memcmp call costs more than the compare).
[[nodiscard]] inline bool same_ids(const std::uint32_t* a, const std::uint32_t* b, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}
/// Whether `n` bytes at `a` and `b` are equal; short runs (a beat, a topic) without a library call.
[[nodiscard]] inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
  if (n > 8) return std::memcmp(a, b, n) == 0;
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

/// An execution's path from its beats as logged: in time order when every beat has a time (a
/// stable sort, so equal times keep log order), each beat once, at its first occurrence. Returns
/// the execution's start: the earlier of `first_ns` and its first beat. `Step` has `label` and
/// `ts_ns`; `labels` receives the path.
template <class Step>
std::int64_t canonical_path(std::vector<Step>& steps, std::int64_t first_ns, std::vector<std::uint32_t>& labels) {
  const auto by_time = [](const Step& a, const Step& b) { return a.ts_ns < b.ts_ns; };
  if (std::all_of(steps.begin(), steps.end(), [](const Step& st) { return st.ts_ns != no_time; }) &&
      !std::is_sorted(steps.begin(), steps.end(), by_time))
    std::stable_sort(steps.begin(), steps.end(), by_time);
  labels.clear();
  for (const auto& st : steps)
    if (std::find(labels.begin(), labels.end(), st.label) == labels.end()) labels.push_back(st.label);
  return earliest(first_ns, steps.empty() ? no_time : steps.front().ts_ns);
}
}  // namespace detail

struct trace_limits {
  bool enabled = true;                       ///< off: no paths, no carried executions
  std::size_t max_open = 65536;              ///< open executions per file
  std::size_t max_paths_per_sequence = 256;  ///< distinct paths stored per sequence
  std::size_t max_paths = 1 << 16;           ///< distinct paths held during the run, all sequences
  /// An execution without `sequence-started` (beats grouped by correlation id and sequence) ends
  /// after this long without a beat, at its sequence-completed/-failed event, or at the end of input.
  std::int64_t idle_timeout_ns = 300'000'000'000;
  /// Distinct paths held per sequence during the run (space-saving, see `path_counter`); at least
  /// `max_paths_per_sequence` is held whatever this says.
  std::size_t max_held_per_sequence = 8192;
};

namespace detail {
/// uint64 → uint32 with open addressing (linear probing, backward-shift deletion): one flat
/// array, no allocation per entry. Keys are hashes; they are mixed once more for the slot.
class u64_index {
 public:
  static constexpr std::uint32_t none = 0xffffffffu;
  [[nodiscard]] std::uint32_t find(std::uint64_t key) const noexcept {
    if (slots_.empty()) return none;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const auto& sl = slots_[i];
      if (sl.value == none) return none;
      if (sl.key == key) return sl.value;
    }
  }
  /// Sets `key` to `value` (inserting it when absent); `value` must not be `none`.
  void set(std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();  // at most half full: a miss ends after ~2.5 probes
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      auto& sl = slots_[i];
      if (sl.value == none) {
        sl = {key, value};
        ++size_;
        return;
      }
      if (sl.key == key) {
        sl.value = value;
        return;
      }
    }
  }
  void erase(std::uint64_t key) noexcept {
    if (slots_.empty()) return;
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].value == none) return;
      if (slots_[i].key == key) break;
    }
    // backward shift: move later entries of the run into the hole when their home allows it
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (slots_[j].value == none) break;
      const std::size_t h = home(slots_[j].key);
      const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].value = none;
    --size_;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Starts loading the slot where a lookup of `key` begins.
  void prefetch(std::uint64_t key) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(key)]);
  }

 private:
  struct slot {
    std::uint64_t key = 0;
    std::uint32_t value = none;
  };
  [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept { return home_slot(key, mask_); }
  void grow() {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, slot{});
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (const auto& sl : old)
      if (sl.value != none) set(sl.key, sl.value);
  }
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};
}  // namespace detail

namespace detail {
/// A worker's labels (handler id, beat, topic) → the run's label ids: open addressing (at most
/// half full) with 24-byte slots that hold what the check needs (handler, sizes, where the text
/// is), the texts in one arena. A lookup is one slot, usually one cache line (`prefetch` it early),
/// and a compare of a few hot bytes. Two labels with one hash both get a slot: exact.
class label_cache {
 public:
  static constexpr std::uint32_t none = 0xffffffffu;
  static constexpr std::size_t max_text = 0xffff;  ///< a longer beat or topic is not cached
  /// The label's key (never 0: 0 marks an empty slot).
  [[nodiscard]] static std::uint64_t key_of(std::uint32_t handler, std::string_view beat, std::string_view topic) noexcept {
    return short_hash(topic, short_hash(beat, handler)) | 1u;
  }
  void prefetch(std::uint64_t key) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(key)]);
  }
  /// The id cached for the label (`key` from `key_of`), or `none`.
  [[nodiscard]] std::uint32_t find(std::uint64_t key, std::uint32_t handler, std::string_view beat,
                                   std::string_view topic) const noexcept {
    if (slots_.empty()) return none;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const auto& sl = slots_[i];
      if (sl.key == 0) return none;
      if (sl.key == key && sl.handler == handler && sl.beat_size == beat.size() && sl.topic_size == topic.size()) {
        const char* text = text_.data() + sl.text_at;
        if (same_bytes(text, beat.data(), beat.size()) && same_bytes(text + beat.size(), topic.data(), topic.size())) return sl.id;
      }
    }
  }
  /// Caches `id` for the label (not cached yet).
  void insert(std::uint64_t key, std::uint32_t handler, std::string_view beat, std::string_view topic, std::uint32_t id) {
    if (beat.size() > max_text || topic.size() > max_text) return;
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = home(key);
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = {key, handler, id, static_cast<std::uint32_t>(text_.size()), static_cast<std::uint16_t>(beat.size()),
                 static_cast<std::uint16_t>(topic.size())};
    text_.append(beat).append(topic);
    ++size_;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t text_size() const noexcept { return text_.size(); }
  void clear() noexcept {
    std::fill(slots_.begin(), slots_.end(), slot{});
    text_.clear();
    size_ = 0;
  }

 private:
  struct slot {
    std::uint64_t key = 0;  // 0: empty
    std::uint32_t handler = 0, id = 0;
    std::uint32_t text_at = 0;  // beat then topic, in `text_`
    std::uint16_t beat_size = 0, topic_size = 0;
  };
  [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept { return home_slot(key, mask_); }
  void grow() { rehash_slots(slots_, mask_, slots_.empty() ? 256 : slots_.size() * 2); }
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::string text_;
};
}  // namespace detail

/// The distinct execution paths of a run with their counts, in bounded memory: per sequence at
/// most `held_per_sequence` paths, and at most `held_total` over all sequences. Under those bounds
/// every count is exact. Beyond them it is a space-saving summary (Metwally et al.): a new path
/// takes the place of the held path with the lowest estimate (its count plus the estimate it
/// inherited when it came in; ties: the least recently counted), whose exact counts go into its
/// sequence's rest. So a path more frequent than 1/`held_per_sequence` of its sequence's
/// executions is always held; a held path's counts are exact since it was last taken in (earlier
/// ones are in the rest); and the held paths and the rest add up to every execution exactly.
/// Labels are ids of the caller's label table; a path is (sequence, labels).
///
/// The held paths of a sequence are kept as Metwally's *stream summary*: one bucket per estimate
/// (ordered), each a list of its paths, least recently counted first. Counting a path moves it to
/// the tail of its new estimate's bucket, and the path that makes room is the head of the lowest
/// bucket: O(1) entries touched per path (plus a map step among the few distinct estimates), where
/// a heap of thousands of near-equal paths walked a dozen of them, each a cache miss.
class path_counter {
 public:
  static constexpr std::uint32_t none = 0xffffffffu;
  struct counts {
    std::uint64_t executions = 0, failed = 0, incomplete = 0;
    std::int64_t first_ns = no_time, last_ns = no_time;
    void merge(const counts& o) noexcept {
      executions += o.executions;
      failed += o.failed;
      incomplete += o.incomplete;
      first_ns = earliest(first_ns, o.first_ns);
      last_ns = latest(last_ns, o.last_ns);
    }
  };
  struct entry {
    std::uint32_t sequence = none;
    std::vector<std::uint32_t> labels;
    counts c;
    std::uint64_t hash = 0;
    std::uint64_t estimate = 0;                  ///< space-saving: inherited estimate + executions
    std::uint32_t prev = none, after = none;     ///< neighbours in its estimate's bucket
    std::uint32_t next = none;                   ///< the next entry with the same hash (a collision chain)
  };

  path_counter(std::size_t held_per_sequence, std::size_t held_total)
      : held_per_sequence_(std::max<std::size_t>(1, held_per_sequence)), held_total_(std::max<std::size_t>(1, held_total)) {}

  /// The hash a path is held under (for `prefetch` and `add`).
  [[nodiscard]] static std::uint64_t hash_of(std::uint32_t sequence, const std::uint32_t* labels, std::size_t n) noexcept {
    return detail::short_hash({reinterpret_cast<const char*>(labels), n * sizeof(std::uint32_t)}, sequence);
  }
  /// Starts loading the index slot of a path about to be added (its hash, `hash_of`).
  void prefetch(std::uint64_t h) const noexcept { index_.prefetch(h); }

  /// Counts `c` (at least one execution) under the path (`sequence`, `labels`).
  void add(std::uint32_t sequence, const std::uint32_t* labels, std::size_t n, const counts& c) {
    add(hash_of(sequence, labels, n), sequence, labels, n, c);
  }
  /// The same, with the path's hash already known (`h` must be `hash_of(sequence, labels, n)`).
  void add(std::uint64_t h, std::uint32_t sequence, const std::uint32_t* labels, std::size_t n, const counts& c) {
    if (c.executions == 0) return;
    auto& seq = sequence_state(sequence);
    const bool room = seq.held < held_per_sequence_ && held_ < held_total_;
    if (!room && seq.held != 0) index_.prefetch(entries_[seq.buckets.begin()->second.head].hash);  // the path that would make room: overlaps the lookup
    for (std::uint32_t i = index_.find(h); i != none; i = entries_[i].next) {
      auto& e = entries_[i];
      if (e.sequence == sequence && e.labels.size() == n && detail::same_ids(labels, e.labels.data(), n)) {
        e.c.merge(c);
        detach(seq, i);
        e.estimate += c.executions;
        attach(seq, i);
        return;
      }
    }
    std::uint32_t slot = none;
    std::uint64_t inherited = 0;
    if (room) {
      slot = static_cast<std::uint32_t>(entries_.size());
      entries_.emplace_back();
      ++seq.held;
      ++held_;
    } else if (seq.held != 0) {
      // space-saving: the held path with the lowest estimate makes room; its counts go to the rest
      slot = seq.buckets.begin()->second.head;
      auto& old = entries_[slot];
      seq.rest.merge(old.c);
      inherited = old.estimate;
      unlink(slot);
      detach(seq, slot);
      ++replaced_;
    } else {  // every held path belongs to other sequences
      seq.rest.merge(c);
      return;
    }
    auto& e = entries_[slot];
    e.sequence = sequence;
    e.labels.assign(labels, labels + n);  // keeps its capacity: no allocation once warm
    e.c = c;
    e.hash = h;
    e.estimate = inherited + c.executions;
    e.next = index_.find(h);
    index_.set(h, slot);
    attach(seq, slot);
  }

  /// Calls `f(sequence, held entries, rest)` for every sequence seen (`none` first, then by id).
  template <class F>
  void for_each_sequence(F&& f) const {
    std::vector<const entry*> held;
    for (std::size_t s = 0; s < sequences_.size(); ++s) {
      const auto& st = sequences_[s];
      if (st.held == 0 && st.rest.executions == 0) continue;
      held.clear();
      for (const auto& [estimate, b] : st.buckets)
        for (std::uint32_t i = b.head; i != none; i = entries_[i].after) held.push_back(&entries_[i]);
      f(static_cast<std::uint32_t>(s) - 1u, static_cast<const std::vector<const entry*>&>(held), st.rest);
    }
  }

  [[nodiscard]] std::size_t held() const noexcept { return held_; }
  /// How often a held path made room for another (its executions went to the rest).
  [[nodiscard]] std::uint64_t replaced() const noexcept { return replaced_; }

 private:
  struct bucket {
    std::uint32_t head = none, tail = none;  ///< least recently counted first
  };
  struct sequence_paths {
    std::map<std::uint64_t, bucket> buckets;  ///< the held entries by estimate
    std::size_t held = 0;
    counts rest;
  };

  /// Sequence ids are dense from 0: sequence s at s + 1, `none` (no sequence) at 0.
  sequence_paths& sequence_state(std::uint32_t s) {
    const std::size_t i = static_cast<std::uint32_t>(s + 1u);
    if (i >= sequences_.size()) sequences_.resize(i + 1);
    return sequences_[i];
  }

  /// Takes entry `i` out of its bucket (a bucket left empty goes; its map node is kept for the next).
  void detach(sequence_paths& seq, std::uint32_t i) {
    auto& e = entries_[i];
    const auto it = seq.buckets.find(e.estimate);
    auto& b = it->second;
    if (e.prev == none) b.head = e.after;
    else entries_[e.prev].after = e.after;
    if (e.after == none) b.tail = e.prev;
    else entries_[e.after].prev = e.prev;
    if (b.head == none) spare_ = seq.buckets.extract(it);
  }

  /// Puts entry `i` at the tail of its estimate's bucket (the most recently counted).
  void attach(sequence_paths& seq, std::uint32_t i) {
    auto& e = entries_[i];
    auto it = seq.buckets.find(e.estimate);
    if (it == seq.buckets.end()) {
      if (spare_.empty()) {
        it = seq.buckets.emplace(e.estimate, bucket{}).first;
      } else {  // the node of a bucket that went empty: no allocation
        spare_.key() = e.estimate;
        spare_.mapped() = bucket{};
        it = seq.buckets.insert(std::move(spare_)).position;
      }
    }
    auto& b = it->second;
    e.prev = b.tail;
    e.after = none;
    if (b.tail == none) b.head = i;
    else entries_[b.tail].after = i;
    b.tail = i;
  }

  /// Takes entry `i` out of the hash index.
  void unlink(std::uint32_t i) {
    const std::uint64_t h = entries_[i].hash;
    const std::uint32_t head = index_.find(h);
    if (head == i) {
      if (entries_[i].next == none) index_.erase(h);
      else index_.set(h, entries_[i].next);
      return;
    }
    for (std::uint32_t k = head; k != none; k = entries_[k].next)
      if (entries_[k].next == i) {
        entries_[k].next = entries_[i].next;
        return;
      }
  }

  std::size_t held_per_sequence_, held_total_;
  std::vector<entry> entries_;
  std::vector<sequence_paths> sequences_;
  std::map<std::uint64_t, bucket>::node_type spare_;
  detail::u64_index index_;
  std::size_t held_ = 0;
  std::uint64_t replaced_ = 0;
};

/// The run's beat labels (beat, topic, handler), one id each, shared by every worker's builder and
/// the table: a worker asks for a label's id the first time it meets it in the run (then it keeps
/// the id), so no task sends its labels as strings and no reducer hashes them again. Ids are given
/// in the order workers first ask, which varies between runs with several workers; nothing counted
/// or printed depends on an id's value (paths are compared and sorted by their labels).
class label_registry {
 public:
  static constexpr std::uint32_t none = detail::u64_index::none;
  /// The id of the label, given now if it has none: by a hash of its three strings, checked against
  /// the label itself (two labels with one hash, rare, are told apart in `collisions_`).
  std::uint32_t id(std::string_view handler, std::string_view beat, std::string_view topic) {
    const std::uint64_t h = detail::short_hash(handler, detail::short_hash(topic, detail::short_hash(beat)));
    const std::lock_guard lock(mu_);
    const std::uint32_t found = index_.find(h);
    if (found == none) {
      const auto fresh_id = static_cast<std::uint32_t>(labels_.size());
      index_.set(h, fresh_id);
      labels_.push_back({std::string(beat), std::string(topic), std::string(handler)});
      return fresh_id;
    }
    const auto& l = labels_[found];
    if (l.handler == handler && l.beat == beat && l.topic == topic) return found;
    auto [it, fresh] = collisions_.emplace(path_step{std::string(beat), std::string(topic), std::string(handler)},
                                           static_cast<std::uint32_t>(labels_.size()));
    if (fresh) labels_.push_back(it->first);
    return it->second;
  }
  std::uint32_t id(const path_step& l) { return id(l.handler, l.beat, l.topic); }
  /// Every label so far, by id.
  [[nodiscard]] std::vector<path_step> all() const {
    const std::lock_guard lock(mu_);
    return labels_;
  }

 private:
  mutable std::mutex mu_;
  detail::u64_index index_;                        // label hash → id (the first label with that hash)
  std::map<path_step, std::uint32_t> collisions_;  // the other labels with a hash already taken
  std::vector<path_step> labels_;
};

/// What one task saw of executions, with sequence names resolved and labels as run-wide ids
/// (`label_registry`): the executions that started and ended in the task, already counted by path;
/// those that started but are still open, as fragments in first-seen order; and every other beat or
/// end event with a correlation id ("headless": it belongs to an execution that started earlier, or
/// to none), in input order.
struct trace_batch {
  static constexpr std::uint32_t no_sequence = 0xffffffffu;
  static constexpr std::uint32_t no_label = 0xffffffffu;
  struct fragment {
    std::uint64_t key = 0;                   ///< hash of the correlation id (implicit: and of the sequence)
    std::uint32_t sequence = no_sequence;    ///< index into `sequences`
    std::uint32_t begin = 0, end = 0;        ///< its steps: `steps[begin, end)`
    std::int64_t first_ns = no_time;         ///< time of its sequence-started event
    std::uint64_t corr_key = 0;              ///< hash of the correlation id alone
    bool implicit = false;                   ///< no sequence-started seen: grouped by (correlation id, sequence)
    bool ended = false, failed = false;      ///< implicit only: its sequence-completed/-failed came in the task
  };
  struct step {
    std::uint32_t label = 0;                 ///< the run's label id (`label_registry`)
    std::int64_t ts_ns = no_time;
  };
  struct headless {
    std::uint64_t key = 0;
    std::uint64_t alt_key = 0;               ///< an end event's (correlation id, sequence) key; 0: none
    std::uint32_t label = no_label;          ///< a beat; `no_label` for an end event
    bool failed = false;                     ///< an end event: sequence-failed
    std::int64_t ts_ns = no_time;
  };
  /// Executions that started and ended in the task, counted by path here (in parallel).
  struct finished_path {
    std::uint32_t sequence = no_sequence;
    std::uint32_t begin = 0, end = 0;        ///< its label ids: `finished_labels[begin, end)`
    std::uint64_t executions = 0, failed = 0;
    std::int64_t first_ns = no_time, last_ns = no_time;  ///< earliest / latest start
  };
  std::vector<std::string> sequences;
  std::vector<fragment> fragments;           ///< executions still open at the end of the task
  std::vector<step> steps;
  std::vector<headless> others;
  std::uint64_t headless_beats = 0;          ///< beats among `others`
  std::vector<finished_path> finished;
  std::vector<std::uint32_t> finished_labels;  ///< label ids of every finished path
};

/// A worker's per-task grouping of beat events by correlation id. `add` is on the ingest's hot
/// path: events without a correlation id or of kind `other` leave after two compares, and until the
/// task sees a sequence-started event, a beat costs a hash and an append (no table probe).
/// Reused across a worker's tasks, so its tables keep their capacity, and its labels their run-wide
/// ids (`labels`, the table's registry); `names` is the worker's interner (handler and sequence ids).
class trace_builder {
  static constexpr std::uint32_t none = 0xffffffffu;

 public:
  trace_builder(label_registry& labels, const interner& names, std::int64_t idle_timeout_ns = trace_limits{}.idle_timeout_ns) noexcept
      : registry_(&labels), names_(&names), idle_timeout_ns_(idle_timeout_ns) {}

  void add(const raw_event_view& e, const normalized_event& n) {
    // A beat counts once it completed or failed: its start adds nothing to the path, so it is not
    // looked at (nearly half of all beat events).
    if (n.kind == event_kind::other || n.kind == event_kind::beat_started || e.correlation.empty()) return;
    const auto corr = trim(e.correlation);
    if (corr.empty()) return;
    const std::uint64_t key = detail::short_hash(corr);
    if (n.kind == event_kind::sequence_started) {
      // a new execution (a reused correlation id starts over: the older one is closed later)
      by_key_.set(key, static_cast<std::int64_t>(fragments_.size()));
      fragments_.push_back({key, key, n.sequence, none, none, n.ts_ns, no_time, false, false, false});
      return;
    }
    const bool end = n.kind == event_kind::sequence_completed || n.kind == event_kind::sequence_failed;
    // a beat's label: its cache slot starts loading now, while the execution is looked up
    std::string_view beat, topic;
    std::uint64_t label_key = 0;
    if (!end) {
      beat = trim(e.beat);
      topic = trim(e.topic);
      label_key = detail::label_cache::key_of(n.handler, beat, topic);
      labels_.prefetch(label_key);
    }
    fragment* f = nullptr;
    if (!fragments_.empty())
      if (const auto* slot = by_key_.find(key)) {
        f = &fragments_[static_cast<std::size_t>(*slot)];
        if (f->ended) f = nullptr;
      }
    // No sequence-started for this correlation id in the task: group by (correlation id, sequence).
    // (only needed, so only hashed, when the execution is not found by its correlation id)
    const auto seq_text = f != nullptr || n.sequence == no_name ? std::string_view{} : trim(e.sequence);
    const std::uint64_t implicit_key = seq_text.empty() ? 0 : detail::short_hash(seq_text, key) | 1u;
    if (f == nullptr && implicit_key != 0 && !fragments_.empty())
      if (const auto* slot = by_key_.find(implicit_key)) {
        f = &fragments_[static_cast<std::size_t>(*slot)];
        if (f->ended) f = nullptr;
        // an idle gap ends it: a later beat of the same id starts another execution
        else if (!end && n.ts_ns != no_time && f->last_ns != no_time && n.ts_ns - f->last_ns > idle_timeout_ns_) f = nullptr;
      }
    if (f == nullptr && implicit_key != 0) {
      // the table joins it to an execution that began in an earlier task, if any
      by_key_.set(implicit_key, static_cast<std::int64_t>(fragments_.size()));
      fragments_.push_back({implicit_key, key, n.sequence, none, none, no_time, no_time, false, false, true});
      f = &fragments_.back();
      if (end) {
        f->ended = true;
        f->failed = n.kind == event_kind::sequence_failed;
        return;
      }
    }
    if (f == nullptr) {
      others_.push_back({key, implicit_key, end ? trace_batch::no_label : label_of(label_key, n.handler, beat, topic),
                         n.kind == event_kind::sequence_failed, n.ts_ns});
      if (!end) ++headless_beats_;
      return;
    }
    if (f->sequence == no_name) f->sequence = n.sequence;
    if (end) {
      f->ended = true;
      f->failed = n.kind == event_kind::sequence_failed;
      return;
    }
    const auto label = label_of(label_key, n.handler, beat, topic);
    const auto si = static_cast<std::uint32_t>(steps_.size());
    steps_.push_back({label, none, n.ts_ns});
    if (f->tail == none) f->head = si;
    else steps_[f->tail].next = si;
    f->tail = si;
    if (n.ts_ns != no_time) f->last_ns = latest(f->last_ns, n.ts_ns);
  }

  /// The task's batch (sequence names resolved through the worker's interner); resets the builder
  /// but for its labels.
  [[nodiscard]] trace_batch finish() {
    const interner& names = *names_;
    trace_batch b;
    // interner id → index into b.sequences (+1; 0: not yet): ids are dense, sequences few
    if (seq_slot_.size() < names.size()) seq_slot_.resize(names.size(), 0);
    b.fragments.reserve(fragments_.size());
    b.steps.reserve(steps_.size());
    for (const auto& f : fragments_) {
      std::uint32_t seq = trace_batch::no_sequence;
      if (f.sequence != no_name) {
        auto& at = seq_slot_[f.sequence];
        if (at == 0) {
          b.sequences.emplace_back(names.name(f.sequence));
          at = static_cast<std::uint32_t>(b.sequences.size());
        }
        seq = at - 1;
      }
      if (f.ended && !f.implicit) {  // started and ended here: count it under its path now, in this worker
        scratch_.clear();
        for (std::uint32_t s = f.head; s != none; s = steps_[s].next) scratch_.push_back({steps_[s].label, steps_[s].ts_ns});
        const std::int64_t start = detail::canonical_path(scratch_, f.first_ns, path_);
        std::uint64_t h = detail::short_hash({reinterpret_cast<const char*>(path_.data()), path_.size() * sizeof(std::uint32_t)}, seq);
        bool fresh = false;
        auto& slot = finished_key_.find_or_insert(h, static_cast<std::int64_t>(b.finished.size()), fresh);
        if (!fresh && !same_path(b, b.finished[static_cast<std::size_t>(slot)], seq)) {
          // a hash collision: keep the two paths apart (the later one gets its own entry)
          slot = static_cast<std::int64_t>(b.finished.size());
          fresh = true;
        }
        if (fresh) {
          const auto begin = static_cast<std::uint32_t>(b.finished_labels.size());
          b.finished_labels.insert(b.finished_labels.end(), path_.begin(), path_.end());
          b.finished.push_back({seq, begin, static_cast<std::uint32_t>(b.finished_labels.size()), 0, 0, no_time, no_time});
        }
        auto& p = b.finished[static_cast<std::size_t>(slot)];
        ++p.executions;
        if (f.failed) ++p.failed;
        p.first_ns = earliest(p.first_ns, start);
        p.last_ns = latest(p.last_ns, start);
        continue;
      }
      trace_batch::fragment out;
      out.key = f.key;
      out.corr_key = f.corr_key;
      out.implicit = f.implicit;
      out.ended = f.ended;
      out.failed = f.failed;
      out.first_ns = f.first_ns;
      out.sequence = seq;
      out.begin = static_cast<std::uint32_t>(b.steps.size());
      for (std::uint32_t s = f.head; s != none; s = steps_[s].next) b.steps.push_back({steps_[s].label, steps_[s].ts_ns});
      out.end = static_cast<std::uint32_t>(b.steps.size());
      b.fragments.push_back(out);
    }
    for (const auto& f : fragments_)
      if (f.sequence != no_name) seq_slot_[f.sequence] = 0;
    b.others.assign(others_.begin(), others_.end());  // a copy: `others_` keeps its capacity
    b.headless_beats = headless_beats_;
    by_key_.clear();
    finished_key_.clear();
    fragments_.clear();
    steps_.clear();
    others_.clear();
    headless_beats_ = 0;
    if (labels_.size() > max_cached_labels || labels_.text_size() > max_cached_text) labels_.clear();  // a run of ever new labels: the cache starts over
    return b;
  }

 private:
  struct fragment {
    std::uint64_t key;
    std::uint64_t corr_key;
    std::uint32_t sequence;
    std::uint32_t head, tail;
    std::int64_t first_ns;
    std::int64_t last_ns;
    bool ended, failed;
    bool implicit;
  };
  struct step {
    std::uint32_t label;
    std::uint32_t next;
    std::int64_t ts_ns;
  };
  static constexpr std::size_t max_cached_labels = std::size_t{1} << 16;
  static constexpr std::size_t max_cached_text = std::size_t{1} << 24;  // (label text offsets stay far from 2^32)

  /// Whether `p` of batch `b` is the path at hand (`path_`) of sequence `seq`.
  [[nodiscard]] bool same_path(const trace_batch& b, const trace_batch::finished_path& p, std::uint32_t seq) const {
    return p.sequence == seq && p.end - p.begin == path_.size() &&
           detail::same_ids(path_.data(), b.finished_labels.data() + p.begin, path_.size());
  }

  /// The run's id of the label (handler, beat, topic), `key` its `label_cache::key_of`: from the
  /// worker's cache, the registry asked the first time.
  std::uint32_t label_of(std::uint64_t key, std::uint32_t handler, std::string_view beat, std::string_view topic) {
    if (const auto id = labels_.find(key, handler, beat, topic); id != detail::label_cache::none) return id;
    const auto id = registry_->id(handler == no_name ? std::string_view{} : names_->name(handler), beat, topic);
    labels_.insert(key, handler, beat, topic, id);
    return id;
  }


  label_registry* registry_;
  const interner* names_;
  detail::flat_key_map by_key_;     // correlation hash → latest fragment started in this task
  detail::flat_key_map finished_key_;  // (sequence, path) hash → finished path
  std::vector<trace_batch::step> scratch_;
  std::vector<std::uint32_t> path_;
  std::vector<fragment> fragments_;
  std::vector<step> steps_;
  detail::label_cache labels_;            // this worker's labels → the run's ids
  std::vector<std::uint32_t> seq_slot_;  // finish: sequence id → its index in the batch + 1
  std::vector<trace_batch::headless> others_;
  std::uint64_t headless_beats_ = 0;
  std::int64_t idle_timeout_ns_;
};

/// Joins task batches in input order and counts the finished executions by path.
class trace_table {
 public:
  /// The open executions of one file (the ingest keeps one per file).
  class file_state {
    friend class trace_table;
    struct open_execution {
      std::uint32_t sequence;
      std::int64_t first_ns;
      std::uint64_t serial;
      std::vector<trace_batch::step> steps;  // labels are the table's global ids
      bool implicit = false;                 // no sequence-started: ends by idle gap or end of input too
      std::int64_t last_ns = no_time;        // its latest beat
    };
    /// The open executions by key: one dense array (removal moves the last one into the hole) and
    /// a flat index, so a lookup is one probe and no execution costs a node allocation; the step
    /// lists of closed executions are kept for new ones (their capacity with them).
    class open_set {
     public:
      [[nodiscard]] open_execution* find(std::uint64_t key) noexcept {
        const auto at = index_.find(key);
        return at == detail::u64_index::none ? nullptr : &items_[at].second;
      }
      /// A new execution under `key` (absent), from `x`'s fields; `x.steps` is appended to a kept list.
      open_execution& insert(std::uint64_t key, open_execution x) {
        std::vector<trace_batch::step> steps;
        if (!spare_.empty()) {
          steps = std::move(spare_.back());
          spare_.pop_back();
        }
        steps.insert(steps.end(), x.steps.begin(), x.steps.end());
        x.steps = std::move(steps);
        index_.set(key, static_cast<std::uint32_t>(items_.size()));
        if (!x.implicit) ++explicit_;
        items_.emplace_back(key, std::move(x));
        return items_.back().second;
      }
      void erase(std::uint64_t key) {
        const auto at = index_.find(key);
        if (at == detail::u64_index::none) return;
        index_.erase(key);
        if (!items_[at].second.implicit) --explicit_;
        auto& steps = items_[at].second.steps;
        steps.clear();
        if (spare_.size() < 4096) spare_.push_back(std::move(steps));
        if (at + 1 != items_.size()) {
          items_[at] = std::move(items_.back());
          index_.set(items_[at].first, at);
        }
        items_.pop_back();
      }
      [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
      [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
      /// Starts loading the index slot where a lookup of `key` begins.
      void prefetch(std::uint64_t key) const noexcept { index_.prefetch(key); }
      /// How many of them began with sequence-started.
      [[nodiscard]] std::size_t explicit_count() const noexcept { return explicit_; }
      /// (key, execution) pairs, in no particular order.
      [[nodiscard]] std::vector<std::pair<std::uint64_t, open_execution>>& items() noexcept { return items_; }
      void clear() {
        for (const auto& [key, x] : items_) index_.erase(key);
        items_.clear();
        explicit_ = 0;
      }

     private:
      std::vector<std::pair<std::uint64_t, open_execution>> items_;
      detail::u64_index index_;
      std::vector<std::vector<trace_batch::step>> spare_;
      std::size_t explicit_ = 0;
    };
    open_set open_;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> order_;  // (key, serial), oldest first
    std::uint64_t serial_ = 0;
    std::int64_t now_ns_ = no_time;          // the latest beat time seen in the file
    bool explicit_ = false;                  // the file logs sequence-started: no implicit executions
  };

  explicit trace_table(trace_limits limits = {})
      : limits_(limits), paths_(std::max(limits.max_held_per_sequence, limits.max_paths_per_sequence), limits.max_paths) {}

  /// The run's labels: the workers' builders take their ids here.
  [[nodiscard]] label_registry& labels() noexcept { return labels_; }

  /// Applies one task's batch; batches of a file must come in input order. Headless events go
  /// first: within a task they either precede the start of their correlation id's new execution
  /// or belong to an execution that started in an earlier task.
  void apply(file_state& file, const trace_batch& b) {
    seq_map_.clear();
    for (const auto& s : b.sequences) seq_map_.push_back(global_sequence(s));
    if (!b.finished.empty()) file.explicit_ = true;
    for (const auto& f : b.fragments) file.explicit_ = file.explicit_ || !f.implicit;
    if (file.open_.empty()) {
      untraced_beats_ += b.headless_beats;  // nothing to attach them to: the common case of logs without sequences
    } else {
      for (const auto& h : b.others) {
        std::uint64_t key = h.key;
        auto* x = file.open_.find(key);
        if (x == nullptr && h.alt_key != 0) x = file.open_.find(key = h.alt_key);
        if (x == nullptr) {
          if (h.label != trace_batch::no_label) ++untraced_beats_;
          continue;
        }
        if (h.label == trace_batch::no_label) close(file, key, *x, h.failed, true);
        else add_step(file, *x, {h.label, h.ts_ns});
      }
    }
    // The paths' index slots are loaded a few paths ahead: on logs where nearly every path is
    // new, each lookup is otherwise a cache miss in a table of thousands of paths.
    constexpr std::size_t ahead = 8;
    path_hashes_.clear();
    for (const auto& p : b.finished) {
      const std::uint32_t seq = p.sequence == trace_batch::no_sequence ? no_sequence : seq_map_[p.sequence];
      path_hashes_.push_back(path_counter::hash_of(seq, b.finished_labels.data() + p.begin, p.end - p.begin));
      if (path_hashes_.size() <= ahead) paths_.prefetch(path_hashes_.back());
    }
    for (std::size_t i = 0; i < b.finished.size(); ++i) {
      const auto& p = b.finished[i];
      if (i + ahead < path_hashes_.size()) paths_.prefetch(path_hashes_[i + ahead]);
      const std::uint32_t seq = p.sequence == trace_batch::no_sequence ? no_sequence : seq_map_[p.sequence];
      executions_ += p.executions;
      paths_.add(path_hashes_[i], seq, b.finished_labels.data() + p.begin, p.end - p.begin,
                 {p.executions, p.failed, 0, p.first_ns, p.last_ns});
    }
    // (the same for the open executions: thousands are open at once where executions end by idling)
    for (std::size_t i = 0; i < b.fragments.size(); ++i) {
      if (i + ahead < b.fragments.size()) file.open_.prefetch(b.fragments[i + ahead].key);
      const auto& f = b.fragments[i];
      const std::uint32_t seq = f.sequence == trace_batch::no_sequence ? no_sequence : seq_map_[f.sequence];
      if (f.implicit) {
        apply_implicit(file, b, f, seq);
        continue;
      }
      if (auto* old = file.open_.find(f.key)) close(file, f.key, *old, false, false);  // id reused
      auto& x = file.open_.insert(f.key, {seq, f.first_ns, file.serial_++, {}, false, no_time});
      x.steps.insert(x.steps.end(), b.steps.begin() + f.begin, b.steps.begin() + f.end);
      for (const auto& st : x.steps) file.now_ns_ = latest(file.now_ns_, st.ts_ns);
      file.order_.emplace_back(f.key, x.serial);
      evict(file);
    }
    close_idle(file);
  }

  /// Opens the executions the previous run of this source left open (before its first batch).
  void preload(file_state& file, const std::vector<carried_execution>& carried) {
    if (!carried.empty()) file.explicit_ = true;
    for (const auto& c : carried) {
      file_state::open_execution x{c.sequence.empty() ? no_sequence : global_sequence(c.sequence), c.first_ns,
                                   file.serial_++, {}, false, no_time};
      for (const auto& [st, ts] : c.steps) x.steps.push_back({labels_.id(st), ts});
      file.order_.emplace_back(c.key, x.serial);
      file.open_.erase(c.key);
      file.open_.insert(c.key, std::move(x));
    }
    evict(file);
  }

  /// Hands over what is still open in `file` for the run that resumes it (not counted here),
  /// sorted by key. Executions without `sequence-started` end with the input instead: counted.
  [[nodiscard]] std::vector<carried_execution> carry(file_state& file) {
    for (std::size_t i = file.open_.size(); i-- > 0;) {  // (from the back: an erase moves the last item into i)
      auto& [key, x] = file.open_.items()[i];
      if (!x.implicit) continue;
      record(x, false, false);
      file.open_.erase(key);
    }
    std::vector<carried_execution> out;
    out.reserve(file.open_.size());
    const auto labels = file.open_.empty() ? std::vector<path_step>{} : labels_.all();
    for (auto& [key, x] : file.open_.items()) {
      carried_execution c;
      c.key = key;
      c.sequence = x.sequence == no_sequence ? std::string() : sequences_[x.sequence];
      c.first_ns = x.first_ns;
      for (const auto& st : x.steps) c.steps.emplace_back(labels[st.label], st.ts_ns);
      out.push_back(std::move(c));
    }
    carried_ += out.size();
    file.open_.clear();
    file.order_.clear();
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return out;
  }

  /// Closes what is still open in `file` as incomplete (its data ended); an execution without
  /// `sequence-started` ends with its input, so it is complete.
  void end_file(file_state& file) {
    while (!file.open_.empty()) {
      auto& [key, x] = file.open_.items().back();
      close(file, key, x, false, x.implicit);
    }
    file.order_.clear();
  }

  /// The paths counted so far, sorted and limited per sequence (see the file comment).
  [[nodiscard]] trace_summary summary() const {
    trace_summary out;
    out.executions = executions_;
    out.incomplete = incomplete_;
    out.evicted = evicted_;
    out.untraced_beats = untraced_beats_;
    out.carried = carried_;
    out.paths_replaced = paths_.replaced();
    // Per sequence: the most frequent paths (ties: by steps), then one rest row. Only those are
    // made into strings: the held paths may be many.
    std::vector<std::pair<std::string, std::vector<execution_path>>> per_sequence;
    const auto labels = labels_.all();
    const auto by_steps = [&labels](const path_counter::entry* a, const path_counter::entry* b) {
      if (a->c.executions != b->c.executions) return a->c.executions > b->c.executions;
      return std::lexicographical_compare(a->labels.begin(), a->labels.end(), b->labels.begin(), b->labels.end(),
                                          [&labels](std::uint32_t x, std::uint32_t y) { return labels[x] < labels[y]; });
    };
    paths_.for_each_sequence([&](std::uint32_t s, const std::vector<const path_counter::entry*>& held,
                                 const path_counter::counts& rest_counts) {
      std::vector<const path_counter::entry*> top = held;
      const std::size_t k = std::min(top.size(), limits_.max_paths_per_sequence);
      std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k), top.end(), by_steps);
      std::vector<execution_path> list;
      list.reserve(k + 1);
      for (std::size_t i = 0; i < k; ++i) {
        execution_path e;
        e.sequence = sequence_name(s);
        for (const auto l : top[i]->labels) e.steps.push_back(labels[l]);
        put(e, top[i]->c);
        list.push_back(std::move(e));
      }
      path_counter::counts rest = rest_counts;
      for (std::size_t i = k; i < top.size(); ++i) rest.merge(top[i]->c);
      if (rest.executions) {
        execution_path r;
        r.sequence = sequence_name(s);
        r.rest = true;
        put(r, rest);
        list.push_back(std::move(r));
      }
      per_sequence.emplace_back(sequence_name(s), std::move(list));
    });
    // sequences by name, so the output does not depend on the order they were first seen in
    std::sort(per_sequence.begin(), per_sequence.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [name, list] : per_sequence)
      for (auto& e : list) out.paths.push_back(std::move(e));
    return out;
  }

 private:
  static constexpr std::uint32_t no_sequence = 0xffffffffu;
  static void put(execution_path& e, const path_counter::counts& c) {
    e.executions = c.executions;
    e.failed = c.failed;
    e.incomplete = c.incomplete;
    e.first_ns = c.first_ns;
    e.last_ns = c.last_ns;
  }

  [[nodiscard]] std::string sequence_name(std::uint32_t s) const { return s == no_sequence ? "(none)" : sequences_[s]; }

  std::uint32_t global_sequence(const std::string& s) {
    auto [it, fresh] = sequence_ids_.emplace(s, static_cast<std::uint32_t>(sequences_.size()));
    if (fresh) sequences_.push_back(s);
    return it->second;
  }

  /// Counts `x`, open under `key`, and removes it (`x` is gone after).
  void close(file_state& file, std::uint64_t key, file_state::open_execution& x, bool failed, bool complete) {
    record(x, failed, !complete);
    file.open_.erase(key);
  }

  void add_step(file_state& file, file_state::open_execution& x, trace_batch::step st) {
    x.steps.push_back(st);
    x.last_ns = latest(x.last_ns, st.ts_ns);
    file.now_ns_ = latest(file.now_ns_, st.ts_ns);
  }

  /// An execution without `sequence-started` as one task saw it: joined to the one open under its
  /// correlation id (started explicitly in an earlier task) or under its (correlation id,
  /// sequence), unless that one has been idle too long; else a new one.
  void apply_implicit(file_state& file, const trace_batch& b, const trace_batch::fragment& f, std::uint32_t seq) {
    std::int64_t first = no_time;
    for (auto i = f.begin; i < f.end; ++i)
      if (b.steps[i].ts_ns != no_time) {
        first = first == no_time ? b.steps[i].ts_ns : std::min(first, b.steps[i].ts_ns);
      }
    std::uint64_t key = f.corr_key;
    // (only an execution begun by sequence-started is joined by its correlation id alone)
    auto* x = file.open_.explicit_count() != 0 ? file.open_.find(key) : nullptr;
    if (file.explicit_ && (x == nullptr || x->implicit)) {
      // a file that logs sequence-started: beats outside a started execution are not guessed at
      untraced_beats_ += f.end - f.begin;
      return;
    }
    if (x == nullptr || x->implicit) {
      x = file.open_.find(key = f.key);
      if (x != nullptr && first != no_time && x->last_ns != no_time && first - x->last_ns > limits_.idle_timeout_ns) {
        close(file, key, *x, false, true);  // idle too long: that execution ended
        x = nullptr;
      }
    }
    if (x == nullptr) {
      x = &file.open_.insert(key, {seq, no_time, file.serial_++, {}, true, no_time});
      file.order_.emplace_back(key, x->serial);
    } else if (x->sequence == no_sequence) {
      x->sequence = seq;
    }
    for (auto i = f.begin; i < f.end; ++i) add_step(file, *x, b.steps[i]);
    if (f.ended) close(file, key, *x, f.failed, true);
    else evict(file);
  }

  /// Ends the executions without `sequence-started` that have been idle longer than the timeout,
  /// oldest first (stops at the first one still open that is not).
  void close_idle(file_state& file) {
    if (file.now_ns_ == no_time) return;
    constexpr std::size_t ahead = 8;
    while (!file.order_.empty()) {
      if (file.order_.size() > ahead) file.open_.prefetch(file.order_[ahead].first);
      const auto [key, serial] = file.order_.front();
      auto* x = file.open_.find(key);
      if (x == nullptr || x->serial != serial) {
        file.order_.pop_front();
        continue;
      }
      if (!x->implicit || x->last_ns == no_time || file.now_ns_ - x->last_ns <= limits_.idle_timeout_ns) break;
      file.order_.pop_front();
      close(file, key, *x, false, true);
    }
  }

  void evict(file_state& file) {
    while (file.open_.size() > limits_.max_open && !file.order_.empty()) {
      const auto [key, serial] = file.order_.front();
      file.order_.pop_front();
      auto* x = file.open_.find(key);
      if (x == nullptr || x->serial != serial) continue;  // closed since
      ++evicted_;
      close(file, key, *x, false, false);
    }
    // the queue also holds closed executions: compact it when they dominate
    if (file.order_.size() > 2 * file.open_.size() + 1024) {
      std::deque<std::pair<std::uint64_t, std::uint64_t>> live;
      for (const auto& [key, serial] : file.order_)
        if (const auto* x = file.open_.find(key); x != nullptr && x->serial == serial) live.emplace_back(key, serial);
      file.order_ = std::move(live);
    }
  }

  /// Counts one finished execution under its canonical path.
  void record(file_state::open_execution& x, bool failed, bool incomplete) {
    const std::int64_t start = detail::canonical_path(x.steps, x.first_ns, path_);
    ++executions_;
    if (incomplete) ++incomplete_;
    paths_.add(x.sequence, path_.data(), path_.size(), {1, failed ? 1u : 0u, incomplete ? 1u : 0u, start, start});
  }

  trace_limits limits_;
  label_registry labels_;
  std::map<std::string, std::uint32_t> sequence_ids_;
  std::vector<std::string> sequences_;
  std::vector<std::uint32_t> seq_map_;  // the current batch's sequence ids → the table's
  std::vector<std::uint64_t> path_hashes_;  // the current batch's finished paths, hashed (`apply`)
  path_counter paths_;
  std::vector<std::uint32_t> path_;  // the path at hand (global label ids)
  std::uint64_t executions_ = 0, incomplete_ = 0, evicted_ = 0, untraced_beats_ = 0, carried_ = 0;
};

}  // namespace selfheal::telemetry
