#pragma once
/// \file
/// The pipeline core, in one include. Read the headers in this order:
///
/// - `core/result.hpp`     errors as values: `result<T>`, `errc`, `fail`.
/// - `core/concepts.hpp`   `handler` → `handler_for<H, In>` → `handler_of<H, In, Out>`.
/// - `core/beat.hpp`       `beat<"event", "handler", timing, kind>(h)`; `pending_handler`.
/// - `core/sequence.hpp`   `sequence<"id", Input>(beats...)`, the composability gate,
///                         `replace<"handler">`, `insert_after<"handler">`, `sequence_for`.
/// - `core/context.hpp`    clock, event sink, store, correlation id, stop token.
/// - `core/events.hpp`     beat events as NDJSON; `ndjson_sink`, `collecting_sink`.
/// - `core/run.hpp`        `run(seq, ctx, input)`.
///
/// `core/` includes neither simdjson nor SQLite.

#include "selfheal/core/beat.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/concepts.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/events.hpp"
#include "selfheal/core/fixed_string.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/core/sequence.hpp"
