#pragma once
/// \file
/// `run(sequence, context, input)`: executes the beats in order, hands each beat's output to the
/// next, stops at the first error (stamped with the beat number and handler name), checks the
/// context's stop token before every beat, and emits beat events when the context has a sink.
/// With no sink it reads no clock and builds no event: the cost is that of calling the handlers.

#include <chrono>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>

#include "selfheal/core/context.hpp"
#include "selfheal/core/events.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"

#if defined(__GNUC__)
#define SELFHEAL_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define SELFHEAL_ALWAYS_INLINE inline
#endif

namespace selfheal {

namespace detail {

template <class H, class In>
SELFHEAL_ALWAYS_INLINE decltype(auto) invoke_handler(const H& h, In&& in, context& ctx) {
  if constexpr (std::invocable<const H&, In&&, context&>) return h(std::forward<In>(in), ctx);
  else return h(std::forward<In>(in));
}

/// The error paths live out of line, so that the happy path stays small enough for the inliner.
[[gnu::cold, gnu::noinline]] inline void stamp(error& e, std::size_t beat, std::string_view handler) {
  e.beat = beat;
  e.handler = std::string(handler);
}
template <class Out>
[[gnu::cold, gnu::noinline]] result<Out> moved_error(error& e) {
  return result<Out>(tl::unexpect, std::move(e));
}

inline double elapsed_ms(time_point from, time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

template <class Seq>
void emit(context& ctx, event_type type, time_point ts, std::size_t number, std::string_view topic,
          std::string_view handler, double duration_ms, std::string_view error) {
  ctx.sink->emit(beat_event_view{type, ts, Seq::id, number, topic, handler, duration_ms, ctx.correlation_id, error});
}

/// Runs beat `I` on `value`, then the beats after it, and returns the sequence's result.
/// Each level is force-inlined, so a run with no sink compiles to the handler calls and their error
/// checks (core_bench holds it to hand-written code). The depth is the beat count, fixed at compile
/// time; an error returns at once, without walking the remaining beats. `Watched` is false when the
/// context has neither a sink nor a stop source: then no check is compiled in at all.
template <class Out, std::size_t I, bool Watched, class S, class V>
SELFHEAL_ALWAYS_INLINE result<Out> run_beats(const S& seq, context& ctx, bool observed, V&& value) {
  if constexpr (I == S::size) {
    return result<Out>(std::forward<V>(value));
  } else {
    const auto& b = boost::hana::at_c<I>(seq.beats);
    using B = std::remove_cvref_t<decltype(b)>;
    if constexpr (Watched) {
      if (ctx.cancelled()) {
        return result<Out>(tl::unexpect, error{errc::cancelled, "the run was cancelled before this beat started",
                                               I + 1, std::string(B::handler_name)});
      }
    }
    time_point t0{};
    if (Watched && observed) {
      t0 = ctx.now();
      emit<S>(ctx, event_type::beat_started, t0, I + 1, B::event, B::handler_name, std::nan(""), {});
    }
    using Ret = std::remove_cvref_t<decltype(invoke_handler(b.handler, std::forward<V>(value), ctx))>;
    Ret r = invoke_handler(b.handler, std::forward<V>(value), ctx);
    if constexpr (is_result_v<Ret>) {
      if (!r) [[unlikely]] {
        stamp(r.error(), I + 1, B::handler_name);
        if (Watched && observed) {
          const time_point t1 = ctx.now();
          emit<S>(ctx, event_type::beat_failed, t1, I + 1, B::event, B::handler_name, elapsed_ms(t0, t1),
                  r.error().message());
        }
        if constexpr (std::is_same_v<Ret, result<Out>>) return r;  // NRVO: the caller's slot
        else return moved_error<Out>(r.error());
      }
    }
    if (Watched && observed) {
      const time_point t1 = ctx.now();
      emit<S>(ctx, event_type::beat_completed, t1, I + 1, B::event, B::handler_name, elapsed_ms(t0, t1), {});
    }
    if constexpr (I + 1 == S::size && std::is_same_v<Ret, result<Out>>) {
      return r;  // the last beat's result is the run's result: constructed in place
    } else if constexpr (is_result_v<Ret>) {
      return run_beats<Out, I + 1, Watched>(seq, ctx, observed, std::move(*r));
    } else {
      return run_beats<Out, I + 1, Watched>(seq, ctx, observed, std::move(r));
    }
  }
}

}  // namespace detail

namespace detail {

/// The observed path: correlation id, beat events, cancellation. Kept out of line so that the
/// unobserved path of `run` stays small enough to inline into its caller.
template <class Out, class Seq, class In>
[[gnu::noinline]] result<Out> run_observed(const Seq& seq, context& ctx, In&& input) {
  using S = std::remove_cvref_t<Seq>;
  const bool observed = ctx.sink != nullptr;
  // A run without a caller-chosen correlation id gets a fresh one, given back when it ends.
  struct correlation_scope {
    context& ctx;
    bool generated;
    ~correlation_scope() {
      if (generated) ctx.correlation_id.clear();
    }
  } scope{ctx, ctx.correlation_id.empty()};
  if (scope.generated) ctx.correlation_id = ctx.make_correlation_id();
  time_point started{};
  if (observed) {
    started = ctx.now();
    emit<S>(ctx, event_type::sequence_started, started, 0, {}, {}, std::nan(""), {});
  }
  result<Out> out = run_beats<Out, 0, true>(seq, ctx, observed, std::forward<In>(input));
  if (observed) {
    const time_point t1 = ctx.now();
    if (out) {
      emit<S>(ctx, event_type::sequence_completed, t1, 0, {}, {}, elapsed_ms(started, t1), {});
    } else {
      const std::string message = out.error().message();
      emit<S>(ctx, event_type::sequence_failed, t1, 0, {}, {}, elapsed_ms(started, t1), message);
    }
  }
  return out;
}

}  // namespace detail

/// Runs `seq` on `input`. With neither a sink nor a stop source in `ctx`, this is the handler
/// calls and their error checks, nothing else; otherwise beat events are emitted (a correlation id
/// is made for the run when the context has none) and the stop token is checked before every beat.
template <sequence_like Seq, class In>
[[nodiscard]] SELFHEAL_ALWAYS_INLINE auto run(const Seq& seq, context& ctx, In&& input)
    -> result<typename Seq::template output_for<std::remove_cvref_t<In>>> {
  using Out = typename Seq::template output_for<std::remove_cvref_t<In>>;
  if constexpr (std::is_same_v<Out, composition_failed>) {
    return fail(errc::invalid_request, "mis-composed sequence");  // unreachable: the gate fired
  } else {
    if (ctx.sink == nullptr && !ctx.stop.stop_possible())
      return detail::run_beats<Out, 0, false>(seq, ctx, false, std::forward<In>(input));
    return detail::run_observed<Out>(seq, ctx, std::forward<In>(input));
  }
}

}  // namespace selfheal
