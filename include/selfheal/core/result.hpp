#pragma once
/// \file
/// Errors are values. Every handler returns either a plain value or `selfheal::result<T>`; `run`
/// short-circuits on the first error and stamps it with the beat number and handler name.
///
/// `result<T>` is `tl::expected<T, selfheal::error>` (C++20 has no `std::expected`). Errors of
/// simdjson, SQLite, libgit2 and the OS are translated into an `errc` at their boundary and never
/// leak past it.

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

namespace selfheal {

/// What went wrong, coarse enough to act on. Every code is documented here, where it is declared.
enum class errc : std::uint8_t {
  ok = 0,            ///< not an error; never carried by an `error`
  invalid_request,   ///< the caller's request is malformed (missing path, bad option): fix the call
  not_implemented,   ///< the beat exists in the catalogue but has no implementation yet
  not_found,         ///< a file, record or symbol the request names does not exist
  io_error,          ///< the OS refused a read, write, stat or spawn (errno text in the message)
  parse_error,       ///< input could not be parsed (file and line in the message)
  store_error,       ///< the SQLite store failed (SQLite's message in the message)
  git_error,         ///< libgit2 failed (its message in the message)
  process_failed,    ///< a child process exited non-zero or was killed
  timeout,           ///< a child process or an operation exceeded its time limit
  cancelled,         ///< the run context was cancelled before the beat started
  policy_denied,     ///< a safety policy refused the action (approval gate, kill switch, path escape)
  failed,            ///< anything else; the message says what
};

/// The name of an error code, as printed in messages and JSON (`"not_implemented"`).
[[nodiscard]] constexpr std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::invalid_request: return "invalid_request";
    case errc::not_implemented: return "not_implemented";
    case errc::not_found: return "not_found";
    case errc::io_error: return "io_error";
    case errc::parse_error: return "parse_error";
    case errc::store_error: return "store_error";
    case errc::git_error: return "git_error";
    case errc::process_failed: return "process_failed";
    case errc::timeout: return "timeout";
    case errc::cancelled: return "cancelled";
    case errc::policy_denied: return "policy_denied";
    case errc::failed: return "failed";
  }
  return "unknown";
}

/// An error a person can act on: a code, the beat that failed (filled in by `run`) and a message
/// that says what and where ("logs/app.log:17: unterminated string").
struct error {
  errc code = errc::failed;
  std::string detail;         ///< what went wrong, with file/line where known
  std::size_t beat = 0;       ///< 1-based beat number; 0 while the error has not left its handler
  std::string handler;        ///< handler name of that beat (`"loadLogFiles"`), empty until then

  /// "beat 3 extractTelemetryEvents: <detail>" once stamped by `run`, otherwise just the detail.
  [[nodiscard]] std::string message() const {
    if (beat == 0) return detail;
    std::string out = "beat " + std::to_string(beat) + " " + handler + ": " + detail;
    return out;
  }
};

template <class T>
using result = tl::expected<T, error>;

/// `return selfheal::fail(errc::io_error, "cannot open " + path);` inside a handler.
[[nodiscard]] inline tl::unexpected<error> fail(errc code, std::string detail) {
  return tl::unexpected<error>(error{code, std::move(detail), 0, {}});
}

namespace detail {
template <class T> struct unwrap_result { using type = T; static constexpr bool is_result = false; };
template <class T> struct unwrap_result<tl::expected<T, error>> { using type = T; static constexpr bool is_result = true; };
}  // namespace detail

/// `T` for `result<T>`, `T` for a plain `T`: what a handler hands to the next beat.
template <class T>
using unwrap_result_t = typename detail::unwrap_result<std::remove_cvref_t<T>>::type;

/// True when `T` is some `result<U>`.
template <class T>
inline constexpr bool is_result_v = detail::unwrap_result<std::remove_cvref_t<T>>::is_result;

}  // namespace selfheal
