#pragma once
// The checkout, as a selfheal sequence: each request runs these four beats, and selfheal's core
// writes their beat events (NDJSON), which is what `selfheal heal` watches.

#include <selfheal/core.hpp>

#include "order.hpp"
#include "payment.hpp"

namespace shop {

namespace sh = ::selfheal;

struct parse_order_handler {
  sh::result<order> operator()(const request& r) const {
    try {
      return parse_order(r);
    } catch (const std::exception& e) {
      return sh::fail(sh::errc::parse_error, e.what());
    }
  }
};
struct compute_total_handler {
  cart operator()(order o) const { return compute_total(std::move(o)); }
};
struct apply_discount_handler {
  cart operator()(cart c) const { return apply_discount(std::move(c)); }
};
struct charge_payment_handler {
  sh::result<receipt> operator()(const cart& c, sh::context&) const {
    static std::uint64_t next = 1;
    try {
      return charge_payment(c, next++);
    } catch (const std::exception& e) {
      return sh::fail(sh::errc::failed, e.what());
    }
  }
};

inline constexpr auto checkout = sh::sequence<"shop-checkout-symphony">(
    sh::beat<"shop:order:parse", "parseOrder">(parse_order_handler{}),
    sh::beat<"shop:cart:total", "computeTotal">(compute_total_handler{}),
    sh::beat<"shop:discount:apply", "applyDiscount">(apply_discount_handler{}),
    sh::beat<"shop:payment:charge", "chargePayment", sh::immediate, sh::stage_crew>(charge_payment_handler{}));

}  // namespace shop
