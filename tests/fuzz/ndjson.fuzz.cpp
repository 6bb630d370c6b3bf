// libFuzzer target: NDJSON extraction (iterate_many fast path, per-line resync, field aliases).
#include <cstddef>
#include <cstdint>
#include <string>

#include "selfheal/telemetry/ndjson.hpp"
#include "telemetry_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string buf(reinterpret_cast<const char*>(data), size);
  buf.append(selfheal::telemetry::chunk_padding, ' ');
  selfheal::telemetry::ndjson_parser parser(4096);  // small batches: exercise restarts and long lines
  selfheal_fuzz::sink sink;
  const auto lines = parser.parse(selfheal::telemetry::padded_view::of(buf, size), 1, sink);
  if (sink.events + sink.bad_lines > lines + 1) __builtin_trap();
  sink.finish_traces();
  return 0;
}
