#pragma once
/// \file
/// The library version (kept equal to `project(VERSION)` in CMakeLists.txt; CMake checks it).

#include <string_view>

namespace selfheal {
inline constexpr std::string_view version = "0.1.0";
}
