#pragma once
/// \file
/// Record ids: every `store*` beat creates one record (`"<kind>-<n>"`, e.g. `"telemetry-3"`) inside
/// its own transaction and hands the id to the next sequence's `load*` beat.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::store {

/// Inserts a new record of `kind` (call inside the caller's transaction) and returns its id.
[[nodiscard]] inline result<std::string> create_record(database& db, std::string_view kind, time_point created,
                                                       std::optional<std::string_view> parent = std::nullopt,
                                                       std::string_view summary = {}) {
  auto next = db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM records WHERE kind = ?1");
  if (!next) return tl::unexpected(next.error());
  next->bind(1, kind);
  if (auto r = next->step(); !r) return tl::unexpected(r.error());
  const std::int64_t seq = next->column_int(0);
  std::string id = std::string(kind) + "-" + std::to_string(seq);
  auto ins = db.prepare("INSERT INTO records(id, kind, seq, created_at_ns, parent, summary) VALUES (?1,?2,?3,?4,?5,?6)");
  if (!ins) return tl::unexpected(ins.error());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(created.time_since_epoch()).count();
  ins->bind(1, id).bind(2, kind).bind(3, seq).bind(4, static_cast<std::int64_t>(ns));
  if (parent) ins->bind(5, *parent); else ins->bind_null(5);
  ins->bind(6, summary);
  if (auto r = ins->exec(); !r) return tl::unexpected(r.error());
  return id;
}

/// The newest record of `kind`, or `errc::not_found` saying how to make one.
[[nodiscard]] inline result<std::string> latest_record(database& db, std::string_view kind) {
  auto row = db.query_one("SELECT id FROM records WHERE kind = ?1 ORDER BY seq DESC LIMIT 1", [&](statement& q) { q.bind(1, kind); },
                          [](const statement& st) { return st.column_text(0); });
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(errc::not_found, "the store has no " + std::string(kind) + " record yet");
  return std::move(**row);
}

/// Whether record `id` exists and is of `kind`.
[[nodiscard]] inline result<bool> record_exists(database& db, std::string_view id, std::string_view kind) {
  auto row = db.query_one("SELECT 1 FROM records WHERE id = ?1 AND kind = ?2", [&](statement& q) { q.bind(1, id).bind(2, kind); },
                          [](const statement&) { return true; });
  if (!row) return tl::unexpected(row.error());
  return row->has_value();
}

/// Whether record `id` exists, of any kind (a parent named by the input may be from elsewhere).
[[nodiscard]] inline result<bool> record_exists(database& db, std::string_view id) {
  auto row = db.query_one("SELECT 1 FROM records WHERE id = ?1", [&](statement& q) { q.bind(1, id); }, [](const statement&) { return true; });
  if (!row) return tl::unexpected(row.error());
  return row->has_value();
}

/// Appends to the audit log (append-only: triggers refuse UPDATE/DELETE).
[[nodiscard]] inline result<void> audit(database& db, time_point at, std::string_view actor, std::string_view action,
                                        std::string_view target, std::string_view record, std::string_view detail) {
  auto st = db.prepare("INSERT INTO audit_log(at_ns, actor, action, target, record, detail) VALUES (?1,?2,?3,?4,?5,?6)");
  if (!st) return tl::unexpected(st.error());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
  st->bind(1, static_cast<std::int64_t>(ns)).bind(2, actor).bind(3, action).bind(4, target).bind(5, record).bind(6, detail);
  return st->exec();
}

}  // namespace selfheal::store
