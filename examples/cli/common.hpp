#pragma once
// What every subcommand of the `selfheal` program shares: --db, --json, exit codes, error output.
// The program holds no logic the library lacks: commands parse options, call a sequence, print.

#include <cstdio>
#include <optional>
#include <type_traits>
#include <utility>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "selfheal/core/context.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

struct globals {
  std::string db = "selfheal.db";
  bool json = false;
};

inline void add_common_options(CLI::App* sub, globals& g) {
  sub->add_option("--db", g.db, "the SQLite store file")->capture_default_str();
  sub->add_flag("--json", g.json, "print exactly one JSON object on standard output");
}

/// Prints an error: to standard error always; with --json also as {"error":..., "message":...}
/// on standard output, so that a --json caller always gets one object. Returns the exit code.
inline int report_error(const globals& g, std::string_view command, const error& e, int code = exit_failed) {
  std::fprintf(stderr, "selfheal %.*s: %s\n", static_cast<int>(command.size()), command.data(), e.message().c_str());
  if (g.json) {
    std::string out;
    json_writer w(out);
    w.begin_object().member("error", to_string(e.code)).member("message", e.message()).end_object();
    std::printf("%s\n", out.c_str());
  }
  return code;
}

/// Opens the store, runs `seq` on `input` against it, and reports a failure (exit 2 for a malformed
/// request, 1 for anything else). The sequence's output, or nothing when it failed.
template <class Seq, class In>
auto run_on_store(const globals& g, std::string_view command, const Seq& seq, In&& input, int& exit_code)
    -> std::optional<typename std::remove_cvref_t<Seq>::template output_for<std::remove_cvref_t<In>>> {
  auto db = store::database::open(g.db);
  if (!db) {
    exit_code = report_error(g, command, db.error());
    return std::nullopt;
  }
  context ctx;
  ctx.store = &*db;
  auto out = run(seq, ctx, std::forward<In>(input));
  if (!out) {
    exit_code = report_error(g, command, out.error(), out.error().code == errc::invalid_request ? exit_usage : exit_failed);
    return std::nullopt;
  }
  return std::move(*out);
}

/// Writes a finished JSON document and a newline to standard output.
inline void print_json(const std::string& doc) {
  std::fwrite(doc.data(), 1, doc.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace selfheal::cli
