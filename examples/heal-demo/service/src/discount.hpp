#pragma once
// Discount codes: SPRING takes 10 %, VIP 20 %; an unknown code takes nothing.

#include <string>

#include "cart.hpp"

namespace shop {

inline double discount_rate(const std::string& code) {
  if (code == "SPRING") return 0.10;
  if (code == "VIP") return 0.20;
  return 0.0;
}

inline cart apply_discount(cart c) {
  const double rate = discount_rate(c.o.code);
  c.discounted = round_cents(c.total * (1.0 - rate));
  return c;
}

}  // namespace shop
