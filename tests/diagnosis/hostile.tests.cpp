#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "selfheal/diagnosis/analyzers.hpp"
#include "selfheal/diagnosis/codebase.hpp"
#include "selfheal/diagnosis/history.hpp"
#include "selfheal/store/database.hpp"
#include "temp_dir.hpp"

// What a crafted or unusual repository does to the indexer (issue #11, items 5, 6 and 8): real git
// repositories, real ctags, real clones over file://.

namespace fs = std::filesystem;
namespace dx = selfheal::diagnosis;
using selfheal::test::git_repo;

namespace {

const dx::symbol* find(const dx::symbol_index& idx, const std::string& name) {
  for (const auto& s : idx.symbols)
    if (s.name == name) return &s;
  return nullptr;
}

bool any_warning(const std::vector<std::string>& w, const std::string& part) {
  return std::any_of(w.begin(), w.end(), [&](const std::string& s) { return s.find(part) != std::string::npos; });
}

std::string js_function(const std::string& name) { return "function " + name + "(x) {\n  return x + 1;\n}\n"; }

/// A repository whose file names ctags would read as options or could not read back verbatim.
void write_hostile(git_repo& repo) {
  repo.write("good.js", js_function("good"));
  repo.write("--map-JavaScript=-.js", js_function("dashMap"));  // would make ctags skip every .js file
  repo.write("--options=evil.js", js_function("dashOptions"));  // would make ctags read evil.js as options
  repo.write("evil.js", "--exclude=*\n");
  repo.write(".ctags.d/evil.ctags", "--exclude=*\n");            // ctags preloads ./.ctags.d/*.ctags
  repo.write(" lead.js", js_function("leadingSpace"));
  repo.write("trail.js ", js_function("trailingSpace"));      // extension "js ": not a source file, must not disturb
  repo.write("sp ace/trail .js", js_function("innerSpace"));
  repo.write("new\nline.js", js_function("newLine"));
  repo.write("bad\xff\xfe.js", js_function("badBytes"));
  repo.write("tab\there.js", js_function("tabbed"));
  repo.commit("hostile names", 1735689600);
}

}  // namespace

TEST_CASE("hostile file names never reach ctags as options and keep their symbols", "[diagnosis][hostile][symbols]") {
  git_repo repo;
  write_hostile(repo);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"good", "good.js"},          {"dashMap", "--map-JavaScript=-.js"}, {"dashOptions", "--options=evil.js"},
      {"leadingSpace", " lead.js"}, {"innerSpace", "sp ace/trail .js"},         {"newLine", "new\nline.js"},
      {"badBytes", "bad\xff\xfe.js"}, {"tabbed", "tab\there.js"}};
  auto check = [&](const dx::codebase& cb) {
    CHECK(cb.symbols.source == "ctags");
    for (const auto& [name, file] : expected) {
      INFO(name);
      const auto* s = find(cb.symbols, name);
      REQUIRE(s != nullptr);
      CHECK(s->file == file);
      CHECK(s->line == 1);
      CHECK(s->end_line == 3);
    }
  };
  SECTION("without a cache") {
    auto cb = dx::load_codebase(repo.root());
    REQUIRE(cb);
    check(*cb);
  }
  SECTION("with the symbol cache, twice") {
    selfheal::test::temp_dir dir;
    auto db = selfheal::store::database::open(dir.path() / "s.db");
    REQUIRE(db);
    auto first = dx::load_codebase(repo.root(), &*db);
    REQUIRE(first);
    check(*first);
    auto second = dx::load_codebase(repo.root(), &*db);
    REQUIRE(second);
    check(*second);
  }
}

TEST_CASE("a tracked symlink that leaves the repository is never read", "[diagnosis][hostile][symlink]") {
  selfheal::test::temp_dir outside;
  std::ofstream(outside.path() / "secret.js") << js_function("outsideFunction");
  std::ofstream(outside.path() / "secret.yaml") << "cache:\n  size_limit: 1\n";
  std::ofstream(outside.path() / "secret.test.js") << "test('reads outsideTest', () => {});\n";
  fs::create_directories(outside.path() / "dir");
  std::ofstream(outside.path() / "dir" / "deep.js") << js_function("deepOutside");

  git_repo repo;
  repo.write("src/inside.js", js_function("insideFunction"));
  fs::create_symlink(outside.path() / "secret.js", repo.root() / "src" / "link.js");
  fs::create_symlink(outside.path() / "secret.yaml", repo.root() / "app.yaml");
  fs::create_directories(repo.root() / "tests");
  fs::create_symlink(outside.path() / "secret.test.js", repo.root() / "tests" / "link.test.js");
  fs::create_symlink("../../" + std::string(".."), repo.root() / "src" / "up");  // a relative escape
  fs::create_symlink(outside.path() / "dir", repo.root() / "lib");
  fs::create_symlink("inside.js", repo.root() / "src" / "alias.js");  // stays inside: allowed
  repo.commit("links", 1735689600);

  for (const bool ctags : {true, false}) {
    INFO((ctags ? "ctags" : "built-in scanner"));
    dx::codebase_options o;
    o.use_ctags = ctags;
    auto cb = dx::load_codebase(repo.root(), nullptr, o);
    REQUIRE(cb);
    CHECK(find(cb->symbols, "insideFunction") != nullptr);
    CHECK(find(cb->symbols, "outsideFunction") == nullptr);
    CHECK(find(cb->symbols, "deepOutside") == nullptr);
    CHECK(std::none_of(cb->configs.begin(), cb->configs.end(), [](const dx::config_entry& e) { return e.file == "app.yaml"; }));
    CHECK(std::none_of(cb->tests.begin(), cb->tests.end(), [](const dx::test_file& t) { return t.file == "tests/link.test.js"; }));
    CHECK(any_warning(cb->warnings, "src/link.js: a symlink that leaves the repository"));
    CHECK(any_warning(cb->warnings, "app.yaml: a symlink that leaves the repository"));
    // The in-repository alias is read (its symbols are the same function under the alias path).
    CHECK(std::any_of(cb->symbols.symbols.begin(), cb->symbols.symbols.end(),
                      [](const dx::symbol& s) { return s.file == "src/alias.js" && s.name == "insideFunction"; }));
  }
  SECTION("the direct entry points refuse it too") {
    const std::vector<std::string> files{"src/inside.js", "src/link.js"};
    auto idx = dx::index_symbols(repo.root(), files);
    CHECK(find(idx, "outsideFunction") == nullptr);
    CHECK(find(idx, "insideFunction") != nullptr);
    auto scanned = dx::scan_symbols(repo.root(), files);
    CHECK(find(scanned, "outsideFunction") == nullptr);
  }
}

TEST_CASE("a shallow clone's boundary commit is not blamed for adding files", "[diagnosis][hostile][history]") {
  git_repo origin;
  std::string body;
  for (int i = 1; i <= 20; ++i) body += "  line" + std::to_string(i) + "();\n";
  origin.write("src/old.js", "function oldFunction() {\n" + body + "}\n");
  origin.write("f.txt", "0\n");
  origin.commit("c0 adds old.js", 1735689600);
  for (int i = 1; i < 4; ++i) {
    origin.write("f.txt", std::to_string(i) + "\n");
    origin.commit("c" + std::to_string(i), 1735689600 + i * 60);
  }
  selfheal::test::temp_dir dir;
  const auto clone = dir.path() / "clone";
  origin.git({"clone", "-q", "--depth", "2", "file://" + origin.root().string(), clone.string()});

  auto h = dx::read_history(clone);
  REQUIRE(h);
  REQUIRE(h->commits.size() == 2);
  const auto& boundary = h->commits.back();
  CHECK(boundary.summary == "c2");
  CHECK(boundary.shallow_boundary);
  CHECK(boundary.files.empty());
  CHECK_FALSE(h->commits.front().shallow_boundary);
  CHECK(any_warning(h->warnings, "shallow"));

  const std::vector<dx::code_target> targets{{"src/old.js", 1, 22, "oldFunction"}};
  const auto suspects = dx::rank_suspects(*h, targets, dx::blame_window{});
  CHECK(std::none_of(suspects.begin(), suspects.end(), [&](const dx::suspect_commit& s) { return s.commit == boundary.id; }));

  SECTION("the cache does not keep the boundary, so a later unshallow reads its real diff") {
    auto db = selfheal::store::database::open(dir.path() / "s.db");
    REQUIRE(db);
    REQUIRE(dx::read_history(clone, &*db));
    origin.git({"-C", clone.string(), "fetch", "-q", "--unshallow"});
    auto after = dx::read_history(clone, &*db);
    REQUIRE(after);
    CHECK(after->commits.size() == 4);
    for (const auto& c : after->commits) CHECK_FALSE(c.shallow_boundary);
    const auto c2 = std::find_if(after->commits.begin(), after->commits.end(), [](const dx::commit_info& c) { return c.summary == "c2"; });
    REQUIRE(c2 != after->commits.end());
    REQUIRE(c2->files.size() == 1);
    CHECK(c2->files[0].path == "f.txt");
  }
}

TEST_CASE("a blob-less clone gives a history with the unreadable diffs marked, not an error", "[diagnosis][hostile][history]") {
  git_repo origin;
  origin.git({"config", "uploadpack.allowFilter", "true"});
  origin.git({"config", "uploadpack.allowAnySHA1InWant", "true"});
  origin.write("src/a.js", js_function("alpha"));
  origin.commit("c0", 1735689600);
  origin.write("src/a.js", "function alpha(x) {\n  return x + 2;\n}\n");
  origin.commit("c1", 1735689660);
  origin.write("src/a.js", "function alpha(x) {\n  return x + 3;\n}\n");
  origin.commit("c2", 1735689720);
  selfheal::test::temp_dir dir;
  const auto clone = dir.path() / "clone";
  origin.git({"clone", "-q", "--filter=blob:none", "file://" + origin.root().string(), clone.string()});

  auto h = dx::read_history(clone);
  REQUIRE(h);
  REQUIRE(h->commits.size() == 3);
  CHECK(any_warning(h->warnings, "missing"));
  // Every commit names the file it changed, even when its hunks could not be read.
  for (const auto& c : h->commits) {
    INFO(c.summary);
    REQUIRE(c.files.size() == 1);
    CHECK(c.files[0].path == "src/a.js");
  }
  const auto incomplete = std::count_if(h->commits.begin(), h->commits.end(), [](const dx::commit_info& c) { return c.incomplete; });
  CHECK(incomplete >= 1);

  auto cb = dx::load_codebase(clone);
  REQUIRE(cb);
  CHECK(find(cb->symbols, "alpha") != nullptr);
  const std::vector<dx::code_target> targets{{"src/a.js", 1, 3, "alpha"}};
  const auto suspects = dx::rank_suspects(cb->git, targets, dx::blame_window{});
  REQUIRE_FALSE(suspects.empty());
  CHECK(suspects.front().summary == "c2");
}
