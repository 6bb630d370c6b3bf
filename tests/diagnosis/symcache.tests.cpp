#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "selfheal/diagnosis/codebase.hpp"
#include "selfheal/store/database.hpp"
#include "postgres.hpp"  // both backends: SQLite and a throwaway PostgreSQL
#include "temp_dir.hpp"

// The symbol cache of load_codebase: real git repositories, a real store file, real ctags.
// Expected names and lines are the ones written into the fixture files below.

namespace dx = selfheal::diagnosis;
using selfheal::test::git_repo;

namespace {

const char* const a_c =
    "int alpha(int x) {\n"  // 1
    "  return x + 1;\n"
    "}\n"  // 3
    "\n"
    "int beta(void) {\n"  // 5
    "  return 2;\n"
    "}\n";  // 7

// a_c with a third function appended
const std::string a_c_v2 = std::string(a_c) +
    "\n"                        // 8
    "int epsilon(int y) {\n"  // 9
    "  return y * 3;\n"
    "}\n";  // 11

const char* const b_py =
    "def gamma():\n"  // 1
    "    return 3\n";  // 2

const char* const d_js =
    "function delta(a) {\n"  // 1
    "  return a * 2;\n"
    "}\n";  // 3

void make_fixture(git_repo& repo) {
  repo.write("src/a.c", a_c);
  repo.write("src/b.py", b_py);
  repo.write("web/d.js", d_js);
  repo.write("README.md", "# fixture\n");
  repo.commit("Fixture", 1735689600);
  // An hour old: files modified in the last two seconds are never cached (see the last test case).
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours{1};
  for (const char* f : {"src/a.c", "src/b.py", "web/d.js", "README.md"}) std::filesystem::last_write_time(repo.root() / f, old);
}

const dx::symbol* find(const dx::symbol_index& idx, const std::string& name) {
  for (const auto& s : idx.symbols)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> names(const dx::symbol_index& idx) {
  std::vector<std::string> out;
  for (const auto& s : idx.symbols) out.push_back(s.file + ":" + std::to_string(s.line) + ":" + s.name);
  return out;
}

/// Every field of every symbol, in order.
void require_same(const dx::symbol_index& a, const dx::symbol_index& b) {
  REQUIRE(a.symbols.size() == b.symbols.size());
  for (std::size_t i = 0; i < a.symbols.size(); ++i) {
    INFO("symbol " << i << ": " << a.symbols[i].qualified() << " vs " << b.symbols[i].qualified());
    CHECK(a.symbols[i].name == b.symbols[i].name);
    CHECK(a.symbols[i].scope == b.symbols[i].scope);
    CHECK(a.symbols[i].kind == b.symbols[i].kind);
    CHECK(a.symbols[i].language == b.symbols[i].language);
    CHECK(a.symbols[i].file == b.symbols[i].file);
    CHECK(a.symbols[i].line == b.symbols[i].line);
    CHECK(a.symbols[i].end_line == b.symbols[i].end_line);
    CHECK(a.symbols[i].end_scanned == b.symbols[i].end_scanned);
  }
  CHECK(a.source == b.source);
}

std::int64_t count_rows(selfheal::store::database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st);
  auto row = st->step();
  REQUIRE(row);
  REQUIRE(*row);
  return st->column_int(0);
}

/// New content and a modification time 10 s later than before (a new mtime, whatever the clock's resolution).
void rewrite(const git_repo& repo, const std::string& rel, const std::string& text) {
  const auto p = repo.root() / rel;
  const auto before = std::filesystem::last_write_time(p);
  repo.write(rel, text);
  std::filesystem::last_write_time(p, before + std::chrono::seconds{10});
}

}  // namespace

TEST_CASE("the symbol cache indexes only files that changed and gives the uncached symbols", "[diagnosis][symcache]") {
  git_repo repo;
  make_fixture(repo);
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open(selfheal::test::fresh_store_url(
      GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), dir, "store.db"));
  REQUIRE(db);

  auto first = dx::load_codebase(repo.root(), &*db);
  REQUIRE(first);
  const auto& s1 = first->symbols;
  CHECK(s1.source == "ctags");
  CHECK(s1.indexed_files == 3);  // a.c, b.py, d.js (README.md is no source)
  CHECK(s1.cached_files == 0);
  // Sorted by file, then line.
  CHECK(names(s1) == std::vector<std::string>{"src/a.c:1:alpha", "src/a.c:5:beta", "src/b.py:1:gamma", "web/d.js:1:delta"});
  REQUIRE(find(s1, "alpha"));
  CHECK(find(s1, "alpha")->end_line == 3);
  CHECK(find(s1, "beta")->end_line == 7);
  CHECK(find(s1, "gamma")->end_line == 2);
  CHECK(find(s1, "delta")->end_line == 3);
  CHECK(find(s1, "delta")->language == "JavaScript");
  CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbol_files") == 3);
  CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbols") == 4);

  SECTION("a run without a cache gives the same symbols and indexes every file") {
    auto plain = dx::load_codebase(repo.root());
    REQUIRE(plain);
    require_same(plain->symbols, s1);
    CHECK(plain->symbols.indexed_files == 3);
    CHECK(plain->symbols.cached_files == 0);
  }

  SECTION("a second run takes every file from the cache") {
    auto second = dx::load_codebase(repo.root(), &*db);
    REQUIRE(second);
    CHECK(second->symbols.indexed_files == 0);
    CHECK(second->symbols.cached_files == 3);
    require_same(second->symbols, s1);
    CHECK(second->symbols.warnings.empty());
  }

  SECTION("a rewritten file is indexed again, alone, and its new symbol appears") {
    rewrite(repo, "src/a.c", a_c_v2);
    auto third = dx::load_codebase(repo.root(), &*db);
    REQUIRE(third);
    CHECK(third->symbols.indexed_files == 1);
    CHECK(third->symbols.cached_files == 2);
    CHECK(names(third->symbols) == std::vector<std::string>{"src/a.c:1:alpha", "src/a.c:5:beta", "src/a.c:9:epsilon",
                                                            "src/b.py:1:gamma", "web/d.js:1:delta"});
    REQUIRE(find(third->symbols, "epsilon"));
    CHECK(find(third->symbols, "epsilon")->end_line == 11);
    auto plain = dx::load_codebase(repo.root());
    REQUIRE(plain);
    require_same(third->symbols, plain->symbols);
    CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbols WHERE path = 'src/a.c'") == 3);

    auto fourth = dx::load_codebase(repo.root(), &*db);
    REQUIRE(fourth);
    CHECK(fourth->symbols.indexed_files == 0);
    require_same(fourth->symbols, third->symbols);
  }

  SECTION("a deleted file's symbols and rows disappear") {
    std::filesystem::remove(repo.root() / "web/d.js");
    auto after = dx::load_codebase(repo.root(), &*db);
    REQUIRE(after);
    CHECK(after->symbols.indexed_files == 0);
    CHECK(after->symbols.cached_files == 2);
    CHECK(names(after->symbols) == std::vector<std::string>{"src/a.c:1:alpha", "src/a.c:5:beta", "src/b.py:1:gamma"});
    CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbol_files WHERE path = 'web/d.js'") == 0);
    CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbols WHERE path = 'web/d.js'") == 0);
    CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbol_files") == 2);
  }

  SECTION("a changed size alone, with the same mtime, re-indexes the file") {
    // Same mtime as cached but one byte more: the size differs.
    const auto p = repo.root() / "src/b.py";
    const auto t = std::filesystem::last_write_time(p);
    repo.write("src/b.py", std::string(b_py) + "\n");
    std::filesystem::last_write_time(p, t);
    auto again = dx::load_codebase(repo.root(), &*db);
    REQUIRE(again);
    CHECK(again->symbols.indexed_files == 1);
    CHECK(again->symbols.cached_files == 2);
    require_same(again->symbols, s1);
  }
}

TEST_CASE("the symbol cache keeps only ctags results, never the fallback scanner's", "[diagnosis][symcache]") {
  git_repo repo;
  make_fixture(repo);
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open(selfheal::test::fresh_store_url(
      GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), dir, "store.db"));
  REQUIRE(db);

  dx::codebase_options broken;
  broken.ctags.program = (dir.path() / "no-such-ctags").string();
  auto fallback = dx::load_codebase(repo.root(), &*db, broken);
  REQUIRE(fallback);
  CHECK(fallback->symbols.source == "fallback");
  CHECK(fallback->symbols.indexed_files == 3);
  CHECK(fallback->symbols.cached_files == 0);
  REQUIRE(find(fallback->symbols, "alpha"));
  REQUIRE(!fallback->symbols.warnings.empty());
  CHECK(fallback->symbols.warnings.front().find("ctags unavailable") != std::string::npos);
  CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbol_files") == 0);
  CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbols") == 0);
  // The same as the scanner without a cache.
  auto plain = dx::load_codebase(repo.root(), nullptr, broken);
  REQUIRE(plain);
  require_same(fallback->symbols, plain->symbols);

  // ctags back: everything is indexed by ctags (nothing stuck from the scanner), then cached.
  auto real = dx::load_codebase(repo.root(), &*db);
  REQUIRE(real);
  CHECK(real->symbols.source == "ctags");
  CHECK(real->symbols.indexed_files == 3);
  CHECK(real->symbols.cached_files == 0);

  SECTION("ctags failing later, with a filled cache, still gives the scanner's symbols for everything") {
    rewrite(repo, "src/a.c", a_c_v2);
    auto later = dx::load_codebase(repo.root(), &*db, broken);
    REQUIRE(later);
    CHECK(later->symbols.source == "fallback");
    CHECK(later->symbols.cached_files == 0);
    auto plain2 = dx::load_codebase(repo.root(), nullptr, broken);
    REQUIRE(plain2);
    require_same(later->symbols, plain2->symbols);
    // The stale row of a.c was not replaced by scanner output: ctags indexes it on the next good run.
    auto good = dx::load_codebase(repo.root(), &*db);
    REQUIRE(good);
    CHECK(good->symbols.indexed_files == 1);
    CHECK(find(good->symbols, "epsilon"));
  }
}

TEST_CASE("the symbol cache does not keep files modified in the last two seconds", "[diagnosis][symcache]") {
  git_repo repo;
  make_fixture(repo);
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open(selfheal::test::fresh_store_url(
      GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), dir, "store.db"));
  REQUIRE(db);
  // Far enough in the future to be inside the window however slow this run is.
  const auto p = repo.root() / "src/b.py";
  repo.write("src/b.py", std::string(b_py) + "def zeta():\n    return 4\n");
  std::filesystem::last_write_time(p, std::filesystem::file_time_type::clock::now() + std::chrono::hours{1});
  for (int run = 0; run < 2; ++run) {
    INFO("run " << run);
    auto cb = dx::load_codebase(repo.root(), &*db);
    REQUIRE(cb);
    CHECK(cb->symbols.indexed_files == (run == 0 ? 3 : 1));
    CHECK(cb->symbols.cached_files == (run == 0 ? 0 : 2));
    CHECK(names(cb->symbols) == std::vector<std::string>{"src/a.c:1:alpha", "src/a.c:5:beta", "src/b.py:1:gamma",
                                                         "src/b.py:3:zeta", "web/d.js:1:delta"});
    CHECK(count_rows(*db, "SELECT COUNT(*) FROM source_symbol_files WHERE path = 'src/b.py'") == 0);
  }
}
