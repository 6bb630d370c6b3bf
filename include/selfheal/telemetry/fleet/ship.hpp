#pragma once
/// \file
/// `selfheal ship`: reads log files with the same source rules as `parse` (`expand_paths`, content
/// fingerprint and identity, `plan_resume` for rotation/truncation/resume, `chunk_reader` for whole
/// lines in bounded memory, unterminated last lines held back) and publishes them in chunks to a
/// JetStream stream. Each message carries headers `Selfheal-Source` (identity), `Selfheal-Path`,
/// `Selfheal-Offset`, `Selfheal-End` (its byte range), `Selfheal-Line` and `Selfheal-Mtime`, and
/// the message id `<identity>#<generation>:<start>-<end>`. The identity is qualified by the host
/// (`web-1/2049:1234`: inode numbers repeat across machines), and the generation (the source's
/// row in the state file, written before its first chunk) changes when a file is truncated and
/// rewritten under the same inode (copy-truncate rotation), so new content never collides with the
/// ids of old content still inside the duplicate window.
///
/// Where each source stands is kept in a small local SQLite file (`--state`, table `ship_sources`,
/// component "ship"), written only AFTER the server acknowledged a chunk: a shipper killed between
/// the ack and that write republishes that one chunk on restart, which JetStream drops as a
/// duplicate (the stream is created with a one-hour duplicate window). A line longer than what the
/// server accepts in one message is skipped and counted (never cut).

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include "selfheal/core/result.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/fleet/ingest.hpp"
#include "selfheal/telemetry/fleet/nats.hpp"
#include "selfheal/telemetry/source.hpp"

namespace selfheal::telemetry::fleet {

/// The ship-state migrations (a separate SQLite file, component "ship"). Append, never edit.
inline constexpr std::array<std::string_view, 1> ship_migrations = {R"sql(
CREATE TABLE ship_sources(
  id INTEGER PRIMARY KEY,
  subject TEXT NOT NULL,
  fingerprint TEXT NOT NULL, fingerprint_len INTEGER NOT NULL,
  identity TEXT NOT NULL, path TEXT NOT NULL, gzip INTEGER NOT NULL,
  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  end_offset INTEGER NOT NULL, lines INTEGER NOT NULL);
CREATE INDEX ship_sources_by_subject ON ship_sources(subject, fingerprint_len);
)sql"};

/// Knobs of one `ship`.
struct ship_options {
  std::vector<std::string> paths;
  std::string url;
  std::string subject;
  std::string stream = "SELFHEAL";
  std::size_t chunk_bytes = std::size_t{1} << 20;
  std::string state_path = ".selfheal-ship.db";
  std::string host;                              ///< qualifies source identities; empty: gethostname()
  bool follow = false;
  std::chrono::milliseconds poll{1000};          ///< --follow: how often sources are looked at again
  std::chrono::milliseconds retry_for{60'000};   ///< keep retrying one publish this long (server away)
  const std::atomic<bool>* stop = nullptr;       ///< set (by a signal handler) to stop after the chunk
  std::function<void(const std::string&)> note;  ///< progress and skipped lines (stderr in the CLI)
};

/// What a ship did.
struct ship_stats {
  std::uint64_t sources = 0;      ///< sources with something new
  std::uint64_t messages = 0;     ///< chunks acknowledged
  std::uint64_t duplicates = 0;   ///< of which the server had already (a republish after a crash)
  std::uint64_t bytes = 0;
  std::uint64_t lines = 0;
  std::uint64_t skipped_lines = 0;  ///< lines too long for one message
  std::uint64_t retries = 0;        ///< publishes retried (server away, timeouts)
  std::int64_t publish_ns = 0;
  std::int64_t elapsed_ns = 0;
  std::vector<skipped_source> skipped;
};

namespace detail {
struct ship_state {
  std::int64_t id = 0;
  std::string identity, path;
  bool gzip = false;
  std::uint64_t size = 0, end_offset = 0, lines = 0;
  std::int64_t mtime_ns = 0;
};

/// The state of the source whose content starts with `prefix`, like `match_source_state`: the
/// longest matching fingerprint, then the same identity, then the newest; a match on fewer than 64
/// bytes counts only for the same identity.
inline result<std::optional<ship_state>> find_ship_state(store::database& db, const std::string& subject, std::string_view prefix,
                                                        const std::string& identity) {
  if (prefix.empty()) return std::optional<ship_state>{};
  auto st = db.prepare(
      "SELECT id, fingerprint, fingerprint_len, identity, path, gzip, size, mtime_ns, end_offset, lines FROM ship_sources "
      "WHERE subject = ?1 AND fingerprint_len <= ?2 ORDER BY fingerprint_len DESC, (identity = ?3) DESC, id DESC");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, subject).bind(2, static_cast<std::uint64_t>(prefix.size())).bind(3, identity);
  for (;;) {
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    const auto len = static_cast<std::size_t>(st->column_int(2));
    if (len == 0 || fingerprint_of(prefix.substr(0, len)) != st->column_text(1)) continue;
    ship_state s;
    s.id = st->column_int(0);
    s.identity = st->column_text(3);
    s.path = st->column_text(4);
    s.gzip = st->column_int(5) != 0;
    s.size = static_cast<std::uint64_t>(st->column_int(6));
    s.mtime_ns = st->column_int(7);
    s.end_offset = static_cast<std::uint64_t>(st->column_int(8));
    s.lines = static_cast<std::uint64_t>(st->column_int(9));
    if (len < 64 && s.identity != identity) continue;
    return std::optional<ship_state>{std::move(s)};
  }
  return std::optional<ship_state>{};
}

/// Records where `plan` stands after an acknowledged chunk (one statement: atomic).
inline result<std::int64_t> save_ship_state(store::database& db, const std::string& subject, const source_plan& plan,
                                            std::int64_t id, std::uint64_t end_offset, std::uint64_t lines) {
  if (id != 0) {
    auto up = db.prepare(
        "UPDATE ship_sources SET fingerprint = ?2, fingerprint_len = ?3, identity = ?4, path = ?5, gzip = ?6, size = ?7, "
        "mtime_ns = ?8, end_offset = ?9, lines = ?10 WHERE id = ?1");
    if (!up) return tl::unexpected(up.error());
    up->bind(1, id).bind(2, plan.fingerprint).bind(3, plan.fingerprint_len).bind(4, plan.identity).bind(5, plan.path)
        .bind(6, std::int64_t{plan.gzip}).bind(7, plan.size).bind(8, plan.mtime_ns).bind(9, end_offset).bind(10, lines);
    if (auto r = up->exec(); !r) return tl::unexpected(r.error());
    return id;
  }
  auto ins = db.prepare(
      "INSERT INTO ship_sources(subject, fingerprint, fingerprint_len, identity, path, gzip, size, mtime_ns, end_offset, lines) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  if (!ins) return tl::unexpected(ins.error());
  ins->bind(1, subject).bind(2, plan.fingerprint).bind(3, plan.fingerprint_len).bind(4, plan.identity).bind(5, plan.path)
      .bind(6, std::int64_t{plan.gzip}).bind(7, plan.size).bind(8, plan.mtime_ns).bind(9, end_offset).bind(10, lines);
  if (auto r = ins->exec(); !r) return tl::unexpected(r.error());
  return db.last_insert_rowid();
}
}  // namespace detail

/// One pass over the sources: ships whatever is new, then returns.
[[nodiscard]] inline result<void> ship_once(store::database& state, nats_link& link, const ship_options& o, ship_stats& stats) {
  auto found = expand_paths(o.paths);
  for (auto& s : found.skipped) stats.skipped.push_back(s);
  std::string host = o.host;
  if (host.empty()) {
    char buf[256] = {0};
    host = ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("host");
  }
  const std::int64_t max_payload = link.max_payload();
  const std::size_t room = max_payload > 64 * 1024 ? static_cast<std::size_t>(max_payload) - 16 * 1024 : std::size_t{48} * 1024;
  const std::size_t chunk_bytes = std::clamp<std::size_t>(o.chunk_bytes, 4096, room);
  for (auto& plan : found.sources) {
    if (o.stop != nullptr && o.stop->load()) return {};
    const std::string prefix = identify_content(plan);
    std::optional<previous_source> prev;
    std::int64_t state_id = 0;
    std::string identity = host + "/" + plan.identity;
    if (plan.path == "-") {
      identity = "stdin-" + std::to_string(::getpid()) + "-" +
                 std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    } else {
      auto st = detail::find_ship_state(state, o.subject, prefix, plan.identity);
      if (!st) return tl::unexpected(st.error());
      if (*st) {
        const auto& s = **st;
        state_id = s.id;
        prev = previous_source{s.identity, s.size, s.mtime_ns, s.end_offset, s.lines, {}, s.gzip, true, s.path};
      }
    }
    plan_resume(plan, prev);
    if (plan.note == "unchanged") continue;
    if (plan.path != "-" && (state_id == 0 || plan.note == "truncated")) {
      // a new generation of this source (new content, or truncated): its row first, for its id
      auto id = detail::save_ship_state(state, o.subject, plan, 0, plan.start_offset, plan.start_line - 1);
      if (!id) return tl::unexpected(id.error());
      state_id = *id;
    }
    const std::string generation = "#" + std::to_string(state_id);
    auto reader = chunk_reader::open(plan, chunk_bytes);
    if (!reader) {
      stats.skipped.push_back({plan.path, reader.error().detail});
      continue;
    }
    bool any = false;
    std::uint64_t line = plan.start_line;
    chunk c;
    for (;;) {
      if (o.stop != nullptr && o.stop->load()) return {};
      auto got = reader->next(c);
      if (!got) {
        stats.skipped.push_back({plan.path, got.error().detail});
        break;
      }
      if (!*got) break;
      const std::string_view data(c.buffer.data(), c.size);
      const std::uint64_t start = c.offset, end = c.offset + c.size;
      const auto lines = static_cast<std::uint64_t>(std::count(data.begin(), data.end(), '\n')) +
                         (c.unterminated ? 1 : 0);
      stats.skipped_lines += c.skipped_long_lines;
      if (c.skipped_long_lines && o.note)
        o.note(plan.path + ": " + std::to_string(c.skipped_long_lines) + " line(s) longer than " +
               std::to_string(max_line_bytes >> 20) + " MiB skipped");
      if (c.size > room) {  // one line bigger than a message: skipped, counted, never cut
        stats.skipped_lines += lines;
        if (o.note)
          o.note(plan.path + ": a line of " + std::to_string(c.size) + " bytes at offset " + std::to_string(start) +
                 " is longer than the server's message limit; skipped");
      } else if (c.size > 0) {
        const std::vector<nats_header> hs = {
            {headers::source, identity},          {headers::path, plan.path},
            {headers::offset, std::to_string(start)}, {headers::end, std::to_string(end)},
            {headers::line, std::to_string(line)},    {headers::mtime, std::to_string(plan.mtime_ns)}};
        const std::string msg_id = identity + generation + ":" + std::to_string(start) + "-" + std::to_string(end);
        const auto t0 = std::chrono::steady_clock::now();
        for (;;) {
          auto ack = link.publish(o.subject, data, hs, msg_id);
          if (ack) {
            ++stats.messages;
            if (ack->duplicate) ++stats.duplicates;
            break;
          }
          if (std::chrono::steady_clock::now() - t0 > o.retry_for)
            return fail(errc::io_error, ack.error().detail + " (retried for " + std::to_string(o.retry_for.count() / 1000) + " s)");
          if (o.stop != nullptr && o.stop->load()) return {};
          ++stats.retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        stats.publish_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
        stats.bytes += c.size;
        stats.lines += lines;
        any = true;
      }
      line += lines;
      // only now, after the ack: a crash before this line republishes the chunk (a duplicate)
      if (plan.path != "-") {
        auto id = detail::save_ship_state(state, o.subject, plan, state_id, reader->offset(), line - 1);
        if (!id) return tl::unexpected(id.error());
        state_id = *id;
      }
      if (c.last) break;
    }
    if (any) ++stats.sources;
  }
  return {};
}

/// Ships `o.paths` (see the file comment): once, or with `follow` until `stop` is set.
[[nodiscard]] inline result<ship_stats> ship(const ship_options& o) {
  const auto started = std::chrono::steady_clock::now();
  if (o.paths.empty()) return fail(errc::invalid_request, "no input: give at least one file, directory or glob");
  if (o.subject.empty()) return fail(errc::invalid_request, "no subject given");
  auto state = store::database::open(o.state_path);
  if (!state) return tl::unexpected(state.error());
  if (auto m = store::migrate(*state, "ship", std::span<const std::string_view>(ship_migrations)); !m) return tl::unexpected(m.error());
  auto link = nats_link::connect(o.url);
  if (!link) return tl::unexpected(link.error());
  if (auto r = link->ensure_work_queue(o.stream, o.subject); !r) return tl::unexpected(r.error());
  ship_stats stats;
  for (;;) {
    if (auto r = ship_once(*state, *link, o, stats); !r) return tl::unexpected(r.error());
    if (!o.follow || (o.stop != nullptr && o.stop->load())) break;
    const auto until = std::chrono::steady_clock::now() + o.poll;
    while (std::chrono::steady_clock::now() < until && (o.stop == nullptr || !o.stop->load()))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (o.stop != nullptr && o.stop->load()) break;
    stats.skipped.clear();  // reported once per pass
  }
  stats.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count();
  return stats;
}

}  // namespace selfheal::telemetry::fleet
