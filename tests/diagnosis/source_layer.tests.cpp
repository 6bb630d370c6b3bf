#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "selfheal/source/history.hpp"
#include "selfheal/source/paths.hpp"
#include "selfheal/source/repository.hpp"
#include "selfheal/source/symbols.hpp"
#include "selfheal/store/database.hpp"
#include "temp_dir.hpp"

// The source layer (issue #9, item 1): repository knowledge below anomaly and diagnosis.

namespace fs = std::filesystem;
namespace src = selfheal::source;
using selfheal::test::git_repo;

TEST_CASE("the source layer includes nothing above it, and coverage_index no diagnosis", "[source][layering]") {
  const fs::path include = fs::path(SELFHEAL_SOURCE_DIR) / "include" / "selfheal";
  const std::regex upward(R"(#include\s+"selfheal/(telemetry|anomaly|diagnosis|fix|validation|deployment|learning|heal)/)");
  std::size_t headers = 0;
  for (const auto& e : fs::directory_iterator(include / "source")) {
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line)) {
      INFO(e.path().filename().string() << ": " << line);
      CHECK_FALSE(std::regex_search(line, upward));
    }
    ++headers;
  }
  CHECK(headers >= 6);
  std::ifstream cov(include / "anomaly" / "coverage_index.hpp");
  std::string text((std::istreambuf_iterator<char>(cov)), std::istreambuf_iterator<char>());
  CHECK(text.find("selfheal/diagnosis/") == std::string::npos);
}

TEST_CASE("the name index gives what a full scan gives", "[source][symbols]") {
  src::symbol_index idx;
  auto add = [&](std::string name, std::string scope, std::string file, std::uint32_t line, std::string kind = "function") {
    idx.symbols.push_back(src::symbol{std::move(name), std::move(scope), std::move(kind), "JavaScript", std::move(file), line, line + 3, false});
  };
  add("applyDiscount", "", "src/cart.js", 1);
  add("apply_discount", "", "py/cart.py", 1);
  add("checkout", "Cart", "src/cart.js", 10, "method");
  add("checkout", "Order", "src/order.js", 4, "method");
  add("Cart", "", "src/cart.js", 9, "class");
  const std::vector<std::string> names{"applyDiscount", "apply_discount", "checkout", "Cart::checkout", "Order.checkout",
                                       "Cart", "missing", "ApplyDiscount"};
  std::vector<src::match_result> linear;
  for (const auto& n : names) linear.push_back(src::match_handler(idx, n));
  src::index_names(idx);
  REQUIRE(idx.has_name_index());
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO(names[i]);
    const auto m = src::match_handler(idx, names[i]);
    CHECK(m.status == linear[i].status);
    CHECK(m.candidates == linear[i].candidates);
  }
  idx.symbols.pop_back();  // changed after indexing: the stale index is not used
  CHECK_FALSE(idx.has_name_index());
  CHECK(src::match_handler(idx, "checkout").status == src::match_status::ambiguous);
}

TEST_CASE("the history cache keeps hunks as rows and reads back the same history", "[source][history]") {
  git_repo repo;
  repo.write("a.txt", "1\n2\n3\n4\n");
  repo.commit("one", 1735689600);
  repo.write("a.txt", "1\nTWO\n3\n4\nfive\n");
  repo.write("b.txt", "b\n");
  repo.commit("two", 1735689660);
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open(dir.path() / "s.db");
  REQUIRE(db);
  auto fresh = src::read_history(repo.root(), &*db);
  REQUIRE(fresh);
  CHECK(fresh->read_from_git == 2);
  auto q = db->prepare("SELECT COUNT(*) FROM source_commit_hunks");
  REQUIRE(q);
  auto row = q->step();
  REQUIRE(row);
  REQUIRE(*row);
  CHECK(q->column_int(0) == 4);  // one (creating a.txt) + two in a.txt + one creating b.txt
  auto cached = src::read_history(repo.root(), &*db);
  REQUIRE(cached);
  CHECK(cached->read_from_git == 0);
  REQUIRE(cached->commits.size() == fresh->commits.size());
  for (std::size_t i = 0; i < fresh->commits.size(); ++i) {
    const auto& a = fresh->commits[i];
    const auto& b = cached->commits[i];
    CHECK(a.id == b.id);
    REQUIRE(a.files.size() == b.files.size());
    for (std::size_t f = 0; f < a.files.size(); ++f) {
      CHECK(a.files[f].path == b.files[f].path);
      CHECK(a.files[f].status == b.files[f].status);
      CHECK(a.files[f].additions == b.files[f].additions);
      REQUIRE(a.files[f].hunks.size() == b.files[f].hunks.size());
      for (std::size_t h = 0; h < a.files[f].hunks.size(); ++h) {
        CHECK(a.files[f].hunks[h].old_start == b.files[f].hunks[h].old_start);
        CHECK(a.files[f].hunks[h].new_lines == b.files[f].hunks[h].new_lines);
      }
    }
  }
}

TEST_CASE("one resolver for coverage paths and stack frames", "[source][paths]") {
  git_repo repo;
  repo.write("src/cart.js", "x\n");
  repo.write("backend/app/x.py", "y\n");
  repo.write("a/util.js", "1\n");
  repo.write("b/util.js", "2\n");
  repo.commit("files", 1735689600);
  const auto root = fs::canonical(repo.root());
  const std::vector<std::string> files{"a/util.js", "b/util.js", "backend/app/x.py", "src/cart.js"};
  auto r = src::resolve_path(root, "./src/cart.js", files);
  CHECK(r.match == src::source_match::direct);
  CHECK(r.path == "src/cart.js");
  r = src::resolve_path(root, "file:///ci/build/src/cart.js", files);
  CHECK(r.match == src::source_match::by_suffix);
  CHECK(r.path == "src/cart.js");
  r = src::resolve_path(root, "app/x.py", files);
  CHECK(r.path == "backend/app/x.py");
  r = src::resolve_path(root, "../../etc/passwd", files);
  CHECK(r.match == src::source_match::outside_repo);
  // A bare file name from a frame: only with the unique-basename rule, and never between two.
  CHECK(src::resolve_path(root, "/other/host/cart.js", files).path.empty());
  CHECK(src::resolve_path(root, "/other/host/cart.js", files, true).path == "src/cart.js");
  const auto two = src::resolve_path(root, "/other/host/util.js", files, true);
  CHECK(two.path.empty());
  CHECK(two.ambiguous == 2);
}
