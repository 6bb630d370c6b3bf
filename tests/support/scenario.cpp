#include "scenario.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace selfheal::test {

namespace fs = std::filesystem;

double seeded_rng::normal(double mean, double sd) {
  double u1 = uniform();
  if (u1 < 1e-12) u1 = 1e-12;
  const double u2 = uniform();
  return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

std::string iso8601(std::int64_t seconds, int millis) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

namespace {

std::vector<std::pair<std::string, std::optional<std::string>>> git_env() {
  return {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}, {"GIT_TERMINAL_PROMPT", "0"},
          {"LC_ALL", "C"}};
}

fs::path fresh_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "selfheal-scenario-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

}  // namespace

git_repo::git_repo(std::optional<fs::path> at) {
  if (at) {
    root_ = *at;
    keep_ = true;
    fs::create_directories(root_);
  } else {
    root_ = fresh_temp_dir() / "repo";
    fs::create_directories(root_);
  }
  git({"init", "-q", "-b", "main"});
}

git_repo::git_repo(git_repo&& o) noexcept : root_(std::move(o.root_)), keep_(o.keep_) { o.root_.clear(); }

git_repo::~git_repo() {
  if (keep_ || root_.empty()) return;
  std::error_code ec;
  fs::remove_all(root_.parent_path(), ec);
}

void git_repo::write(const std::string& rel, const std::string& text) const {
  const fs::path p = root_ / rel;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string git_repo::read(const std::string& rel) const {
  std::ifstream in(root_ / rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string git_repo::git(std::vector<std::string> args,
                          std::vector<std::pair<std::string, std::optional<std::string>>> env) const {
  args.insert(args.begin(), "git");
  process_options o;
  o.cwd = root_;
  o.timeout = std::chrono::seconds{60};
  o.env = git_env();
  for (auto& e : env) o.env.push_back(std::move(e));
  auto r = run_checked(std::span<const std::string>(args), o);
  if (!r) throw std::runtime_error(r.error().detail);
  return r->out;
}

std::string git_repo::commit(const std::string& message, std::int64_t when, const std::string& author,
                             const std::string& email) {
  git({"add", "-A"});
  const std::string date = "@" + std::to_string(when) + " +0000";
  git({"commit", "-q", "--allow-empty", "--no-verify", "-m", message},
      {{"GIT_AUTHOR_NAME", author}, {"GIT_AUTHOR_EMAIL", email}, {"GIT_AUTHOR_DATE", date},
       {"GIT_COMMITTER_NAME", author}, {"GIT_COMMITTER_EMAIL", email}, {"GIT_COMMITTER_DATE", date}});
  std::string id = git({"rev-parse", "HEAD"});
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  return id;
}

void git_repo::tag(const std::string& name, const std::string& target) { git({"tag", name, target}); }

// ---------------------------------------------------------------------------------------------
// The generated code base
// ---------------------------------------------------------------------------------------------

namespace {

struct function_def {
  std::string name;
  std::string params;
  std::vector<std::string> body;  // lines without the function's own indentation
};

struct source_file {
  std::string path;
  bool python = false;
  std::vector<std::string> header;
  std::vector<function_def> functions;

  [[nodiscard]] std::string render() const {
    std::string s;
    for (const auto& h : header) s += h + "\n";
    for (const auto& f : functions) {
      s += python ? "\n\n" : "\n";
      if (python) {
        s += "def " + f.name + "(" + f.params + "):\n";
        for (const auto& b : f.body) s += (b.empty() ? "" : "    " + b) + "\n";
      } else {
        s += "export function " + f.name + "(" + f.params + ") {\n";
        for (const auto& b : f.body) s += (b.empty() ? "" : "  " + b) + "\n";
        s += "}\n";
      }
    }
    return s;
  }
  /// 1-based line of body line `k` of function `name` in the rendered text.
  [[nodiscard]] std::uint32_t body_line(const std::string& name, std::size_t k) const {
    std::uint32_t line = static_cast<std::uint32_t>(header.size());
    for (const auto& f : functions) {
      line += python ? 2 : 1;  // blank lines
      line += 1;               // def line
      if (f.name == name) return line + static_cast<std::uint32_t>(k);
      line += static_cast<std::uint32_t>(f.body.size());
      if (!python) line += 1;  // closing brace
    }
    throw std::runtime_error("no function " + name + " in " + path);
  }
  function_def& fn(const std::string& name) {
    for (auto& f : functions)
      if (f.name == name) return f;
    throw std::runtime_error("no function " + name + " in " + path);
  }
};

struct handler_entry {
  const char* logged;
  const char* file;
  const char* function;
  double base_ms;
  double weight;
};

constexpr handler_entry handlers[] = {
    {"applyDiscount", "src/cart.js", "applyDiscount", 12, 3},
    {"computeTotal", "src/cart.js", "computeTotal", 8, 3},
    {"formatReceipt", "src/cart.js", "formatReceipt", 3, 1},
    {"checkoutOrder", "src/checkout.js", "checkoutOrder", 40, 2},
    {"reserveStock", "src/checkout.js", "reserveStock", 15, 2},
    {"computeTax", "services/pricing.py", "compute_tax", 6, 3},
    {"loadCatalog", "services/pricing.py", "load_catalog", 25, 1},
    {"refreshRates", "services/pricing.py", "refresh_rates", 10, 1},
};
constexpr std::size_t guilty_choices[] = {0, 1, 3, 5, 6};

std::vector<source_file> initial_sources() {
  std::vector<source_file> s;
  s.push_back({"src/cart.js", false,
               {"// Cart pricing for the shop front.", "import { roundCents, DISCOUNTS } from './money.js';"},
               {{"computeTotal", "items",
                 {"let total = 0;", "for (const item of items) {", "  total += item.price * item.quantity;", "}",
                  "return roundCents(total);"}},
                {"applyDiscount", "cart, code",
                 {"const rate = DISCOUNTS[code] || 0;", "const discounted = cart.total * (1 - rate);",
                  "return { ...cart, total: roundCents(discounted) };"}},
                {"formatReceipt", "cart",
                 {"const lines = cart.items.map((i) => `${i.name}: ${i.price}`);", "return lines.join('\\n');"}}}});
  s.push_back({"src/checkout.js", false,
               {"// Checkout flow.", "import { computeTotal, applyDiscount } from './cart.js';"},
               {{"checkoutOrder", "order, cart",
                 {"const total = computeTotal(cart.items);", "if (order.code) {",
                  "  return applyDiscount({ ...cart, total }, order.code);", "}", "return { ...cart, total };"}},
                {"reserveStock", "order",
                 {"const reserved = [];", "for (const line of order.lines) {", "  reserved.push(line.sku);", "}",
                  "return reserved;"}}}});
  s.push_back({"services/pricing.py", true,
               {"\"\"\"Tax and catalog pricing.\"\"\"", "import copy", "import json", "", "RATES = {\"eu\": 0.2, \"us\": 0.07}"},
               {{"compute_tax", "amount, region",
                 {"rate = RATES.get(region, 0.0)", "tax = amount * rate", "return round(tax, 2)"}},
                {"load_catalog", "path",
                 {"with open(path) as f:", "    items = json.load(f)", "return {i[\"sku\"]: i for i in items}"}},
                {"refresh_rates", "rates",
                 {"for region, rate in rates.items():", "    RATES[region] = float(rate)", "return len(RATES)"}}}});
  s.push_back({"src/money.js", false,
               {"// Money helpers.", "export const DISCOUNTS = { SPRING: 0.1, VIP: 0.2 };"},
               {{"roundCents", "x", {"return Math.round(x * 100) / 100;"}}}});
  return s;
}

const char* sequence_json = R"({
  "id": "checkout-symphony",
  "name": "Checkout",
  "movements": [
    {"name": "Price", "beats": [
      {"beat": 1, "event": "shop:cart:total", "title": "Total", "handler": "computeTotal", "timing": "immediate", "kind": "pure"},
      {"beat": 2, "event": "shop:cart:discount", "title": "Discount", "handler": "applyDiscount", "timing": "immediate", "kind": "pure"},
      {"beat": 3, "event": "shop:tax:compute", "title": "Tax", "handler": "computeTax", "timing": "immediate", "kind": "pure"}
    ]},
    {"name": "Order", "beats": [
      {"beat": 4, "event": "shop:stock:reserve", "title": "Reserve", "handler": "reserveStock", "timing": "async", "kind": "stage-crew"},
      {"beat": 5, "event": "shop:order:checkout", "title": "Checkout", "handler": "checkoutOrder", "timing": "async", "kind": "stage-crew"}
    ]}
  ]
}
)";

const char* config_yaml =
    "# Shop configuration\n"
    "http:\n"
    "  timeout_ms: 2000\n"
    "  retries: 3\n"
    "pricing:\n"
    "  cache_size: 128\n"
    "  discount_cache: true\n"
    "catalog:\n"
    "  batch_size: 50\n"
    "database:\n"
    "  pool_size: 10\n";

const char* cart_test =
    "import { applyDiscount, computeTotal } from '../src/cart.js';\n"
    "\n"
    "test('applies a spring discount', () => {\n"
    "  expect(applyDiscount({ total: 100 }, 'SPRING').total).toBe(90);\n"
    "});\n"
    "\n"
    "test('sums quantities', () => {\n"
    "  expect(computeTotal([{ price: 2, quantity: 3 }])).toBe(6);\n"
    "});\n";

const char* pricing_test =
    "from services.pricing import compute_tax\n"
    "\n"
    "\n"
    "def test_compute_tax_eu():\n"
    "    assert compute_tax(100, \"eu\") == 20\n";

std::vector<std::string> slow_lines(bool python, const std::string& fn) {
  if (python)
    return {"snapshot = copy.deepcopy(RATES)", "for _ in range(20000):", "    json.dumps(snapshot)  # audit " + fn};
  return {"const audit = JSON.parse(JSON.stringify(arguments));", "for (let i = 0; i < 20000; i++) {",
          "  audit.trail = JSON.stringify(audit);", "}"};
}

std::vector<std::string> error_lines(bool python) {
  if (python) return {"standard = RATES[\"standard\"]"};
  return {"const first = arguments[0].items[0].price.toFixed(2);"};
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1),
                                                             std::floor(q * static_cast<double>(v.size() - 1) + 0.5)));
  return v[idx];
}

std::string fmt_ms(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      default: o += c;
    }
  }
  return o;
}

}  // namespace

scenario make_scenario(const scenario_options& opts) {
  seeded_rng rng(opts.seed);
  scenario sc{git_repo(opts.at), {}, {}, {}, {}, 0, {}, 0, {}, {}, {}, {}, {}};
  git_repo& repo = sc.repo;
  auto sources = initial_sources();
  auto src = [&](const std::string& path) -> source_file& {
    for (auto& f : sources)
      if (f.path == path) return f;
    throw std::runtime_error("no source " + path);
  };
  auto write_sources = [&] {
    for (const auto& f : sources) repo.write(f.path, f.render());
  };

  const handler_entry& guilty = handlers[guilty_choices[rng.next() % std::size(guilty_choices)]];
  sc.guilty_handler = guilty.logged;
  sc.guilty_function = guilty.function;
  sc.guilty_file = guilty.file;
  const bool guilty_py = std::string(guilty.file).ends_with(".py");

  static const char* authors[][2] = {{"Ada Lovelace", "ada@example.com"},
                                     {"Grace Hopper", "grace@example.com"},
                                     {"Alan Turing", "alan@example.com"},
                                     {"Edsger Dijkstra", "edsger@example.com"}};
  auto author = [&](std::size_t i) { return authors[i % 4]; };

  // Start on 2025-03-01 plus a seeded number of days.
  std::int64_t t = 1740787200 + rng.between(0, 60) * 86400 + rng.between(0, 3600);
  auto advance = [&](std::int64_t lo, std::int64_t hi) { t += rng.between(lo, hi); return t; };

  // 1. Initial commit.
  write_sources();
  repo.write("config/app.yaml", config_yaml);
  repo.write("sequences/checkout.json", sequence_json);
  repo.write("tests/cart.test.js", cart_test);
  repo.write("tests/test_pricing.py", pricing_test);
  repo.write("README.md", "# Shop\n\nA small shop service.\n");
  repo.commit("Initial shop service", t, author(0)[0], author(0)[1]);

  // 2. Older history: fillers, including an old change to the guilty handler itself.
  const auto fillers = rng.between(4, 9);
  const auto old_touch = rng.between(0, fillers - 1);
  for (std::int64_t i = 0; i < fillers; ++i) {
    advance(3 * 3600, 30 * 3600);
    const auto a = author(static_cast<std::size_t>(rng.between(0, 3)));
    if (i == old_touch) {
      auto& f = src(guilty.file).fn(guilty.function);
      f.body.insert(f.body.begin(), guilty_py ? "# validated by the caller" : "// validated by the caller");
      write_sources();
      repo.commit(std::string("Document the contract of ") + guilty.logged, t, a[0], a[1]);
      continue;
    }
    switch (rng.between(0, 3)) {
      case 0:
        repo.write("README.md", repo.read("README.md") + "\nNote " + std::to_string(i) + ".\n");
        repo.commit("Docs: note " + std::to_string(i), t, a[0], a[1]);
        break;
      case 1:
        repo.write("tests/cart.test.js", repo.read("tests/cart.test.js") + "\ntest('case " + std::to_string(i) +
                                             "', () => {\n  expect(computeTotal([])).toBe(0);\n});\n");
        repo.commit("Tests: more cart cases", t, a[0], a[1]);
        break;
      case 2: {
        auto& f = src("src/money.js").fn("roundCents");
        f.body.insert(f.body.begin(), "// rounding step " + std::to_string(i));
        write_sources();
        repo.commit("Money: explain rounding", t, a[0], a[1]);
        break;
      }
      default: {
        repo.write("config/app.yaml", repo.read("config/app.yaml") + "# tuned " + std::to_string(i) + "\n");
        repo.commit("Config: tuning note", t, a[0], a[1]);
        break;
      }
    }
  }
  const std::string release_before = "v1." + std::to_string(rng.between(0, 4));
  const std::string release_after = release_before.substr(0, 3) + std::to_string(release_before[3] - '0' + 1);
  if (opts.deploy_markers) repo.tag(release_before);
  const std::int64_t before_deploy = advance(1800, 7200);

  // 3. The release under test: the guilty commit and the decoys, in a seeded order.
  enum class step { guilty, same_file, other_handler, shift_lines };
  std::vector<step> steps{step::guilty};
  if (opts.decoys) {
    steps.push_back(step::same_file);
    steps.push_back(step::other_handler);
    steps.push_back(step::shift_lines);
    // Usually the decoys come after the guilty commit (closer to the onset: the hard case).
    if (rng.chance(0.3)) std::swap(steps[0], steps[static_cast<std::size_t>(rng.between(1, 2))]);
  }
  for (const auto st : steps) {
    advance(1200, 5400);
    const auto a = author(static_cast<std::size_t>(rng.between(0, 3)));
    switch (st) {
      case step::guilty: {
        auto& f = src(guilty.file).fn(guilty.function);
        const auto add = opts.error ? error_lines(guilty_py) : slow_lines(guilty_py, guilty.function);
        // Python bodies take the new lines first (keeps indentation valid); JS anywhere in the body.
        const auto at = guilty_py ? std::size_t{0}
                                  : static_cast<std::size_t>(rng.between(0, static_cast<std::int64_t>(f.body.size()) - 1));
        f.body.insert(f.body.begin() + static_cast<std::ptrdiff_t>(at), add.begin(), add.end());
        write_sources();
        const std::string msg = opts.error ? std::string("Read the standard price up front in ") + guilty.logged
                                           : std::string("Audit trail for ") + guilty.logged;
        sc.guilty_commit = repo.commit(msg, t, a[0], a[1]);
        break;
      }
      case step::same_file: {
        auto& file = src(guilty.file);
        for (auto& f : file.functions) {
          if (f.name == guilty.function) continue;
          f.body.insert(f.body.begin(), file.python ? "log_calls = True" : "const started = Date.now();");
          f.body.insert(f.body.begin() + 1, file.python ? "del log_calls" : "void started;");
          break;
        }
        write_sources();
        sc.decoy_commits.push_back(repo.commit("Instrument a neighbour of " + std::string(guilty.logged), t, a[0], a[1]));
        break;
      }
      case step::other_handler: {
        const handler_entry* other = nullptr;
        for (const auto& h : handlers)
          if (std::string(h.file) != guilty.file && (other == nullptr || rng.chance(0.4))) other = &h;
        auto& file = src(other->file);
        auto& f = file.fn(other->function);
        f.body.insert(f.body.begin(), file.python ? "items_seen = 0" : "let itemsSeen = 0;");
        f.body.insert(f.body.begin() + 1, file.python ? "items_seen += 1" : "itemsSeen += 1;");
        write_sources();
        sc.decoy_commits.push_back(repo.commit(std::string("Count items in ") + other->logged, t, a[0], a[1]));
        break;
      }
      case step::shift_lines: {
        auto& file = src(guilty.file);
        file.header.push_back(file.python ? "# Prices are in cents." : "// Prices are in cents.");
        file.header.push_back(file.python ? "CURRENCY = \"EUR\"" : "export const CURRENCY = 'EUR';");
        write_sources();
        sc.decoy_commits.push_back(repo.commit("Pricing: currency constant", t, a[0], a[1]));
        break;
      }
    }
  }
  if (opts.deploy_markers) repo.tag(release_after);
  sc.onset = advance(1800, 5400);
  if (opts.error) {
    const auto& file = src(guilty.file);
    const auto& f = const_cast<source_file&>(file).fn(guilty.function);
    const auto marker = error_lines(guilty_py).front();
    for (std::size_t k = 0; k < f.body.size(); ++k)
      if (f.body[k] == marker) sc.error_line = file.body_line(guilty.function, k);
  }

  // 4. After the onset (perf scenarios only): a change to the guilty handler that was never
  //    released before the regression showed, which must not be blamed.
  if (!opts.error && rng.chance(0.5)) {
    t = sc.onset + rng.between(1800, 7200);
    auto& f = src(guilty.file).fn(guilty.function);
    f.body.push_back(guilty_py ? "# reviewed" : "// reviewed");
    write_sources();
    sc.decoy_commits.push_back(repo.commit(std::string("Review notes in ") + guilty.logged, t, "Alan Turing", "alan@example.com"));
  }
  if (opts.deploy_markers) sc.release_tags = {release_before, release_after};

  // 5. Telemetry: before (old release) and after (new release).
  double total_weight = 0;
  for (const auto& h : handlers) total_weight += h.weight;
  auto pick = [&]() -> const handler_entry& {
    double r = rng.uniform() * total_weight;
    for (const auto& h : handlers) {
      if (r < h.weight) return h;
      r -= h.weight;
    }
    return handlers[0];
  };
  std::vector<double> before_guilty, after_guilty;
  std::uint64_t after_total = 0, after_guilty_count = 0, after_errors = 0;
  std::int64_t first_error = 0;
  std::string first_error_message;
  auto phase = [&](std::int64_t from, std::int64_t to, bool after, std::string& out) {
    const auto n = static_cast<std::int64_t>(opts.events_per_phase);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t ts = from + (to - from) * i / n;
      const int ms = static_cast<int>(rng.between(0, 999));
      const auto& h = pick();
      double d = h.base_ms * std::exp(rng.normal(0, 0.2));
      const bool is_guilty = &h == &guilty;
      bool failed = false;
      std::string err;
      if (after && is_guilty) {
        if (opts.error) {
          failed = rng.chance(0.35);
          if (failed) {
            if (guilty_py)
              err = "Traceback (most recent call last):\n  File \"/srv/shop/services/pricing.py\", line " +
                    std::to_string(sc.error_line) + ", in " + guilty.function +
                    "\n    standard = RATES[\"standard\"]\nKeyError: 'standard'";
            else
              err = "TypeError: Cannot read properties of undefined (reading 'price')\n    at " + std::string(guilty.function) +
                    " (/srv/shop/" + guilty.file + ":" + std::to_string(sc.error_line) + ":" +
                    std::to_string(rng.between(20, 40)) + ")\n    at checkoutOrder (/srv/shop/src/checkout.js:" +
                    std::to_string(rng.between(5, 9)) + ":12)";
          }
        } else {
          d *= 3.0;
        }
      }
      if (is_guilty) (after ? after_guilty : before_guilty).push_back(d);
      if (after) {
        ++after_total;
        if (is_guilty) ++after_guilty_count;
        if (failed) {
          ++after_errors;
          if (!first_error) { first_error = ts; first_error_message = err; }
        }
      }
      out += "{\"ts\":\"" + iso8601(ts, ms) + "\",\"level\":\"" + (failed ? "error" : "info") +
             "\",\"event\":\"beat-completed\",\"sequence\":\"checkout-symphony\",\"handler\":\"" + h.logged +
             "\",\"durationMs\":" + fmt_ms(d) + ",\"correlationId\":\"c-" + std::to_string(opts.seed) + "-" +
             std::to_string(after ? 1 : 0) + "-" + std::to_string(i) + "\"";
      if (opts.deploy_markers) out += ",\"version\":\"" + (after ? release_after : release_before) + "\"";
      if (failed) out += ",\"error\":\"" + json_escape(err) + "\"";
      out += "}\n";
    }
  };
  const std::int64_t end = sc.onset + 3 * 3600;
  phase(before_deploy, sc.onset, false, sc.telemetry_before);
  phase(sc.onset, end, true, sc.telemetry_after);
  sc.telemetry_dir = repo.root().parent_path() / "telemetry";
  if (opts.at) sc.telemetry_dir = *opts.at / ".." / (opts.at->filename().string() + "-telemetry");
  fs::create_directories(sc.telemetry_dir);
  std::ofstream(sc.telemetry_dir / "before.ndjson", std::ios::binary) << sc.telemetry_before;
  std::ofstream(sc.telemetry_dir / "after.ndjson", std::ios::binary) << sc.telemetry_after;

  // 6. The anomaly anomaly.detect would report (windowed onset: 5-minute windows).
  auto& an = sc.anomaly;
  an.id = "anomaly-s" + std::to_string(opts.seed) + "-1";
  an.type = opts.error ? "error" : "performance";
  an.handler = guilty.logged;
  an.sequence = "checkout-symphony";
  an.severity = "high";
  an.confidence = 0.95;
  an.onset = sc.onset - (sc.onset % 300);
  an.baseline_p50 = quantile(before_guilty, 0.5);
  an.baseline_p95 = quantile(before_guilty, 0.95);
  an.baseline_p99 = quantile(before_guilty, 0.99);
  an.current_p50 = quantile(after_guilty, 0.5);
  an.current_p95 = quantile(after_guilty, 0.95);
  an.current_p99 = quantile(after_guilty, 0.99);
  an.handler_count = after_guilty_count;
  an.total_count = after_total;
  an.error_count = after_errors;
  if (opts.error) {
    an.error_template = guilty_py ? "KeyError: <*>" : "TypeError: Cannot read properties of undefined (reading <*>)";
    an.error_samples = {first_error_message};
    an.first_seen = first_error;
    an.onset = first_error - (first_error % 300);
  }
  if (opts.deploy_markers)
    an.releases = {{release_before, before_deploy, sc.onset - 1}, {release_after, sc.onset, end}};
  an.description = opts.error ? "new error template in " + an.handler : "latency shift in " + an.handler;
  return sc;
}

}  // namespace selfheal::test
