#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "selfheal/diagnosis/symbols.hpp"

namespace fs = std::filesystem;
namespace dx = selfheal::diagnosis;

namespace {

struct source_tree {
  fs::path root;
  std::vector<std::string> files;
  source_tree() {
    static int n = 0;
    root = fs::temp_directory_path() / ("selfheal-symbols-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::create_directories(root);
  }
  ~source_tree() { fs::remove_all(root); }
  void add(const std::string& rel, const std::string& text) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel, std::ios::binary) << text;
    files.push_back(rel);
  }
};

const dx::symbol* find(const dx::symbol_index& idx, const std::string& file, const std::string& name) {
  for (const auto& s : idx.symbols)
    if (s.file == file && s.name == name) return &s;
  return nullptr;
}

// Line numbers below are counted by hand from these texts.
const char* js_text =
    "// cart.js\n"                                  // 1
    "export function applyDiscount(cart, pct) {\n"  // 2
    "  const x = { a: 1, b: '}' };\n"               // 3
    "  /* } */\n"                                    // 4
    "  return cart.total * (1 - pct);\n"            // 5
    "}\n"                                            // 6
    "class Cart {\n"                                 // 7
    "  checkout(items) {\n"                          // 8
    "    return items.map(i => {\n"                  // 9
    "      return i.price;\n"                        // 10
    "    });\n"                                      // 11
    "  }\n"                                          // 12
    "}\n"                                            // 13
    "const computeTax = (amount) => {\n"             // 14
    "  return amount * 0.2;\n"                       // 15
    "};\n";                                          // 16

const char* py_text =
    "import math\n"                        // 1
    "\n"                                   // 2
    "def apply_discount(cart, pct):\n"     // 3
    "    total = cart.total\n"             // 4
    "\n"                                   // 5
    "    return total * pct  # }\n"        // 6
    "\n"                                   // 7
    "class Cart:\n"                        // 8
    "    def checkout(self, items):\n"     // 9
    "        return [i for i in items]\n"  // 10
    "\n"                                   // 11
    "    def refund(self):\n"              // 12
    "        pass\n";                      // 13

const char* go_text =
    "package cart\n"                                 // 1
    "\n"                                             // 2
    "func ApplyDiscount(total float64) float64 {\n"  // 3
    "\tif total > 10 {\n"                            // 4
    "\t\treturn total * 0.9\n"                       // 5
    "\t}\n"                                          // 6
    "\treturn total\n"                               // 7
    "}\n"                                            // 8
    "\n"                                             // 9
    "func (c *Cart) Checkout() error {\n"            // 10
    "\treturn nil\n"                                 // 11
    "}\n";                                           // 12

const char* cpp_text =
    "#include <string>\n"                    // 1
    "namespace shop {\n"                     // 2
    "int Cart::applyDiscount(int total)\n"   // 3
    "{\n"                                    // 4
    "  if (total > 10) { return 9; }\n"      // 5
    "  return total;\n"                      // 6
    "}\n"                                    // 7
    "static int helper(int x) {\n"           // 8
    "  return x + 1;\n"                      // 9
    "}\n"                                    // 10
    "}  // namespace shop\n";                // 11

const char* java_text =
    "package shop;\n"                                       // 1
    "public class Billing {\n"                              // 2
    "  public static double computeInvoice(double x) {\n"  // 3
    "    if (x > 1) {\n"                                    // 4
    "      return x;\n"                                     // 5
    "    }\n"                                               // 6
    "    return 0;\n"                                       // 7
    "  }\n"                                                 // 8
    "}\n";                                                  // 9

const char* c_text =
    "int parse_header(const char* s)\n"  // 1
    "{\n"                                // 2
    "  return s[0] == '{';\n"            // 3
    "}\n";                               // 4

const char* ts_text =
    "export async function loadLibrary(id: string): Promise<void> {\n"  // 1
    "  await fetch(`/lib/${id}`);\n"                                    // 2
    "}\n";                                                              // 3

void check_ranges(const dx::symbol_index& idx) {
  struct expect { const char* file; const char* name; unsigned line, end; };
  const expect cases[] = {
      {"src/cart.js", "applyDiscount", 2, 6},  {"src/cart.js", "checkout", 8, 12},
      {"src/cart.js", "computeTax", 14, 16},   {"py/cart.py", "apply_discount", 3, 6},
      {"py/cart.py", "checkout", 9, 10},       {"py/cart.py", "refund", 12, 13},
      {"go/cart.go", "ApplyDiscount", 3, 8},   {"go/cart.go", "Checkout", 10, 12},
      {"cpp/cart.cpp", "applyDiscount", 3, 7}, {"cpp/cart.cpp", "helper", 8, 10},
      {"java/Billing.java", "computeInvoice", 3, 8}, {"c/parse.c", "parse_header", 1, 4},
      {"ts/lib.ts", "loadLibrary", 1, 3},
  };
  for (const auto& e : cases) {
    INFO(e.file << " " << e.name);
    const auto* s = find(idx, e.file, e.name);
    REQUIRE(s != nullptr);
    CHECK(s->line == e.line);
    CHECK(s->end_line == e.end);
  }
  const auto* m = find(idx, "py/cart.py", "checkout");
  REQUIRE(m);
  CHECK(m->scope == "Cart");
  const auto* g = find(idx, "go/cart.go", "Checkout");
  REQUIRE(g);
  CHECK(g->scope.find("Cart") != std::string::npos);
}

void write_all(source_tree& t) {
  t.add("src/cart.js", js_text);
  t.add("py/cart.py", py_text);
  t.add("go/cart.go", go_text);
  t.add("cpp/cart.cpp", cpp_text);
  t.add("java/Billing.java", java_text);
  t.add("c/parse.c", c_text);
  t.add("ts/lib.ts", ts_text);
  t.add("README.md", "# not code {\n");
}

}  // namespace

TEST_CASE("Universal Ctags gives symbols with line ranges in six languages", "[diagnosis][symbols]") {
  source_tree t;
  write_all(t);
  auto idx = dx::run_ctags(t.root, t.files);
  REQUIRE(idx);
  CHECK(idx->source == "ctags");
  check_ranges(*idx);
  SECTION("JavaScript end lines come from the brace scanner") {
    const auto* s = find(*idx, "src/cart.js", "applyDiscount");
    REQUIRE(s);
    CHECK(s->end_scanned);
  }
}

TEST_CASE("the fallback scanner finds the same ranges without ctags", "[diagnosis][symbols]") {
  source_tree t;
  write_all(t);
  const auto idx = dx::scan_symbols(t.root, t.files);
  CHECK(idx.source == "fallback");
  check_ranges(idx);
  SECTION("calls and control statements are not definitions") {
    CHECK(find(idx, "src/cart.js", "map") == nullptr);
    CHECK(find(idx, "go/cart.go", "if") == nullptr);
  }
}

TEST_CASE("index_symbols falls back when ctags is missing, and says so", "[diagnosis][symbols]") {
  source_tree t;
  write_all(t);
  dx::ctags_options o;
  o.program = "selfheal-no-ctags-here";
  const auto idx = dx::index_symbols(t.root, t.files, o);
  CHECK(idx.source == "fallback");
  REQUIRE_FALSE(idx.warnings.empty());
  CHECK(idx.warnings.front().find("ctags unavailable") != std::string::npos);
  check_ranges(idx);
}

TEST_CASE("handler names match across naming styles", "[diagnosis][symbols]") {
  SECTION("words") {
    CHECK(dx::normalized_name("applyDiscount") == "apply_discount");
    CHECK(dx::normalized_name("ApplyDiscount") == "apply_discount");
    CHECK(dx::normalized_name("apply_discount") == "apply_discount");
    CHECK(dx::normalized_name("apply-discount") == "apply_discount");
    CHECK(dx::normalized_name("HTTPServer") == "http_server");
    CHECK(dx::normalized_name("loadV2Items") == "load_v2_items");
  }
  dx::symbol_index idx;
  idx.symbols = {
      {"applyDiscount", "Cart", "method", "JavaScript", "src/cart.js", 10, 20, true},
      {"computeTax", "", "function", "JavaScript", "src/tax.js", 1, 5, true},
      {"compute_tax", "", "function", "Python", "py/tax.py", 1, 5, false},
      {"checkout", "Cart", "method", "JavaScript", "src/cart.js", 22, 30, true},
      {"checkout", "Order", "method", "JavaScript", "src/order.js", 3, 9, true},
      {"applyDiscount", "", "function", "JavaScript", "tests/cart.test.js", 1, 4, true},
      {"Cart", "", "class", "JavaScript", "src/cart.js", 9, 31, true},
  };
  SECTION("each style finds the one definition") {
    for (const char* h : {"applyDiscount", "apply_discount", "ApplyDiscount", "Cart::applyDiscount", "Cart.applyDiscount"}) {
      INFO(h);
      const auto m = dx::match_handler(idx, h);
      REQUIRE(m.status == dx::match_status::unique);
      CHECK(m.chosen(idx)->file == "src/cart.js");  // the test-file copy is not chosen
      CHECK(m.chosen(idx)->line == 10);
    }
  }
  SECTION("two definitions spelled differently: the exact spelling wins, the other is named") {
    const auto m = dx::match_handler(idx, "compute_tax");
    REQUIRE(m.status == dx::match_status::unique);
    CHECK(m.chosen(idx)->file == "py/tax.py");
    CHECK(m.note.find("src/tax.js") != std::string::npos);
  }
  SECTION("two definitions equally good: ambiguous, nothing chosen") {
    const auto m = dx::match_handler(idx, "Checkout");
    CHECK(m.status == dx::match_status::ambiguous);
    CHECK(m.chosen(idx) == nullptr);
    CHECK(m.candidates.size() == 2);
    CHECK(m.note.find("src/order.js") != std::string::npos);
  }
  SECTION("a scope qualifier resolves it") {
    const auto m = dx::match_handler(idx, "Order.checkout");
    REQUIRE(m.status == dx::match_status::unique);
    CHECK(m.chosen(idx)->file == "src/order.js");
  }
  SECTION("classes are not handlers; unknown names are not_found") {
    CHECK(dx::match_handler(idx, "Cart").status == dx::match_status::not_found);
    CHECK(dx::match_handler(idx, "refundOrder").status == dx::match_status::not_found);
  }
}

TEST_CASE("enclosing_symbol maps a line to the innermost function", "[diagnosis][symbols]") {
  dx::symbol_index idx;
  idx.symbols = {{"outer", "", "function", "JavaScript", "a.js", 1, 20, true},
                 {"inner", "", "function", "JavaScript", "a.js", 5, 8, true}};
  CHECK(dx::enclosing_symbol(idx, "a.js", 6)->name == "inner");
  CHECK(dx::enclosing_symbol(idx, "a.js", 12)->name == "outer");
  CHECK(dx::enclosing_symbol(idx, "a.js", 21) == nullptr);
  CHECK(dx::enclosing_symbol(idx, "b.js", 6) == nullptr);
}
