#pragma once
/// \file
/// `selfheal ingest`: workers that pull shipped log chunks from a JetStream work-queue consumer,
/// parse them with the telemetry core (each message is a memory source of `ingest_engine`) and
/// commit per batch, in ONE store transaction, the aggregates and the stream sequences they cover;
/// messages are acked only after that commit. A message whose sequence is already committed (its
/// ack was lost: a worker killed between commit and ack, a server restart) is acked and skipped,
/// so counts are exactly once however often the server redelivers.
///
/// What a message cannot tell: an execution whose beats fall in two messages. Each message is its
/// own source, closed at its end (`source_plan::memory`): a started/completed pair split by a
/// message boundary counts its completion as an execution without a duration and its start as an
/// unmatched start; an execution traced by correlation id that spans messages is counted as
/// incomplete in each part. Events, executions, errors and explicit durations are exact; only
/// durations derived from pairs across a boundary (and such traces) are lost. Chunks are ~1 MiB,
/// so this touches the executions open at a chunk's edges.
///
/// Poison: a message is parsed like a file, so binary data, invalid UTF-8 or over-long lines become
/// counted bad lines and the message is committed and acked like any other. A message whose
/// parsing throws is nak'ed for a retry and, at its `max_deliver`-th delivery, terminated.
///
/// `run_worker_processes` runs N workers as N forked child processes of the caller (before any
/// NATS connection or thread exists) and sums their statistics; more workers on other machines
/// simply run `selfheal ingest` against the same stream and store.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/aggregate.hpp"
#include "selfheal/telemetry/fleet/nats.hpp"
#include "selfheal/telemetry/fleet/store.hpp"
#include "selfheal/telemetry/ingest.hpp"
#include "selfheal/telemetry/model.hpp"

namespace selfheal::telemetry::fleet {

/// Header names carried by every shipped chunk (see `ship.hpp`).
namespace headers {
inline constexpr const char* source = "Selfheal-Source";  ///< source identity (dev:inode)
inline constexpr const char* path = "Selfheal-Path";
inline constexpr const char* offset = "Selfheal-Offset";  ///< first byte of the chunk in the source
inline constexpr const char* end = "Selfheal-End";        ///< byte after the chunk
inline constexpr const char* line = "Selfheal-Line";      ///< number of the chunk's first line
inline constexpr const char* mtime = "Selfheal-Mtime";    ///< source mtime (ns): year-less timestamps
}  // namespace headers

/// One message to parse: its data and where it came from.
struct message_input {
  std::string_view data;
  std::uint64_t seq = 0;
  std::string identity, path;
  std::uint64_t offset = 0, end = 0, line = 1;
  std::int64_t mtime_ns = 0;
};

/// How messages are parsed (the same knobs as `parse`).
struct parse_settings {
  log_format format = log_format::auto_detect;
  std::int64_t window_ns = 60'000'000'000;
  bool traces = true;
  std::int64_t execution_timeout_ns = 300'000'000'000;
};

/// A parsed batch: the merged aggregate and, per message, what it held.
struct parsed_batch {
  telemetry_aggregate aggregate;
  std::vector<committed_message> messages;
};

[[nodiscard]] inline std::uint64_t parse_u64(const std::string& s, std::uint64_t fallback) {
  if (s.empty()) return fallback;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return fallback;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

/// What a fetched message says about itself (headers; defaults for a message without them).
[[nodiscard]] inline message_input describe(const nats_message& m, const std::string& stream) {
  message_input in;
  in.data = m.data();
  in.seq = m.stream_seq();
  in.identity = m.header(headers::source);
  in.path = m.header(headers::path);
  if (in.identity.empty()) in.identity = "nats:" + stream + ":" + std::to_string(in.seq);
  if (in.path.empty()) in.path = "nats:" + stream + "/" + std::to_string(in.seq);
  in.offset = parse_u64(m.header(headers::offset), 0);
  in.end = parse_u64(m.header(headers::end), in.offset + in.data.size());
  in.line = std::max<std::uint64_t>(1, parse_u64(m.header(headers::line), 1));
  in.mtime_ns = static_cast<std::int64_t>(parse_u64(m.header(headers::mtime), 0));
  return in;
}

/// Parses messages with the telemetry core (one thread: the workers are the parallelism).
[[nodiscard]] inline parsed_batch parse_messages(std::span<const message_input> msgs, const parse_settings& s) {
  std::vector<source_plan> plans;
  plans.reserve(msgs.size());
  for (const auto& m : msgs) {
    source_plan p;
    p.path = m.path;
    p.identity = m.identity;
    p.size = m.data.size();
    p.mtime_ns = m.mtime_ns;
    p.start_offset = m.offset;
    p.start_line = m.line;
    // a non-null view even for an empty message: it is a memory source either way
    p.memory = m.data.data() != nullptr ? m.data : std::string_view("", 0);
    plans.push_back(std::move(p));
  }
  ingest_options opt;
  opt.format = s.format;
  opt.threads = 1;
  opt.window_ns = s.window_ns;
  opt.traces.enabled = s.traces;
  opt.traces.idle_timeout_ns = s.execution_timeout_ns;
  auto result = ingest(std::move(plans), opt);
  parsed_batch out;
  out.messages.reserve(msgs.size());
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const auto& src = result.sources[i];
    out.messages.push_back({msgs[i].seq, msgs[i].identity, msgs[i].path, msgs[i].offset, msgs[i].end, src.bytes, src.events,
                            src.bad_lines});
  }
  out.aggregate = finish_aggregate(result);
  return out;
}

/// Knobs of one worker.
struct worker_options {
  std::string url;
  std::string stream;
  std::string durable = "selfheal-ingest";
  std::string db_path;
  std::string name;                               ///< recorded with each message ("host:pid" if empty)
  int batch = 16;                                 ///< messages per fetch and per transaction
  std::chrono::milliseconds fetch_wait{1000};
  std::chrono::milliseconds idle_exit{0};         ///< stop after this long without a message; 0: never
  consumer_options consumer;
  parse_settings parse;
  const clock_source* clock = nullptr;            ///< committed_at and record times (null: system clock)
  const std::atomic<bool>* stop = nullptr;        ///< set (by a signal handler) to stop after the batch
};

/// What a worker did and where its time went.
struct worker_stats {
  std::uint64_t messages = 0;     ///< committed by this worker
  std::uint64_t duplicates = 0;   ///< already committed (acked and skipped)
  std::uint64_t terminated = 0;   ///< could not be parsed at all: given up after max_deliver
  std::uint64_t batches = 0;
  std::uint64_t bytes = 0, events = 0, bad_lines = 0;
  std::int64_t network_ns = 0;    ///< fetching and acking
  std::int64_t parse_ns = 0;      ///< the telemetry core
  std::int64_t commit_ns = 0;     ///< the store transaction
  std::int64_t elapsed_ns = 0;
  std::int64_t busy_ns = 0;       ///< from the start to the last commit (elapsed minus the final idle wait)
  unsigned workers = 1;

  void add(const worker_stats& o) {
    messages += o.messages;
    duplicates += o.duplicates;
    terminated += o.terminated;
    batches += o.batches;
    bytes += o.bytes;
    events += o.events;
    bad_lines += o.bad_lines;
    network_ns += o.network_ns;
    parse_ns += o.parse_ns;
    commit_ns += o.commit_ns;
    elapsed_ns = std::max(elapsed_ns, o.elapsed_ns);
    busy_ns = std::max(busy_ns, o.busy_ns);
  }
};

namespace detail {
inline std::int64_t since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
}
inline std::string default_worker_name() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "host");
  return std::string(host) + ":" + std::to_string(::getpid());
}
}  // namespace detail

/// Commits one batch (see the file comment); returns the messages to ack (the committed ones and
/// those found committed already). Messages that could not be parsed are nak'ed or terminated.
[[nodiscard]] inline result<void> process_batch(store::database& db, std::vector<nats_message>& batch, const worker_options& o,
                                                const std::string& worker, worker_stats& stats) {
  const system_clock_source system_clock;
  const clock_source& clock = o.clock != nullptr ? *o.clock : static_cast<const clock_source&>(system_clock);
  std::vector<nats_message*> todo;
  for (auto& m : batch) todo.push_back(&m);
  std::vector<nats_message*> to_ack;
  auto drop_committed = [&](const std::set<std::uint64_t>& done) {
    std::vector<nats_message*> rest;
    for (auto* m : todo) {
      if (done.count(m->stream_seq())) {
        to_ack.push_back(m);
        ++stats.duplicates;
      } else {
        rest.push_back(m);
      }
    }
    todo = std::move(rest);
  };
  {
    std::vector<std::uint64_t> seqs;
    for (auto* m : todo) seqs.push_back(m->stream_seq());
    auto done = committed_sequences(db, o.stream, seqs);
    if (!done) return tl::unexpected(done.error());
    drop_committed(*done);
  }
  for (int attempt = 0; !todo.empty(); ++attempt) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<message_input> inputs;
    for (auto* m : todo) inputs.push_back(describe(*m, o.stream));
    parsed_batch parsed;
    try {
      parsed = parse_messages(inputs, o.parse);
    } catch (const std::exception&) {
      // one of them breaks the parser as a whole: parse them one by one to find it
      std::vector<nats_message*> good;
      for (std::size_t i = 0; i < todo.size(); ++i) {
        try {
          static_cast<void>(parse_messages(std::span<const message_input>(&inputs[i], 1), o.parse));
          good.push_back(todo[i]);
        } catch (const std::exception&) {
          if (todo[i]->delivered() >= static_cast<std::uint64_t>(std::max<std::int64_t>(1, o.consumer.max_deliver))) {
            static_cast<void>(todo[i]->term());
            ++stats.terminated;
          } else {
            static_cast<void>(todo[i]->nak());
          }
        }
      }
      todo = std::move(good);
      stats.parse_ns += detail::since(t0);
      continue;
    }
    stats.parse_ns += detail::since(t0);
    t0 = std::chrono::steady_clock::now();
    store::transaction tx(db);
    if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (the store stayed locked)");
    std::vector<std::uint64_t> seqs;
    for (auto* m : todo) seqs.push_back(m->stream_seq());
    auto done = committed_sequences(db, o.stream, seqs);
    if (!done) return tl::unexpected(done.error());
    if (!done->empty()) {  // another worker committed some meanwhile (a redelivery): parse the rest again
      drop_committed(*done);
      stats.commit_ns += detail::since(t0);
      continue;
    }
    const auto now = clock.now();
    auto record = stream_record(db, o.stream, o.parse.window_ns, now);
    if (!record) return tl::unexpected(record.error());
    if (auto r = append_batch(db, *record, o.stream, parsed.aggregate, parsed.messages, worker, now); !r) return r;
    if (auto r = tx.commit(); !r) return r;
    stats.commit_ns += detail::since(t0);
    stats.messages += todo.size();
    stats.bytes += parsed.aggregate.bytes;
    stats.events += parsed.aggregate.events;
    stats.bad_lines += parsed.aggregate.bad_lines;
    for (auto* m : todo) to_ack.push_back(m);
    todo.clear();
    (void)attempt;
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (auto* m : to_ack) static_cast<void>(m->ack());  // a lost ack means a redelivery, skipped then
  stats.network_ns += detail::since(t0);
  return {};
}

/// Opens (creating) the store and its fleet tables. Workers starting together on a new store race
/// for its first write (switching it to WAL): a locked store is retried for up to 10 s.
[[nodiscard]] inline result<store::database> open_store(const std::string& path) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto locked = [](const error& e) {
    return e.detail.find("locked") != std::string::npos || e.detail.find("busy") != std::string::npos;
  };
  for (;;) {
    auto db = store::database::open(path);
    result<void> ready = db ? migrate_fleet(*db) : result<void>(tl::unexpected(db.error()));
    if (ready) return db;
    if (!locked(ready.error()) || std::chrono::steady_clock::now() >= until) return tl::unexpected(ready.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

/// Runs one worker until `idle_exit` passes without a message or `stop` is set.
[[nodiscard]] inline result<worker_stats> run_worker(const worker_options& o) {
  const auto started = std::chrono::steady_clock::now();
  worker_stats stats;
  if (o.stream.empty()) return fail(errc::invalid_request, "no stream given");
  if (o.batch < 1) return fail(errc::invalid_request, "the batch must hold at least one message");
  auto db = open_store(o.db_path);
  if (!db) return tl::unexpected(db.error());
  auto link = nats_link::connect(o.url);
  if (!link) return tl::unexpected(link.error());
  // the stream may not exist yet (no shipper has run): wait for it as for messages
  for (;;) {
    auto p = link->pull(o.stream, o.durable, o.consumer);
    if (p) break;
    if (p.error().code != errc::not_found) return tl::unexpected(p.error());
    if ((o.stop != nullptr && o.stop->load()) ||
        (o.idle_exit.count() > 0 && detail::since(started) >= std::chrono::duration_cast<std::chrono::nanoseconds>(o.idle_exit).count()))
      return stats;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const std::string worker = o.name.empty() ? detail::default_worker_name() : o.name;
  auto last_message = std::chrono::steady_clock::now();
  while (o.stop == nullptr || !o.stop->load()) {
    auto t0 = std::chrono::steady_clock::now();
    auto batch = link->fetch(o.batch, o.fetch_wait);
    if (!batch) return tl::unexpected(batch.error());
    if (batch->empty()) {
      // waiting for work is idle time, not network cost
      if (o.idle_exit.count() > 0 && std::chrono::steady_clock::now() - last_message >= o.idle_exit) break;
      continue;
    }
    stats.network_ns += detail::since(t0);
    last_message = std::chrono::steady_clock::now();
    if (auto r = process_batch(*db, *batch, o, worker, stats); !r) return tl::unexpected(r.error());
    ++stats.batches;
    stats.busy_ns = detail::since(started);
  }
  const auto t0 = std::chrono::steady_clock::now();
  static_cast<void>(link->flush());
  stats.network_ns += detail::since(t0);
  stats.elapsed_ns = detail::since(started);
  return stats;
}

/// Runs `n` workers as forked child processes (call before any thread or NATS connection exists)
/// and returns their summed statistics; fails if any worker failed (its error text is joined).
[[nodiscard]] inline result<worker_stats> run_worker_processes(unsigned n, const worker_options& o) {
  if (n <= 1) return run_worker(o);
  {  // create the store and its tables once, before the workers race for it
    auto db = open_store(o.db_path);
    if (!db) return tl::unexpected(db.error());
  }
  const auto started = std::chrono::steady_clock::now();
  struct child {
    pid_t pid = -1;
    int fd = -1;
  };
  std::vector<child> children;
  for (unsigned i = 0; i < n; ++i) {
    int fds[2];
    if (::pipe(fds) != 0) return fail(errc::io_error, std::string("pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) return fail(errc::io_error, std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(fds[0]);
      worker_options mine = o;
      if (!mine.name.empty()) mine.name += "#" + std::to_string(i);
      auto r = run_worker(mine);
      std::string report;
      int code = 0;
      if (r) {
        report.assign(reinterpret_cast<const char*>(&*r), sizeof(worker_stats));
      } else {
        report = "E" + r.error().detail;
        code = 1;
      }
      for (std::size_t off = 0; off < report.size();) {
        const auto w = ::write(fds[1], report.data() + off, report.size() - off);
        if (w <= 0) break;
        off += static_cast<std::size_t>(w);
      }
      ::close(fds[1]);
      ::_exit(code);
    }
    ::close(fds[1]);
    children.push_back({pid, fds[0]});
  }
  worker_stats total;
  total.workers = n;
  std::string errors;
  for (auto& c : children) {
    std::string got;
    char buf[4096];
    for (;;) {
      const auto r = ::read(c.fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got.append(buf, static_cast<std::size_t>(r));
    }
    ::close(c.fd);
    int status = 0;
    while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && got.size() == sizeof(worker_stats)) {
      worker_stats s;
      std::memcpy(&s, got.data(), sizeof s);
      total.add(s);
    } else {
      const std::string why = !got.empty() && got[0] == 'E' ? got.substr(1)
                              : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                    : "exited with " + std::to_string(WEXITSTATUS(status));
      errors += (errors.empty() ? "" : "; ") + std::string("worker ") + std::to_string(c.pid) + ": " + why;
    }
  }
  total.elapsed_ns = detail::since(started);
  if (!errors.empty()) return fail(errc::io_error, errors);
  return total;
}

}  // namespace selfheal::telemetry::fleet
