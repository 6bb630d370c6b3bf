// libFuzzer target: text text lines (formats.hpp), one line at a time as the ingest feeds them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "selfheal/telemetry/formats.hpp"
#include "telemetry_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return selfheal_fuzz::fuzz_text_lines<selfheal::telemetry::text_parser>(data, size);
}
