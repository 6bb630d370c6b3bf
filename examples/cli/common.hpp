#pragma once
// What every subcommand of the `selfheal` program shares: --db, --json, exit codes, error output,
// opening the store. The program holds no logic the library lacks: commands parse options, call a
// sequence, print.

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <CLI/CLI.hpp>

#include "selfheal/core/context.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/store.hpp"

namespace selfheal::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

struct globals {
  std::string db = "selfheal.db";
  bool json = false;
};

inline void add_common_options(CLI::App* sub, globals& g) {
  sub->add_option("--db", g.db, "the store: an SQLite file, or a postgresql:// URL (libpq connection URI)")->capture_default_str();
  sub->add_flag("--json", g.json, "print exactly one JSON object on standard output");
}

/// Prints {"error": kind, "message": message} and a newline on standard output.
inline void print_error_json(std::string_view kind, std::string_view message) {
  std::string out;
  json_writer w(out);
  w.begin_object().member("error", kind).member("message", message).end_object();
  std::printf("%s\n", out.c_str());
}

/// Prints an error: to standard error always; with --json also as {"error":..., "message":...}
/// on standard output, so that a --json caller always gets one object. Returns the exit code.
inline int report_error(const globals& g, std::string_view command, const error& e, int code = exit_failed) {
  std::fprintf(stderr, "selfheal %.*s: %s\n", static_cast<int>(command.size()), command.data(), e.message().c_str());
  if (g.json) print_error_json(to_string(e.code), e.message());
  return code;
}

/// A usage error found by the program (a bad option value): {"error":"usage",...}, exit 2.
inline int report_usage(const globals& g, std::string_view command, std::string_view message) {
  std::fprintf(stderr, "selfheal %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  if (g.json) print_error_json("usage", message);
  return exit_usage;
}

/// Whether a command may create the store: only those that need no earlier record (`parse`, `heal`,
/// `validate --patch`) do; every other command refuses a store file that does not exist (a mistyped
/// --db must not leave an empty store behind).
enum class store_mode { existing, create };

/// Opens the store at --db; on failure reports it (naming --db) and sets `exit_code`.
inline std::optional<store::database> open_store(const globals& g, std::string_view command, int& exit_code,
                                                 store_mode mode = store_mode::existing) {
  auto db = mode == store_mode::create ? store::database::open(g.db) : store::database::open_existing(g.db);
  if (!db) {
    auto e = db.error();
    if (e.code == errc::not_found) e.detail = "--db: " + e.detail;
    exit_code = report_error(g, command, e);
    return std::nullopt;
  }
  return std::move(*db);
}

/// The telemetry record a command reads when none is given: the newest one with events. When newer
/// records hold none (a run that read only bad lines), says on standard error which one it used.
inline result<std::string> default_telemetry_record(store::database& db, std::string_view command) {
  auto id = telemetry::latest_nonempty_telemetry_record(db);
  if (!id) return id;
  if (auto newest = telemetry::latest_telemetry_record(db); newest && *newest != *id)
    std::fprintf(stderr, "selfheal %.*s: using %s, the newest telemetry record with events (%s has none)\n",
                 static_cast<int>(command.size()), command.data(), id->c_str(), newest->c_str());
  return id;
}

/// Runs `seq` on `input` against an open store and reports a failure (exit 2 for a malformed
/// request, 1 for anything else). The sequence's output, or nothing when it failed.
template <class Seq, class In>
auto run_in(const globals& g, std::string_view command, store::database& db, const Seq& seq, In&& input, int& exit_code)
    -> std::optional<typename std::remove_cvref_t<Seq>::template output_for<std::remove_cvref_t<In>>> {
  context ctx;
  ctx.store = &db;
  auto out = run(seq, ctx, std::forward<In>(input));
  if (!out) {
    exit_code = report_error(g, command, out.error(), out.error().code == errc::invalid_request ? exit_usage : exit_failed);
    return std::nullopt;
  }
  return std::move(*out);
}

/// Opens the store, runs `seq` on `input` against it, and reports a failure (exit 2 for a malformed
/// request, 1 for anything else). The sequence's output, or nothing when it failed.
template <class Seq, class In>
auto run_on_store(const globals& g, std::string_view command, const Seq& seq, In&& input, int& exit_code,
                  store_mode mode = store_mode::existing)
    -> std::optional<typename std::remove_cvref_t<Seq>::template output_for<std::remove_cvref_t<In>>> {
  auto db = open_store(g, command, exit_code, mode);
  if (!db) return std::nullopt;
  return run_in(g, command, *db, seq, std::forward<In>(input), exit_code);
}

/// Writes a finished JSON document and a newline to standard output.
inline void print_json(const std::string& doc) {
  std::fwrite(doc.data(), 1, doc.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace selfheal::cli
