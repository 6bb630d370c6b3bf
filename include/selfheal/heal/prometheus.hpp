#pragma once
/// \file
/// `selfheal export --prometheus`: the store as Prometheus metrics in the text exposition format
/// (version 0.0.4), for node_exporter's textfile collector or any scraper that reads a file.
///
/// Per handler, from the latest telemetry record that holds events: calls, errors (gauges: they
/// describe that record, not a process that counts up) and latency quantiles (a summary with
/// `_sum` and `_count`). From the whole store: heal anomalies by status, deployments by status and
/// rollbacks (counters: the store only grows; `prune` never deletes them). Label values are escaped
/// as the format says (backslash, double quote, line feed), so a hostile handler name cannot add a
/// line of its own.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "selfheal/core/result.hpp"
#include "selfheal/deployment/store.hpp"
#include "selfheal/heal/store.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/store.hpp"

namespace selfheal::heal {

namespace detail_prometheus {

/// A label value as the exposition format wants it; invalid UTF-8 cannot break a line, so it passes.
inline void label_value(std::string& out, std::string_view v) {
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
}

[[nodiscard]] inline std::string number(double v) {
  return fmt::format("{:.17g}", v);
}

inline void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

inline void sample(std::string& out, std::string_view name, std::string_view labels, double v) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(number(v)).append("\n");
}

[[nodiscard]] inline result<std::map<std::string, std::int64_t>> count_by(store::database& db, const char* sql) {
  auto st = db.prepare(sql);
  if (!st) return tl::unexpected(st.error());
  std::map<std::string, std::int64_t> out;
  for (;;) {
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    out[st->column_text(0)] = st->column_int(1);
  }
  return out;
}

/// A counter family with one series per `status` of `table`; the usual statuses are always present
/// (at 0), so a rate() over them never starts from a missing series.
[[nodiscard]] inline result<void> counter_by_status(std::string& out, store::database& db, std::string_view name,
                                                    std::string_view help, std::string_view table,
                                                    std::initializer_list<const char*> usual) {
  auto counts = count_by(db, ("SELECT status, COUNT(*) FROM " + std::string(table) + " GROUP BY status").c_str());
  if (!counts) return tl::unexpected(counts.error());
  for (const char* status : usual) counts->try_emplace(status, 0);
  header(out, name, "counter", help);
  for (const auto& [status, n] : *counts) {
    std::string l = "status=\"";
    label_value(l, status);
    l += "\"";
    sample(out, name, l, static_cast<double>(n));
  }
  return {};
}

}  // namespace detail_prometheus

/// The exposition text. A store without telemetry gives the store-wide families alone.
[[nodiscard]] inline result<std::string> export_prometheus(store::database& db) {
  namespace dp = detail_prometheus;
  std::string out;
  if (auto m = telemetry::migrate_telemetry(db); !m) return tl::unexpected(m.error());
  if (auto m = deployment::migrate_deployment(db); !m) return tl::unexpected(m.error());
  if (auto m = heal::migrate(db); !m) return tl::unexpected(m.error());

  auto latest = telemetry::latest_nonempty_telemetry_record(db);
  if (latest) {
    auto windows = telemetry::load_window_metrics(db, *latest);
    if (!windows) return tl::unexpected(windows.error());
    std::map<std::string, telemetry::metric_stats> per_handler;
    for (const auto& w : *windows)
      if (w.scope == telemetry::metric_scope::handler) per_handler[w.name].merge(w.stats);
    std::map<std::string, std::string> labels;  // handler → `handler="…",record="…"`
    for (const auto& [name, s] : per_handler) {
      std::string l = "handler=\"";
      dp::label_value(l, name);
      l += "\",record=\"";
      dp::label_value(l, *latest);
      l += "\"";
      labels[name] = std::move(l);
    }
    dp::header(out, "selfheal_handler_calls", "gauge", "Calls of the handler in the latest telemetry record.");
    for (const auto& [name, s] : per_handler) dp::sample(out, "selfheal_handler_calls", labels[name], static_cast<double>(s.count));
    dp::header(out, "selfheal_handler_errors", "gauge", "Failed calls of the handler in the latest telemetry record.");
    for (const auto& [name, s] : per_handler) dp::sample(out, "selfheal_handler_errors", labels[name], static_cast<double>(s.errors));
    dp::header(out, "selfheal_handler_latency_ms", "summary",
               "Latency of the handler's timed calls in the latest telemetry record, in milliseconds.");
    for (const auto& [name, s] : per_handler) {
      if (!s.timed) continue;
      for (const char* q : {"0.5", "0.9", "0.95", "0.99"}) {
        std::string l = labels[name] + ",quantile=\"" + q + "\"";
        dp::sample(out, "selfheal_handler_latency_ms", l, s.quantile_ms(std::stod(q)));
      }
      dp::sample(out, "selfheal_handler_latency_ms_sum", labels[name], static_cast<double>(s.sum_ns) / 1e6);
      dp::sample(out, "selfheal_handler_latency_ms_count", labels[name], static_cast<double>(s.timed));
    }
  } else if (latest.error().code != errc::not_found) {
    return tl::unexpected(latest.error());
  }

  if (auto r = dp::counter_by_status(out, db, "selfheal_heal_anomalies_total",
                                      "Anomalies taken up by selfheal heal, by where they ended.", "heal_anomalies",
                                      {"healed", "rolled_back", "blocked", "failed", "open"});
      !r)
    return tl::unexpected(r.error());
  if (auto r = dp::counter_by_status(out, db, "selfheal_deployments_total", "Deployments made by selfheal, by status.",
                                      "deployment_runs", {"deployed", "rolled_back", "blocked", "failed"});
      !r)
    return tl::unexpected(r.error());
  auto rollbacks = dp::count_by(db, "SELECT 'all', COUNT(*) FROM deployment_runs WHERE rollback_commit IS NOT NULL AND rollback_commit != ''");
  if (!rollbacks) return tl::unexpected(rollbacks.error());
  dp::header(out, "selfheal_rollbacks_total", "counter", "Deployments selfheal rolled back.");
  dp::sample(out, "selfheal_rollbacks_total", "", static_cast<double>((*rollbacks)["all"]));
  return out;
}

}  // namespace selfheal::heal
