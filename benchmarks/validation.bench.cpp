// validation.run's own overhead (`selfheal validate`) on a 5,000-file repository: a private checkout
// of the base commit, applying the patch, confining its paths, listing the checkout for the docs
// check, parsing the test runner's output, the Markdown check, one store transaction, and removing
// the checkout. The user's commands are `true` (the build is absent, the test command does
// nothing), so what is measured is selfheal's part; BM_true_process measures that one child process
// alone, in the same run, to subtract. The reference does the same isolation with the git program
// the way a shell script would: `git clone --shared --no-checkout`, `git checkout`, `git apply`,
// `rm -rf`.
//   BM_validate_5000_files     run(run_validation, ...) end to end, store included
//   BM_true_process            run_process({"true"}): the user's command the above includes
//   BM_git_cli_reference       clone --shared + checkout + apply + remove with the git program
//
//   validation_bench --benchmark_min_time=2

#include <selfheal/core/process.hpp>
#include <selfheal/core/run.hpp>
#include <selfheal/store/database.hpp>
#include <selfheal/validation/report.hpp>
#include <selfheal/validation/sequence.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace val = selfheal::validation;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t files = 5'000;

void git(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", dir.string()});
  selfheal::process_options o;
  o.timeout = std::chrono::seconds{120};
  o.env = {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}, {"GIT_AUTHOR_NAME", "b"},
           {"GIT_AUTHOR_EMAIL", "b@x"}, {"GIT_COMMITTER_NAME", "b"}, {"GIT_COMMITTER_EMAIL", "b@x"}};
  auto r = selfheal::run_checked(std::span<const std::string>(args), o);
  if (!r) throw std::runtime_error(r.error().message());
}

/// The repository (made once): 5,000 Python files in 100 folders, a runbook, selfheal.toml.
struct fixture {
  fs::path root;
  fs::path store;
  std::string diff;
  fixture() {
    char tmpl[] = "/tmp/selfheal-bench-validation-XXXXXX";
    root = ::mkdtemp(tmpl);
    const fs::path repo = root / "repo";
    for (std::size_t i = 0; i < files; ++i) {
      const fs::path p = repo / ("pkg" + std::to_string(i % 100)) / ("mod" + std::to_string(i) + ".py");
      fs::create_directories(p.parent_path());
      std::ofstream(p) << "def handler_" << i << "(x):\n    return x + " << i << "\n";
    }
    fs::create_directories(repo / "docs");
    std::ofstream(repo / "docs/runbook.md") << "# runbook\n\nSee [the code](../pkg7/mod7.py).\n";
    std::ofstream(repo / "selfheal.toml") << "[service]\nname = \"bench\"\n\n[test]\ncommand = [\"true\"]\ntimeout = \"60s\"\n";
    git(repo, {"init", "-q", "-b", "main"});
    git(repo, {"add", "-A"});
    git(repo, {"commit", "-q", "-m", "base"});
    diff = "diff --git a/pkg7/mod7.py b/pkg7/mod7.py\n--- a/pkg7/mod7.py\n+++ b/pkg7/mod7.py\n"
           "@@ -1,2 +1,2 @@\n def handler_7(x):\n-    return x + 7\n+    return x + 8\n"
           "diff --git a/docs/runbook.md b/docs/runbook.md\n--- a/docs/runbook.md\n+++ b/docs/runbook.md\n"
           "@@ -1,3 +1,3 @@\n # runbook\n \n-See [the code](../pkg7/mod7.py).\n+See [the fixed code](../pkg7/mod7.py).\n";
    std::ofstream(root / "fix.patch") << diff;
    store = root / "store.db";
  }
  ~fixture() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

fixture& fx() {
  static fixture f;
  return f;
}

void BM_validate_5000_files(benchmark::State& state) {
  auto& f = fx();
  auto db = selfheal::store::database::open(f.store.string());
  if (!db) {
    state.SkipWithError(db.error().message().c_str());
    return;
  }
  for (auto _ : state) {
    selfheal::context ctx;
    ctx.store = &*db;
    val::run_request req;
    req.repo = (f.root / "repo").string();
    req.patch.diff = f.diff;
    req.patch.id = "bench.1";
    auto r = selfheal::run(val::run_validation, ctx, std::move(req));
    if (!r || r->verdict != "pass") {
      state.SkipWithError(r ? val::validation_text(*r).c_str() : r.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(r->record_id);
  }
  state.counters["files"] = static_cast<double>(files);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * files));
}
BENCHMARK(BM_validate_5000_files)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_true_process(benchmark::State& state) {
  for (auto _ : state) {
    auto r = selfheal::run_process({"true"});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_true_process)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_git_cli_reference(benchmark::State& state) {
  auto& f = fx();
  for (auto _ : state) {
    const fs::path dir = f.root / "ref";
    git(f.root, {"clone", "-q", "--shared", "--no-checkout", (f.root / "repo").string(), dir.string()});
    git(dir, {"checkout", "-q", "--detach", "main"});
    git(dir, {"apply", (f.root / "fix.patch").string()});
    fs::remove_all(dir);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * files));
}
BENCHMARK(BM_git_cli_reference)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
