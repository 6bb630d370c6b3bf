// The shop's tests, as TAP: one line per check, "ok N - name" or "not ok N - name".

#include <cmath>
#include <cstdio>
#include <string>

#include "../src/checkout.hpp"

static int failures = 0, number = 0;

static void check(bool ok, const std::string& name) {
  ++number;
  std::printf("%s %d - %s\n", ok ? "ok" : "not ok", number, name.c_str());
  if (!ok) ++failures;
}

int main() {
  std::printf("TAP version 13\n");
  auto o = shop::parse_order({"A:10.00:2,B:5.50:1;SPRING"});
  check(o.items.size() == 2 && o.code == "SPRING", "parse_order reads items and the code");
  auto c = shop::compute_total(o);
  check(std::fabs(c.total - 25.5) < 1e-9, "compute_total sums price times quantity");
  c = shop::apply_discount(c);
  check(std::fabs(c.discounted - 22.95) < 1e-9, "apply_discount takes 10% for SPRING");
  c.o.code = "NOPE";
  check(std::fabs(shop::apply_discount(c).discounted - c.total) < 1e-9, "an unknown code takes nothing");
  bool declined = false;
  try {
    shop::cart big;
    big.discounted = 6000;
    shop::charge_payment(big, 1);
  } catch (const std::exception&) {
    declined = true;
  }
  check(declined, "charge_payment declines over the card limit");
  std::printf("1..%d\n", number);
  return failures ? 1 : 0;
}
