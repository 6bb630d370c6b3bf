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
#include <type_traits>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "selfheal/core/result.hpp"

namespace selfheal::store {

/// The one translation of a SQLite status into `selfheal::error` (`errc::store_error`): what failed,
/// the statement it ran (its SQL, shortened), SQLite's message and code.
/// `what`, then the statement's SQL on one line and shortened (when given), then SQLite's `message`
/// and `rc`: the text of every store error.
[[nodiscard]] inline tl::unexpected<error> sqlite_error(int rc, std::string_view what, std::string_view sql, std::string_view message) {
  std::string msg(what);
  if (!sql.empty()) {
    std::string one;
    for (char c : sql.substr(0, 200)) {
      const bool space = c == '\n' || c == '\t' || c == '\r' || c == ' ';
      if (space && (one.empty() || one.back() == ' ')) continue;
      one += space ? ' ' : c;
    }
    while (!one.empty() && one.back() == ' ') one.pop_back();
    if (one.size() > 80) one = one.substr(0, 77) + "...";
    msg += " '" + one + "'";
  }
  msg += ": ";
  msg += message;
  msg += " (sqlite code " + std::to_string(rc) + ")";
  return fail(errc::store_error, std::move(msg));
}
[[nodiscard]] inline tl::unexpected<error> sqlite_error(sqlite3* db, int rc, std::string_view what, std::string_view sql = {}) {
  return sqlite_error(rc, what, sql, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

namespace detail {
/// What a row function returns, with `result<T>` unwrapped: a row function may fail the loop.
template <class R>
struct row_value { using type = R; };
template <class T>
struct row_value<result<T>> { using type = T; };
template <class R>
inline constexpr bool is_result_v = false;
template <class T>
inline constexpr bool is_result_v<result<T>> = true;
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
    return sqlite_error(db_, rc, "step of", st_ ? std::string_view(sqlite3_sql(st_)) : std::string_view{});
  }

  /// The row loop: `row(*this)` for each row, then the statement is reset (bindings cleared) for
  /// its next use. `row` returns void, or `result<void>` to stop the loop with its error.
  template <class F>
  [[nodiscard]] result<void> each(F&& row) {
    result<void> out;
    for (auto r = step();; r = step()) {
      if (!r) { out = tl::unexpected(r.error()); break; }
      if (!*r) break;
      if constexpr (detail::is_result_v<std::invoke_result_t<F&, const statement&>>) {
        if (auto e = row(std::as_const(*this)); !e) { out = tl::unexpected(e.error()); break; }
      } else {
        row(std::as_const(*this));
      }
    }
    reset();
    return out;
  }

  /// Every row as `row(*this)` (a value, or `result<value>`), in order; then reset.
  template <class F, class R = typename detail::row_value<std::invoke_result_t<F&, const statement&>>::type>
  [[nodiscard]] result<std::vector<R>> collect(F&& row) {
    std::vector<R> out;
    auto r = each([&](const statement& s) -> result<void> {
      if constexpr (detail::is_result_v<std::invoke_result_t<F&, const statement&>>) {
        auto v = row(s);
        if (!v) return tl::unexpected(v.error());
        out.push_back(std::move(*v));
      } else {
        out.push_back(row(s));
      }
      return {};
    });
    if (!r) return tl::unexpected(r.error());
    return out;
  }

  /// The first row as `row(*this)`, or nullopt when there is none; then reset.
  template <class F, class R = typename detail::row_value<std::invoke_result_t<F&, const statement&>>::type>
  [[nodiscard]] result<std::optional<R>> first(F&& row) {
    auto r = step();
    std::optional<R> out;
    if (r && *r) {
      if constexpr (detail::is_result_v<std::invoke_result_t<F&, const statement&>>) {
        auto v = row(std::as_const(*this));
        if (!v) { reset(); return tl::unexpected(v.error()); }
        out = std::move(*v);
      } else {
        out = row(std::as_const(*this));
      }
    }
    reset();
    if (!r) return tl::unexpected(r.error());
    return out;
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

/// Lists kept in one TEXT column, one item a line (notes, paths): joined and split back.
[[nodiscard]] inline std::string join_nl(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += '\n';
    s += v[i];
  }
  return s;
}
[[nodiscard]] inline std::vector<std::string> split_nl(std::string_view s) {
  std::vector<std::string> v;
  if (s.empty()) return v;
  std::size_t p = 0;
  while (true) {
    const auto n = s.find('\n', p);
    v.emplace_back(s.substr(p, n == std::string_view::npos ? std::string_view::npos : n - p));
    if (n == std::string_view::npos) break;
    p = n + 1;
  }
  return v;
}

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
    if (rc != SQLITE_OK) return sqlite_error(raw, rc, "cannot open store '" + path + "'");
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
      return sqlite_error(rc, "exec of", sql, msg);
    }
    return {};
  }

  [[nodiscard]] result<statement> prepare(std::string_view sql) {
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "prepare of", sql);
    return statement(db_, st);
  }

  /// Prepares `sql`, binds with `bind(statement&)`, and runs the row loop `statement::each`.
  template <class Bind, class F>
  [[nodiscard]] result<void> each(std::string_view sql, Bind&& bind, F&& row) {
    auto st = prepare(sql);
    if (!st) return tl::unexpected(st.error());
    bind(*st);
    return st->each(std::forward<F>(row));
  }
  /// Prepares, binds and collects every row (`statement::collect`).
  template <class Bind, class F>
  [[nodiscard]] auto query(std::string_view sql, Bind&& bind, F&& row) -> decltype(std::declval<statement&>().collect(row)) {
    auto st = prepare(sql);
    if (!st) return tl::unexpected(st.error());
    bind(*st);
    return st->collect(std::forward<F>(row));
  }
  /// Prepares, binds and reads the first row (`statement::first`).
  template <class Bind, class F>
  [[nodiscard]] auto query_one(std::string_view sql, Bind&& bind, F&& row) -> decltype(std::declval<statement&>().first(row)) {
    auto st = prepare(sql);
    if (!st) return tl::unexpected(st.error());
    bind(*st);
    return st->first(std::forward<F>(row));
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
