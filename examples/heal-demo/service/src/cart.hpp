#pragma once
// Pricing: an order's items summed, rounded to cents.

#include <cmath>

#include "model.hpp"

namespace shop {

inline double round_cents(double x) { return std::round(x * 100.0) / 100.0; }

inline cart compute_total(order o) {
  double total = 0;
  for (const auto& it : o.items) total += it.price * it.quantity;
  cart c;
  c.total = round_cents(total);
  c.o = std::move(o);
  return c;
}

}  // namespace shop
