#include <catch2/catch.hpp>

#include <string>

#include "scenario.hpp"
#include "selfheal/diagnosis/history.hpp"
#include "selfheal/store/database.hpp"
#include "postgres.hpp"  // both backends: SQLite and a throwaway PostgreSQL
#include "temp_dir.hpp"

namespace dx = selfheal::diagnosis;
using selfheal::test::git_repo;

namespace {

const dx::file_change* change_of(const dx::commit_info& c, const std::string& path) {
  for (const auto& f : c.files)
    if (f.path == path) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("history reads commits, authors, times, hunks and tags through libgit2", "[diagnosis][history]") {
  git_repo repo;
  repo.write("a.txt", "one\ntwo\nthree\nfour\nfive\n");
  const auto c1 = repo.commit("First", 1735689600, "Ada Lovelace", "ada@example.com");  // 2025-01-01T00:00:00Z
  repo.tag("v1.0");
  repo.write("a.txt", "one\nTWO\nthree\nfour\nfive\nsix\nseven\n");
  repo.write("b/c.txt", "new\n");
  const auto c2 = repo.commit("Second change\n\nWith a body.", 1735693200, "Grace Hopper", "grace@example.com");

  auto h = dx::read_history(repo.root());
  REQUIRE(h);
  REQUIRE(h->commits.size() == 2);
  CHECK(h->head == c2);
  const auto& newest = h->commits[0];
  CHECK(newest.id == c2);
  CHECK(newest.id.size() == 40);
  CHECK(newest.author == "Grace Hopper");
  CHECK(newest.email == "grace@example.com");
  CHECK(newest.time == 1735693200);
  CHECK(newest.summary == "Second change");
  CHECK(newest.message.find("With a body.") != std::string::npos);
  REQUIRE(newest.parents.size() == 1);
  CHECK(newest.parents[0] == c1);
  const auto* a = change_of(newest, "a.txt");
  REQUIRE(a);
  CHECK(a->status == 'M');
  // Line 2 replaced, lines 6-7 appended: @@ -2 +2 @@ and @@ -5,0 +6,2 @@
  REQUIRE(a->hunks.size() == 2);
  CHECK(a->hunks[0].old_start == 2);
  CHECK(a->hunks[0].old_lines == 1);
  CHECK(a->hunks[0].new_start == 2);
  CHECK(a->hunks[0].new_lines == 1);
  CHECK(a->hunks[1].old_lines == 0);
  CHECK(a->hunks[1].new_start == 6);
  CHECK(a->hunks[1].new_lines == 2);
  CHECK(a->additions == 3);
  CHECK(a->deletions == 1);
  const auto* b = change_of(newest, "b/c.txt");
  REQUIRE(b);
  CHECK(b->status == 'A');
  const auto& root = h->commits[1];
  CHECK(root.id == c1);
  CHECK(root.parents.empty());
  REQUIRE(change_of(root, "a.txt"));
  CHECK(change_of(root, "a.txt")->additions == 5);
  REQUIRE(h->tags.size() == 1);
  CHECK(h->tags[0].name == "v1.0");
  CHECK(h->tags[0].target == c1);

  SECTION("commits_between is git's from..to") {
    const auto between = dx::commits_between(*h, c1, c2);
    CHECK(between.size() == 1);
    CHECK(between.count(c2) == 1);
    CHECK(dx::commits_between(*h, "", c2).size() == 2);
  }
}

TEST_CASE("the history cache reads only new commits on the second run", "[diagnosis][history]") {
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open(selfheal::test::fresh_store_url(
      GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), dir, "store.db"));
  REQUIRE(db);
  git_repo repo;
  for (int i = 0; i < 5; ++i) {
    repo.write("f.txt", std::string(static_cast<std::size_t>(i + 1), 'x') + "\n");
    repo.commit("commit " + std::to_string(i), 1735689600 + i * 60);
  }
  auto first = dx::read_history(repo.root(), &*db);
  REQUIRE(first);
  CHECK(first->read_from_git == 5);
  CHECK(first->read_from_cache == 0);
  CHECK(first->commits.size() == 5);

  auto second = dx::read_history(repo.root(), &*db);
  REQUIRE(second);
  CHECK(second->read_from_git == 0);
  CHECK(second->read_from_cache == 5);
  REQUIRE(second->commits.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(second->commits[i].id == first->commits[i].id);
    CHECK(second->commits[i].time == first->commits[i].time);
    REQUIRE(second->commits[i].files.size() == first->commits[i].files.size());
    CHECK(second->commits[i].files[0].hunks.size() == first->commits[i].files[0].hunks.size());
    CHECK(second->commits[i].files[0].hunks[0].new_start == first->commits[i].files[0].hunks[0].new_start);
  }

  repo.write("g.txt", "more\n");
  const auto c6 = repo.commit("commit 5", 1735689600 + 600);
  auto third = dx::read_history(repo.root(), &*db);
  REQUIRE(third);
  CHECK(third->read_from_git == 1);
  CHECK(third->commits.size() == 6);
  CHECK(third->commits.front().id == c6);

  SECTION("a branch switch back keeps only what HEAD reaches") {
    repo.git({"checkout", "-q", "HEAD~1"});
    auto fourth = dx::read_history(repo.root(), &*db);
    REQUIRE(fourth);
    CHECK(fourth->read_from_git == 0);
    CHECK(fourth->commits.size() == 5);
  }
}

TEST_CASE("history errors are values", "[diagnosis][history]") {
  selfheal::test::temp_dir dir;
  SECTION("not a repository") {
    auto h = dx::read_history(dir.path());
    REQUIRE_FALSE(h);
    CHECK(h.error().code == selfheal::errc::git_error);
    CHECK(h.error().detail.find(dir.path().string()) != std::string::npos);
  }
  SECTION("an empty repository has an empty history") {
    git_repo repo;
    auto h = dx::read_history(repo.root());
    REQUIRE(h);
    CHECK(h->commits.empty());
  }
}

TEST_CASE("a shallow clone reads up to its boundary", "[diagnosis][history]") {
  git_repo origin;
  for (int i = 0; i < 4; ++i) {
    origin.write("f.txt", std::to_string(i) + "\n");
    origin.commit("c" + std::to_string(i), 1735689600 + i * 60);
  }
  selfheal::test::temp_dir dir;
  const auto clone = dir.path() / "clone";
  origin.git({"clone", "-q", "--depth", "2", "file://" + origin.root().string(), clone.string()});
  auto h = dx::read_history(clone);
  REQUIRE(h);
  CHECK(h->commits.size() == 2);
  CHECK(h->commits.front().summary == "c3");
}

TEST_CASE("tracked_files lists the index", "[diagnosis][history]") {
  git_repo repo;
  repo.write("src/a.js", "x\n");
  repo.write("b.py", "y\n");
  repo.commit("files", 1735689600);
  repo.write("untracked.txt", "z\n");
  auto f = dx::tracked_files(repo.root());
  REQUIRE(f);
  CHECK(*f == std::vector<std::string>{"b.py", "src/a.js"});
}
