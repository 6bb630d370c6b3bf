#pragma once
/// \file
/// A sequence: a flat, statically typed list of beats, composed at compile time.
///
/// \code
/// inline constexpr auto parse = sh::sequence<"self-healing-telemetry-parse-symphony", parse_request>(
///     sh::beat<"self-healing:telemetry:parse:requested", "parseTelemetryRequested">(parse_telemetry_requested{}),
///     sh::beat<"self-healing:telemetry:load:logs", "loadLogFiles", sh::async, sh::stage_crew>(load_log_files{}));
/// auto mine = parse.replace<"loadLogFiles">(my_loader{});      // checked at compile time
/// auto more = parse.insert_after<"loadLogFiles">(sh::beat<"my:audit", "auditSources">(audit{}));
/// \endcode
///
/// The composability gate: each beat must take the previous beat's output. When it does not,
/// compilation stops with one `static_assert` whose note names the beat number, its handler name,
/// the previous output type and the handler type:
///   `beat_cannot_take_previous_output<3, "extractTelemetryEvents", int, my_handler>`.
/// A beat declared `pure` whose handler takes the context stops compilation the same way, with
///   `pure_beat_takes_context<2, "stampTime", stamp_time>`.
/// The gate runs when the sequence is built if its input type is given (or can be read off the first
/// handler's non-template `operator()`), and otherwise when `run` is instantiated with an input.

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/insert.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>

#include "selfheal/core/beat.hpp"
#include "selfheal/core/concepts.hpp"

namespace selfheal {

/// Stands for "the input type is not known until `run`" (a generic first handler).
struct deferred_input {};
/// What the gate yields after a failure, so that nothing past it produces a second error.
struct composition_failed {};

/// The diagnostic type of the gate. Its template arguments are the message:
/// beat number (1-based), handler name, the previous beat's output type, and the handler type.
template <std::size_t BeatNumber, fixed_string HandlerName, class PreviousOutput, class Handler>
struct beat_cannot_take_previous_output {
  static constexpr bool value = false;
};

/// The diagnostic type of a `pure` beat whose handler takes the context: beat number (1-based),
/// handler name, handler type. Declare the beat `stage_crew`, or drop the `context&` parameter.
template <std::size_t BeatNumber, fixed_string HandlerName, class Handler>
struct pure_beat_takes_context {
  static constexpr bool value = false;
};

/// The diagnostic type for `replace<Name>` / `insert_after<Name>` with a name that no beat has.
template <fixed_string HandlerName, fixed_string SequenceId>
struct no_beat_with_handler_name {
  static constexpr bool value = false;
};

namespace detail {

template <class F> struct call_operator_input { using type = deferred_input; };
template <class C, class R, class A, class... Rest>
struct call_operator_input<R (C::*)(A, Rest...) const> { using type = std::remove_cvref_t<A>; };
template <class C, class R, class A, class... Rest>
struct call_operator_input<R (C::*)(A, Rest...) const noexcept> { using type = std::remove_cvref_t<A>; };

/// The input a handler declares through a single non-template `operator()`, else `deferred_input`.
template <class H>
struct declared_input { using type = deferred_input; };
template <class H>
  requires requires { &H::operator(); }
struct declared_input<H> { using type = typename call_operator_input<decltype(&H::operator())>::type; };

template <std::size_t N, fixed_string Name, class Prev, class H>
constexpr bool report_composition_error() {
  static_assert(beat_cannot_take_previous_output<N, Name, Prev, H>::value,
                "selfheal: mis-composed sequence: a beat cannot take the previous beat's output. "
                "This diagnostic names beat_cannot_take_previous_output<beat number, \"handler name\", "
                "previous output type, handler type>.");
  return false;
}

template <std::size_t N, fixed_string Name, class H>
constexpr bool report_pure_beat_error() {
  static_assert(pure_beat_takes_context<N, Name, H>::value,
                "selfheal: a pure beat's handler takes the context: pure beats do no I/O and read no clock. "
                "This diagnostic names pure_beat_takes_context<beat number, \"handler name\", handler type>; "
                "declare the beat stage_crew or drop the context parameter.");
  return false;
}

/// The fold's state: how many beats were checked, and what the last one hands on.
template <std::size_t Checked, class Out>
struct chain_state {
  static constexpr std::size_t checked = Checked;
  using output = Out;
};

/// Folds the beat types from `In`, yielding `chain_state<N, Out>` (Out = `composition_failed`
/// after a mis-composition, so that nothing past the first error reports again).
template <bool Report, class In, class... Beats>
constexpr auto chain_output() {
  namespace hana = boost::hana;
  auto step = [](auto state, auto beat_type) {
    using State = decltype(state);
    using Prev = typename State::output;
    using B = typename decltype(beat_type)::type;
    using H = typename B::handler_type;
    constexpr std::size_t number = State::checked + 1;
    if constexpr (std::is_same_v<Prev, composition_failed>) {
      return chain_state<number, composition_failed>{};
    } else if constexpr (!handler_for<H, Prev> || std::is_void_v<handler_return_t<H, Prev>>) {
      if constexpr (Report) report_composition_error<number, B::handler_string, Prev, H>();
      return chain_state<number, composition_failed>{};
    } else if constexpr (B::beat_kind == kind::pure && !pure_handler_for<H, Prev>) {
      if constexpr (Report) report_pure_beat_error<number, B::handler_string, H>();
      return chain_state<number, composition_failed>{};
    } else {
      return chain_state<number, handler_output_t<H, Prev>>{};
    }
  };
  return hana::fold_left(hana::tuple_t<Beats...>, chain_state<0, In>{}, step);
}

}  // namespace detail

/// What a sequence of `Beats` hands back for input `In` (or `composition_failed`).
/// Reports a mis-composition through the gate's `static_assert`.
template <class In, class... Beats>
using chain_output_t = typename decltype(detail::chain_output<true, In, Beats...>())::output;

/// The same, silently (for concepts, which must not fail hard).
template <class In, class... Beats>
using try_chain_output_t = typename decltype(detail::chain_output<false, In, Beats...>())::output;

/// One row of a sequence's catalogue: what `selfheal sequences` prints and the JSON test compares.
struct beat_info {
  std::size_t number;
  std::string_view event;
  std::string_view handler;
  selfheal::timing timing;
  selfheal::kind kind;
  bool implemented;
};

template <fixed_string Id, class Input, class... Beats>
struct sequence_t {
  static constexpr std::string_view id = Id.view();
  static constexpr auto id_string = Id;
  static constexpr std::size_t size = sizeof...(Beats);
  /// The declared input, or `deferred_input` when only `run` knows it.
  using input_type = Input;
  /// What `run` hands back for input `In` (gate-checked).
  template <class In>
  using output_for = chain_output_t<In, Beats...>;

  boost::hana::tuple<Beats...> beats;

  /// The catalogue rows, in order.
  [[nodiscard]] static constexpr std::array<beat_info, sizeof...(Beats)> describe() noexcept {
    std::size_t n = 0;
    return {beat_info{++n, Beats::event, Beats::handler_name, Beats::beat_timing, Beats::beat_kind,
                      Beats::implemented}...};
  }

  /// 0-based index of the beat whose handler is `Name`, or `size` when there is none.
  template <fixed_string Name>
  [[nodiscard]] static constexpr std::size_t index_of() noexcept {
    constexpr std::array<std::string_view, sizeof...(Beats) + 1> names{Beats::handler_name..., {}};
    for (std::size_t i = 0; i < sizeof...(Beats); ++i)
      if (names[i] == Name.view()) return i;
    return sizeof...(Beats);
  }

  /// The same sequence with the handler of beat `Name` replaced by `h` (event, timing, kind kept).
  template <fixed_string Name, beat_handler H>
  [[nodiscard]] constexpr auto replace(H h) const {
    constexpr std::size_t at = index_of<Name>();
    if constexpr (at == size) {
      static_assert(no_beat_with_handler_name<Name, Id>::value,
                    "selfheal: replace<Name>: no beat of this sequence has that handler name");
      return *this;
    } else {
      return replace_at<at>(std::move(h), std::make_index_sequence<size>{});
    }
  }

  /// The same sequence with `b` inserted right after the beat whose handler is `Name`.
  template <fixed_string Name, beat_like B>
  [[nodiscard]] constexpr auto insert_after(B b) const {
    constexpr std::size_t at = index_of<Name>();
    if constexpr (at == size) {
      static_assert(no_beat_with_handler_name<Name, Id>::value,
                    "selfheal: insert_after<Name>: no beat of this sequence has that handler name");
      return *this;
    } else {
      return boost::hana::unpack(boost::hana::insert(beats, boost::hana::size_c<at + 1>, std::move(b)),
                                 [](auto... bs) { return make(std::move(bs)...); });
    }
  }

  template <class... Bs>
  [[nodiscard]] static constexpr auto make(Bs... bs) {
    if constexpr (!std::is_same_v<Input, deferred_input>) {
      using checked = chain_output_t<Input, Bs...>;  // the gate, when the input is known
      static_cast<void>(sizeof(checked*));
    }
    return sequence_t<Id, Input, Bs...>{boost::hana::make_tuple(std::move(bs)...)};
  }

 private:
  template <std::size_t At, class H, std::size_t... I>
  constexpr auto replace_at(H h, std::index_sequence<I...>) const {
    return make(pick<I, At>(h)...);
  }
  template <std::size_t I, std::size_t At, class H>
  constexpr auto pick(const H& h) const {
    if constexpr (I == At) return boost::hana::at_c<I>(beats).with_handler(h);
    else return boost::hana::at_c<I>(beats);
  }
};

/// Composes a sequence. `Input` defaults to what the first handler's `operator()` declares.
template <fixed_string Id, class Input = void, beat_like First, beat_like... Rest>
[[nodiscard]] constexpr auto sequence(First first, Rest... rest) {
  using in = std::conditional_t<std::is_void_v<Input>,
                                typename detail::declared_input<typename First::handler_type>::type, Input>;
  return sequence_t<Id, in, First>::make(std::move(first), std::move(rest)...);
}

namespace detail {
template <class T> struct is_sequence : std::false_type {};
template <fixed_string Id, class In, class... Bs>
struct is_sequence<sequence_t<Id, In, Bs...>> : std::true_type {};
}  // namespace detail

/// Layer 1: a composed sequence.
template <class S>
concept sequence_like = detail::is_sequence<std::remove_cvref_t<S>>::value;

/// Layer 2: a sequence that can run on `In` (every beat takes the previous beat's output).
namespace detail {
template <class S, class In> struct try_output;
template <fixed_string Id, class I, class... Bs, class In>
struct try_output<sequence_t<Id, I, Bs...>, In> { using type = try_chain_output_t<In, Bs...>; };
}  // namespace detail

template <class S, class In>
concept sequence_for =
    sequence_like<S> &&
    !std::is_same_v<typename detail::try_output<std::remove_cvref_t<S>, In>::type, composition_failed>;

/// Layer 3: a sequence that runs on `In` and hands back exactly `Out`.
template <class S, class In, class Out>
concept sequence_of = sequence_for<S, In> &&
    std::is_same_v<typename detail::try_output<std::remove_cvref_t<S>, In>::type, Out>;

}  // namespace selfheal
