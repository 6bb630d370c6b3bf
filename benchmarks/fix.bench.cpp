// fix.generate on a repository of 10,000 commits with a warm store (the diagnosis stored): load the
// diagnosis, read the suspect and the base through libgit2, revert in part, write the regression
// test and the runbook, syntax-check (python3 -m py_compile, a child process) and store the patch.
// Reference in the same run: the git program reverting the same commit into its index
// (`git revert --no-commit` in a scratch clone, then `git diff --cached`, then `git reset --hard`).
//
// The repository is generated once under $TMPDIR/selfheal-bench-fix-10k by `git fast-import`
// (fixed content; delete the folder to regenerate). Issue 12's bar: under 1 s.
//
//   ./fix_bench --benchmark_min_time=0.3

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "selfheal/core/process.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/store.hpp"
#include "selfheal/fix/sequence.hpp"
#include "selfheal/store/database.hpp"

namespace fs = std::filesystem;
namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;

namespace {

constexpr int commits = 10000;
constexpr int files = 60;
constexpr int guilty_at = 9990;  // the commit that slows apply_discount
constexpr std::int64_t start_time = 1'700'000'000;

/// services/modN.py: ten functions of eight lines; mod7's fifth is apply_discount.
std::vector<std::string> make_file(int i) {
  std::vector<std::string> lines{"import json", ""};
  for (int fn = 0; fn < 10; ++fn) {
    const std::string name = (i == 7 && fn == 4) ? "apply_discount" : "handler_" + std::to_string(i) + "_" + std::to_string(fn);
    lines.push_back("def " + name + "(x):");
    for (int k = 0; k < 6; ++k) lines.push_back("    x = x + " + std::to_string(k));
    lines.push_back("    return x");
    lines.push_back("");
  }
  return lines;
}

std::string render(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) { s += l; s += '\n'; }
  return s;
}

std::string path_of(int i) { return "services/mod" + std::to_string(i) + ".py"; }

struct bench_repo {
  fs::path root;
  std::string guilty;
};

bench_repo ensure_repository() {
  const fs::path root = fs::temp_directory_path() / "selfheal-bench-fix-10k";
  selfheal::process_options o;
  o.cwd = root;
  o.timeout = std::chrono::minutes{10};
  o.env = {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}};
  if (!fs::exists(root / ".git" / "selfheal-complete")) {
    fs::remove_all(root);
    fs::create_directories(root);
    if (!selfheal::run_checked({"git", "init", "-q", "-b", "main"}, o)) std::abort();
    std::vector<std::vector<std::string>> mods(files);
    for (int i = 0; i < files; ++i) mods[static_cast<std::size_t>(i)] = make_file(i);
    std::string stream;
    std::uint64_t state = 12;
    auto next = [&] { state = state * 6364136223846793005ULL + 1442695040888963407ULL; return state >> 33; };
    for (int c = 0; c < commits; ++c) {
      const std::int64_t t = start_time + c * 1800;
      stream += "commit refs/heads/main\nmark :" + std::to_string(c + 1) + "\n";
      stream += "author Ada Lovelace <ada@example.com> " + std::to_string(t) + " +0000\n";
      stream += "committer Ada Lovelace <ada@example.com> " + std::to_string(t) + " +0000\n";
      const std::string msg = c == guilty_at ? "Audit trail for applyDiscount\n" : "change " + std::to_string(c) + "\n";
      stream += "data " + std::to_string(msg.size()) + "\n" + msg;
      if (c > 0) stream += "from :" + std::to_string(c) + "\n";
      std::vector<int> touched;
      if (c == 0) {
        for (int i = 0; i < files; ++i) touched.push_back(i);
      } else if (c == guilty_at) {
        auto& f = mods[7];
        for (std::size_t k = 0; k < f.size(); ++k)
          if (f[k] == "def apply_discount(x):") {
            f.insert(f.begin() + static_cast<std::ptrdiff_t>(k + 1),
                     {"    snapshot = {\"x\": x}", "    for _ in range(20000):", "        json.dumps(snapshot)"});
            break;
          }
        touched.push_back(7);
      } else {
        // Ordinary work in any module but mod7's apply_discount: one line changed in a handler.
        const int i = static_cast<int>(next() % files);
        auto& f = mods[static_cast<std::size_t>(i)];
        const auto at = 3 + next() % (f.size() - 4);
        if (f[at].rfind("    x = x", 0) == 0 && !(i == 7 && at >= 38 && at <= 50)) f[at] = "    x = x * " + std::to_string(c % 97);
        touched.push_back(i);
      }
      for (int i : touched)
        stream += "M 100644 inline " + path_of(i) + "\ndata " + std::to_string(render(mods[static_cast<std::size_t>(i)]).size()) +
                  "\n" + render(mods[static_cast<std::size_t>(i)]) + "\n";
    }
    stream += "done\n";
    o.stdin_data = std::move(stream);
    if (!selfheal::run_checked({"git", "fast-import", "--quiet", "--done"}, o)) std::abort();
    o.stdin_data.reset();
    if (!selfheal::run_checked({"git", "checkout", "-q", "-f", "main"}, o)) std::abort();
    std::FILE* m = std::fopen((root / ".git" / "selfheal-complete").c_str(), "w");
    if (m) std::fclose(m);
  }
  auto log = selfheal::run_checked({"git", "log", "--format=%H", "--grep=Audit trail for applyDiscount"}, o);
  if (!log || log->out.size() < 40) std::abort();
  return {root, log->out.substr(0, 40)};
}

dx::diagnosis_item diagnosis_of(const bench_repo& r) {
  auto text = fx::read_file_at(r.root, "main", path_of(7));
  if (!text || !*text) std::abort();
  const std::string& t = **text;
  std::uint32_t line = 1, first = 0, last = 0;
  for (std::size_t p = 0; p < t.size();) {
    const auto n = t.find('\n', p);
    const std::string l = t.substr(p, n - p);
    if (l == "def apply_discount(x):") first = line;
    if (first && !last && l == "    return x") last = line;
    p = n + 1;
    ++line;
  }
  dx::diagnosis_item d;
  d.anomaly_id = "bench-1";
  d.type = "performance";
  d.handler = "applyDiscount";
  d.where = dx::location{path_of(7), first, last, "apply_discount"};
  dx::suspect_commit s;
  s.commit = r.guilty;
  s.file = path_of(7);
  s.overlaps = true;
  d.suspects.push_back(s);
  dx::recommendation pr;
  pr.strategy = "partial_revert";
  pr.priority = 1;
  pr.commit = r.guilty;
  pr.file = path_of(7);
  d.recommendations.push_back(pr);
  return d;
}

void BM_fix_warm_store(benchmark::State& state) {
  const auto repo = ensure_repository();
  const fs::path db_path = fs::temp_directory_path() / "selfheal-bench-fix.db";
  fs::remove(db_path);
  auto db = selfheal::store::database::open(db_path.string());
  if (!db) { state.SkipWithError(db.error().detail.c_str()); return; }
  dx::run_info info;
  info.repo = repo.root.string();
  auto record = dx::store_diagnoses(*db, info, {diagnosis_of(repo)}, selfheal::time_point{std::chrono::seconds{start_time}});
  if (!record) { state.SkipWithError(record.error().detail.c_str()); return; }
  for (auto _ : state) {
    selfheal::context ctx;
    ctx.store = &*db;
    fx::generate_request req;
    req.repo = repo.root.string();
    req.diagnosis_record = *record;
    auto s = selfheal::run(fx::generate_fix, ctx, std::move(req));
    if (!s) { state.SkipWithError(s.error().message().c_str()); return; }
    if (s->patches.size() != 1 || s->patches[0].strategy != "partial_revert") { state.SkipWithError("wrong patch"); return; }
    benchmark::DoNotOptimize(s->patches);
  }
  state.counters["commits"] = commits;
  fs::remove(db_path);
}
BENCHMARK(BM_fix_warm_store)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Reference: the git program reverting the same commit into the index of a scratch clone.
void BM_reference_git_revert(benchmark::State& state) {
  const auto repo = ensure_repository();
  const fs::path scratch = fs::temp_directory_path() / "selfheal-bench-fix-clone";
  fs::remove_all(scratch);
  selfheal::process_options o;
  o.timeout = std::chrono::minutes{5};
  o.env = {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}};
  o.cwd = fs::temp_directory_path();
  if (!selfheal::run_checked({"git", "clone", "-q", repo.root.string(), scratch.string()}, o)) { state.SkipWithError("clone"); return; }
  o.cwd = scratch;
  for (auto _ : state) {
    auto r = selfheal::run_checked({"git", "revert", "--no-commit", repo.guilty}, o);
    if (!r) { state.SkipWithError(r.error().detail.c_str()); return; }
    auto d = selfheal::run_checked({"git", "diff", "--cached"}, o);
    if (!d) { state.SkipWithError(d.error().detail.c_str()); return; }
    benchmark::DoNotOptimize(d->out.data());
    state.PauseTiming();
    (void)selfheal::run_checked({"git", "reset", "-q", "--hard"}, o);
    state.ResumeTiming();
  }
  fs::remove_all(scratch);
}
BENCHMARK(BM_reference_git_revert)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
