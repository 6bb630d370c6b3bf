#pragma once
/// \file
/// The handler concepts, in layers (each a refinement of the one before, so a diagnostic names the
/// layer that failed):
///
///   beat_handler<H>            H is an object type a beat can hold (copy-constructible).
///   handler_for<H, In>         ... and it can be invoked with an `In&&`, alone or with a `context&`.
///   handler_of<H, In, Out>     ... and what it hands on (its return value, unwrapped from
///                              `result<Out>`) is exactly `Out`.
///
/// Laws: a *pure* handler depends only on its input (same input, same output, no I/O, no clock);
/// a *stage-crew* handler may do I/O, and does it only through the `context` it is given. The first
/// law is enforced where it can be: `pure_handler_for` rejects a handler that can take the context,
/// and a beat declared `pure` must satisfy it (the sequence gate reports
/// `pure_beat_takes_context<beat number, "handler name", handler type>` otherwise).
/// Models: every handler type in `selfheal::<domain>`, e.g. `telemetry::parse_telemetry_requested`.
///
/// Why `beat_handler` and not `handler`: a concept named `handler` in namespace `selfheal` makes
/// clang 16 read `a.handler < b.handler` (a generic lambda comparing records by their `handler`
/// field, common in this code base) as a template-id. The layered shape stays as STYLE.md asks.
///
/// \code
/// struct add_one { int operator()(int x) const { return x + 1; } };
/// static_assert(selfheal::handler_of<add_one, int, int>);
/// struct stamp { selfheal::result<long> operator()(int x, selfheal::context& c) const; };
/// static_assert(selfheal::handler_of<stamp, int, long>);
/// \endcode

#include <concepts>
#include <type_traits>

#include "selfheal/core/result.hpp"

namespace selfheal {

struct context;

template <class H>
concept beat_handler = std::is_object_v<H> && std::copy_constructible<H>;

template <class H, class In>
concept handler_for =
    beat_handler<H> && (std::invocable<const H&, In&&> || std::invocable<const H&, In&&, context&>);

namespace detail {
template <class H, class In>
struct handler_invoke {
  using type = void;
};
template <class H, class In>
  requires std::invocable<const H&, In&&, context&>
struct handler_invoke<H, In> {
  using type = std::invoke_result_t<const H&, In&&, context&>;
};
template <class H, class In>
  requires(!std::invocable<const H&, In&&, context&> && std::invocable<const H&, In&&>)
struct handler_invoke<H, In> {
  using type = std::invoke_result_t<const H&, In&&>;
};
}  // namespace detail

/// What `H` returns for `In`, as returned (`result<T>` or `T`).
template <class H, class In>
using handler_return_t = typename detail::handler_invoke<H, In>::type;

/// What `H` hands to the next beat for `In`: its return type with `result<>` unwrapped.
template <class H, class In>
using handler_output_t = unwrap_result_t<handler_return_t<H, In>>;

template <class H, class In, class Out>
concept handler_of = handler_for<H, In> && std::same_as<handler_output_t<H, In>, Out>;

/// A handler fit for a `pure` beat: it takes `In` alone and cannot be handed the context (so it
/// can reach neither the store, nor the clock, nor the event sink).
template <class H, class In>
concept pure_handler_for = handler_for<H, In> && !std::invocable<const H&, In&&, context&>;

/// Whether a handler is real or a placeholder (`pending_handler`): `H::implemented`, default true.
template <class H>
inline constexpr bool handler_implemented_v = [] {
  if constexpr (requires { H::implemented; }) return static_cast<bool>(H::implemented);
  else return true;
}();

}  // namespace selfheal
