#pragma once
// The shop's data: an order as it arrives, a cart as it is priced.

#include <cstdint>
#include <string>
#include <vector>

namespace shop {

struct item {
  std::string sku;
  double price = 0;
  int quantity = 0;
};

/// An order as the front end sends it: "SKU:price:qty,SKU:price:qty;CODE".
struct request {
  std::string text;
};

struct order {
  std::vector<item> items;
  std::string code;  ///< discount code, may be empty
};

struct cart {
  order o;
  double total = 0;
  double discounted = 0;
};

struct receipt {
  double charged = 0;
  std::uint64_t id = 0;
};

}  // namespace shop
