#pragma once
// Payment: charges the discounted total through the card gateway; a cart over the card limit is
// declined. The gateway is simulated: each charge waits its round trip (`gateway_delay_us`, set by
// `shop --gateway-delay-us`; 0, the sandbox, in tests and benchmarks).

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>

#include "discount.hpp"

namespace shop {

inline constexpr double card_limit = 5000.0;
inline long gateway_delay_us = 0;

inline receipt charge_payment(const cart& c, std::uint64_t id) {
  if (c.discounted > card_limit) throw std::runtime_error("payment declined: over the card limit");
  if (gateway_delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(gateway_delay_us));
  return receipt{c.discounted, id};
}

}  // namespace shop
