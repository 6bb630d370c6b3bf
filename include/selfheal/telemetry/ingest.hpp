#pragma once
/// \file
/// The streaming ingest that beat 3 runs: sources → chunks → extract → normalize → thread-local
/// partial aggregates, on all cores, in bounded memory.
///
/// Work is cut into *tasks*: each chunk of an NDJSON source is a task (chunks of one file are
/// parsed in parallel); a text-format source (Conductor, Serilog, key=value) is one task, because
/// its parser carries context from line to line. A worker runs a task through the format parser
/// (extraction), `event_normalizer` (normalization of each event) and its own `partial_aggregate`
/// (aggregation), so no event is ever materialised beyond its line. Chunk reading is serialised
/// (one reader per file, under the read lock); parsing is not. At most threads + 1 chunk buffers
/// exist.
///
/// Task results are reduced per file in input order, under a lock of their own: a worker hands its
/// result over and, unless another worker is reducing already, reduces what is waiting; so reading
/// the next chunk never waits for a reduction, and no worker sleeps on one (at most 2 × threads
/// results wait: past that a worker waits for the reducer). Line numbers of bad lines become absolute,
/// and started/completed pairs that straddle chunks are joined exactly as one thread would (pairs
/// are joined within a file). The reduction does not depend on the thread count, so the merged
/// aggregate is identical for 1 or N threads.

#include <algorithm>
#include <atomic>
#include <functional>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "selfheal/telemetry/aggregate.hpp"
#include "selfheal/telemetry/formats.hpp"
#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/ndjson.hpp"
#include "selfheal/telemetry/normalize.hpp"
#include "selfheal/telemetry/source.hpp"
#include "selfheal/telemetry/traces.hpp"

namespace selfheal::telemetry {

/// Knobs of one ingest.
struct ingest_options {
  log_format format = log_format::auto_detect;  ///< forced format, or detect per file
  unsigned threads = 0;                         ///< 0: hardware threads
  std::int64_t window_ns = 60'000'000'000;
  std::size_t chunk_size = default_chunk_size;  ///< read chunk, one task (`default_chunk_size`)
  std::size_t max_bad_line_samples = 20;
  trace_limits traces{};                        ///< bounds of the execution-path join
  /// Called with the bytes read so far (uncompressed), from whichever worker read them, at most
  /// once per `progress_interval_ns`; must be thread-safe and quick. Empty: no progress.
  std::function<void(std::uint64_t)> progress;
  std::int64_t progress_interval_ns = 1'000'000'000;
};

/// What the ingest produced: unmerged thread-local partials plus per-source bookkeeping.
struct ingest_result {
  std::vector<std::unique_ptr<partial_aggregate>> partials;  ///< one per worker, plus the reducer's
  std::vector<source_result> sources;                        ///< in input order
  std::vector<bad_line> bad_line_samples;                    ///< first samples per source, input order
  trace_summary traces;                                      ///< execution paths (`traces.hpp`)
  std::uint64_t bad_lines = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t unmatched_starts = 0;
  std::uint64_t bytes = 0;
  std::int64_t elapsed_ns = 0;
  std::int64_t window_ns = 60'000'000'000;
  unsigned threads = 1;
};

namespace detail {

/// The outcome of one task, reduced in order by `ingest_engine`.
struct task_result {
  std::size_t file = 0;
  std::size_t seq = 0;               ///< task number within its file
  bool absolute_lines = false;       ///< line numbers already absolute (whole-file tasks)
  std::uint64_t lines = 0;
  std::uint64_t events = 0;
  std::uint64_t bad_lines = 0;
  std::uint64_t out_of_order = 0;   ///< within the task (the reducer adds the task boundary)
  std::int64_t first_ts = no_time;  ///< the task's first and last timed events
  std::int64_t last_ts = no_time;
  std::uint64_t bytes = 0;
  std::vector<std::pair<std::uint64_t, std::string>> bad_samples;
  task_pairing pairing;
  trace_batch traces;
  bool ends_source = false;
  bool tail_bad = false;             ///< the unterminated last line of the source was bad
  std::uint64_t tail_offset = 0;     ///< source offset of that line
  std::uint64_t end_offset = 0;      ///< source offset after this task's data
  std::uint64_t held_back = 0;       ///< bytes of an unterminated last line not read
  std::string first_line;            ///< the start of the task's first line (task 0: for the "why nothing" hint)
  std::string error;
};

/// Sink of a task: normalizes and aggregates each event into the worker's partial.
struct task_sink {
  partial_aggregate* agg;
  event_normalizer& norm;  ///< the worker's (its tables keep their capacity from task to task)
  task_result* r;
  std::size_t max_samples;
  std::uint64_t line_base = 0;  ///< added to parser line numbers (0: relative to the chunk)
  std::uint64_t last_bad = 0;
  std::string reason;
  trace_builder* traces;  ///< the worker's (reused across its tasks: its tables keep their capacity); null: off
  std::vector<std::uint64_t> quiet;  ///< lines already counted bad (scrubbed NUL bytes), ascending
  std::size_t quiet_next = 0;

  void event(const raw_event_view& e) {
    bool deferred = false;
    reason.clear();
    auto n = norm.normalize(e, reason, deferred);
    if (!n) {
      bad(e.line, std::move(reason));
      return;
    }
    ++r->events;
    if (n->ts_ns != no_time) {
      if (r->last_ts == no_time) r->first_ts = n->ts_ns;
      else if (n->ts_ns < r->last_ts) ++r->out_of_order;
      r->last_ts = n->ts_ns;
    }
    agg->add_event(*n);
    if (!deferred) agg->add_executions(*n);
    if (traces != nullptr) traces->add(e, *n);
  }
  void bad(std::uint64_t line, std::string why) {
    while (quiet_next < quiet.size() && quiet[quiet_next] < line) ++quiet_next;
    if (quiet_next < quiet.size() && quiet[quiet_next] == line) return;  // counted once, as damaged
    ++r->bad_lines;
    last_bad = line;
    if (r->bad_samples.size() < max_samples) r->bad_samples.emplace_back(line + line_base, std::move(why));
  }

  /// Blanks the NUL bytes of `data` (lines numbered from `first_line`), counts each damaged line
  /// as one bad line, and keeps the parser from counting it again.
  void scrub(char* data, std::size_t size, std::uint64_t first_line, std::vector<scrubbed_line>& scratch) {
    quiet.clear();
    quiet_next = 0;
    scrub_nul_runs(data, size, scratch);
    for (const auto& d : scratch) {
      const std::uint64_t line = first_line + d.line - 1;
      bad(line, d.reason());
      quiet.push_back(line);
    }
    quiet_next = 0;
  }
};

/// Splits a chunk into lines for a text parser; returns lines seen. With `json`, a line that starts
/// with `{` is read as NDJSON (the format is decided per line: a text banner before NDJSON, or
/// JSON lines among text ones); `buffer_end` is the end of the padded buffer `data` lies in.
template <class Parser, class Sink>
std::uint64_t feed_lines(Parser& parser, std::string_view data, std::uint64_t first_line, Sink& sink,
                         ndjson_parser* json = nullptr, const char* buffer_end = nullptr) {
  std::uint64_t line = first_line;
  while (!data.empty()) {
    const auto nl = data.find('\n');
    auto text = data.substr(0, nl);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);  // blanked NUL bytes
    if (json != nullptr && !text.empty() && text.front() == '{')
      json->parse_line(padded_view(text.data(), text.size(), static_cast<std::size_t>(buffer_end - text.data())), line, sink);
    else
      parser.line(text, line, sink);
    ++line;
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  return line - first_line;
}

}  // namespace detail

/// Runs the ingest of `plans` (see the file comment). Never fails as a whole: per-source problems
/// are recorded in `sources[i].error` and as bad lines.
class ingest_engine {
 public:
  ingest_engine(std::vector<source_plan> plans, ingest_options opt)
      : plans_(std::move(plans)), opt_(opt), traces_(opt.traces) {
    files_.resize(plans_.size());
    result_.sources.resize(plans_.size());
    for (std::size_t i = 0; i < plans_.size(); ++i) {
      result_.sources[i].plan = plans_[i];
      result_.sources[i].end_offset = plans_[i].start_offset;
      result_.sources[i].lines = plans_[i].start_line - 1;
      files_[i].lines_before = plans_[i].start_line - 1;
      // what the previous run of this source left open
      files_[i].pairs.preload(plans_[i].carried.open_starts);
      traces_.preload(files_[i].traces, plans_[i].carried.executions);
    }
  }

  ingest_result run() {
    const auto t0 = std::chrono::steady_clock::now();
    last_progress_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t0.time_since_epoch()).count();  // first report after one interval
    unsigned n = opt_.threads ? opt_.threads : std::max(1u, std::thread::hardware_concurrency());
    result_.threads = n;
    max_queued_ = 2 * std::size_t{n};
    result_.window_ns = opt_.window_ns;
    for (unsigned i = 0; i < n + 1; ++i) {
      result_.partials.push_back(std::make_unique<partial_aggregate>());
      result_.partials.back()->window_ns = opt_.window_ns;
    }
    reducer_ = result_.partials.back().get();
    if (n == 1) {
      work(*result_.partials[0]);
    } else {
      std::vector<std::thread> threads;
      for (unsigned i = 0; i < n; ++i) threads.emplace_back([this, i] { work(*result_.partials[i]); });
      for (auto& t : threads) t.join();
    }
    std::sort(samples_.begin(), samples_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first, a.second.line) < std::tie(b.first, b.second.line);
    });
    // A source that gave lines but no event says why, with its first line.
    for (std::size_t i = 0; i < result_.sources.size(); ++i) {
      auto& src = result_.sources[i];
      const std::uint64_t lines = src.lines - (plans_[i].start_line - 1);
      if (src.events > 0 || lines == 0 || !src.error.empty()) continue;
      std::string why = "no line has a timestamp or field selfheal knows";
      for (const auto& [file, b] : samples_)
        if (file == i && b.line > 0) {
          why = b.reason;
          break;
        }
      src.hint = std::to_string(lines) + (lines == 1 ? " line" : " lines") + ", none usable (" + why + "); first line: " +
                 files_[i].first_line;
    }
    // Samples from every file: an equal share each first, then the rest in input order.
    std::size_t files_with_samples = 0;
    for (std::size_t k = 0; k < samples_.size(); ++k)
      if (k == 0 || samples_[k].first != samples_[k - 1].first) ++files_with_samples;
    const std::size_t share = std::max<std::size_t>(1, opt_.max_bad_line_samples / std::max<std::size_t>(1, files_with_samples));
    std::vector<bool> taken(samples_.size(), false);
    std::size_t in_file = 0;
    for (std::size_t k = 0, n = 0; k < samples_.size() && n < opt_.max_bad_line_samples; ++k) {
      in_file = (k == 0 || samples_[k].first != samples_[k - 1].first) ? 0 : in_file + 1;
      if (in_file < share) {
        taken[k] = true;
        ++n;
      }
    }
    std::size_t n_taken = static_cast<std::size_t>(std::count(taken.begin(), taken.end(), true));
    for (std::size_t k = 0; k < samples_.size() && n_taken < opt_.max_bad_line_samples; ++k)
      if (!taken[k]) {
        taken[k] = true;
        ++n_taken;
      }
    for (std::size_t k = 0; k < samples_.size(); ++k)
      if (taken[k]) result_.bad_line_samples.push_back(std::move(samples_[k].second));
    for (const auto& s : result_.sources) result_.bytes += s.bytes;
    result_.traces = traces_.summary();
    result_.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    return std::move(result_);
  }

 private:
  static constexpr std::size_t tasks_unknown = ~std::size_t{0};

  /// One source's state. The reader's (under `read_mu_`): `tasks`. The rest is the reducer's
  /// (under `reduce_mu_`).
  struct file_state {
    std::size_t tasks = 0;           ///< tasks handed out so far
    std::size_t tasks_total = tasks_unknown;  ///< set when reading ends: every task it handed out
    std::uint64_t lines_before = 0;  ///< lines of the source before the next task to reduce
    std::size_t next_seq = 0;
    std::map<std::size_t, detail::task_result> waiting;
    pairing_table pairs;
    trace_table::file_state traces;
    std::int64_t last_ts = no_time;  ///< the last timed event reduced so far (out of order across tasks)
    bool finished = false;
    std::string first_line;
  };

  /// What a worker gets: a chunk of the current NDJSON file, or a whole text file.
  struct task {
    std::size_t file = 0;
    std::size_t seq = 0;
    log_format format = log_format::ndjson;
    std::unique_ptr<chunk> data;               // NDJSON chunk, or the first chunk of a text file
    std::optional<chunk_reader> reader;        // whole-file task: the rest of the file
  };

  std::unique_ptr<chunk> take_buffer() {
    if (!free_.empty()) {
      auto c = std::move(free_.back());
      free_.pop_back();
      return c;
    }
    return std::make_unique<chunk>();
  }

  /// Hands out the next task, or nullopt when every source is read. Called under `read_mu_`; takes
  /// `reduce_mu_` (never the other way round) where it records a source's outcome.
  std::optional<task> next_task() {
    for (;;) {
      if (!current_) {
        if (next_file_ >= plans_.size()) return std::nullopt;
        const std::size_t i = next_file_++;
        auto r = chunk_reader::open(plans_[i], opt_.chunk_size);
        if (!r) {
          source_failed(i, r.error().detail);
          continue;
        }
        auto first = take_buffer();
        auto got = r->next(*first);
        if (got && *got) note_read(first->size);
        if (!got) {
          free_.push_back(std::move(first));
          source_failed(i, got.error().detail);
          continue;
        }
        if (!*got && opt_.format == log_format::auto_detect && plans_[i].start_offset == 0 &&
            is_binary_block(r->held_tail())) {  // no newline at all, and not text
          free_.push_back(std::move(first));
          skip_binary(i);
          continue;
        }
        if (!*got) {  // empty (or nothing new, or only an unterminated line held back)
          const std::lock_guard g(reduce_mu_);
          result_.sources[i].held_back_bytes = first->held_back;
          if (r->truncated_gzip()) source_warning(i, "truncated .gz: the compressed data ends early; read what was there");
          free_.push_back(std::move(first));
          result_.sources[i].format = opt_.format == log_format::auto_detect ? log_format::ndjson : opt_.format;
          close_file(i, true);
          continue;
        }
        log_format f = opt_.format;
        if (f == log_format::auto_detect) f = detect_format(std::string_view(first->buffer.data(), std::min<std::size_t>(first->size, 64 * 1024)));
        {
          const std::lock_guard g(reduce_mu_);
          result_.sources[i].format = f;
        }
        if (f == log_format::binary) {
          free_.push_back(std::move(first));
          skip_binary(i);
          continue;
        }
        if (f != log_format::ndjson) {  // whole-file task
          task t;
          t.file = i;
          t.seq = files_[i].tasks++;
          t.format = f;
          t.data = std::move(first);
          t.reader.emplace(std::move(*r));
          reading_ended(i);
          return t;
        }
        current_.emplace(std::move(*r));
        current_file_ = i;
        task t;
        t.file = i;
        t.seq = files_[i].tasks++;
        t.data = std::move(first);
        if (t.data->last) finish_reading();
        return t;
      }
      auto buf = take_buffer();
      auto got = current_->next(*buf);
      if (got && *got) note_read(buf->size);
      if (!got || !*got) {
        {
          const std::lock_guard g(reduce_mu_);
          if (got) result_.sources[current_file_].held_back_bytes += buf->held_back;
          if (got && current_->truncated_gzip() && !truncation_noted(current_file_))
            source_warning(current_file_, "truncated .gz: the compressed data ends early; read what was there");
          if (!got) result_.sources[current_file_].error = got.error().detail;
        }
        free_.push_back(std::move(buf));
        finish_reading();
        continue;
      }
      task t;
      t.file = current_file_;
      t.seq = files_[current_file_].tasks++;
      t.data = std::move(buf);
      if (t.data->last) finish_reading();
      return t;
    }
  }

  /// A file-level problem that did not stop reading: one bad line (line 0) with the reason. Under
  /// `reduce_mu_`.
  void source_warning(std::size_t i, std::string why) {
    result_.sources[i].bad_lines += 1;
    result_.bad_lines += 1;
    samples_.push_back({i, bad_line{plans_[i].path, 0, std::move(why)}});
  }
  [[nodiscard]] bool truncation_noted(std::size_t i) const {
    for (const auto& [file, b] : samples_)
      if (file == i && b.reason.rfind("truncated .gz", 0) == 0) return true;
    return false;
  }

  /// A source binary from its first block: skipped whole, one bad line with the reason.
  void skip_binary(std::size_t i) {
    const std::lock_guard g(reduce_mu_);
    result_.sources[i].format = log_format::binary;
    close_file(i, false);
    result_.sources[i].bad_lines = 1;
    result_.sources[i].error = "binary data (its first block is mostly not text): skipped";
    result_.bad_lines += 1;
    samples_.push_back({i, bad_line{plans_[i].path, 0, "binary data (its first block is mostly not text): file skipped"}});
  }

  /// The current NDJSON source is read to its end (under `read_mu_`).
  void finish_reading() {
    current_.reset();
    reading_ended(current_file_);
  }

  /// Source `i` hands out no more tasks: it is finished once those it handed out are reduced.
  void reading_ended(std::size_t i) {
    const std::lock_guard g(reduce_mu_);
    files_[i].tasks_total = files_[i].tasks;
    maybe_finish(i);
  }

  /// Counts bytes read and reports progress when it is due (any thread; one report at a time).
  void note_read(std::size_t n) {
    const auto total = read_bytes_.fetch_add(n, std::memory_order_relaxed) + n;
    if (!opt_.progress) return;
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch()).count();
    std::int64_t last = last_progress_ns_.load(std::memory_order_relaxed);
    if (now - last < opt_.progress_interval_ns) return;
    if (last_progress_ns_.compare_exchange_strong(last, now)) opt_.progress(total);
  }

  void source_failed(std::size_t i, const std::string& why) {
    const std::lock_guard g(reduce_mu_);
    result_.sources[i].error = why;
    close_file(i, false);
    result_.bad_lines += 1;
    result_.sources[i].bad_lines += 1;
    samples_.push_back({i, bad_line{plans_[i].path, 0, why}});
  }

  void work(partial_aggregate& agg) {
    ndjson_parser json;
    trace_builder traces(traces_.labels(), agg.names, opt_.traces.idle_timeout_ns);
    std::vector<scrubbed_line> scrubbed;
    event_normalizer norm(agg.names);
    std::unique_lock lock(read_mu_);
    for (;;) {
      auto t = next_task();
      if (!t) break;
      lock.unlock();
      detail::task_result r;
      r.file = t->file;
      r.seq = t->seq;
      detail::task_sink sink{&agg, norm, &r, opt_.max_bad_line_samples, 0, 0, {},
                             opt_.traces.enabled ? &traces : nullptr, {}, 0};
      if (t->format == log_format::ndjson) {
        chunk& c = *t->data;
        sink.scrub(c.buffer.data(), c.size, 1, scrubbed);
        r.lines = json.parse(c.view(), 1, sink);
        note_chunk(r, c, sink);
      } else {
        run_text_file(*t, r, sink, scrubbed, json);
      }
      if (t->seq == 0 && t->data) {
        const std::string_view d(t->data->buffer.data(), t->data->size);
        r.first_line.assign(d.substr(0, std::min<std::size_t>(d.find('\n'), 160)));
      }
      r.pairing = sink.norm.take_pairing();
      r.traces = traces.finish();
      hand_over(std::move(r));
      lock.lock();
      if (t->data) free_.push_back(std::move(t->data));
    }
  }

  /// Queues a task's result; unless another worker is reducing, reduces everything queued (results
  /// handed over meanwhile included) and returns when the queue is empty. A worker finding the
  /// queue full waits for the reducer to take it: a reduction slower than parsing must not let
  /// results pile up in memory.
  void hand_over(detail::task_result r) {
    {
      std::unique_lock q(queue_mu_);
      taken_.wait(q, [this] { return !reducing_ || queued_.size() < max_queued_; });
      queued_.push_back(std::move(r));
      if (reducing_) return;
      reducing_ = true;
    }
    std::vector<detail::task_result> batch;
    for (;;) {
      {
        const std::lock_guard q(queue_mu_);
        if (queued_.empty()) {
          reducing_ = false;
          taken_.notify_all();
          return;
        }
        batch.swap(queued_);
      }
      taken_.notify_all();
      const std::lock_guard g(reduce_mu_);
      for (auto& done : batch) reduce(std::move(done));
      batch.clear();
    }
  }

  void note_truncated_gzip(detail::task_result& r, std::uint64_t line) const {
    r.bad_lines += 1;
    if (r.bad_samples.size() < opt_.max_bad_line_samples)
      r.bad_samples.emplace_back(line, "truncated .gz: the compressed data ends early; read what was there");
  }

  void note_chunk(detail::task_result& r, const chunk& c, const detail::task_sink& sink) {
    r.bytes += c.size;
    r.end_offset = c.offset + c.size;
    r.ends_source = c.last;
    r.held_back += c.held_back;
    if (c.truncated_gzip) note_truncated_gzip(r, sink.line_base + r.lines + 1);
    if (c.skipped_long_lines) {
      r.bad_lines += c.skipped_long_lines;
      if (r.bad_samples.size() < opt_.max_bad_line_samples)
        r.bad_samples.emplace_back(sink.line_base + r.lines + 1, "line longer than " + std::to_string(max_line_bytes >> 20) + " MiB skipped");
    }
    if (c.unterminated) {
      r.tail_offset = c.offset + c.tail_start;
      r.tail_bad = sink.last_bad == r.lines;  // the last (unterminated) line was reported bad
    }
  }

  void run_text_file(task& t, detail::task_result& r, detail::task_sink& sink, std::vector<scrubbed_line>& scrubbed,
                     ndjson_parser& json) {
    r.absolute_lines = true;
    const std::uint64_t first = plans_[t.file].start_line;
    conductor_parser conductor;
    serilog_parser serilog;
    const text_parser text(plans_[t.file].mtime_ns);
    chunk* c = t.data.get();
    std::uint64_t line = first;
    for (;;) {
      sink.scrub(c->buffer.data(), c->size, line, scrubbed);
      const std::string_view data(c->buffer.data(), c->size);
      std::uint64_t n = 0;
      const char* end = c->buffer.data() + c->buffer.size();
      switch (t.format) {
        case log_format::conductor: n = detail::feed_lines(conductor, data, line, sink, &json, end); break;
        case log_format::serilog: n = detail::feed_lines(serilog, data, line, sink, &json, end); break;
        default: n = detail::feed_lines(text, data, line, sink, &json, end); break;
      }
      if (!data.empty() && data.back() == '\n') {}  // n counts the lines of this chunk
      r.lines += n;
      const std::uint64_t before = line;
      line += n;
      // note_chunk compares the last bad line with the chunk's line count: use absolute numbers
      r.bytes += c->size;
      r.end_offset = c->offset + c->size;
      r.ends_source = c->last;
      r.held_back += c->held_back;
      if (c->truncated_gzip) note_truncated_gzip(r, line);
      if (c->skipped_long_lines) {
        r.bad_lines += c->skipped_long_lines;
        if (r.bad_samples.size() < opt_.max_bad_line_samples)
          r.bad_samples.emplace_back(line, "line longer than " + std::to_string(max_line_bytes >> 20) + " MiB skipped");
      }
      if (c->unterminated) {
        r.tail_offset = c->offset + c->tail_start;
        r.tail_bad = sink.last_bad == before + n - 1;
      }
      if (c->last) break;
      auto got = t.reader->next(*c);
      if (!got) {
        r.error = got.error().detail;
        break;
      }
      if (!*got) {
        r.held_back += c->held_back;
        if (c->truncated_gzip) note_truncated_gzip(r, line);
        break;
      }
      note_read(c->size);
    }
    r.ends_source = true;
  }

  /// Under `reduce_mu_`: reduce results of a file in task order.
  void reduce(detail::task_result r) {
    auto& f = files_[r.file];
    const std::size_t file = r.file;
    f.waiting.emplace(r.seq, std::move(r));
    for (auto it = f.waiting.find(f.next_seq); it != f.waiting.end(); it = f.waiting.find(f.next_seq)) {
      auto& t = it->second;
      auto& src = result_.sources[file];
      for (auto& d : t.pairing.deferred_completions) {
        const auto start = f.pairs.take(d.key);
        const std::int64_t dur = (start && d.ts_ns != no_time && d.ts_ns >= *start) ? d.ts_ns - *start : -1;
        const std::string& name = d.sequence_level ? d.sequence : d.handler;
        reducer_->add_execution(d.sequence_level ? metric_scope::sequence : metric_scope::handler,
                                reducer_->names.intern(name.empty() ? std::string_view("(none)") : std::string_view(name)),
                                d.ts_ns, d.failed, dur);
      }
      f.pairs.apply_final(t.pairing);
      traces_.apply(f.traces, t.traces);
      const std::uint64_t base = t.absolute_lines ? 0 : f.lines_before;
      for (auto& [line, why] : t.bad_samples) {
        if (per_file_samples(file) >= opt_.max_bad_line_samples) break;
        samples_.push_back({file, bad_line{plans_[file].path, line + base, std::move(why)}});
      }
      f.lines_before += t.lines;
      src.events += t.events;
      src.bad_lines += t.bad_lines;
      src.bytes += t.bytes;
      src.held_back_bytes += t.held_back;
      result_.bad_lines += t.bad_lines;
      // an event older than the one before it: within the task, and across the task boundary
      result_.out_of_order += t.out_of_order;
      if (t.first_ts != no_time && f.last_ts != no_time && t.first_ts < f.last_ts) ++result_.out_of_order;
      if (t.last_ts != no_time) f.last_ts = t.last_ts;
      // Resume point: after the data, except an unterminated bad last line (it may still be written).
      src.end_offset = t.end_offset;
      src.lines = f.lines_before;
      if (t.tail_bad) {
        src.end_offset = t.tail_offset;
        src.lines = f.lines_before - 1;
      }
      if (!t.error.empty()) src.error = t.error;
      if (t.seq == 0) f.first_line = std::move(t.first_line);
      f.waiting.erase(it);
      ++f.next_seq;
    }
    maybe_finish(file);
  }

  void maybe_finish(std::size_t file) {
    auto& f = files_[file];
    if (f.finished || f.next_seq != f.tasks_total || !f.waiting.empty()) return;
    close_file(file, result_.sources[file].error.empty());
  }

  /// The end of a source: its open starts are unmatched in this run; with `carry` (the data ended
  /// normally) they and its open executions are handed to the run that resumes it, else those
  /// executions are closed as incomplete. Standard input is never resumed.
  void close_file(std::size_t file, bool carry) {
    auto& f = files_[file];
    carry = carry && plans_[file].path != "-" && plans_[file].memory.data() == nullptr;
    result_.unmatched_starts += f.pairs.open_starts();
    if (carry) {
      auto& out = result_.sources[file].carried;
      out.open_starts = f.pairs.open_entries();
      out.executions = traces_.carry(f.traces);
    } else {
      traces_.end_file(f.traces);
    }
    f.pairs = pairing_table{};
    f.finished = true;
  }

  [[nodiscard]] std::size_t per_file_samples(std::size_t file) const {
    std::size_t n = 0;
    for (const auto& s : samples_) n += s.first == file ? 1 : 0;
    return n;
  }

  std::vector<source_plan> plans_;
  ingest_options opt_;
  // Lock order: read_mu_, then reduce_mu_; queue_mu_ alone.
  std::mutex read_mu_;    ///< the reader: current_, next_file_, free_, file_state::tasks
  std::mutex reduce_mu_;  ///< the reduction: result_, samples_, the rest of files_, traces_, reducer_
  std::mutex queue_mu_;   ///< queued_ and reducing_
  std::condition_variable taken_;  ///< the reducer took the queue (or stopped reducing)
  std::vector<detail::task_result> queued_;
  std::size_t max_queued_ = 2;     ///< results waiting at most: twice the workers
  bool reducing_ = false;
  std::vector<file_state> files_;
  std::size_t next_file_ = 0;
  std::optional<chunk_reader> current_;
  std::size_t current_file_ = 0;
  std::vector<std::unique_ptr<chunk>> free_;
  std::vector<std::pair<std::size_t, bad_line>> samples_;
  partial_aggregate* reducer_ = nullptr;
  trace_table traces_;
  std::atomic<std::uint64_t> read_bytes_{0};
  std::atomic<std::int64_t> last_progress_ns_{0};
  ingest_result result_;
};

/// Runs the ingest of `plans` with `opt`.
[[nodiscard]] inline ingest_result ingest(std::vector<source_plan> plans, const ingest_options& opt) {
  ingest_engine engine(std::move(plans), opt);
  return engine.run();
}

/// Merges an ingest's partials into the final aggregate (beat 5), with its bookkeeping.
[[nodiscard]] inline telemetry_aggregate finish_aggregate(const ingest_result& in) {
  std::vector<const partial_aggregate*> parts;
  for (const auto& p : in.partials) parts.push_back(p.get());
  auto out = merge_partials(parts, in.window_ns);
  out.bad_lines = in.bad_lines;
  out.out_of_order = in.out_of_order;
  out.unmatched_starts = in.unmatched_starts;
  out.bad_line_samples = in.bad_line_samples;
  out.sources = in.sources;
  out.bytes = in.bytes;
  out.elapsed_ns = in.elapsed_ns;
  out.traces = in.traces;
  return out;
}

}  // namespace selfheal::telemetry
