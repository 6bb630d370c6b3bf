#pragma once
// A throwaway PostgreSQL server for the tests: `initdb -A trust` in a temporary folder, started
// with `pg_ctl` on a Unix socket in that folder only (listen_addresses='', fsync off), one per test
// run (started by the first test that asks, stopped with `pg_ctl stop -m immediate` and removed at
// exit). Each test gets a fresh database (`fresh_postgres_url()`), created through libpq.
//
// The server refuses to run as root: when the tests run as root the folder is given to the
// `postgres` user and the server binaries run through `runuser -u postgres --`; as a normal user
// they run directly. The binaries are found in $SELFHEAL_PG_BINDIR, /usr/lib/postgresql/<newest>/bin
// or PATH; when they are missing the test fails naming the Debian package (no silent skip).
//
// The databases use SQL_ASCII and the C locale: bytes are stored as given and text sorts by byte,
// as in SQLite (see the README's "Scaling out" section).

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "selfheal/core/process.hpp"
#include "temp_dir.hpp"

namespace selfheal::test {

class postgres_server {
 public:
  /// Starts a server in a new temporary folder; throws with the reason when it cannot.
  postgres_server() {
    bindir_ = find_bindir();
    std::string tmpl = (std::filesystem::temp_directory_path() / "selfheal-pg-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr)
        throw std::runtime_error("the tests run as root and there is no 'postgres' user to run the PostgreSQL server "
                                 "(Debian package: postgresql)");
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("cannot chown " + dir_.string());
      as_user_ = {"runuser", "-u", "postgres", "--"};
    }
    run({bindir_ + "/initdb", "-D", (dir_ / "data").string(), "-A", "trust", "-U", "selfheal", "-E", "SQL_ASCII",
         "--locale=C", "--no-sync"},
        "initdb");
    run({bindir_ + "/pg_ctl", "start", "-w", "-t", "60", "-D", (dir_ / "data").string(), "-l", (dir_ / "server.log").string(),
         "-o", "-k " + dir_.string() + " -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"},
        "pg_ctl start");
    started_ = true;
  }
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;
  ~postgres_server() {
    if (started_) {
      std::vector<std::string> argv = as_user_;
      for (std::string a : {bindir_ + "/pg_ctl", std::string("stop"), std::string("-m"), std::string("immediate"),
                            std::string("-D"), (dir_ / "data").string()})
        argv.push_back(a);
      process_options o;
      o.cwd = dir_;
      o.timeout = std::chrono::seconds{60};
      static_cast<void>(run_process(std::span<const std::string>(argv), o));
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// The libpq URL of database `name` on this server (Unix socket in the folder).
  [[nodiscard]] std::string url(const std::string& name) const {
    return "postgresql:///" + name + "?host=" + dir_.string() + "&user=selfheal";
  }

  /// Creates a new, empty database and returns its URL.
  [[nodiscard]] std::string create_database(const std::string& name) const {
    PGconn* c = PQconnectdb(url("postgres").c_str());
    std::unique_ptr<PGconn, void (*)(PGconn*)> guard(c, PQfinish);
    if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(std::string("cannot connect to the test server: ") + PQerrorMessage(c));
    const std::string sql = "CREATE DATABASE \"" + name + "\"";
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) throw std::runtime_error("CREATE DATABASE " + name + ": " + msg);
    return url(name);
  }

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  static std::string find_bindir() {
    if (const char* e = std::getenv("SELFHEAL_PG_BINDIR"); e && *e) return e;
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    for (const auto& d : std::filesystem::directory_iterator("/usr/lib/postgresql", ec))
      if (std::filesystem::exists(d.path() / "bin" / "initdb")) found.push_back(d.path() / "bin");
    if (!found.empty()) {
      std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return std::atoi(a.parent_path().filename().c_str()) < std::atoi(b.parent_path().filename().c_str());
      });
      return found.back().string();
    }
    if (const char* path = std::getenv("PATH")) {
      std::string p = path;
      for (std::size_t s = 0; s <= p.size();) {
        const auto e = std::min(p.find(':', s), p.size());
        const std::filesystem::path dir = p.substr(s, e - s);
        if (!dir.empty() && std::filesystem::exists(dir / "initdb") && std::filesystem::exists(dir / "pg_ctl")) return dir.string();
        s = e + 1;
      }
    }
    throw std::runtime_error("PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or PATH: "
                             "install the Debian package 'postgresql' (scripts/debian-packages.txt), or set SELFHEAL_PG_BINDIR");
  }

  void run(std::vector<std::string> argv, const std::string& what) const {
    std::vector<std::string> full = as_user_;
    full.insert(full.end(), argv.begin(), argv.end());
    process_options o;
    o.cwd = dir_;
    o.timeout = std::chrono::seconds{120};
    auto out = run_process(std::span<const std::string>(full), o);
    if (!out) throw std::runtime_error(what + ": " + out.error().detail);
    if (!out->ok()) {
      std::string log;
      std::error_code ec;
      if (std::filesystem::exists(dir_ / "server.log", ec)) {
        std::ifstream in(dir_ / "server.log");
        log.assign(std::istreambuf_iterator<char>(in), {});
      }
      throw std::runtime_error(what + " failed (exit " + std::to_string(out->exit_code) + "): " + out->err + out->out + log);
    }
  }

  std::string bindir_;
  std::filesystem::path dir_;
  std::vector<std::string> as_user_;
  bool started_ = false;
};

/// The server shared by every test of this process (started on first use).
inline postgres_server& shared_postgres() {
  static postgres_server server;
  return server;
}

/// A new empty database on the shared server: its `postgresql://` URL.
inline std::string fresh_postgres_url() {
  static std::atomic<int> n{0};
  return shared_postgres().create_database("selfheal_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
}

/// The two store backends, for tests that run over both (`GENERATE(both_backends())`-style).
enum class store_backend { sqlite, postgresql };
inline const char* to_string(store_backend b) { return b == store_backend::sqlite ? "sqlite" : "postgresql"; }

/// A fresh store of backend `b`: an SQLite file `name` in `dir`, or a new PostgreSQL database.
inline std::string fresh_store_url(store_backend b, const temp_dir& dir, const std::string& name = "s.db") {
  return b == store_backend::sqlite ? (dir.path() / name).string() : fresh_postgres_url();
}

}  // namespace selfheal::test
