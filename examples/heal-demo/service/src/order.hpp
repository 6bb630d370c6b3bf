#pragma once
// Reading an order: "SKU:price:qty,SKU:price:qty;CODE".

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "model.hpp"

namespace shop {

inline order parse_order(const request& r) {
  order o;
  const auto semi = r.text.find(';');
  const std::string items = r.text.substr(0, semi);
  if (semi != std::string::npos) o.code = r.text.substr(semi + 1);
  std::size_t pos = 0;
  while (pos < items.size()) {
    auto comma = items.find(',', pos);
    if (comma == std::string::npos) comma = items.size();
    const std::string one = items.substr(pos, comma - pos);
    const auto a = one.find(':');
    const auto b = one.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) throw std::invalid_argument("bad item '" + one + "'");
    o.items.push_back(item{one.substr(0, a), std::atof(one.substr(a + 1, b - a - 1).c_str()),
                           std::atoi(one.substr(b + 1).c_str())});
    pos = comma + 1;
  }
  if (o.items.empty()) throw std::invalid_argument("an order without items");
  return o;
}

}  // namespace shop
