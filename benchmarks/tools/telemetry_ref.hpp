#pragma once
// The two references telemetry.parse is measured against (benchmark and whole-program tool):
//  - `simdjson_reference`: raw simdjson On-Demand `iterate_many` streaming a file in 8 MiB chunks,
//    summing one field (the duration) per handler: the speed ceiling for one core;
//  - `simdjson_fields_reference`: the same streaming over issue 10.4's nested shape, reading every
//    field selfheal reads there, on 1 or more threads (each its own part of the file);
//  - `naive_reference`: std::getline + nlohmann::json::parse per line, the same aggregation a
//    straightforward implementation would do (count, errors, sum per handler over the aliases).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace selfheal_ref {

struct totals {
  std::uint64_t docs = 0;
  std::uint64_t bytes = 0;
  double sum = 0;
  std::size_t handlers = 0;
};

/// One thread per parser, as selfheal's: built with SIMDJSON_THREADS_ENABLED, `iterate_many`
/// would index its next batch on a helper thread, one more thread per part than the code it is
/// compared with (and at one thread a second core for the reference alone).
inline void single_threaded([[maybe_unused]] simdjson::ondemand::parser& parser) noexcept {
#ifdef SIMDJSON_THREADS_ENABLED
  parser.threaded = false;
#endif
}

inline totals simdjson_reference(const std::string& path, std::size_t chunk = std::size_t{8} << 20) {
  totals t;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return t;
  std::string buf(chunk + simdjson::SIMDJSON_PADDING, ' ');
  std::size_t carry = 0;
  simdjson::ondemand::parser parser;
  single_threaded(parser);
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, double, hash, std::equal_to<>> per_handler;
  for (;;) {
    const std::size_t got = std::fread(buf.data() + carry, 1, chunk - carry, f);
    const std::size_t filled = carry + got;
    if (filled == 0) break;
    std::size_t cut = filled;
    if (got != 0) {
      while (cut > 0 && buf[cut - 1] != '\n') --cut;
      if (cut == 0) cut = filled;  // longer than a chunk: not in the reference's data
    }
    std::memset(buf.data() + cut, ' ', simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document_stream stream;
    if (!parser.iterate_many(buf.data(), cut, std::size_t{1} << 20).get(stream)) {
      for (auto doc : stream) {
        simdjson::ondemand::object obj;
        if (doc.get_object().get(obj)) continue;
        std::string_view handler;
        double d = 0;
        for (auto field : obj) {
          std::string_view key;
          if (field.unescaped_key().get(key)) break;
          if (key == "handler" || key == "handler_name" || key == "span") {
            if (field.value().get_string().get(handler)) break;
          } else if (key == "durationMs" || key == "duration_ms" || key == "latency_ms") {
            if (field.value().get_double().get(d)) break;
          }
        }
        ++t.docs;
        if (!handler.empty()) {
          auto it = per_handler.find(handler);
          if (it == per_handler.end()) it = per_handler.emplace(std::string(handler), 0.0).first;
          it->second += d;
        }
      }
    }
    t.bytes += cut;
    // restore the bytes the padding overwrote, then keep the partial line
    const std::size_t rest = filled - cut;
    if (rest > 0) {
      std::fseek(f, -static_cast<long>(rest), SEEK_CUR);
    }
    carry = 0;
    if (got == 0) break;
  }
  std::fclose(f);
  for (const auto& [k, v] : per_handler) t.sum += v;
  t.handlers = per_handler.size();
  return t;
}

/// Raw simdjson over issue 10.4's nested shape, reading every field selfheal reads there: the
/// strings `ts`, `event`, `sequence`, `handler`, `correlationId` and `error` (unescaped), `beat`
/// as an integer and `durationMs` as a double (the nested `ctx` is skipped, as selfheal skips it);
/// per handler a count, an error count and a duration sum. On `threads` threads, each streaming
/// its own contiguous part of the file (cut at line ends) in 8 MiB chunks with its own parser, the
/// per-thread maps merged at the end: the speed ceiling for that many cores.
inline totals simdjson_fields_reference(const std::string& path, unsigned threads = 1, std::size_t chunk = std::size_t{8} << 20) {
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct agg { std::uint64_t count = 0, errors = 0; double sum = 0; };
  using map = std::unordered_map<std::string, agg, hash, std::equal_to<>>;
  std::FILE* probe = std::fopen(path.c_str(), "rb");
  if (!probe) return {};
  std::fseek(probe, 0, SEEK_END);
  const auto size = static_cast<std::size_t>(std::ftell(probe));
  // part boundaries: just after the first newline at or past size * i / threads
  std::vector<std::size_t> cuts{0};
  for (unsigned i = 1; i < threads; ++i) {
    std::size_t pos = std::max(cuts.back(), size / threads * i);
    std::fseek(probe, static_cast<long>(pos), SEEK_SET);
    int c = 0;
    while ((c = std::fgetc(probe)) != EOF && c != '\n') ++pos;
    cuts.push_back(c == EOF ? size : pos + 1);
  }
  cuts.push_back(size);
  std::fclose(probe);
  struct part { totals t; map handlers; };
  std::vector<part> parts(threads);
  const auto run = [&](unsigned k) {
    auto& out = parts[k];
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return;
    std::fseek(f, static_cast<long>(cuts[k]), SEEK_SET);
    std::size_t left = cuts[k + 1] - cuts[k];
    std::string buf(chunk + simdjson::SIMDJSON_PADDING, ' ');
    simdjson::ondemand::parser parser;
    single_threaded(parser);
    while (left > 0) {
      const std::size_t got = std::fread(buf.data(), 1, std::min(chunk, left), f);
      if (got == 0) break;
      std::size_t cut = got;
      if (got < left) {
        while (cut > 0 && buf[cut - 1] != '\n') --cut;
        if (cut == 0) cut = got;
      }
      std::memset(buf.data() + cut, ' ', simdjson::SIMDJSON_PADDING);
      simdjson::ondemand::document_stream stream;
      if (!parser.iterate_many(buf.data(), cut, std::size_t{1} << 20).get(stream)) {
        for (auto doc : stream) {
          simdjson::ondemand::object obj;
          if (doc.get_object().get(obj)) continue;
          std::string_view handler, text;
          double d = 0;
          std::int64_t beat = 0;
          bool error = false;
          for (auto field : obj) {
            std::string_view key;
            if (field.unescaped_key().get(key)) break;
            if (key == "handler") {
              if (field.value().get_string().get(handler)) break;
            } else if (key == "durationMs") {
              if (field.value().get_double().get(d)) break;
            } else if (key == "beat") {
              if (field.value().get_int64().get(beat)) break;
            } else if (key == "ts" || key == "event" || key == "sequence" || key == "correlationId" || key == "error") {
              if (field.value().get_string().get(text)) break;
              out.t.sum += static_cast<double>(text.size());
              error = error || key == "error";
            }
          }
          ++out.t.docs;
          out.t.sum += static_cast<double>(beat);
          if (!handler.empty()) {
            auto it = out.handlers.find(handler);
            if (it == out.handlers.end()) it = out.handlers.emplace(std::string(handler), agg{}).first;
            ++it->second.count;
            it->second.errors += error ? 1 : 0;
            it->second.sum += d;
          }
        }
      }
      out.t.bytes += cut;
      left -= cut;
      if (cut < got) std::fseek(f, -static_cast<long>(got - cut), SEEK_CUR);
    }
    std::fclose(f);
  };
  if (threads <= 1) {
    run(0);
  } else {
    std::vector<std::thread> ts;
    for (unsigned k = 0; k < threads; ++k) ts.emplace_back(run, k);
    for (auto& t : ts) t.join();
  }
  totals t;
  map all;
  for (auto& p : parts) {
    t.docs += p.t.docs;
    t.bytes += p.t.bytes;
    t.sum += p.t.sum;
    for (auto& [name, a] : p.handlers) {
      auto& m = all[name];
      m.count += a.count;
      m.errors += a.errors;
      m.sum += a.sum;
    }
  }
  for (const auto& [k, v] : all) t.sum += v.sum + static_cast<double>(v.errors);
  t.handlers = all.size();
  return t;
}

inline totals naive_reference(const std::string& path) {
  totals t;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  struct agg { std::uint64_t count = 0, errors = 0; double sum = 0; };
  std::map<std::string, agg> per_handler;
  while (std::getline(in, line)) {
    t.bytes += line.size() + 1;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    ++t.docs;
    std::string handler;
    for (const char* k : {"handler", "handlerName", "handler_name", "operation", "span"})
      if (auto it = j.find(k); it != j.end() && it->is_string()) { handler = it->get<std::string>(); break; }
    if (handler.empty()) continue;
    double d = 0;
    for (const char* k : {"durationMs", "duration_ms", "duration", "elapsed_ms", "latency_ms"})
      if (auto it = j.find(k); it != j.end() && it->is_number()) { d = it->get<double>(); break; }
    auto& a = per_handler[handler];
    ++a.count;
    a.sum += d;
    for (const char* k : {"error", "err", "exception"})
      if (j.contains(k)) { ++a.errors; break; }
  }
  for (const auto& [k, v] : per_handler) t.sum += v.sum;
  t.handlers = per_handler.size();
  return t;
}

}  // namespace selfheal_ref
