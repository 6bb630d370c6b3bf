#pragma once
/// \file
/// `fixed_string<N>`: a string literal usable as a template argument, so that a beat's event and
/// handler names are part of its type (`beat<"self-healing:telemetry:load:logs", "loadLogFiles">`).

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace selfheal {

template <std::size_t N>
struct fixed_string {
  char data[N]{};  // N counts the terminating NUL

  constexpr fixed_string(const char (&s)[N]) noexcept { std::copy_n(s, N, data); }  // NOLINT: implicit by design

  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, N - 1}; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return N - 1; }
  constexpr operator std::string_view() const noexcept { return view(); }  // NOLINT

  template <std::size_t M>
  [[nodiscard]] constexpr bool operator==(const fixed_string<M>& other) const noexcept {
    return view() == other.view();
  }
};

}  // namespace selfheal
