// source/git.hpp on real repositories made by the `git` program: revert to a diff, private
// checkouts that leave the user's repository alone, commits, branches, fast-forward.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

#include "scenario.hpp"
#include "selfheal/core/process.hpp"
#include "temp_dir.hpp"
#include <fstream>
#include <iterator>
#include "selfheal/source/git.hpp"

namespace src = selfheal::source;
using selfheal::test::git_repo;

namespace {

struct opened {
  src::git_library lib;
  src::repo_ptr repo;
  explicit opened(const std::filesystem::path& p) {
    auto r = src::open_repository(repo, p);
    REQUIRE(r);
  }
};

/// A three-commit history: v1, the slow change to cart.py plus a decoy in other.py, a later edit.
struct history {
  git_repo g;
  std::string v1, slow, later;
  history() {
    g.write("cart.py", "def total(items):\n    return sum(items)\n\n\ndef tax(x):\n    return x * 0.2\n");
    g.write("other.py", "X = 1\n");
    v1 = g.commit("v1", 1'700'000'000);
    g.write("cart.py", "import time\n\n\ndef total(items):\n    time.sleep(0.05)\n    return sum(items)\n\n\ndef tax(x):\n    return x * 0.2\n");
    g.write("other.py", "X = 2\n");
    slow = g.commit("slow total", 1'700'000'100);
    g.write("cart.py", "import time\n\n\ndef total(items):\n    time.sleep(0.05)\n    return sum(items)\n\n\ndef tax(x):\n    return x * 0.25\n");
    later = g.commit("tax 25%", 1'700'000'200);
  }
};

}  // namespace

TEST_CASE("revert_to_diff undoes one commit three-way onto a later head", "[source][git]") {
  history h;
  opened o(h.g.root());
  auto diff = src::revert_to_diff(o.repo.get(), h.slow, h.later);
  REQUIRE(diff);
  CHECK(diff->find("-    time.sleep(0.05)") != std::string::npos);
  CHECK(diff->find("-X = 2") != std::string::npos);
  CHECK(diff->find("+X = 1") != std::string::npos);
  CHECK(diff->find("0.25") == std::string::npos);  // the later change is context at most, never reverted
  // Applied to a checkout of the head, the result keeps the later change and loses the slow one.
  auto co = src::checkout::create(h.g.root(), h.later);
  REQUIRE(co);
  REQUIRE(src::apply_patch(*co, *diff));
  auto text = h.g.read("cart.py");  // the user's tree is untouched
  CHECK(text.find("sleep") != std::string::npos);
  std::ifstream in(co->dir() / "cart.py");
  std::string patched((std::istreambuf_iterator<char>(in)), {});
  CHECK(patched.find("sleep") == std::string::npos);
  CHECK(patched.find("0.25") != std::string::npos);
}

TEST_CASE("revert_to_diff reports a conflict with the file, never conflict markers", "[source][git]") {
  history h;
  h.g.write("cart.py", "def total(items):\n    return 0  # rewritten\n");
  const auto head = h.g.commit("rewrite", 1'700'000'300);
  opened o(h.g.root());
  auto diff = src::revert_to_diff(o.repo.get(), h.slow, head);
  REQUIRE_FALSE(diff);
  CHECK(diff.error().code == selfheal::errc::failed);
  CHECK(diff.error().message().find("conflicts in cart.py") != std::string::npos);
}

TEST_CASE("a checkout leaves the user's work tree, index, HEAD and refs alone and is removed", "[source][git]") {
  history h;
  h.g.write("notes.txt", "uncommitted\n");
  const auto status_before = h.g.git({"status", "--porcelain"});
  const auto refs_before = h.g.git({"show-ref"});
  const auto head_before = h.g.git({"rev-parse", "HEAD"});
  std::filesystem::path where;
  {
    auto co = src::checkout::create(h.g.root(), h.v1);
    INFO((co ? std::string() : co.error().message()));
    REQUIRE(co);
    where = co->dir();
    CHECK(std::filesystem::exists(where / "cart.py"));
    CHECK(co->commit() == h.v1);
    REQUIRE(src::apply_patch(*co, "--- a/other.py\n+++ b/other.py\n@@ -1 +1 @@\n-X = 1\n+X = 3\n"));
    auto d = src::diff_work_tree(*co);
    REQUIRE(d);
    CHECK(d->find("+X = 3") != std::string::npos);
    SECTION("a patch that does not apply fails cleanly") {
      auto bad = src::apply_patch(*co, "--- a/other.py\n+++ b/other.py\n@@ -1 +1 @@\n-X = 9\n+X = 4\n");
      REQUIRE_FALSE(bad);
      CHECK(bad.error().code == selfheal::errc::failed);
    }
  }
  CHECK_FALSE(std::filesystem::exists(where));
  CHECK(h.g.git({"status", "--porcelain"}) == status_before);
  CHECK(h.g.git({"show-ref"}) == refs_before);
  CHECK(h.g.git({"rev-parse", "HEAD"}) == head_before);
  CHECK(h.g.git({"fsck", "--no-dangling"}).empty());
}

TEST_CASE("commit_patch, set_branch and fast_forward_branch write what git would", "[source][git]") {
  history h;
  opened o(h.g.root());
  const auto main_branch = h.g.git({"symbolic-ref", "--short", "HEAD"});
  const std::string branch = main_branch.substr(0, main_branch.find('\n'));
  auto diff = src::revert_to_diff(o.repo.get(), h.slow, h.later);
  REQUIRE(diff);
  const auto when = selfheal::time_point{std::chrono::seconds{1'700'001'000}};
  auto sha = src::commit_patch(o.repo.get(), h.later, *diff, src::author::parse("selfheal <bot@example.com>"), when,
                               "Revert slow total\n\nbecause p50 went 40x");
  REQUIRE(sha);
  CHECK(h.g.git({"log", "-1", "--format=%an <%ae> %at %s", *sha}) == "selfheal <bot@example.com> 1700001000 Revert slow total\n");
  REQUIRE(src::set_branch(o.repo.get(), "selfheal/total-fix-1", *sha, false));
  CHECK_FALSE(src::set_branch(o.repo.get(), "selfheal/total-fix-1", h.v1, false));  // exists: not moved
  CHECK(h.g.git({"rev-parse", "selfheal/total-fix-1"}) == *sha + "\n");

  SECTION("a clean checked-out branch fast-forwards with its work tree") {
    REQUIRE(src::fast_forward_branch(o.repo.get(), branch, *sha));
    CHECK(h.g.git({"rev-parse", "HEAD"}) == *sha + "\n");
    CHECK(h.g.read("cart.py").find("sleep") == std::string::npos);
    CHECK(h.g.git({"status", "--porcelain"}).empty());
  }
  SECTION("a dirty checked-out branch is refused and nothing moves") {
    h.g.write("other.py", "X = 42\n");
    auto r = src::fast_forward_branch(o.repo.get(), branch, *sha);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("uncommitted changes") != std::string::npos);
    CHECK(h.g.git({"rev-parse", "HEAD"}) == h.later + "\n");
    CHECK(h.g.read("other.py") == "X = 42\n");
  }
  SECTION("a commit that does not descend from the head is not a fast-forward") {
    auto r = src::fast_forward_branch(o.repo.get(), branch, h.v1);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("does not descend") != std::string::npos);
  }
  SECTION("commit_tree_of rolls back to a known tree") {
    auto back = src::commit_tree_of(o.repo.get(), h.later, *sha, src::author::parse("selfheal <bot@example.com>"),
                                    when, "Roll back");
    REQUIRE(back);
    CHECK(h.g.git({"diff", h.later, *back}).empty());
    CHECK(h.g.git({"rev-parse", *back + "^"}) == *sha + "\n");
  }
}

TEST_CASE("push sends a branch to a bare remote", "[source][git]") {
  history h;
  selfheal::test::temp_dir bare_dir;
  const auto bare = bare_dir.path() / "remote.git";
  h.g.git(std::vector<std::string>{"init", "--bare", "-q", bare.string()});
  h.g.git(std::vector<std::string>{"remote", "add", "origin", bare.string()});
  opened o(h.g.root());
  REQUIRE(src::set_branch(o.repo.get(), "selfheal/x", h.v1, false));
  REQUIRE(src::push(o.repo.get(), "origin", {"refs/heads/selfheal/x:refs/heads/selfheal/x"}));
  const std::vector<std::string> argv{"git", "--git-dir", bare.string(), "rev-parse", "selfheal/x"};
  auto shown = selfheal::run_process(std::span<const std::string>(argv), selfheal::process_options{});
  REQUIRE(shown);
  CHECK(shown->out == h.v1 + "\n");
}

TEST_CASE("sanitize_ref_component keeps a branch name safe", "[source][git]") {
  CHECK(src::sanitize_ref_component("computeTax") == "computeTax");
  CHECK(src::sanitize_ref_component("../../etc/passwd") == "etc-passwd");
  CHECK(src::sanitize_ref_component("a b\x1b]0;title\x07~^:?*[") == "a-b-0-title");
  CHECK(src::sanitize_ref_component("--force") == "force");
  CHECK(src::sanitize_ref_component("x.lock") == "x");
  CHECK(src::sanitize_ref_component("") == "x");
  CHECK(src::sanitize_ref_component(std::string(300, 'a')).size() == 64);
}
