#pragma once
// Payment: charges the discounted total; a cart over the card limit is declined.

#include <cstdint>
#include <stdexcept>

#include "discount.hpp"

namespace shop {

inline constexpr double card_limit = 5000.0;

inline receipt charge_payment(const cart& c, std::uint64_t id) {
  if (c.discounted > card_limit) throw std::runtime_error("payment declined: over the card limit");
  return receipt{c.discounted, id};
}

}  // namespace shop
