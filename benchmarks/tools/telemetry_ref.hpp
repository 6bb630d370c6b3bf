#pragma once
// The two references telemetry.parse is measured against (benchmark and whole-program tool):
//  - `simdjson_reference`: raw simdjson On-Demand `iterate_many` streaming a file in 8 MiB chunks,
//    summing one field (the duration) per handler: the speed ceiling for one core;
//  - `naive_reference`: std::getline + nlohmann::json::parse per line, the same aggregation a
//    straightforward implementation would do (count, errors, sum per handler over the aliases).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace selfheal_ref {

struct totals {
  std::uint64_t docs = 0;
  std::uint64_t bytes = 0;
  double sum = 0;
  std::size_t handlers = 0;
};

inline totals simdjson_reference(const std::string& path, std::size_t chunk = std::size_t{8} << 20) {
  totals t;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return t;
  std::string buf(chunk + simdjson::SIMDJSON_PADDING, ' ');
  std::size_t carry = 0;
  simdjson::ondemand::parser parser;
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
