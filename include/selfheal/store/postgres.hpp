#pragma once
/// \file
/// The PostgreSQL backend of `store::database` (see database.hpp for the concept): a libpq
/// connection, and a statement that runs with `PQexecParams` at its first `step()` and walks the
/// materialised `PGresult`. Compiled only with `SELFHEAL_WITH_POSTGRESQL` (the `selfheal::postgresql`
/// CMake component, which links libpq); without it this header declares nothing and a
/// `postgresql://` store is refused with "built without PostgreSQL support".
///
/// Parameters go as text with an unknown type, so the server infers each from its use, as SQLite's
/// loose typing lets the stores expect; an integer goes as `int8`, a double as `float8`, a blob as
/// binary `bytea`, a parameter the statement never binds as a NULL `text`. Results come back as text:
/// `column_int` reads integers, numerics (truncated) and booleans (`t` = 1); `column_blob` decodes
/// `bytea`.

#if defined(SELFHEAL_WITH_POSTGRESQL) && SELFHEAL_WITH_POSTGRESQL

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "selfheal/core/result.hpp"
#include "selfheal/store/dialect.hpp"

namespace selfheal::store {

/// The one translation of a PostgreSQL failure into `selfheal::error` (`errc::store_error`): what
/// failed, the statement (its SQL, shortened), the server's message and SQLSTATE.
[[nodiscard]] inline tl::unexpected<error> postgres_error(std::string_view what, std::string_view sql, std::string_view message,
                                                          std::string_view sqlstate) {
  std::string msg(what);
  if (!sql.empty()) msg += " '" + shorten_sql(sql) + "'";
  msg += ": ";
  std::string m(message);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  if (m.rfind("ERROR:  ", 0) == 0) m = m.substr(8);
  if (auto nl = m.find('\n'); nl != std::string::npos) m = m.substr(0, nl);  // LINE 1: ... context
  msg += m;
  msg += " (postgresql sqlstate " + std::string(sqlstate.empty() ? "?????" : sqlstate) + ")";
  return fail(errc::store_error, std::move(msg));
}

/// A `postgresql://user:secret@host/db` URL with its password hidden, for messages.
[[nodiscard]] inline std::string redact_url(std::string_view url) {
  std::string u(url);
  const auto scheme = u.find("://");
  if (scheme == std::string::npos) return u;
  const auto at = u.find('@', scheme + 3);
  const auto slash = u.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return u;
  const auto colon = u.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) u.replace(colon + 1, at - colon - 1, "***");
  return u;
}

namespace detail {

struct pg_result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using pg_result = std::unique_ptr<PGresult, pg_result_deleter>;

/// One connection and what the `database` API keeps about it between statements.
struct pg_connection {
  PGconn* conn = nullptr;
  std::int64_t changes = 0;   ///< rows changed by the last INSERT/UPDATE/DELETE
  bool inserted = false;      ///< an INSERT ran on this session (`lastval()` is defined)

  pg_connection() = default;
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;
  ~pg_connection() { if (conn) PQfinish(conn); }

  /// Checks a result; on success notes the rows it changed.
  result<void> check(const PGresult* r, std::string_view what, std::string_view sql) {
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      const char* n = PQcmdTuples(const_cast<PGresult*>(r));
      if (n && *n) changes = std::strtoll(n, nullptr, 10);
      const char* cmd = PQcmdStatus(const_cast<PGresult*>(r));
      if (cmd && std::strncmp(cmd, "INSERT", 6) == 0) inserted = true;
      return {};
    }
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const char* message = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
    return postgres_error(what, sql, message ? message : "no result", state ? state : "");
  }

  /// Runs one or more statements without parameters (already translated).
  result<void> exec(std::string_view translated, std::string_view original) {
    const std::string text(translated);
    pg_result r(PQexec(conn, text.c_str()));
    auto out = check(r.get(), "exec of", original);
    // `BEGIN; SELECT pg_advisory_xact_lock(…)` that timed out on the lock: leave no aborted
    // transaction behind (SQLite's BEGIN IMMEDIATE fails without one)
    if (!out && text.starts_with("BEGIN") && PQtransactionStatus(conn) == PQTRANS_INERROR)
      pg_result(PQexec(conn, "ROLLBACK"));
    return out;
  }
};

inline void ignore_notice(void*, const char*) {}

/// Opens a connection from a libpq URI; notices ("relation already exists, skipping") are dropped.
inline result<std::unique_ptr<pg_connection>> pg_connect(const std::string& url) {
  auto c = std::make_unique<pg_connection>();
  c->conn = PQconnectdb(url.c_str());
  if (!c->conn) return fail(errc::store_error, "cannot open store '" + redact_url(url) + "': out of memory");
  if (PQstatus(c->conn) != CONNECTION_OK) {
    std::string m = PQerrorMessage(c->conn);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    const bool missing = m.find("does not exist") != std::string::npos;
    return fail(missing ? errc::not_found : errc::store_error,
                "cannot open store '" + redact_url(url) + "': " + m + " (postgresql)");
  }
  PQsetNoticeProcessor(c->conn, ignore_notice, nullptr);
  return c;
}

/// A statement on the PostgreSQL backend: parameters kept until the first `step()`, which runs it;
/// the rows are then read from the materialised result.
class pg_statement {
 public:
  pg_statement(pg_connection* c, std::string original)
      : c_(c), original_(std::move(original)) {
    auto t = to_postgres(original_);
    sql_ = std::move(t.text);
    values_.resize(static_cast<std::size_t>(t.parameters));
    set_.assign(values_.size(), 0);
    types_.assign(values_.size(), 0);
    formats_.assign(values_.size(), 0);
  }

  void bind_text(int i, std::string_view v, Oid type = 0, int format = 0) {
    if (i < 1 || static_cast<std::size_t>(i) > values_.size()) return;  // as SQLite: SQLITE_RANGE, ignored
    const auto k = static_cast<std::size_t>(i - 1);
    values_[k].assign(v.data(), v.size());
    set_[k] = 1;
    types_[k] = type;
    formats_[k] = format;
  }
  void bind_int(int i, std::int64_t v) { bind_text(i, std::to_string(v), 20); }  // int8
  void bind_double(int i, double v) {
    char buf[64];
    if (v != v) bind_text(i, "NaN", 701);
    else if (v > 1.7976931348623157e308) bind_text(i, "Infinity", 701);
    else if (v < -1.7976931348623157e308) bind_text(i, "-Infinity", 701);
    else {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
      bind_text(i, std::string_view(buf, ec == std::errc() ? static_cast<std::size_t>(end - buf) : 0), 701);  // float8
    }
  }
  void bind_blob(int i, std::span<const std::byte> v) {
    bind_text(i, std::string_view(reinterpret_cast<const char*>(v.data()), v.size()), 17, 1);  // bytea, binary
  }
  void bind_null(int i) {
    if (i < 1 || static_cast<std::size_t>(i) > values_.size()) return;
    const auto k = static_cast<std::size_t>(i - 1);
    set_[k] = 2;
    types_[k] = 0;
    formats_[k] = 0;
  }

  result<bool> step() {
    if (done_) reset_result();  // SQLite re-runs a statement stepped past its end
    if (!res_) {
      const auto n = values_.size();
      std::vector<const char*> values(n);
      std::vector<int> lengths(n);
      std::vector<Oid> types(types_);
      for (std::size_t k = 0; k < n; ++k) {
        if (set_[k] == 1) {
          values[k] = values_[k].data();
          lengths[k] = static_cast<int>(values_[k].size());
        } else {
          values[k] = nullptr;
          if (set_[k] == 0) types[k] = 25;  // never bound: NULL text, so an unread $N still has a type
        }
      }
      res_.reset(PQexecParams(c_->conn, sql_.c_str(), static_cast<int>(n), types.data(),
                              values.data(), lengths.data(), formats_.data(), 0));
      if (auto r = c_->check(res_.get(), "step of", original_); !r) {
        res_.reset();
        return tl::unexpected(r.error());
      }
      row_ = -1;
      rows_ = PQresultStatus(res_.get()) == PGRES_TUPLES_OK ? PQntuples(res_.get()) : 0;
    }
    if (++row_ < rows_) return true;
    done_ = true;
    return false;
  }

  void reset() {
    reset_result();
    set_.assign(values_.size(), 0);
  }

  [[nodiscard]] bool is_null(int col) const { return !has(col) || PQgetisnull(res_.get(), row_, col); }
  [[nodiscard]] std::string_view text(int col) const {
    if (!has(col) || PQgetisnull(res_.get(), row_, col)) return {};
    return {PQgetvalue(res_.get(), row_, col), static_cast<std::size_t>(PQgetlength(res_.get(), row_, col))};
  }
  [[nodiscard]] std::int64_t column_int(int col) const {
    const auto s = text(col);
    if (s.empty()) return 0;
    if (s == "t") return 1;
    if (s == "f") return 0;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
    return static_cast<std::int64_t>(column_double(col));  // numeric (SUM, AVG) or float
  }
  [[nodiscard]] double column_double(int col) const {
    const auto s = text(col);
    if (s.empty()) return 0.0;
    if (s == "t") return 1.0;
    if (s == "f") return 0.0;
    return std::strtod(std::string(s).c_str(), nullptr);  // also "Infinity", "NaN"
  }
  [[nodiscard]] std::vector<std::byte> column_blob(int col) const {
    const auto s = text(col);
    if (has(col) && PQftype(res_.get(), col) == 17 && s.size() >= 2 && s[0] == '\\' && s[1] == 'x') {
      std::vector<std::byte> out((s.size() - 2) / 2);
      const auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
      for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::byte>(hex(s[2 + 2 * i]) * 16 + hex(s[3 + 2 * i]));
      return out;
    }
    const auto* b = reinterpret_cast<const std::byte*>(s.data());
    return std::vector<std::byte>(b, b + s.size());
  }
  [[nodiscard]] const std::string& sql() const noexcept { return original_; }

 private:
  [[nodiscard]] bool has(int col) const {
    return res_ && row_ >= 0 && row_ < rows_ && col >= 0 && col < PQnfields(res_.get());
  }
  void reset_result() {
    res_.reset();
    row_ = -1;
    rows_ = 0;
    done_ = false;
  }

  pg_connection* c_;
  std::string original_, sql_;
  std::vector<std::string> values_;
  std::vector<char> set_;  ///< 0 never bound, 1 a value, 2 NULL
  std::vector<Oid> types_;
  std::vector<int> formats_;
  pg_result res_;
  int row_ = -1, rows_ = 0;
  bool done_ = false;
};

}  // namespace detail

/// The core schema on PostgreSQL, the one migration text with a PostgreSQL variant: the same
/// tables as SQLite's (`records`, `audit_log`, `schema_migrations`), the audit log's append-only
/// triggers as a PL/pgSQL function, `selfheal_user_version` for `PRAGMA user_version`, and two
/// read-only shims the stores' table checks use: the view `sqlite_master` (type, name, tbl_name of
/// the tables of the current schema) and the function `pragma_table_info(table)` (its columns'
/// cid, name, type; SQLite's `rowid` left out).
inline constexpr std::string_view postgres_core_schema_v1 = R"sql(
CREATE TABLE IF NOT EXISTS selfheal_user_version(version BIGINT NOT NULL);
INSERT INTO selfheal_user_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM selfheal_user_version);
CREATE TABLE IF NOT EXISTS schema_migrations(
  component TEXT NOT NULL, version BIGINT NOT NULL,
  applied_at TEXT NOT NULL DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  PRIMARY KEY(component, version), rowid BIGINT GENERATED ALWAYS AS IDENTITY);
CREATE TABLE IF NOT EXISTS records(
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, seq BIGINT NOT NULL,
  created_at_ns BIGINT NOT NULL, parent TEXT REFERENCES records(id),
  summary TEXT, UNIQUE(kind, seq), rowid BIGINT GENERATED ALWAYS AS IDENTITY);
CREATE TABLE IF NOT EXISTS audit_log(
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at_ns BIGINT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT, record TEXT, detail TEXT);
CREATE OR REPLACE FUNCTION selfheal_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
CREATE OR REPLACE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION selfheal_append_only();
CREATE OR REPLACE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION selfheal_append_only();
CREATE OR REPLACE VIEW sqlite_master AS
  SELECT 'table'::text AS type, c.relname::text AS name, c.relname::text AS tbl_name
  FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace;
CREATE OR REPLACE FUNCTION pragma_table_info(t text) RETURNS TABLE(cid integer, name text, type text)
  LANGUAGE sql STABLE AS
  $$ SELECT (a.attnum - 1)::integer, a.attname::text, format_type(a.atttypid, a.atttypmod)
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relname = t AND c.relnamespace = current_schema()::regnamespace
       AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'rowid' ORDER BY a.attnum $$;
UPDATE selfheal_user_version SET version = 1;
)sql";

}  // namespace selfheal::store

#endif  // SELFHEAL_WITH_POSTGRESQL
