#include <selfheal/anomaly/coverage.hpp>
#include <selfheal/anomaly/coverage_index.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.hpp"

namespace an = selfheal::anomaly;
namespace fs = std::filesystem;

namespace {
// two functions in one file; load_log_files spans lines 10-19 (the next function starts at 20),
// 3 of its 10 DA lines hit; parse_rows spans 20-24 (its last DA line), all hit
const char* const tracefile =
    "TN:unit\n"
    "SF:src/telemetry/source.cpp\n"
    "FN:10,selfheal::telemetry::load_log_files::operator()(request const&)\n"
    "FN:20,_ZN8selfheal9telemetry10parse_rowsEv\n"
    "FNDA:40,selfheal::telemetry::load_log_files::operator()(request const&)\n"
    "FNDA:7,_ZN8selfheal9telemetry10parse_rowsEv\n"
    "FNF:2\nFNH:2\n"
    "DA:10,4\nDA:11,4\nDA:12,4\nDA:13,0\nDA:14,0\nDA:15,0\nDA:16,0\nDA:17,0\nDA:18,0\nDA:19,0\n"
    "DA:20,7\nDA:21,7\nDA:22,7,abcdef0123\nDA:24,7\n"
    "BRDA:12,0,0,1\nBRF:1\nBRH:1\n"
    "XYZ:unknown record\n"
    "DA:oops\n"
    "LF:14\nLH:7\n"
    "end_of_record\n"
    "SF:web/app.ts\n"
    "FN:5,20,handleCheckout\n"
    "DA:5,1\nDA:6,1\nDA:7,1\nDA:8,1\nDA:30,0\n"
    "end_of_record\n";
}  // namespace

TEST_CASE("lcov tracefiles parse, unknown records are counted with file:line", "[anomaly][detectCoverageGaps]") {
  const auto rep = an::parse_lcov(tracefile, "cov.info");
  REQUIRE(rep.files.size() == 2);
  CHECK(rep.files[0].path == "src/telemetry/source.cpp");
  CHECK(rep.files[0].functions.size() == 2);
  CHECK(rep.files[0].functions[0].hits == 40);
  CHECK(rep.files[0].lines.size() == 14);
  CHECK(rep.files[0].lines.at(22) == 7);  // the checksum field is ignored
  CHECK(rep.skipped_lines == 2);
  REQUIRE(rep.skipped_samples.size() == 2);
  CHECK(rep.skipped_samples[0] == "cov.info:26: unknown record 'XYZ'");
  CHECK(rep.skipped_samples[1] == "cov.info:27: malformed DA record");
  CHECK(rep.files[1].functions[0].end_line == 20);  // lcov 2 FN:<start>,<end>,<name>
}

// Names as g++ 12 mangles them (nm of a test object, and a lambda from selfheal's own coverage
// tracefile): a template instantiated with the handler's type carries its name only as an argument.
TEST_CASE("mangled C++ names: the function's own name counts, not its template arguments", "[anomaly][detectCoverageGaps]") {
  const std::string op = "_ZNK8selfheal9telemetry14load_log_filesclENS0_9parse_runERNS0_7contextE";
  const std::string check = "_ZN8selfheal7catalog5checkINS_9telemetry14load_log_filesEEEvT_";
  const std::string lambda = "_ZZNK8selfheal9telemetry14load_log_filesclENS0_9parse_runERNS_7contextEENKUlRKT_E_clISt4pairINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEESG_EEEDaS7_";
  CHECK(an::readable_function(op) == "selfheal::telemetry::load_log_files::operator() const");
  CHECK(an::readable_function(check) == "void selfheal::catalog::check()");
  CHECK(an::readable_function(lambda) == "auto selfheal::telemetry::load_log_files::operator() const::{lambda()#1}::operator() const");
  CHECK(an::readable_function("handleCheckout") == "handleCheckout");
  CHECK(an::readable_function("_Znot-a-mangled-name") == "_Znot-a-mangled-name");
  CHECK(an::function_matches(op, "loadLogFiles"));
  CHECK(an::function_matches(lambda, "loadLogFiles"));
  CHECK_FALSE(an::function_matches(check, "loadLogFiles"));
  CHECK(an::function_matches(check, "check"));

  // the instantiation comes first in the file and spans more lines; the handler maps to its own code
  const std::string info = "SF:/src/selfheal.hpp\nFN:5," + check + "\nFN:40," + op + "\nFN:60," + lambda +
                           "\nDA:5,9\nDA:6,9\nDA:7,0\nDA:8,0\nDA:9,0\nDA:41,3\nDA:42,0\nDA:61,3\nDA:62,3\nend_of_record\n";
  const auto c = an::coverage_of(an::parse_lcov(info), "loadLogFiles");
  REQUIRE(c.size() == 2);
  CHECK(c[0].function == "selfheal::telemetry::load_log_files::operator() const");
  CHECK(c[0].first_line == 40);
  CHECK(c[0].last_line == 59);
  CHECK(c[0].lines == 2);
  CHECK(c[0].covered == 1);
  CHECK(c[1].first_line == 60);
  CHECK(c[1].covered == 2);
}

TEST_CASE("handlers map to functions by name, camelCase or snake_case, mangled or not", "[anomaly][detectCoverageGaps]") {
  CHECK(an::function_matches("selfheal::telemetry::load_log_files::operator()(request const&)", "loadLogFiles"));
  CHECK(an::function_matches("_ZN8selfheal9telemetry10parse_rowsEv", "parseRows"));
  CHECK(an::function_matches("handleCheckout", "handle_checkout"));
  CHECK(an::function_matches("Checkout.handleCheckout", "handleCheckout"));
  CHECK_FALSE(an::function_matches("load_log_files_fast", "loadLogFiles"));
  CHECK_FALSE(an::function_matches("anything", ""));

  const auto rep = an::parse_lcov(tracefile);
  const auto c = an::coverage_of(rep, "loadLogFiles");
  REQUIRE(c.size() == 1);
  CHECK(c[0].first_line == 10);
  CHECK(c[0].last_line == 19);
  CHECK(c[0].lines == 10);
  CHECK(c[0].covered == 3);
  const auto p = an::coverage_of(rep, "parseRows");
  REQUIRE(p.size() == 1);
  CHECK(p[0].last_line == 24);
  CHECK(p[0].ratio() == 1.0);
  const auto h = an::coverage_of(rep, "handleCheckout");
  REQUIRE(h.size() == 1);
  CHECK(h[0].lines == 4);  // DA:30 is past the function's end line 20
}

TEST_CASE("hot handlers with poorly covered code are gaps, cold or covered ones are not", "[anomaly][detectCoverageGaps]") {
  const auto rep = an::parse_lcov(tracefile);
  an::telemetry_data cur;
  auto series = [](const char* name, std::uint64_t calls) {
    an::handler_series s;
    s.handler = name;
    s.windows.push_back({0, calls, 0, 1, 2, 3});
    return s;
  };
  cur.handlers = {series("loadLogFiles", 500), series("parseRows", 495), series("other", 5)};
  auto found = an::find_coverage_gaps(cur, rep);
  REQUIRE(found.size() == 1);
  CHECK(found[0].kind == an::anomaly_kind::coverage_gap);
  CHECK(found[0].handler == "loadLogFiles");
  CHECK(found[0].find("line_coverage")->number == Approx(0.3));
  CHECK(found[0].find("traffic_share")->number == Approx(0.5));
  CHECK(found[0].find("file")->text == "src/telemetry/source.cpp");
  CHECK(found[0].level == an::severity::high);
  SECTION("a cold handler (share below 1%) is not flagged") {
    cur.handlers = {series("loadLogFiles", 5), series("parseRows", 995)};
    CHECK(an::find_coverage_gaps(cur, rep).empty());
  }
  SECTION("the coverage threshold is configurable") {
    an::coverage_options o;
    o.min_line_coverage = 0.25;
    CHECK(an::find_coverage_gaps(cur, rep, o).empty());
  }
}

// ---- handlers mapped through a symbol index of a real repository (`--repo`) -------------------

namespace {

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// Line numbers are written beside each line; the DA records below are counted against them.
const char* const orders_cpp =
    "#include <string>\n"                          //  1
    "\n"                                           //  2
    "int checkout_order(int qty) {\n"              //  3  checkout_order: 3-14
    "  int total = 0;\n"                           //  4
    "  if (qty > 10) {\n"                          //  5
    "    total = qty * 9;\n"                       //  6
    "  } else {\n"                                 //  7
    "    total = qty * 10;\n"                      //  8
    "  }\n"                                        //  9
    "  if (total > 1000) {\n"                      // 10
    "    total -= 50;\n"                           // 11
    "  }\n"                                        // 12
    "  return total;\n"                            // 13
    "}\n"                                          // 14
    "\n"                                           // 15
    "int list_orders() {\n"                        // 16  list_orders: 16-20
    "  int n = 0;\n"                               // 17
    "  for (int i = 0; i < 3; ++i) n += i;\n"      // 18
    "  return n;\n"                                // 19
    "}\n"                                          // 20
    "\n"                                           // 21
    "struct Cart {\n"                              // 22
    "  int items = 0;\n"                           // 23
    "  int add_item(int n) {\n"                    // 24  Cart::add_item: 24-27
    "    items += n;\n"                            // 25
    "    return items;\n"                          // 26
    "  }\n"                                        // 27
    "};\n";                                        // 28

const char* const payments_py =
    "import json\n"                                //  1
    "\n"                                           //  2
    "\n"                                           //  3
    "def charge_card(amount, currency):\n"         //  4  charge_card: 4-10
    "    if amount <= 0:\n"                        //  5
    "        raise ValueError(\"amount\")\n"       //  6
    "    fee = amount * 0.03\n"                    //  7
    "    if currency != \"EUR\":\n"                //  8
    "        fee += 1\n"                           //  9
    "    return amount + fee\n"                    // 10
    "\n"                                           // 11
    "\n"                                           // 12
    "class Refunds:\n"                             // 13
    "    def refund_payment(self, payment_id):\n"  // 14  Refunds.refund_payment: 14-16
    "        record = {\"id\": payment_id}\n"      // 15
    "        return json.dumps(record)\n";         // 16

// gcov's DA lines for orders.cpp. checkout_order: 9 instrumented (3 4 5 6 8 10 11 13 14), 7 hit
// (6 and 11 not) = 7/9. list_orders: 5 instrumented, 5 hit. Cart::add_item: 4 instrumented, 0 hit.
std::string orders_da() {
  return "DA:3,12\nDA:4,12\nDA:5,12\nDA:6,0\nDA:8,12\nDA:10,12\nDA:11,0\nDA:13,12\nDA:14,12\n"
         "DA:16,5\nDA:17,5\nDA:18,20\nDA:19,5\nDA:20,5\n"
         "DA:24,0\nDA:25,0\nDA:26,0\nDA:27,0\n";
}
// coverage.py's DA lines for payments.py (no FN records: coverage.py writes none). charge_card:
// 7 instrumented (4-10), 3 hit (4 5 6) = 3/7. refund_payment: 3 instrumented (14-16), 3 hit.
std::string payments_da() {
  return "DA:1,1\nDA:4,1\nDA:5,1\nDA:6,1\nDA:7,0\nDA:8,0\nDA:9,0\nDA:10,0\nDA:13,1\nDA:14,1\nDA:15,1\nDA:16,1\n";
}

an::handler_series series(const char* name, std::uint64_t calls) {
  an::handler_series s;
  s.handler = name;
  s.windows.push_back({0, calls, 0, 1, 2, 3});
  return s;
}

// 1000 calls: checkoutOrder 40%, listOrders 30%, chargeCard 20%, refundPayment 9.5%, Cart.addItem 0.5% (cold)
an::telemetry_data shop_traffic() {
  an::telemetry_data cur;
  cur.handlers = {series("checkoutOrder", 400), series("listOrders", 300), series("chargeCard", 200),
                  series("refundPayment", 95), series("Cart.addItem", 5)};
  return cur;
}

const an::anomaly* gap_of(const std::vector<an::anomaly>& found, const std::string& handler) {
  for (const auto& a : found)
    if (a.handler == handler) return &a;
  return nullptr;
}

bool has_symbol(const an::coverage_index& idx, const std::string& name) {
  return std::any_of(idx.symbols.symbols.begin(), idx.symbols.symbols.end(),
                     [&](const auto& s) { return s.name == name; });
}

bool any_warning_has(const std::vector<std::string>& ws, const std::string& what) {
  return std::any_of(ws.begin(), ws.end(), [&](const std::string& w) { return w.find(what) != std::string::npos; });
}

}  // namespace

TEST_CASE("with a repository, handlers map to symbol ranges, tracefiles without FN records work",
          "[anomaly][detectCoverageGaps]") {
  selfheal::test::temp_dir repo;
  write_file(repo.path() / "src/orders.cpp", orders_cpp);
  write_file(repo.path() / "app/payments.py", payments_py);
  // gcov writes absolute SF paths (here: inside the repository), coverage.py relative ones
  const std::string lcov = "TN:\nSF:" + (repo.path() / "src/orders.cpp").string() + "\n" + orders_da() +
                           "LF:18\nLH:12\nend_of_record\n"
                           "SF:app/payments.py\n" + payments_da() + "LF:12\nLH:8\nend_of_record\n";
  const auto rep = an::parse_lcov(lcov, "shop.info");
  REQUIRE(rep.skipped_lines == 0);
  const auto cur = shop_traffic();

  // without the index nothing maps: the tracefile has no function records
  CHECK(an::find_coverage_gaps(cur, rep).empty());

  const auto idx = an::index_coverage(rep, repo.path());
  REQUIRE(idx);
  CHECK(idx->symbols.source == "ctags");
  CHECK(idx->direct == 2);
  CHECK(idx->outside_repo == 0);
  CHECK(idx->warnings.empty());

  const auto gaps = an::find_coverage_gaps(cur, rep, *idx);
  CHECK(gaps.warnings.empty());
  CHECK(gaps.by_symbols == 4);  // the four hot handlers; Cart.addItem is cold and not looked up
  REQUIRE(gaps.anomalies.size() == 2);

  const auto* checkout = gap_of(gaps.anomalies, "checkoutOrder");
  REQUIRE(checkout != nullptr);
  CHECK(checkout->kind == an::anomaly_kind::coverage_gap);
  CHECK(checkout->find("mapping")->text == "symbols");
  CHECK(checkout->find("file")->text == "src/orders.cpp");
  CHECK(checkout->find("function")->text == "checkout_order");
  CHECK(checkout->find("first_line")->number == 3);
  CHECK(checkout->find("last_line")->number == 14);
  CHECK(checkout->find("lines")->number == 9);
  CHECK(checkout->find("covered_lines")->number == 7);
  CHECK(checkout->find("line_coverage")->number == Approx(7.0 / 9.0));
  CHECK(checkout->find("traffic_share")->number == Approx(0.4));

  const auto* charge = gap_of(gaps.anomalies, "chargeCard");
  REQUIRE(charge != nullptr);
  CHECK(charge->find("mapping")->text == "symbols");
  CHECK(charge->find("file")->text == "app/payments.py");
  CHECK(charge->find("first_line")->number == 4);
  CHECK(charge->find("last_line")->number == 10);
  CHECK(charge->find("lines")->number == 7);
  CHECK(charge->find("covered_lines")->number == 3);
  CHECK(charge->level == an::severity::high);  // 20% of calls, under half covered

  // well covered (listOrders 5/5, refundPayment 3/3) and cold (Cart.addItem 0/4 at 0.5%): no gap
  CHECK(gap_of(gaps.anomalies, "listOrders") == nullptr);
  CHECK(gap_of(gaps.anomalies, "refundPayment") == nullptr);
  CHECK(gap_of(gaps.anomalies, "Cart.addItem") == nullptr);

  SECTION("the cold handler's own range is measured right when asked for") {
    const auto add = an::coverage_by_symbol(*idx, "Cart.addItem");
    CHECK(add.match.status == selfheal::source::match_status::unique);
    CHECK(add.coverage.first_line == 24);
    CHECK(add.coverage.last_line == 27);
    CHECK(add.coverage.lines == 4);
    CHECK(add.coverage.covered == 0);
  }
  SECTION("without ctags the built-in scanner gives the same ranges, and the warning says so") {
    selfheal::source::ctags_options no_ctags;
    no_ctags.program = (repo.path() / "no-such-ctags").string();
    const auto fallback = an::index_coverage(rep, repo.path(), no_ctags);
    REQUIRE(fallback);
    CHECK(fallback->symbols.source == "fallback");
    CHECK(any_warning_has(fallback->warnings, "ctags unavailable"));
    const auto again = an::find_coverage_gaps(cur, rep, *fallback);
    REQUIRE(again.anomalies.size() == 2);
    REQUIRE(gap_of(again.anomalies, "checkoutOrder") != nullptr);
    CHECK(gap_of(again.anomalies, "checkoutOrder")->find("last_line")->number == 14);
    REQUIRE(gap_of(again.anomalies, "chargeCard") != nullptr);
    CHECK(gap_of(again.anomalies, "chargeCard")->find("last_line")->number == 10);
  }
  SECTION("a repository that is not a directory is an error naming it") {
    const auto bad = an::index_coverage(rep, repo.path() / "no-such-dir");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == selfheal::errc::not_found);
    CHECK(bad.error().message().find("no-such-dir") != std::string::npos);
  }
}

TEST_CASE("a handler found by FN records and by the index uses the index's real end line",
          "[anomaly][detectCoverageGaps]") {
  selfheal::test::temp_dir repo;
  write_file(repo.path() / "src/orders.cpp", orders_cpp);
  // one FN record, no end line: by FN records checkout_order runs from 3 to the last DA line (27),
  // taking in list_orders and add_item: 9 + 5 + 4 = 18 lines, 7 + 5 + 0 = 12 hit = 66.7%.
  // By the index it is 3-14: 7/9 = 77.8%.
  const std::string lcov = "SF:src/orders.cpp\nFN:3,checkout_order\nFNDA:12,checkout_order\n" + orders_da() +
                           "end_of_record\n";
  const auto rep = an::parse_lcov(lcov);
  an::telemetry_data cur;
  cur.handlers = {series("checkoutOrder", 100)};

  const auto by_fn = an::find_coverage_gaps(cur, rep);
  REQUIRE(by_fn.size() == 1);
  CHECK(by_fn[0].find("mapping")->text == "lcov_functions");
  CHECK(by_fn[0].find("last_line")->number == 27);
  CHECK(by_fn[0].find("lines")->number == 18);

  const auto idx = an::index_coverage(rep, repo.path());
  REQUIRE(idx);
  const auto gaps = an::find_coverage_gaps(cur, rep, *idx);
  REQUIRE(gaps.anomalies.size() == 1);
  CHECK(gaps.anomalies[0].find("mapping")->text == "symbols");
  CHECK(gaps.anomalies[0].find("last_line")->number == 14);
  CHECK(gaps.anomalies[0].find("lines")->number == 9);
  CHECK(gaps.anomalies[0].find("covered_lines")->number == 7);

  SECTION("at a 70% threshold the FN mapping (66.7%) would flag it, the index (77.8%) does not") {
    an::coverage_options o;
    o.min_line_coverage = 0.70;
    CHECK(an::find_coverage_gaps(cur, rep, o).size() == 1);
    CHECK(an::find_coverage_gaps(cur, rep, *idx, o).anomalies.empty());
  }
}

TEST_CASE("SF paths outside the repository are never read, suffixes inside it are matched",
          "[anomaly][detectCoverageGaps]") {
  selfheal::test::temp_dir repo, elsewhere;
  write_file(repo.path() / "src/orders.cpp", orders_cpp);
  // a poorly covered hot handler whose only definition lies outside the repository
  const char* const billing_py =
      "def settle_invoice(invoice):\n"  // 1
      "    total = invoice.total\n"     // 2
      "    return total\n";             // 3
  write_file(elsewhere.path() / "billing.py", billing_py);
  const std::string outside_da = "DA:1,1\nDA:2,0\nDA:3,0\n";
  fs::create_directories(repo.path() / "app");
  fs::create_symlink(elsewhere.path() / "billing.py", repo.path() / "app/linked.py");
  const std::string escape = "../" + elsewhere.path().filename().string() + "/billing.py";
  const std::string lcov =
      // gcov's absolute path from the CI machine: found by its suffix src/orders.cpp
      "SF:/home/ci/build/shop/src/orders.cpp\n" + orders_da() + "end_of_record\n" +
      // absolute, outside the repository, and no suffix of it names a file of the repository
      "SF:" + (elsewhere.path() / "billing.py").string() + "\n" + outside_da + "end_of_record\n" +
      // relative, escaping with ..
      "SF:" + escape + "\n" + outside_da + "end_of_record\n" +
      // inside by name, but a symlink pointing out
      "SF:app/linked.py\n" + outside_da + "end_of_record\n" +
      // inside, missing
      "SF:src/deleted.cpp\nDA:1,0\nend_of_record\n";
  const auto rep = an::parse_lcov(lcov, "ci.info");
  REQUIRE(rep.files.size() == 5);

  const auto root = fs::canonical(repo.path());
  CHECK(an::resolve_source_file(root, "/home/ci/build/shop/src/orders.cpp").path == "src/orders.cpp");
  CHECK(an::resolve_source_file(root, "/home/ci/build/shop/src/orders.cpp").match == an::source_match::by_suffix);
  CHECK(an::resolve_source_file(root, "./src/../src/orders.cpp").match == an::source_match::direct);
  CHECK(an::resolve_source_file(root, "C:\\ci\\shop\\src\\orders.cpp").path == "src/orders.cpp");  // a Windows runner
  CHECK(an::resolve_source_file(root, (elsewhere.path() / "billing.py").string()).match == an::source_match::outside_repo);
  CHECK(an::resolve_source_file(root, escape).match == an::source_match::outside_repo);
  CHECK(an::resolve_source_file(root, "app/linked.py").path.empty());
  CHECK(an::resolve_source_file(root, "src/deleted.cpp").match == an::source_match::not_found);
  // absolute inside the repository but missing: not replaced by its suffix src/orders.cpp
  CHECK(an::resolve_source_file(root, (root / "lib/src/orders.cpp").string()).match == an::source_match::not_found);
  // relative but not from the root (coverage run from a parent folder): its suffix is found
  CHECK(an::resolve_source_file(root, "shop/src/orders.cpp").path == "src/orders.cpp");

  SECTION("a relative path written from a subfolder is found deeper, once, never guessed among two") {
    write_file(repo.path() / "backend/app/payments.py", billing_py);
    write_file(repo.path() / "backend/app/util.py", billing_py);
    write_file(repo.path() / "tools/app/util.py", billing_py);
    const auto files = an::detail::repository_files(root);
    CHECK(std::find(files.begin(), files.end(), "backend/app/payments.py") != files.end());
    CHECK(std::find(files.begin(), files.end(), "app/linked.py") == files.end());  // a symlink: left out
    CHECK(an::resolve_source_file(root, "app/payments.py").match == an::source_match::not_found);  // no walk given
    const auto deep = an::resolve_source_file(root, "app/payments.py", files);
    CHECK(deep.match == an::source_match::by_suffix);
    CHECK(deep.path == "backend/app/payments.py");
    CHECK(an::resolve_source_file(root, "app/util.py", files).match == an::source_match::not_found);  // two candidates
    CHECK(an::resolve_source_file(root, "app/linked.py", files).path.empty());
    CHECK(an::resolve_source_file(root, "src/deleted.cpp", files).match == an::source_match::not_found);
    // through index_coverage: the deep file's lines count, the ambiguous one is skipped
    const auto sub = an::parse_lcov("SF:app/payments.py\n" + outside_da + "end_of_record\nSF:app/util.py\nDA:1,1\nend_of_record\n", "sub.info");
    const auto i2 = an::index_coverage(sub, repo.path());
    REQUIRE(i2);
    CHECK(i2->by_suffix == 1);
    CHECK(i2->not_found == 1);
    REQUIRE(i2->lines.count("backend/app/payments.py") == 1);
    CHECK(i2->lines.at("backend/app/payments.py").size() == 3);
  }

  const auto idx = an::index_coverage(rep, repo.path());
  REQUIRE(idx);
  CHECK(idx->by_suffix == 1);
  CHECK(idx->outside_repo == 2);
  CHECK(idx->not_found == 2);  // the symlink and the missing file
  CHECK(idx->lines.size() == 1);
  CHECK(idx->lines.count("src/orders.cpp") == 1);
  CHECK_FALSE(has_symbol(*idx, "settle_invoice"));  // billing.py was never given to ctags
  CHECK(has_symbol(*idx, "checkout_order"));
  CHECK(any_warning_has(idx->warnings, "2 SF path(s) outside the repository"));
  CHECK(any_warning_has(idx->warnings, "2 SF path(s) not found in the repository"));

  an::telemetry_data cur;
  cur.handlers = {series("checkoutOrder", 500), series("settleInvoice", 500)};
  const auto gaps = an::find_coverage_gaps(cur, rep, *idx);
  REQUIRE(gaps.anomalies.size() == 1);
  CHECK(gaps.anomalies[0].handler == "checkoutOrder");
  CHECK(gaps.anomalies[0].find("file")->text == "src/orders.cpp");
  CHECK(gaps.anomalies[0].find("lines")->number == 9);
}

TEST_CASE("a handler name with several definitions is not guessed", "[anomaly][detectCoverageGaps]") {
  selfheal::test::temp_dir repo;
  write_file(repo.path() / "src/orders.py",
             "def process_order(order):\n"  // 1
             "    order.check()\n"          // 2
             "    return order.save()\n");  // 3
  write_file(repo.path() / "web/orders.js",
             "function process_order(order) {\n"  // 1
             "  validate(order);\n"              // 2
             "  return submit(order);\n"         // 3
             "}\n");                             // 4
  // both definitions poorly covered: 1 of 3 lines hit in each
  const std::string py = "SF:src/orders.py\nDA:1,1\nDA:2,0\nDA:3,0\nend_of_record\n";
  const std::string js_da = "DA:1,1\nDA:2,0\nDA:3,0\n";
  an::telemetry_data cur;
  cur.handlers = {series("processOrder", 100)};

  SECTION("no function records: skipped and counted") {
    const auto rep = an::parse_lcov(py + "SF:web/orders.js\n" + js_da + "end_of_record\n");
    const auto idx = an::index_coverage(rep, repo.path());
    REQUIRE(idx);
    CHECK(an::coverage_by_symbol(*idx, "processOrder").match.status == selfheal::source::match_status::ambiguous);
    const auto gaps = an::find_coverage_gaps(cur, rep, *idx);
    CHECK(gaps.anomalies.empty());
    CHECK(gaps.ambiguous_skipped == 1);
    CHECK(gaps.ambiguous_fallback == 0);
    REQUIRE(gaps.warnings.size() == 1);
    CHECK(gaps.warnings[0].find("1 hot handler(s) ambiguous") != std::string::npos);
    CHECK(gaps.warnings[0].find("src/orders.py:1") != std::string::npos);
    CHECK(gaps.warnings[0].find("web/orders.js:1") != std::string::npos);
  }
  SECTION("function records in the tracefile: they decide, and the evidence says so") {
    // istanbul writes FN with the end line: process_order in web/orders.js is 1-4, DA 1-3: 1/3
    const auto rep = an::parse_lcov(py + "SF:web/orders.js\nFN:1,4,process_order\nFNDA:1,process_order\n" + js_da +
                                    "end_of_record\n");
    const auto idx = an::index_coverage(rep, repo.path());
    REQUIRE(idx);
    const auto gaps = an::find_coverage_gaps(cur, rep, *idx);
    REQUIRE(gaps.anomalies.size() == 1);
    CHECK(gaps.anomalies[0].find("mapping")->text == "lcov_functions");
    CHECK(gaps.anomalies[0].find("file")->text == "web/orders.js");
    CHECK(gaps.anomalies[0].find("lines")->number == 3);
    CHECK(gaps.anomalies[0].find("covered_lines")->number == 1);
    CHECK(gaps.ambiguous_fallback == 1);
    CHECK(gaps.ambiguous_skipped == 0);
    REQUIRE(gaps.warnings.size() == 1);
    CHECK(gaps.warnings[0].find("1 mapped by the tracefile's function records") != std::string::npos);
  }
}
