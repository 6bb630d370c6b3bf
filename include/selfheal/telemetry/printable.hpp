#pragma once
/// \file
/// Text from logs made safe for a terminal: handler names, error messages and file names in human
/// output can hold ESC sequences (colour, cursor moves, OSC title changes) written by whoever wrote
/// the log. `printable` escapes every C0 control byte, DEL and the C1 controls (U+0080–U+009F, as
/// UTF-8) as `\xNN` / `\u00NN`; JSON output is escaped by `json_writer` already.
///
/// \code
/// std::printf("%s\n", telemetry::printable(handler).c_str());
/// \endcode

#include <cstdio>
#include <string>
#include <string_view>
#include <fmt/format.h>


namespace selfheal::telemetry {

/// `s` with control characters escaped (see the file comment); tabs become `\t`. Everything else,
/// including valid and invalid UTF-8 bytes ≥ 0xA0, is kept.
[[nodiscard]] inline std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned char>(s[i + 1]));
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace selfheal::telemetry
