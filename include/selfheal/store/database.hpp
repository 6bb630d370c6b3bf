#pragma once
/// \file
/// The SQLite store: one file (WAL, foreign keys on), RAII handles, prepared statements, RAII
/// transactions, and schema migrations per component. SQLite's result codes are translated into
/// `selfheal::error` here and never leak past this header.
///
/// \code
/// auto db = store::database::open("selfheal.db");            // result<database>
/// if (!db) return tl::unexpected(db.error());
/// store::transaction tx(*db);                                 // BEGIN IMMEDIATE
/// auto st = db->prepare("INSERT INTO t(a, b) VALUES (?1, ?2)");
/// st->bind(1, 42).bind(2, "text");  if (auto r = st->step(); !r) return r.error();
/// if (auto r = tx.commit(); !r) ...                           // rolled back if never committed
/// \endcode

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <system_error>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "selfheal/core/result.hpp"

namespace selfheal::store {

namespace detail {
inline tl::unexpected<error> sqlite_fail(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  msg += " (sqlite code " + std::to_string(rc) + ")";
  return fail(errc::store_error, std::move(msg));
}
}  // namespace detail

/// One prepared statement. Bind indices are 1-based (SQLite's); columns 0-based.
class statement {
 public:
  statement() = default;
  statement(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  statement(statement&& o) noexcept : db_(o.db_), st_(std::exchange(o.st_, nullptr)) {}
  statement& operator=(statement&& o) noexcept {
    if (this != &o) { finalize(); db_ = o.db_; st_ = std::exchange(o.st_, nullptr); }
    return *this;
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { finalize(); }

  statement& bind(int i, std::int64_t v) { sqlite3_bind_int64(st_, i, v); return *this; }
  statement& bind(int i, int v) { sqlite3_bind_int64(st_, i, v); return *this; }
  statement& bind(int i, std::uint64_t v) { sqlite3_bind_int64(st_, i, static_cast<std::int64_t>(v)); return *this; }
  statement& bind(int i, double v) { sqlite3_bind_double(st_, i, v); return *this; }
  statement& bind(int i, std::string_view v) {
    sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  statement& bind_blob(int i, std::span<const std::byte> v) {
    sqlite3_bind_blob64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind_null(int i) { sqlite3_bind_null(st_, i); return *this; }
  template <class T>
  statement& bind(int i, const std::optional<T>& v) { return v ? bind(i, *v) : bind_null(i); }

  /// Runs one step: `true` when a row is ready, `false` when done.
  [[nodiscard]] result<bool> step() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return detail::sqlite_fail(db_, rc, "step");
  }
  /// Steps to completion (for INSERT/UPDATE), then resets for reuse.
  [[nodiscard]] result<void> exec() {
    auto r = step();
    while (r && *r) r = step();
    reset();
    if (!r) return tl::unexpected(r.error());
    return {};
  }
  void reset() { sqlite3_reset(st_); sqlite3_clear_bindings(st_); }

  [[nodiscard]] bool is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  [[nodiscard]] std::int64_t column_int(int col) const { return sqlite3_column_int64(st_, col); }
  [[nodiscard]] double column_double(int col) const { return sqlite3_column_double(st_, col); }
  [[nodiscard]] std::string column_text(int col) const {
    const auto* p = sqlite3_column_text(st_, col);
    const int n = sqlite3_column_bytes(st_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }
  [[nodiscard]] std::vector<std::byte> column_blob(int col) const {
    const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(st_, col));
    const int n = sqlite3_column_bytes(st_, col);
    return p ? std::vector<std::byte>(p, p + n) : std::vector<std::byte>();
  }

 private:
  void finalize() { if (st_) sqlite3_finalize(st_); st_ = nullptr; }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
};

/// How long a statement waits for another connection's lock before failing with "database is locked".
inline constexpr std::chrono::milliseconds default_busy_timeout{5000};

/// An open store file. Move-only; closes on destruction.
class database {
 public:
  /// Opens (creating if needed) `path`, turns on WAL and foreign keys, waits up to 5 s on locks,
  /// and applies the core schema (records, audit log).
  [[nodiscard]] static result<database> open(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    database db(raw);
    if (rc != SQLITE_OK) return detail::sqlite_fail(raw, rc, "cannot open store '" + path + "'");
    sqlite3_busy_timeout(raw, static_cast<int>(default_busy_timeout.count()));
    if (auto r = db.exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"); !r)
      return tl::unexpected(r.error());
    if (auto r = db.apply_core_schema(); !r) return tl::unexpected(r.error());
    return db;
  }

  /// Opens an existing store for commands that only read it: a path with no store file is an error
  /// (`errc::not_found`) instead of a new empty store (a mistyped `--db`).
  [[nodiscard]] static result<database> open_existing(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      return fail(errc::not_found, "no store at '" + path + "' (run `selfheal parse` first)");
    return open(path);
  }

  database(database&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  database& operator=(database&& o) noexcept {
    if (this != &o) { close(); db_ = std::exchange(o.db_, nullptr); }
    return *this;
  }
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database() { close(); }

  /// Runs one or more statements with no results.
  [[nodiscard]] result<void> exec(std::string_view sql) {
    char* err = nullptr;
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return fail(errc::store_error, "exec: " + msg + " (sqlite code " + std::to_string(rc) + ")");
    }
    return {};
  }

  [[nodiscard]] result<statement> prepare(std::string_view sql) {
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr);
    if (rc != SQLITE_OK) return detail::sqlite_fail(db_, rc, "prepare '" + std::string(sql.substr(0, 60)) + "'");
    return statement(db_, st);
  }

  [[nodiscard]] std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  /// How long statements wait for another connection's lock (`default_busy_timeout` after open).
  void set_busy_timeout(std::chrono::milliseconds wait) {
    sqlite3_busy_timeout(db_, static_cast<int>(std::min<std::int64_t>(wait.count(), std::int64_t{1} << 30)));
  }
  [[nodiscard]] sqlite3* native_handle() const noexcept { return db_; }

  /// `PRAGMA user_version`: the version of the core schema.
  [[nodiscard]] result<int> user_version() {
    auto st = prepare("PRAGMA user_version");
    if (!st) return tl::unexpected(st.error());
    auto r = st->step();
    if (!r) return tl::unexpected(r.error());
    return static_cast<int>(st->column_int(0));
  }

 private:
  explicit database(sqlite3* db) : db_(db) {}
  void close() { if (db_) sqlite3_close_v2(db_); db_ = nullptr; }

  result<void> apply_core_schema();

  sqlite3* db_ = nullptr;
};

/// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless `commit()` succeeded. A crash
/// leaves the last committed state, never a half record.
class transaction {
 public:
  explicit transaction(database& db) : db_(&db) { begun_ = static_cast<bool>(db.exec("BEGIN IMMEDIATE")); }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction() { if (begun_ && !done_) static_cast<void>(db_->exec("ROLLBACK")); }
  [[nodiscard]] bool active() const noexcept { return begun_ && !done_; }
  [[nodiscard]] result<void> commit() {
    if (!begun_) return fail(errc::store_error, "transaction could not begin (is the store locked?)");
    auto r = db_->exec("COMMIT");
    if (r) done_ = true;
    return r;
  }

 private:
  database* db_;
  bool begun_ = false;
  bool done_ = false;
};

/// Applies the migrations of one component (`"telemetry"`, `"anomaly"`, …) that the store has not
/// seen yet, each in its own transaction, recording them in `schema_migrations`. Migration `i`
/// (0-based) is version `i + 1`; append new ones, never edit old ones.
[[nodiscard]] inline result<void> migrate(database& db, std::string_view component,
                                          std::span<const std::string_view> migrations) {
  auto current = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?1");
  if (!current) return tl::unexpected(current.error());
  current->bind(1, component);
  auto row = current->step();
  if (!row) return tl::unexpected(row.error());
  const auto have = static_cast<std::size_t>(current->column_int(0));
  current->reset();  // ends its read transaction: a write lock is never taken while reading
  if (have >= migrations.size()) return {};
  // Another process may migrate at the same moment: each version is checked again under the
  // write lock (BEGIN IMMEDIATE waits for the other writer), so it is applied exactly once.
  auto applied = db.prepare("SELECT 1 FROM schema_migrations WHERE component = ?1 AND version = ?2");
  if (!applied) return tl::unexpected(applied.error());
  for (std::size_t v = have; v < migrations.size(); ++v) {
    transaction tx(db);
    if (!tx.active()) return fail(errc::store_error, std::string(component) + " migration " + std::to_string(v + 1) +
                                                         ": the store stayed locked by another writer");
    applied->bind(1, component).bind(2, static_cast<std::int64_t>(v + 1));
    auto done = applied->step();
    applied->reset();
    if (!done) return tl::unexpected(done.error());
    if (*done) {
      if (auto r = tx.commit(); !r) return r;
      continue;
    }
    if (auto r = db.exec(migrations[v]); !r) {
      auto e = r.error();
      e.detail = std::string(component) + " migration " + std::to_string(v + 1) + ": " + e.detail;
      return tl::unexpected(std::move(e));
    }
    auto ins = db.prepare("INSERT INTO schema_migrations(component, version) VALUES (?1, ?2)");
    if (!ins) return tl::unexpected(ins.error());
    ins->bind(1, component).bind(2, static_cast<std::int64_t>(v + 1));
    if (auto r = ins->exec(); !r) return r;
    if (auto r = tx.commit(); !r) return r;
  }
  return {};
}

/// The core schema, versioned by `PRAGMA user_version`:
/// - `records`: one row per stored sequence result (`id` like "telemetry-3"), with its parent record;
/// - `audit_log`: append-only (triggers refuse UPDATE and DELETE) record of every action that changes
///   a repository or deploys;
/// - `schema_migrations`: the per-component versions `migrate` keeps.
inline result<void> database::apply_core_schema() {
  static constexpr std::string_view v1 = R"sql(
    CREATE TABLE IF NOT EXISTS schema_migrations(
      component TEXT NOT NULL, version INTEGER NOT NULL,
      applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      PRIMARY KEY(component, version));
    CREATE TABLE IF NOT EXISTS records(
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, seq INTEGER NOT NULL,
      created_at_ns INTEGER NOT NULL, parent TEXT REFERENCES records(id),
      summary TEXT, UNIQUE(kind, seq));
    CREATE TABLE IF NOT EXISTS audit_log(
      id INTEGER PRIMARY KEY AUTOINCREMENT, at_ns INTEGER NOT NULL, actor TEXT NOT NULL,
      action TEXT NOT NULL, target TEXT, record TEXT, detail TEXT);
    CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    PRAGMA user_version = 1;
  )sql";
  auto version = user_version();
  if (!version) return tl::unexpected(version.error());
  if (*version >= 1) return {};
  transaction tx(*this);
  if (auto r = exec(v1); !r) return r;
  return tx.commit();
}

}  // namespace selfheal::store
