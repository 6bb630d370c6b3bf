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
#include <boost/hana/fold_left.hpp>
#include <boost/hana/range.hpp>

#include "selfheal/core/context.hpp"
#include "selfheal/core/events.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"

namespace selfheal {

namespace detail {

template <class H, class In>
decltype(auto) invoke_handler(const H& h, In&& in, context& ctx) {
  if constexpr (std::invocable<const H&, In&&, context&>) return h(std::forward<In>(in), ctx);
  else return h(std::forward<In>(in));
}

inline double elapsed_ms(time_point from, time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

template <class Seq>
void emit(context& ctx, event_type type, time_point ts, std::size_t number, std::string_view topic,
          std::string_view handler, double duration_ms, std::string_view error) {
  ctx.sink->emit(beat_event_view{type, ts, Seq::id, number, topic, handler, duration_ms, ctx.correlation_id, error});
}

}  // namespace detail

template <sequence_like Seq, class In>
[[nodiscard]] auto run(const Seq& seq, context& ctx, In&& input)
    -> result<typename Seq::template output_for<std::remove_cvref_t<In>>> {
  namespace hana = boost::hana;
  using Out = typename Seq::template output_for<std::remove_cvref_t<In>>;
  if constexpr (std::is_same_v<Out, composition_failed>) {
    return fail(errc::invalid_request, "mis-composed sequence");  // unreachable: the gate fired
  } else {
    using S = std::remove_cvref_t<Seq>;
    const bool observed = ctx.sink != nullptr;
    time_point started{};
    // A run without a caller-chosen correlation id gets a fresh one, given back when it ends.
    struct correlation_scope {
      context& ctx;
      bool generated;
      ~correlation_scope() { if (generated) ctx.correlation_id.clear(); }
    } scope{ctx, ctx.correlation_id.empty()};
    if (scope.generated) ctx.correlation_id = ctx.make_correlation_id();
    if (observed) {
      started = ctx.now();
      detail::emit<S>(ctx, event_type::sequence_started, started, 0, {}, {}, std::nan(""), {});
    }

    auto step = [&](auto&& acc, auto index) {
      constexpr std::size_t i = decltype(index)::value;
      const auto& b = hana::at_c<i>(seq.beats);
      using B = std::remove_cvref_t<decltype(b)>;
      using Prev = typename std::remove_cvref_t<decltype(acc)>::value_type;
      using Next = handler_output_t<typename B::handler_type, Prev>;
      using R = result<Next>;
      if (!acc) return R(tl::unexpect, std::move(acc).error());
      if (ctx.cancelled()) {
        return R(tl::unexpect, error{errc::cancelled, "the run was cancelled before this beat started", i + 1,
                                      std::string(B::handler_name)});
      }
      time_point t0{};
      if (observed) {
        t0 = ctx.now();
        detail::emit<S>(ctx, event_type::beat_started, t0, i + 1, B::event, B::handler_name, std::nan(""), {});
      }
      R out = detail::invoke_handler(b.handler, std::move(*acc), ctx);
      if (!out) {
        out.error().beat = i + 1;
        out.error().handler = std::string(B::handler_name);
      }
      if (observed) {
        const time_point t1 = ctx.now();
        if (out) {
          detail::emit<S>(ctx, event_type::beat_completed, t1, i + 1, B::event, B::handler_name,
                          detail::elapsed_ms(t0, t1), {});
        } else {
          const std::string message = out.error().message();
          detail::emit<S>(ctx, event_type::beat_failed, t1, i + 1, B::event, B::handler_name,
                          detail::elapsed_ms(t0, t1), message);
        }
      }
      return out;
    };

    result<std::remove_cvref_t<In>> first(std::forward<In>(input));
    result<Out> out = hana::fold_left(hana::make_range(hana::size_c<0>, hana::size_c<S::size>), std::move(first), step);

    if (observed) {
      const time_point t1 = ctx.now();
      if (out) {
        detail::emit<S>(ctx, event_type::sequence_completed, t1, 0, {}, {}, detail::elapsed_ms(started, t1), {});
      } else {
        const std::string message = out.error().message();
        detail::emit<S>(ctx, event_type::sequence_failed, t1, 0, {}, {}, detail::elapsed_ms(started, t1), message);
      }
    }
    return out;
  }
}

}  // namespace selfheal
