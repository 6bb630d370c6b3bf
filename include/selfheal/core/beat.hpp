#pragma once
/// \file
/// A beat binds a handler to its compile-time event name, handler name, timing and kind:
///
/// \code
/// sh::beat<"self-healing:telemetry:load:logs", "loadLogFiles", sh::async, sh::stage_crew>(load_log_files{})
/// \endcode
///
/// Names are part of the type, so a sequence can be checked against its JSON file, and beats
/// can be replaced by handler name, at compile time.

#include <string_view>
#include <utility>

#include "selfheal/core/concepts.hpp"
#include "selfheal/core/fixed_string.hpp"

namespace selfheal {

/// When a beat runs relative to its caller. This is the catalogue's label only (the JSON files'
/// `timing`, shown by `selfheal sequences`): `run` executes every beat in order, on the caller's
/// thread, and an `async` beat is awaited like any other. A handler that wants concurrency runs it
/// inside itself (telemetry's ingest does) and returns when done.
enum class timing : unsigned char { immediate, async };
/// `pure`: no I/O, no clock; its handler cannot take the context (the sequence gate checks this:
/// `pure_handler_for`). `stage_crew`: does I/O through the context.
enum class kind : unsigned char { pure, stage_crew };

inline constexpr timing immediate = timing::immediate;
inline constexpr timing async = timing::async;
inline constexpr kind pure = kind::pure;
inline constexpr kind stage_crew = kind::stage_crew;

/// The catalogue spelling: "immediate" | "async", "pure" | "stage-crew".
[[nodiscard]] constexpr std::string_view to_string(timing t) noexcept {
  return t == timing::async ? "async" : "immediate";
}
[[nodiscard]] constexpr std::string_view to_string(kind k) noexcept {
  return k == kind::stage_crew ? "stage-crew" : "pure";
}

template <fixed_string Event, fixed_string Handler, timing Timing, kind Kind, beat_handler H>
struct beat_t {
  using handler_type = H;
  static constexpr std::string_view event = Event.view();
  static constexpr std::string_view handler_name = Handler.view();
  static constexpr selfheal::timing beat_timing = Timing;
  static constexpr selfheal::kind beat_kind = Kind;
  static constexpr bool implemented = handler_implemented_v<H>;
  static constexpr auto event_string = Event;
  static constexpr auto handler_string = Handler;

  H handler;

  /// The same beat (event, name, timing, kind) around another handler.
  template <selfheal::beat_handler H2>
  [[nodiscard]] constexpr beat_t<Event, Handler, Timing, Kind, H2> with_handler(H2 h) const {
    return {std::move(h)};
  }
};

template <fixed_string Event, fixed_string Handler, timing Timing = immediate, kind Kind = pure, beat_handler H>
[[nodiscard]] constexpr beat_t<Event, Handler, Timing, Kind, H> beat(H h) {
  return {std::move(h)};
}

namespace detail {
template <class T> struct is_beat : std::false_type {};
template <fixed_string E, fixed_string N, timing T, kind K, class H>
struct is_beat<beat_t<E, N, T, K, H>> : std::true_type {};
}  // namespace detail

/// A beat type: made by `selfheal::beat<...>(handler)`.
template <class B>
concept beat_like = detail::is_beat<std::remove_cvref_t<B>>::value;

/// A handler that is declared in the catalogue but not written yet. It fails every run with
/// `errc::not_implemented` naming itself: never a fake success. `implemented` is false, so
/// `selfheal sequences` and the unimplemented-beats test list it.
template <fixed_string Handler>
struct pending_handler {
  static constexpr bool implemented = false;
  template <class In>
  result<std::remove_cvref_t<In>> operator()(In&&) const {
    return fail(errc::not_implemented,
                std::string("handler ") + std::string(Handler.view()) + " is not implemented yet");
  }
};

}  // namespace selfheal
