#pragma once
/// \file
/// The store: RAII handles, prepared statements, RAII transactions, and schema migrations per
/// component, over one of two backends. SQLite's result codes and PostgreSQL's SQLSTATEs are
/// translated into `selfheal::error` here and never leak past this header.
///
/// **The backend concept.** `database::open(url)` chooses the backend from the text it is given:
/// - a `postgresql://` or `postgres://` URL (a libpq connection URI, e.g.
///   `postgresql:///selfheal?host=/run/postgresql` or `postgresql://user@db.example/selfheal`) opens
///   PostgreSQL (`postgres.hpp`), when the program was built with the `selfheal::postgresql` CMake
///   component (`SELFHEAL_WITH_POSTGRESQL=1`, links libpq); without it such a URL is refused with
///   "built without PostgreSQL support";
/// - anything else is an SQLite file (WAL, foreign keys on): the default, as it always was.
/// `database` and `statement` each hold one backend handle (`sqlite3*`/`sqlite3_stmt*`, or a
/// `detail::pg_connection`/`detail::pg_statement`) and every member dispatches on which is set, so
/// callers see one API: prepare / bind(i, …) / bind_blob / bind_null / step / each / collect / first /
/// exec / reset / is_null / column_*, database::exec / each / query / query_one / last_insert_rowid /
/// changes / user_version / set_busy_timeout, `transaction`, `migrate`.
/// The stores write their SQL once, in the SQLite dialect restricted to what PostgreSQL also accepts;
/// the PostgreSQL backend translates what is purely syntactic (`dialect.hpp`: `?N` → `$N`, INTEGER →
/// BIGINT, BLOB → BYTEA, integer keys → identity columns, SQLite's implicit `rowid`, `BEGIN
/// IMMEDIATE` → `BEGIN` + an advisory lock so writers serialise as in SQLite). On PostgreSQL a
/// statement runs at its first `step()` (`PQexecParams`) and the rows are read from its result;
/// `last_insert_rowid` is the session's `lastval()`, `user_version` a one-row table.
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
#include "selfheal/store/dialect.hpp"
#include "selfheal/store/postgres.hpp"

namespace selfheal::store {

/// Whether the store named `url` is PostgreSQL (`postgresql://…` or `postgres://…`), not an SQLite file.
[[nodiscard]] inline bool is_postgres_url(std::string_view url) noexcept {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

/// Whether this build can open PostgreSQL stores (the `selfheal::postgresql` component).
[[nodiscard]] constexpr bool postgres_supported() noexcept {
#if defined(SELFHEAL_WITH_POSTGRESQL) && SELFHEAL_WITH_POSTGRESQL
  return true;
#else
  return false;
#endif
}

#if defined(SELFHEAL_WITH_POSTGRESQL) && SELFHEAL_WITH_POSTGRESQL
#define SELFHEAL_STORE_PG(...) __VA_ARGS__
#else
#define SELFHEAL_STORE_PG(...)
#endif

/// The one translation of a SQLite status into `selfheal::error` (`errc::store_error`): what failed,
/// the statement it ran (its SQL, shortened), SQLite's message and code.
/// `what`, then the statement's SQL on one line and shortened (when given), then SQLite's `message`
/// and `rc`: the text of every store error.
[[nodiscard]] inline tl::unexpected<error> sqlite_error(int rc, std::string_view what, std::string_view sql, std::string_view message) {
  std::string msg(what);
  if (!sql.empty()) msg += " '" + shorten_sql(sql) + "'";
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
  SELFHEAL_STORE_PG(explicit statement(std::unique_ptr<detail::pg_statement> pg) : pg_(std::move(pg)) {})
  statement(statement&& o) noexcept
      : db_(o.db_), st_(std::exchange(o.st_, nullptr)) SELFHEAL_STORE_PG(, pg_(std::move(o.pg_))) {}
  statement& operator=(statement&& o) noexcept {
    if (this != &o) {
      finalize();
      db_ = o.db_;
      st_ = std::exchange(o.st_, nullptr);
      SELFHEAL_STORE_PG(pg_ = std::move(o.pg_);)
    }
    return *this;
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { finalize(); }

  statement& bind(int i, std::int64_t v) {
    SELFHEAL_STORE_PG(if (pg_) { pg_->bind_int(i, v); return *this; })
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  statement& bind(int i, int v) { return bind(i, std::int64_t{v}); }
  statement& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  statement& bind(int i, double v) {
    SELFHEAL_STORE_PG(if (pg_) { pg_->bind_double(i, v); return *this; })
    sqlite3_bind_double(st_, i, v);
    return *this;
  }
  statement& bind(int i, std::string_view v) {
    SELFHEAL_STORE_PG(if (pg_) { pg_->bind_text(i, v); return *this; })
    sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  statement& bind_blob(int i, std::span<const std::byte> v) {
    SELFHEAL_STORE_PG(if (pg_) { pg_->bind_blob(i, v); return *this; })
    sqlite3_bind_blob64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind_null(int i) {
    SELFHEAL_STORE_PG(if (pg_) { pg_->bind_null(i); return *this; })
    sqlite3_bind_null(st_, i);
    return *this;
  }
  template <class T>
  statement& bind(int i, const std::optional<T>& v) { return v ? bind(i, *v) : bind_null(i); }

  /// Runs one step: `true` when a row is ready, `false` when done.
  [[nodiscard]] result<bool> step() {
    SELFHEAL_STORE_PG(if (pg_) return pg_->step();)
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
  void reset() {
    SELFHEAL_STORE_PG(if (pg_) { pg_->reset(); return; })
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }

  [[nodiscard]] bool is_null(int col) const {
    SELFHEAL_STORE_PG(if (pg_) return pg_->is_null(col);)
    return sqlite3_column_type(st_, col) == SQLITE_NULL;
  }
  [[nodiscard]] std::int64_t column_int(int col) const {
    SELFHEAL_STORE_PG(if (pg_) return pg_->column_int(col);)
    return sqlite3_column_int64(st_, col);
  }
  [[nodiscard]] double column_double(int col) const {
    SELFHEAL_STORE_PG(if (pg_) return pg_->column_double(col);)
    return sqlite3_column_double(st_, col);
  }
  [[nodiscard]] std::string column_text(int col) const {
    SELFHEAL_STORE_PG(if (pg_) return std::string(pg_->text(col));)
    const auto* p = sqlite3_column_text(st_, col);
    const int n = sqlite3_column_bytes(st_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }
  [[nodiscard]] std::vector<std::byte> column_blob(int col) const {
    SELFHEAL_STORE_PG(if (pg_) return pg_->column_blob(col);)
    const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(st_, col));
    const int n = sqlite3_column_bytes(st_, col);
    return p ? std::vector<std::byte>(p, p + n) : std::vector<std::byte>();
  }

 private:
  void finalize() {
    if (st_) sqlite3_finalize(st_);
    st_ = nullptr;
    SELFHEAL_STORE_PG(pg_.reset();)
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
  SELFHEAL_STORE_PG(std::unique_ptr<detail::pg_statement> pg_;)
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

/// An open store: an SQLite file or a PostgreSQL database (see the file comment). Move-only;
/// closes on destruction.
class database {
 public:
  /// Opens the store `path`: a `postgresql://` URL connects to PostgreSQL (the database must exist;
  /// its core schema is created when missing); anything else opens (creating if needed) an SQLite
  /// file with WAL and foreign keys on. Waits up to 5 s on another writer's lock, and applies the
  /// core schema (records, audit log).
  [[nodiscard]] static result<database> open(const std::string& path) {
    if (is_postgres_url(path)) return open_postgres(path, false);
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
  /// On PostgreSQL the database must exist and hold the core schema, else `errc::not_found`.
  [[nodiscard]] static result<database> open_existing(const std::string& path) {
    if (is_postgres_url(path)) return open_postgres(path, true);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      return fail(errc::not_found, "no store at '" + path + "' (run `selfheal parse` first)");
    return open(path);
  }

  database(database&& o) noexcept : db_(std::exchange(o.db_, nullptr)) SELFHEAL_STORE_PG(, pg_(std::move(o.pg_))) {}
  database& operator=(database&& o) noexcept {
    if (this != &o) {
      close();
      db_ = std::exchange(o.db_, nullptr);
      SELFHEAL_STORE_PG(pg_ = std::move(o.pg_);)
    }
    return *this;
  }
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database() { close(); }

  /// Runs one or more statements with no results.
  [[nodiscard]] result<void> exec(std::string_view sql) {
    SELFHEAL_STORE_PG(if (pg_) return pg_->exec(to_postgres(sql).text, sql);)
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
    SELFHEAL_STORE_PG(if (pg_) return statement(std::make_unique<detail::pg_statement>(pg_.get(), std::string(sql)));)
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

  /// The id the last INSERT of this connection generated (SQLite's rowid; PostgreSQL's `lastval()`,
  /// which every table's identity column feeds); 0 before any.
  [[nodiscard]] std::int64_t last_insert_rowid() const {
#if defined(SELFHEAL_WITH_POSTGRESQL) && SELFHEAL_WITH_POSTGRESQL
    if (pg_) {
      if (!pg_->inserted) return 0;
      detail::pg_result r(PQexec(pg_->conn, "SELECT lastval()"));
      if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) return 0;
      return std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10);
    }
#endif
    return sqlite3_last_insert_rowid(db_);
  }
  /// Rows changed by the last INSERT, UPDATE or DELETE of this connection.
  [[nodiscard]] std::int64_t changes() const {
    SELFHEAL_STORE_PG(if (pg_) return pg_->changes;)
    return sqlite3_changes(db_);
  }
  /// Whether this store is PostgreSQL (not an SQLite file).
  [[nodiscard]] bool is_postgres() const noexcept {
    SELFHEAL_STORE_PG(if (pg_) return true;)
    return false;
  }
  /// How long statements wait for another connection's lock (`default_busy_timeout` after open;
  /// on PostgreSQL the session's `lock_timeout`).
  void set_busy_timeout(std::chrono::milliseconds wait) {
    const auto ms = std::min<std::int64_t>(wait.count(), std::int64_t{1} << 30);
#if defined(SELFHEAL_WITH_POSTGRESQL) && SELFHEAL_WITH_POSTGRESQL
    if (pg_) {
      const std::string sql = "SET lock_timeout = " + std::to_string(std::max<std::int64_t>(ms, 1));
      detail::pg_result r(PQexec(pg_->conn, sql.c_str()));
      return;
    }
#endif
    sqlite3_busy_timeout(db_, static_cast<int>(ms));
  }
  /// The SQLite handle (nullptr on PostgreSQL).
  [[nodiscard]] sqlite3* native_handle() const noexcept { return db_; }

  /// The version of the core schema: SQLite's `PRAGMA user_version`, PostgreSQL's
  /// `selfheal_user_version` table (0 when it does not exist yet).
  [[nodiscard]] result<int> user_version() {
#if defined(SELFHEAL_WITH_POSTGRESQL) && SELFHEAL_WITH_POSTGRESQL
    if (pg_) {
      auto has = prepare("SELECT to_regclass('selfheal_user_version') IS NOT NULL");
      if (!has) return tl::unexpected(has.error());
      auto row = has->step();
      if (!row) return tl::unexpected(row.error());
      if (!*row || has->column_int(0) == 0) return 0;
      auto v = prepare("SELECT COALESCE(MAX(version), 0) FROM selfheal_user_version");
      if (!v) return tl::unexpected(v.error());
      auto r = v->step();
      if (!r) return tl::unexpected(r.error());
      return static_cast<int>(v->column_int(0));
    }
#endif
    auto st = prepare("PRAGMA user_version");
    if (!st) return tl::unexpected(st.error());
    auto r = st->step();
    if (!r) return tl::unexpected(r.error());
    return static_cast<int>(st->column_int(0));
  }

 private:
  explicit database(sqlite3* db) : db_(db) {}
  void close() {
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
    SELFHEAL_STORE_PG(pg_.reset();)
  }

  [[nodiscard]] static result<database> open_postgres(const std::string& url, bool existing);
  result<void> apply_core_schema();

  sqlite3* db_ = nullptr;
  SELFHEAL_STORE_PG(std::unique_ptr<detail::pg_connection> pg_;)
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
inline result<database> database::open_postgres(const std::string& url, bool existing) {
#if defined(SELFHEAL_WITH_POSTGRESQL) && SELFHEAL_WITH_POSTGRESQL
  auto conn = detail::pg_connect(url);
  if (!conn) return tl::unexpected(conn.error());
  database db(nullptr);
  db.pg_ = std::move(*conn);
  db.set_busy_timeout(default_busy_timeout);
  if (existing) {
    auto has = db.prepare("SELECT to_regclass('records') IS NOT NULL AND to_regclass('selfheal_user_version') IS NOT NULL");
    if (!has) return tl::unexpected(has.error());
    auto row = has->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row || has->column_int(0) == 0)
      return fail(errc::not_found, "no store in '" + redact_url(url) + "' (run `selfheal parse` first)");
  }
  if (auto r = db.apply_core_schema(); !r) return tl::unexpected(r.error());
  return db;
#else
  static_cast<void>(existing);
  return fail(errc::invalid_request, "cannot open store '" + url.substr(0, url.find("://") + 3) +
                                         "…': this selfheal was built without PostgreSQL support "
                                         "(build with the selfheal::postgresql CMake component and libpq-dev)");
#endif
}

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
#if defined(SELFHEAL_WITH_POSTGRESQL) && SELFHEAL_WITH_POSTGRESQL
  if (pg_) {
    // Under the writer lock: another process may have created it meanwhile.
    if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction to create the core schema");
    version = user_version();
    if (!version) return tl::unexpected(version.error());
    if (*version >= 1) return tx.commit();
    if (auto r = pg_->exec(postgres_core_schema_v1, "core schema"); !r) return r;
    return tx.commit();
  }
#endif
  if (auto r = exec(v1); !r) return r;
  return tx.commit();
}

#undef SELFHEAL_STORE_PG

}  // namespace selfheal::store
