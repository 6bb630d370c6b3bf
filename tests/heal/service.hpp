#pragma once
// A small Python service that really runs, for `selfheal heal` end to end through the real program
// (build/selfheal): a git repository (main checked out) with the shop's handlers (shop/handlers.py),
// its unittest tests, its own deploy script (ops/deploy.sh installs releases into a production
// folder: prod/releases/<commit>, prod/current → the live one, prod/deploys.log) and selfheal.toml;
// a traffic driver outside the repository (the world: it imports the live release, times each
// handler call and appends selfheal NDJSON beat events to prod/logs/shop.ndjson); and the store.
//
// Two sequences, so a canary judges only the healed handler's: `cart` (handler `total`) and
// `checkout` (handler `pay`). The regressions are real code: a commit that makes `pay` (or `total`)
// wait 4 ms per call. `prod/processor-slow` makes the payment processor itself slow (the world, not
// the code): a revert cannot help, so the canary fails and the fix is rolled back.
// `prod/processor-slow-ms` holding N makes it N ms slow per charge.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "scenario.hpp"
#include "selfheal/core/process.hpp"
#include "selfheal/store/database.hpp"
#include "temp_dir.hpp"

namespace selfheal::test::heal_service {

namespace fs = std::filesystem;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

inline fs::path selfheal_exe() {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  INFO("SELFHEAL_BINARY_DIR names the build folder holding the selfheal program (ctest sets it)");
  REQUIRE(bin != nullptr);
  const fs::path exe = fs::path(bin) / "selfheal";
  REQUIRE(fs::exists(exe));
  return exe;
}

inline const char* handlers_v1 = R"(""" The checkout's handlers: the cart's total and the payment. """


def total(items):
    """ The cart's total: price times quantity, rounded to cents. """
    return round(sum(price * qty for price, qty in items), 2)


def pay(amount):
    """ Charges the amount; refuses nothing to pay. """
    if amount <= 0:
        raise ValueError("nothing to pay")
    return {"charged": amount}
)";

/// `pay` after "payment: audit every charge synchronously": 4 ms per call.
inline std::string slow_pay(std::string s) {
  s.replace(s.find("    if amount <= 0:"), 0, "    _audit(amount)\n");
  s.replace(s.find("def pay(amount):"), 0,
            "def _audit(amount):\n    \"\"\" Writes the charge to the audit trail before it is made. \"\"\"\n"
            "    import time\n    time.sleep(0.004)\n\n\n");
  return s;
}

/// `total` after "cart: validate every line": 4 ms per call.
inline std::string slow_total(std::string s) {
  s.replace(s.find("    return round(sum("), 0, "    import time\n    time.sleep(0.004)\n");
  return s;
}

/// Whether `pay` in this handlers.py still calls the slow audit (a partial revert may leave the
/// then unused `_audit` function in place).
inline bool pay_fast(const std::string& src) { return src.find("    _audit(amount)\n") == std::string::npos; }
inline bool total_fast(const std::string& src) { return src.find("time.sleep(0.004)\n    return round") == std::string::npos; }
inline bool all_fast(const std::string& src) { return pay_fast(src) && total_fast(src); }

inline const char* tests_py = R"(import unittest

from shop import handlers


class HandlersTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(handlers.total([(9.99, 2), (4.5, 1)]), 24.48)

    def test_pay(self):
        self.assertEqual(handlers.pay(10.0), {"charged": 10.0})

    def test_pay_refuses_nothing(self):
        with self.assertRaises(ValueError):
            handlers.pay(0)


if __name__ == "__main__":
    unittest.main()
)";

inline const char* deploy_sh = R"(#!/bin/sh
# Installs this checkout's shop as a release and makes it the live one.
#   ops/deploy.sh COMMIT STAGE PRODUCTION_DIR
set -eu
commit="$1"; stage="$2"; prod="$3"
mkdir -p "$prod/releases"
rm -rf "$prod/releases/$commit.new"
mkdir -p "$prod/releases/$commit.new"
cp -R shop "$prod/releases/$commit.new/"
rm -rf "$prod/releases/$commit"
mv "$prod/releases/$commit.new" "$prod/releases/$commit"
ln -sfn "releases/$commit" "$prod/current.new" && mv -T "$prod/current.new" "$prod/current"
echo "$stage $commit" >> "$prod/deploys.log"
)";

// The world: N checkouts against the live release, 10 ms apart in event time (starting no earlier
// than the previous run's end, and returning only when the wall clock has caught up with the last
// event), each handler call timed for real.
inline const char* traffic_py = R"(import json, os, sys, time
prod, n = sys.argv[1], int(sys.argv[2])
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.realpath(os.path.join(prod, "current")))
from shop import handlers
clock = os.path.join(prod, "clock")
step = 10
now = int(time.time() * 1000)
last = int(open(clock).read()) if os.path.exists(clock) else 0
start = max(now - n * step, last + step)
slow_processor = os.path.exists(os.path.join(prod, "processor-slow"))
slow_ms = os.path.join(prod, "processor-slow-ms")  # a slower processor: this many ms per charge
processor_wait = float(open(slow_ms).read()) / 1000 if os.path.exists(slow_ms) else 0.004
os.makedirs(os.path.join(prod, "logs"), exist_ok=True)
with open(os.path.join(prod, "logs", "shop.ndjson"), "a") as log:
    for i in range(n):
        ts = start + i * step
        items = [(9.99, 1 + i % 3), (4.5, 1 + i % 2)]
        t0 = time.perf_counter()
        amount = handlers.total(items)
        t1 = time.perf_counter()
        if slow_processor or os.path.exists(slow_ms):
            time.sleep(processor_wait)
        handlers.pay(amount)
        t2 = time.perf_counter()
        log.write(json.dumps({"ts": ts, "event": "beat-completed", "sequence": "cart", "beat": 1,
                              "handler": "total", "durationMs": round((t1 - t0) * 1e3, 4),
                              "correlationId": "r%d" % ts}) + "\n")
        log.write(json.dumps({"ts": ts + 1, "event": "beat-completed", "sequence": "checkout", "beat": 1,
                              "handler": "pay", "durationMs": round((t2 - t1) * 1e3, 4),
                              "correlationId": "r%d" % ts}) + "\n")
with open(clock, "w") as c:
    c.write(str(start + n * step))
# event time never runs ahead of the wall clock once the driver returns: on a fast machine heal
# deployed within the span of events written "in the future" and learned from the slow ones as if
# they came after the deploy
ahead = (start + n * step) / 1000.0 - time.time()
if ahead > 0:
    time.sleep(ahead)
)";

inline std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// A process started in the background (for signals and kills at random times).
struct child {
  pid_t pid = -1;
  fs::path out, err;
  int wait() {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    pid = -1;
    return status;
  }
};

struct service {
  temp_dir tmp;
  fs::path root = tmp.path();
  fs::path prod = root / "prod";
  std::string db = (root / "selfheal.db").string();  // a path, or a postgresql:// URL
  git_repo repo{root / "repo"};
  fs::path exe = selfheal_exe();
  std::string v1;

  explicit service(const std::string& mode = "auto") {
    fs::create_directories(prod / "logs");
    { std::ofstream(root / "traffic.py") << traffic_py; }
    repo.write("shop/__init__.py", "");
    repo.write("shop/handlers.py", handlers_v1);
    repo.write("tests/__init__.py", "");
    repo.write("tests/test_handlers.py", tests_py);
    repo.write("ops/deploy.sh", deploy_sh);
    repo.write(".gitignore", "__pycache__/\n");
    repo.write("selfheal.toml", settings(mode));
    v1 = repo.commit("shop: cart total and payment", now_s() - 7200, "Ada Lovelace", "ada@shop.example");
    deploy_head("full");
  }

  [[nodiscard]] std::string settings(const std::string& mode) const {
    return "[service]\nname = \"shop\"\nmain = \"main\"\ntelemetry = [\"" + (prod / "logs" / "*.ndjson").string() +
           "\"]\n\n[test]\ncommand = [\"python3\", \"-m\", \"unittest\", \"discover\", \"-s\", \"tests\", \"-t\", \".\"]\n"
           "timeout = \"60s\"\n\n[deploy]\ncommand = [\"sh\", \"ops/deploy.sh\", \"{commit}\", \"{stage}\", \"" +
           prod.string() + "\"]\nstages = [\"canary\", \"full\"]\ntraffic = [\"python3\", \"" + (root / "traffic.py").string() +
           "\", \"" + prod.string() + "\", \"300\"]\nsettle = \"0s\"\ntimeout = \"60s\"\n\n[canary]\nmin_samples = 10\n\n"
           "[policy]\nmode = \"" + mode + "\"\nmax_deploys_per_handler = \"5/24h\"\n\n"
           "[git]\nauthor = \"selfheal <selfheal@localhost>\"\n";
  }

  /// Deploys main's head by hand (a person's release), as the service's own script does.
  void deploy_head(const std::string& stage) {
    process_options o;
    o.cwd = repo.root();
    o.timeout = std::chrono::seconds{30};
    auto r = run_process({"sh", "ops/deploy.sh", trim(repo.git({"rev-parse", "HEAD"})), stage, prod.string()}, o);
    REQUIRE(r);
    REQUIRE(r->ok());
  }

  /// Production serves `n` checkouts.
  void traffic(int n = 300) {
    process_options o;
    o.timeout = std::chrono::seconds{60};
    auto r = run_process({"python3", (root / "traffic.py").string(), prod.string(), std::to_string(n)}, o);
    REQUIRE(r);
    INFO(r->err);
    REQUIRE(r->ok());
  }

  /// A commit on main (the regression), deployed and serving.
  std::string regress(const std::string& message, std::string handlers_py, const std::string& author) {
    repo.write("shop/handlers.py", handlers_py);
    const auto c = repo.commit(message, now_s() - 60, author, "dev@shop.example");
    deploy_head("full");
    return c;
  }

  [[nodiscard]] std::vector<std::string> heal_args(std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{exe.string(), "heal", "--once", "--repo", repo.root().string(), "--db", db,
                               "--window", "0.1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  /// `selfheal <args>` (args[0] is the program), to its end.
  process_output run(const std::vector<std::string>& args,
                     std::vector<std::pair<std::string, std::optional<std::string>>> env = {}) const {
    process_options o;
    o.timeout = std::chrono::seconds{240};
    o.env = std::move(env);
    auto r = run_process(args, o);
    if (!r) {  // run_process reports a child killed by a signal as an error: give it back as an output
      const auto& m = r.error().message();
      const auto at = m.find("killed by signal ");
      INFO(m);
      REQUIRE(at != std::string::npos);
      process_output out;
      out.term_signal = std::atoi(m.c_str() + at + 17);
      out.err = m;
      return out;
    }
    return *r;
  }

  /// `selfheal heal --once --json`, to its end; the JSON on stdout.
  process_output heal(std::vector<std::string> extra = {},
                      std::vector<std::pair<std::string, std::optional<std::string>>> env = {}) const {
    auto a = heal_args(std::move(extra));
    a.emplace_back("--json");
    return run(a, std::move(env));
  }

  /// `args` in the background, stdout and stderr into files under root, optional extra environment.
  child spawn(const std::vector<std::string>& args, const std::string& name,
              const std::vector<std::pair<std::string, std::string>>& env = {}) const {
    child c;
    c.out = root / (name + ".out");
    c.err = root / (name + ".err");
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int o = ::open(c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int in = ::open("/dev/null", O_RDONLY);
      if (o < 0 || e < 0 || in < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    c.pid = pid;
    return c;
  }

  /// Children selfheal started live in their own process groups, so a kill -9 of selfheal leaves
  /// them running: wait until no process names this test's folder (argv or cwd).
  void wait_for_orphans() const {
    const std::string mark = root.string();
    for (int i = 0; i < 600; ++i) {
      bool any = false;
      for (const auto& e : fs::directory_iterator("/proc")) {
        const auto name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (std::stol(name) == ::getpid()) continue;
        std::error_code ec;
        const auto cwd = fs::read_symlink(e.path() / "cwd", ec);
        std::string cmd = slurp(e.path() / "cmdline");
        if ((!ec && cwd.string().find(mark) == 0) || cmd.find(mark) != std::string::npos) any = true;
      }
      if (!any) return;
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    FAIL("processes of the killed heal still run after 30 s");
  }

  // --- what the store, the repository and production say ---
  [[nodiscard]] store::database open_db() const {
    auto d = store::database::open(db);
    REQUIRE(d);
    return std::move(*d);
  }
  [[nodiscard]] static std::string text(store::database& d, const std::string& sql) {
    auto st = d.prepare(sql);
    REQUIRE(st);
    auto row = st->step();
    REQUIRE(row);
    return *row ? st->column_text(0) : std::string{};
  }
  [[nodiscard]] std::string sql(const std::string& q) const {
    auto d = open_db();
    return text(d, q);
  }
  [[nodiscard]] int count(const std::string& q) const { return std::stoi(sql(q)); }
  [[nodiscard]] int records(const std::string& kind) const {
    return count("SELECT count(*) FROM records WHERE kind = '" + kind + "'");
  }
  [[nodiscard]] std::vector<std::string> branches() const {
    std::vector<std::string> out;
    std::istringstream in(repo.git({"for-each-ref", "--format=%(refname)", "refs/heads/selfheal/"}));
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) out.push_back(l);
    return out;
  }
  [[nodiscard]] int merges() const {
    const auto list = repo.git({"rev-list", "--merges", "main"});
    return static_cast<int>(std::count(list.begin(), list.end(), '\n'));
  }
  [[nodiscard]] std::string deploys() const { return slurp(prod / "deploys.log"); }
  [[nodiscard]] std::string live_handlers() const { return slurp(prod / "current" / "shop" / "handlers.py"); }
};

/// `"key":"value"` in a JSON text (the first one).
inline std::string json_string(const std::string& json, const std::string& key) {
  const auto k = json.find("\"" + key + "\":\"");
  if (k == std::string::npos) return {};
  const auto b = k + key.size() + 4;
  return json.substr(b, json.find('"', b) - b);
}

/// `"key":number` in a JSON text (the last one: the run's figures come after the anomalies).
inline double json_number(const std::string& json, const std::string& key) {
  const auto k = json.rfind("\"" + key + "\":");
  if (k == std::string::npos) return -1;
  return std::strtod(json.c_str() + k + key.size() + 3, nullptr);
}

}  // namespace selfheal::test::heal_service
