// diagnosis.analyze on a repository of 10,000 commits: the first run (history read through libgit2
// and cached in a fresh store) and the second run (history from the cache, no new commits), with
// the git program's own `git log -p -U0` over the same history as the reference in the same run.
//
// The repository is generated once under $TMPDIR/selfheal-bench-10k by `git fast-import`, from a
// fixed seed (never committed); delete the folder to regenerate.
//
//   ./diagnosis_bench --benchmark_min_time=0.3
// Issue 5's bar: first run < 10 s, second < 1 s.
//
// The symbol cache: load_codebase on a generated repository of 2,000 source files (C, JavaScript,
// Python; $TMPDIR/selfheal-bench-2k-files, one commit) without a store (ctags on every file, the
// reference), with an empty store (ctags on every file + writing the cache), with a warm store
// (no ctags at all) and with a warm store after one file changed (ctags on that file).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "selfheal/core/process.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/codebase.hpp"
#include "selfheal/diagnosis/sequence.hpp"
#include "selfheal/store/database.hpp"

namespace fs = std::filesystem;
namespace dx = selfheal::diagnosis;

namespace {

constexpr int commits = 10000;
constexpr int files = 60;
constexpr std::int64_t start_time = 1'700'000'000;

std::uint64_t rng_state = 42;
std::uint64_t next() {
  std::uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

struct gen_file {
  std::string path;
  bool python;
  std::vector<std::string> lines;
};

std::string render(const gen_file& f) {
  std::string s;
  for (const auto& l : f.lines) { s += l; s += '\n'; }
  return s;
}

/// A JS or Python module of ten functions, 6-12 lines each.
gen_file make_file(int i) {
  gen_file f;
  f.python = i % 3 == 0;
  f.path = (f.python ? "services/mod" : "src/mod") + std::to_string(i) + (f.python ? ".py" : ".js");
  for (int fn = 0; fn < 10; ++fn) {
    const std::string name = (i == 7 && fn == 4) ? (f.python ? "apply_discount" : "applyDiscount")
                                                  : (f.python ? "handler_" : "handler") + std::to_string(i) + "_" + std::to_string(fn);
    if (f.python) {
      f.lines.push_back("def " + name + "(x):");
      for (int k = 0; k < 6; ++k) f.lines.push_back("    x = x + " + std::to_string(k));
      f.lines.push_back("    return x");
      f.lines.push_back("");
    } else {
      f.lines.push_back("export function " + name + "(x) {");
      for (int k = 0; k < 6; ++k) f.lines.push_back("  x = x + " + std::to_string(k) + ";");
      f.lines.push_back("  return x;");
      f.lines.push_back("}");
    }
  }
  return f;
}

/// Makes the repository once; returns its path.
fs::path ensure_repository() {
  const fs::path root = fs::temp_directory_path() / "selfheal-bench-10k";
  if (fs::exists(root / ".git" / "selfheal-complete")) return root;
  fs::remove_all(root);
  fs::create_directories(root);
  selfheal::process_options o;
  o.cwd = root;
  o.timeout = std::chrono::minutes{10};
  o.env = {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}};
  if (!selfheal::run_checked({"git", "init", "-q", "-b", "main"}, o)) std::abort();
  std::vector<gen_file> fs_(files);
  for (int i = 0; i < files; ++i) fs_[static_cast<std::size_t>(i)] = make_file(i);
  std::string stream;
  stream.reserve(std::size_t{96} << 20);
  for (int c = 0; c < commits; ++c) {
    const std::int64_t t = start_time + c * 1800;
    stream += "commit refs/heads/main\nmark :" + std::to_string(c + 1) + "\n";
    const char* who = c % 2 ? "Grace Hopper <grace@example.com> " : "Ada Lovelace <ada@example.com> ";
    stream += std::string("author ") + who + std::to_string(t) + " +0000\n";
    stream += std::string("committer ") + who + std::to_string(t) + " +0000\n";
    const std::string msg = "change " + std::to_string(c) + "\n";
    stream += "data " + std::to_string(msg.size()) + "\n" + msg;
    if (c > 0) stream += "from :" + std::to_string(c) + "\n";
    std::vector<int> touched;
    if (c == 0) {
      for (int i = 0; i < files; ++i) touched.push_back(i);
    } else {
      const int n = 1 + static_cast<int>(next() % 3);
      for (int k = 0; k < n; ++k) touched.push_back(static_cast<int>(next() % files));
      for (int i : touched) {
        auto& f = fs_[static_cast<std::size_t>(i)];
        // Edit 1-4 lines somewhere: a changed line, an inserted one, sometimes a removed one.
        const auto at = 1 + next() % (f.lines.size() - 2);
        const std::string ind = f.python ? "    " : "  ";
        f.lines[at] = ind + "x = x * " + std::to_string(c % 97) + (f.python ? "" : ";");
        if (next() % 2) f.lines.insert(f.lines.begin() + static_cast<std::ptrdiff_t>(at), ind + "x = x - " + std::to_string(c % 13) + (f.python ? "" : ";"));
        if (next() % 4 == 0 && f.lines.size() > 40) {
          const auto del = 1 + next() % (f.lines.size() - 2);
          const std::string& l = f.lines[del];
          if (l.find("x = x") != std::string::npos) f.lines.erase(f.lines.begin() + static_cast<std::ptrdiff_t>(del));
        }
      }
    }
    for (int i : touched) {
      const std::string text = render(fs_[static_cast<std::size_t>(i)]);
      stream += "M 100644 inline " + fs_[static_cast<std::size_t>(i)].path + "\ndata " + std::to_string(text.size()) + "\n" + text + "\n";
    }
  }
  stream += "done\n";
  o.stdin_data = std::move(stream);
  auto r = selfheal::run_checked({"git", "fast-import", "--quiet", "--done"}, o);
  if (!r) { std::fprintf(stderr, "fast-import: %s\n", r.error().detail.c_str()); std::abort(); }
  o.stdin_data.reset();
  if (!selfheal::run_checked({"git", "checkout", "-q", "-f", "main"}, o)) std::abort();
  std::FILE* m = std::fopen((root / ".git" / "selfheal-complete").c_str(), "w");
  if (m) std::fclose(m);
  return root;
}

dx::anomaly_input anomaly() {
  dx::anomaly_input a;
  a.id = "bench-1";
  a.type = "performance";
  a.handler = "applyDiscount";
  a.onset = start_time + commits * 1800L + 600;
  a.baseline_p50 = 10;
  a.current_p50 = 30;
  a.baseline_p95 = 14;
  a.current_p95 = 41;
  a.handler_count = 100;
  a.total_count = 1000;
  return a;
}

selfheal::result<dx::analysis_summary> diagnose(const fs::path& repo, selfheal::store::database& db) {
  selfheal::context ctx;
  ctx.store = &db;
  dx::analyze_request req;
  req.repo = repo;
  req.anomalies = {anomaly()};
  return selfheal::run(dx::analyze_diagnosis, ctx, std::move(req));
}

void BM_diagnose_first_run(benchmark::State& state) {
  const fs::path repo = ensure_repository();
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path db_path = fs::temp_directory_path() / ("selfheal-bench-first-" + std::to_string(n++) + ".db");
    fs::remove(db_path);
    fs::remove(db_path.string() + "-wal");
    fs::remove(db_path.string() + "-shm");
    auto db = selfheal::store::database::open(db_path.string());
    if (!db) { state.SkipWithError(db.error().detail.c_str()); return; }
    state.ResumeTiming();
    auto s = diagnose(repo, *db);
    if (!s) { state.SkipWithError(s.error().detail.c_str()); return; }
    if (s->commits != commits || s->commits_from_git != commits) { state.SkipWithError("wrong commit count"); return; }
    benchmark::DoNotOptimize(s->diagnoses);
    state.PauseTiming();
    fs::remove(db_path);
    fs::remove(db_path.string() + "-wal");
    fs::remove(db_path.string() + "-shm");
    state.ResumeTiming();
  }
  state.counters["commits"] = commits;
  state.counters["commits/s"] = benchmark::Counter(static_cast<double>(commits), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_diagnose_first_run)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

void BM_diagnose_second_run(benchmark::State& state) {
  const fs::path repo = ensure_repository();
  const fs::path db_path = fs::temp_directory_path() / "selfheal-bench-second.db";
  fs::remove(db_path);
  auto db = selfheal::store::database::open(db_path.string());
  if (!db) { state.SkipWithError(db.error().detail.c_str()); return; }
  if (auto warm = diagnose(repo, *db); !warm) { state.SkipWithError(warm.error().detail.c_str()); return; }
  for (auto _ : state) {
    auto s = diagnose(repo, *db);
    if (!s) { state.SkipWithError(s.error().detail.c_str()); return; }
    if (s->commits_from_git != 0 || s->commits != commits) { state.SkipWithError("cache missed"); return; }
    benchmark::DoNotOptimize(s->diagnoses);
  }
  fs::remove(db_path);
}
BENCHMARK(BM_diagnose_second_run)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Reference: the git program itself producing the same data (every commit's zero-context diff).
void BM_reference_git_log_patch(benchmark::State& state) {
  const fs::path repo = ensure_repository();
  selfheal::process_options o;
  o.cwd = repo;
  o.timeout = std::chrono::minutes{5};
  o.max_output = std::size_t{1} << 30;
  for (auto _ : state) {
    auto r = selfheal::run_checked({"git", "log", "-p", "-U0", "--no-color", "--format=%H%x09%an%x09%at%x09%s"}, o);
    if (!r) { state.SkipWithError(r.error().detail.c_str()); return; }
    benchmark::DoNotOptimize(r->out.data());
  }
}
BENCHMARK(BM_reference_git_log_patch)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// The symbol cache on 2,000 source files
// ---------------------------------------------------------------------------------------------

constexpr int source_files = 2000;

/// Makes the 2,000-file repository once; returns its path.
fs::path ensure_source_repository() {
  const fs::path root = fs::temp_directory_path() / "selfheal-bench-2k-files";
  if (fs::exists(root / ".git" / "selfheal-complete")) return root;
  fs::remove_all(root);
  fs::create_directories(root);
  for (int i = 0; i < source_files; ++i) {
    const int lang = i % 3;
    const fs::path rel = fs::path("pkg" + std::to_string(i / 50)) /
                         ("unit" + std::to_string(i) + (lang == 0 ? ".c" : lang == 1 ? ".js" : ".py"));
    fs::create_directories((root / rel).parent_path());
    std::ofstream out(root / rel, std::ios::binary);
    for (int fn = 0; fn < 8; ++fn) {
      const std::string name = "unit" + std::to_string(i) + "_fn" + std::to_string(fn);
      if (lang == 0) out << "int " << name << "(int x) {\n  x = x + 1;\n  x = x * 2;\n  return x;\n}\n\n";
      else if (lang == 1) out << "function " << name << "(x) {\n  x = x + 1;\n  x = x * 2;\n  return x;\n}\n\n";
      else out << "def " << name << "(x):\n    x = x + 1\n    x = x * 2\n    return x\n\n";
    }
    out.close();
    // An hour old: the cache skips files modified in the last two seconds.
    fs::last_write_time(root / rel, fs::file_time_type::clock::now() - std::chrono::hours{1});
  }
  selfheal::process_options o;
  o.cwd = root;
  o.timeout = std::chrono::minutes{5};
  o.env = {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}, {"GIT_AUTHOR_NAME", "Ada"},
           {"GIT_AUTHOR_EMAIL", "ada@example.com"}, {"GIT_COMMITTER_NAME", "Ada"},
           {"GIT_COMMITTER_EMAIL", "ada@example.com"}, {"GIT_AUTHOR_DATE", "@1700000000 +0000"},
           {"GIT_COMMITTER_DATE", "@1700000000 +0000"}};
  if (!selfheal::run_checked({"git", "init", "-q", "-b", "main"}, o)) std::abort();
  if (!selfheal::run_checked({"git", "add", "-A"}, o)) std::abort();
  if (!selfheal::run_checked({"git", "commit", "-q", "--no-verify", "-m", "2,000 files"}, o)) std::abort();
  std::FILE* m = std::fopen((root / ".git" / "selfheal-complete").c_str(), "w");
  if (m) std::fclose(m);
  return root;
}

fs::path fresh_db_path(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / name;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p.string() + suffix);
  return p;
}

/// Reference: no store, ctags on every file (what every run did before the cache).
void BM_symbols_uncached(benchmark::State& state) {
  const fs::path repo = ensure_source_repository();
  for (auto _ : state) {
    auto cb = dx::load_codebase(repo);
    if (!cb || cb->symbols.source != "ctags") { state.SkipWithError("load_codebase failed or no ctags"); return; }
    benchmark::DoNotOptimize(cb->symbols.symbols.data());
  }
  state.counters["files"] = source_files;
}
BENCHMARK(BM_symbols_uncached)->Unit(benchmark::kMillisecond)->UseRealTime();

/// An empty store: ctags on every file, and the cache written.
void BM_symbols_cache_first_run(benchmark::State& state) {
  const fs::path repo = ensure_source_repository();
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path db_path = fresh_db_path("selfheal-bench-symcache-first.db");
    auto db = selfheal::store::database::open(db_path.string());
    if (!db) { state.SkipWithError(db.error().detail.c_str()); return; }
    state.ResumeTiming();
    auto cb = dx::load_codebase(repo, &*db);
    if (!cb || cb->symbols.indexed_files != source_files) { state.SkipWithError("not every file indexed"); return; }
    benchmark::DoNotOptimize(cb->symbols.symbols.data());
  }
  fresh_db_path("selfheal-bench-symcache-first.db");
}
BENCHMARK(BM_symbols_cache_first_run)->Unit(benchmark::kMillisecond)->UseRealTime();

/// A warm store, nothing changed: no ctags at all.
void BM_symbols_cache_second_run(benchmark::State& state) {
  const fs::path repo = ensure_source_repository();
  auto db = selfheal::store::database::open(fresh_db_path("selfheal-bench-symcache-second.db").string());
  if (!db) { state.SkipWithError(db.error().detail.c_str()); return; }
  if (auto warm = dx::load_codebase(repo, &*db); !warm) { state.SkipWithError(warm.error().detail.c_str()); return; }
  for (auto _ : state) {
    auto cb = dx::load_codebase(repo, &*db);
    if (!cb || cb->symbols.cached_files != source_files) { state.SkipWithError("cache missed"); return; }
    benchmark::DoNotOptimize(cb->symbols.symbols.data());
  }
  fresh_db_path("selfheal-bench-symcache-second.db");
}
BENCHMARK(BM_symbols_cache_second_run)->Unit(benchmark::kMillisecond)->UseRealTime();

/// A warm store after one file got a new mtime: ctags on that file only.
void BM_symbols_cache_one_changed(benchmark::State& state) {
  const fs::path repo = ensure_source_repository();
  auto db = selfheal::store::database::open(fresh_db_path("selfheal-bench-symcache-one.db").string());
  if (!db) { state.SkipWithError(db.error().detail.c_str()); return; }
  if (auto warm = dx::load_codebase(repo, &*db); !warm) { state.SkipWithError(warm.error().detail.c_str()); return; }
  const fs::path touched = repo / "pkg0" / "unit0.c";
  for (auto _ : state) {
    state.PauseTiming();
    fs::last_write_time(touched, fs::last_write_time(touched) + std::chrono::seconds{1});
    state.ResumeTiming();
    auto cb = dx::load_codebase(repo, &*db);
    if (!cb || cb->symbols.indexed_files != 1) { state.SkipWithError("not exactly one file indexed"); return; }
    benchmark::DoNotOptimize(cb->symbols.symbols.data());
  }
  fresh_db_path("selfheal-bench-symcache-one.db");
}
BENCHMARK(BM_symbols_cache_one_changed)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
