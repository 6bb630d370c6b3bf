// libFuzzer target: text text lines (formats.hpp), one line at a time as the ingest feeds them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "selfheal/telemetry/formats.hpp"
#include "telemetry_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  selfheal::telemetry::text_parser parser;
  selfheal_fuzz::sink sink;
  std::uint64_t line = 1;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    parser.line(text.substr(0, nl), line++, sink);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  static_cast<void>(selfheal::telemetry::detect_format(std::string_view(reinterpret_cast<const char*>(data), size)));
  return 0;
}
