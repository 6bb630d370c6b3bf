#pragma once
/// \file
/// `selfheal.toml`, the monitored repository's settings for fix, validate, deploy, learn and heal
/// (the contract is HEALING.md), read with toml++. Every error names the key and its line; an
/// unknown table or key is an error (a typo must not silently disable a safety rule); commands are
/// argv arrays whose `{placeholders}` are checked at load time and expanded inside one element only.
///
/// ```cpp
/// auto s = selfheal::source::load_settings("/srv/shop");          // reads /srv/shop/selfheal.toml
/// if (!s) { std::cerr << s.error().message(); return 2; }        // "selfheal.toml:12: [test] timeout: …"
/// auto argv = selfheal::source::expand(s->deploy.command, {{"commit", sha}, {"stage", "canary"}});
/// ```

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "selfheal/core/result.hpp"

namespace selfheal::source {

using argv_t = std::vector<std::string>;
using seconds_d = std::chrono::duration<double>;

struct service_settings {
  std::string name;
  std::string main = "main";
  std::vector<std::string> telemetry;  ///< globs, relative to the repository root
  std::string sequences;
  std::string slo;
};

struct command_settings {
  argv_t command;                      ///< empty = not configured
  seconds_d timeout{300};
};

struct test_settings : command_settings {
  std::string junit;
  unsigned retries = 0;
};

struct coverage_settings {
  bool enabled = false;
  argv_t command;
  std::string lcov;
  double changed_lines = 0.0;
};

struct fix_settings : command_settings {
  fix_settings() { timeout = seconds_d{600}; }
};

struct performance_settings {
  argv_t command;
  unsigned runs = 5;
  double max_regression = 1.10;
  double min_improvement = 1.20;
  double min_regression_ms = 0.01;
};

struct deploy_settings : command_settings {
  std::vector<std::string> stages{"full"};
  argv_t traffic;
  std::vector<std::string> telemetry;  ///< default: service.telemetry
  seconds_d settle{0};
};

struct canary_settings {
  double pass = 95;
  double marginal = 75;
  double confidence = 0.98;
  double allowed_increase = 1.2;
  double min_effect_ms = 0.5;
  std::size_t min_samples = 30;
};

struct policy_settings {
  std::string mode = "dry-run";  ///< dry-run | approve | auto
  std::vector<std::string> strategies{"revert", "partial_revert", "config_change"};
  std::size_t max_changed_lines = 200;
  unsigned max_deploys = 1;            ///< "1/24h": at most this many deploys per handler ...
  seconds_d deploy_window{24 * 3600};  ///< ... within this window
  std::string kill_switch = ".selfheal-stop";
};

struct git_settings {
  std::string author = "selfheal <selfheal@localhost>";
  std::string remote;
  argv_t forge;
};

/// Everything `selfheal.toml` says, with HEALING.md's defaults where it is silent.
struct settings {
  std::filesystem::path repo;  ///< the repository root (absolute)
  std::filesystem::path file;  ///< the file read
  service_settings service;
  command_settings build;  ///< command empty = nothing to build
  test_settings test;      ///< command empty = nothing can be called validated
  coverage_settings coverage;
  fix_settings fix;
  performance_settings performance;
  deploy_settings deploy;
  canary_settings canary;
  policy_settings policy;
  git_settings git;

  [[nodiscard]] const std::vector<std::string>& deploy_telemetry() const noexcept {
    return deploy.telemetry.empty() ? service.telemetry : deploy.telemetry;
  }
};

/// The placeholders a command element may contain.
inline constexpr std::string_view known_placeholders[] = {"commit", "short", "stage", "previous", "branch",
                                                         "worktree", "title", "body_file", "evidence_file", "repo"};

/// Parses "90s", "5m", "2h", "1d", "250ms", "1.5s". A bare number is seconds.
[[nodiscard]] inline std::optional<seconds_d> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::size_t i = 0;
  double v = 0;
  bool digits = false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0'), digits = true;
  if (i < s.size() && s[i] == '.') {
    double scale = 0.1;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) v += (s[i] - '0') * scale, digits = true;
  }
  if (!digits) return std::nullopt;
  const auto unit = s.substr(i);
  double mult = 0;
  if (unit.empty() || unit == "s") mult = 1;
  else if (unit == "ms") mult = 0.001;
  else if (unit == "m") mult = 60;
  else if (unit == "h") mult = 3600;
  else if (unit == "d") mult = 86400;
  else return std::nullopt;
  return seconds_d{v * mult};
}

/// Replaces each `{name}` of `values` inside each element; other text is kept as it is.
[[nodiscard]] inline argv_t expand(const argv_t& argv, const std::map<std::string, std::string, std::less<>>& values) {
  argv_t out;
  out.reserve(argv.size());
  for (const auto& a : argv) {
    std::string e;
    std::size_t i = 0;
    while (i < a.size()) {
      const auto open = a.find('{', i);
      if (open == std::string::npos) break;
      const auto close = a.find('}', open);
      if (close == std::string::npos) break;
      const auto name = std::string_view(a).substr(open + 1, close - open - 1);
      e.append(a, i, open - i);
      if (auto it = values.find(name); it != values.end()) e += it->second;
      else e.append(a, open, close - open + 1);
      i = close + 1;
    }
    e.append(a, i);
    out.push_back(std::move(e));
  }
  return out;
}

namespace detail {

class settings_reader {
 public:
  explicit settings_reader(std::string file) : file_(std::move(file)) {}

  tl::unexpected<error> bad(const toml::node* n, std::string_view key, std::string_view what) const {
    std::string where = file_;
    if (n && n->source().begin) where += ":" + std::to_string(n->source().begin.line);
    return fail(errc::invalid_request, where + ": " + std::string(key) + ": " + std::string(what));
  }

  /// Every key of `table` must be one of `allowed`.
  result<void> only(const toml::table& t, std::string_view table, std::initializer_list<std::string_view> allowed) const {
    for (const auto& [k, v] : t) {
      bool ok = false;
      for (auto a : allowed) ok = ok || k.str() == a;
      if (!ok) {
        std::string key = table.empty() ? std::string(k.str()) : "[" + std::string(table) + "] " + std::string(k.str());
        return bad(&v, key, table.empty() ? "unknown table" : "unknown key");
      }
    }
    return {};
  }

  result<void> get(const toml::table& t, std::string_view table, std::string_view key, std::string& out) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    if (auto v = n->value<std::string>()) { out = *v; return {}; }
    return bad(n, name(table, key), "expected a string");
  }
  result<void> get(const toml::table& t, std::string_view table, std::string_view key, double& out) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    if (auto v = n->value<double>()) { out = *v; return {}; }
    return bad(n, name(table, key), "expected a number");
  }
  template <class U>
    requires std::is_unsigned_v<U>
  result<void> get(const toml::table& t, std::string_view table, std::string_view key, U& out) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    if (auto v = n->value<std::int64_t>(); v && *v >= 0) { out = static_cast<U>(*v); return {}; }
    return bad(n, name(table, key), "expected a non-negative integer");
  }
  result<void> get_duration(const toml::table& t, std::string_view table, std::string_view key, seconds_d& out) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    if (auto v = n->value<std::string>()) {
      if (auto d = parse_duration(*v); d && d->count() > 0) { out = *d; return {}; }
      return bad(n, name(table, key), "'" + *v + "' is not a duration like \"90s\", \"5m\", \"2h\"");
    }
    return bad(n, name(table, key), "expected a duration string like \"90s\"");
  }
  result<void> get_strings(const toml::table& t, std::string_view table, std::string_view key,
                           std::vector<std::string>& out, bool placeholders) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    const toml::array* arr = n->as_array();
    if (!arr) {
      if (auto v = n->value<std::string>(); v && !placeholders) { out = {*v}; return {}; }
      return bad(n, name(table, key), placeholders ? "expected an argv array of strings (never a shell string)"
                                                   : "expected an array of strings");
    }
    out.clear();
    for (const auto& e : *arr) {
      auto v = e.value<std::string>();
      if (!v) return bad(&e, name(table, key), "every element must be a string");
      if (placeholders) {
        if (auto r = check_placeholders(*v, &e, name(table, key)); !r) return r;
      }
      out.push_back(*v);
    }
    if (placeholders && out.empty()) return bad(n, name(table, key), "an empty command");
    return {};
  }

 private:
  static std::string name(std::string_view table, std::string_view key) {
    return "[" + std::string(table) + "] " + std::string(key);
  }
  result<void> check_placeholders(std::string_view s, const toml::node* n, const std::string& key) const {
    std::size_t i = 0;
    while ((i = s.find('{', i)) != std::string_view::npos) {
      const auto close = s.find('}', i);
      if (close == std::string_view::npos) return bad(n, key, "unclosed '{' in '" + std::string(s) + "'");
      const auto ph = s.substr(i + 1, close - i - 1);
      bool ok = false;
      for (auto k : known_placeholders) ok = ok || k == ph;
      if (!ok) return bad(n, key, "unknown placeholder {" + std::string(ph) + "}");
      i = close + 1;
    }
    return {};
  }
  std::string file_;
};

}  // namespace detail

/// Parses settings from TOML text; `file` names it in errors, `repo` is the repository root.
[[nodiscard]] inline result<settings> parse_settings(std::string_view text, std::string file,
                                                     const std::filesystem::path& repo) {
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return fail(errc::invalid_request, file + ":" + std::to_string(e.source().begin.line) + ": " +
                                           std::string(e.description()));
  }
#else
  toml::parse_result parsed = toml::parse(text, file);
  if (!parsed) {
    const auto& e = parsed.error();
    return fail(errc::invalid_request, file + ":" + std::to_string(e.source().begin.line) + ": " +
                                           std::string(e.description()));
  }
  root = std::move(parsed).table();
#endif
  detail::settings_reader r(file);
  settings s;
  s.repo = repo;
  s.file = file;
  if (auto x = r.only(root, "", {"service", "build", "test", "coverage", "fix", "performance", "deploy", "canary",
                                 "policy", "git"});
      !x)
    return tl::unexpected(x.error());
  auto table = [&](std::string_view name) -> result<const toml::table*> {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    if (const auto* t = n->as_table()) return t;
    return r.bad(n, name, "expected a table [" + std::string(name) + "]");
  };
#define SELFHEAL_TRY(expr)                                   \
  do {                                                       \
    if (auto selfheal_try_ = (expr); !selfheal_try_)         \
      return tl::unexpected(std::move(selfheal_try_).error()); \
  } while (0)

  auto svc = table("service");
  SELFHEAL_TRY(svc);
  if (!*svc) return fail(errc::invalid_request, file + ": [service] name: required (the table [service] is missing)");
  {
    const auto& t = **svc;
    SELFHEAL_TRY(r.only(t, "service", {"name", "main", "telemetry", "sequences", "slo"}));
    if (!t.get("name")) return r.bad(&t, "[service] name", "required");
    SELFHEAL_TRY(r.get(t, "service", "name", s.service.name));
    if (s.service.name.empty()) return r.bad(t.get("name"), "[service] name", "must not be empty");
    SELFHEAL_TRY(r.get(t, "service", "main", s.service.main));
    SELFHEAL_TRY(r.get_strings(t, "service", "telemetry", s.service.telemetry, false));
    SELFHEAL_TRY(r.get(t, "service", "sequences", s.service.sequences));
    SELFHEAL_TRY(r.get(t, "service", "slo", s.service.slo));
  }
  auto read_command = [&](const toml::table& t, std::string_view name, command_settings& c,
                          bool required) -> result<void> {
    if (required && !t.get("command")) return r.bad(&t, "[" + std::string(name) + "] command", "required");
    if (auto x = r.get_strings(t, name, "command", c.command, true); !x) return x;
    return r.get_duration(t, name, "timeout", c.timeout);
  };
  if (auto b = table("build"); !b) return tl::unexpected(b.error());
  else if (*b) {
    SELFHEAL_TRY(r.only(**b, "build", {"command", "timeout"}));
    SELFHEAL_TRY(read_command(**b, "build", s.build, true));
  }
  if (auto b = table("test"); !b) return tl::unexpected(b.error());
  else if (*b) {
    SELFHEAL_TRY(r.only(**b, "test", {"command", "junit", "timeout", "retries"}));
    SELFHEAL_TRY(read_command(**b, "test", s.test, true));
    SELFHEAL_TRY(r.get(**b, "test", "junit", s.test.junit));
    SELFHEAL_TRY(r.get(**b, "test", "retries", s.test.retries));
  }
  if (auto b = table("coverage"); !b) return tl::unexpected(b.error());
  else if (*b) {
    const auto& t = **b;
    SELFHEAL_TRY(r.only(t, "coverage", {"command", "lcov", "changed_lines"}));
    s.coverage.enabled = true;
    SELFHEAL_TRY(r.get_strings(t, "coverage", "command", s.coverage.command, true));
    if (!t.get("lcov")) return r.bad(&t, "[coverage] lcov", "required");
    SELFHEAL_TRY(r.get(t, "coverage", "lcov", s.coverage.lcov));
    SELFHEAL_TRY(r.get(t, "coverage", "changed_lines", s.coverage.changed_lines));
    if (s.coverage.changed_lines < 0 || s.coverage.changed_lines > 1)
      return r.bad(t.get("changed_lines"), "[coverage] changed_lines", "must be a share between 0 and 1");
  }
  if (auto b = table("fix"); !b) return tl::unexpected(b.error());
  else if (*b) {
    SELFHEAL_TRY(r.only(**b, "fix", {"command", "timeout"}));
    SELFHEAL_TRY(read_command(**b, "fix", s.fix, true));
  }
  if (auto b = table("performance"); !b) return tl::unexpected(b.error());
  else if (*b) {
    const auto& t = **b;
    SELFHEAL_TRY(r.only(t, "performance", {"command", "runs", "max_regression", "min_improvement", "min_regression_ms"}));
    if (!t.get("command")) return r.bad(&t, "[performance] command", "required");
    SELFHEAL_TRY(r.get_strings(t, "performance", "command", s.performance.command, true));
    SELFHEAL_TRY(r.get(t, "performance", "runs", s.performance.runs));
    SELFHEAL_TRY(r.get(t, "performance", "max_regression", s.performance.max_regression));
    SELFHEAL_TRY(r.get(t, "performance", "min_improvement", s.performance.min_improvement));
    SELFHEAL_TRY(r.get(t, "performance", "min_regression_ms", s.performance.min_regression_ms));
    if (!(s.performance.min_regression_ms >= 0))
      return r.bad(t.get("min_regression_ms"), "[performance] min_regression_ms", "must be >= 0 (milliseconds)");
    if (s.performance.runs < 2) return r.bad(t.get("runs"), "[performance] runs", "at least 2 runs are needed");
    if (s.performance.max_regression < 1)
      return r.bad(t.get("max_regression"), "[performance] max_regression", "must be >= 1 (a ratio)");
  }
  if (auto b = table("deploy"); !b) return tl::unexpected(b.error());
  else if (*b) {
    const auto& t = **b;
    SELFHEAL_TRY(r.only(t, "deploy", {"command", "stages", "traffic", "telemetry", "settle", "timeout"}));
    SELFHEAL_TRY(read_command(t, "deploy", s.deploy, true));
    SELFHEAL_TRY(r.get_strings(t, "deploy", "stages", s.deploy.stages, false));
    if (s.deploy.stages.empty()) return r.bad(t.get("stages"), "[deploy] stages", "at least one stage");
    SELFHEAL_TRY(r.get_strings(t, "deploy", "traffic", s.deploy.traffic, true));
    SELFHEAL_TRY(r.get_strings(t, "deploy", "telemetry", s.deploy.telemetry, false));
    if (const auto* n = t.get("settle")) {
      auto v = n->value<std::string>();
      auto d = v ? parse_duration(*v) : std::nullopt;
      if (!d) return r.bad(n, "[deploy] settle", "expected a duration string like \"2s\"");
      s.deploy.settle = *d;
    }
  }
  if (auto b = table("canary"); !b) return tl::unexpected(b.error());
  else if (*b) {
    const auto& t = **b;
    SELFHEAL_TRY(r.only(t, "canary", {"pass", "marginal", "confidence", "allowed_increase", "min_effect_ms", "min_samples"}));
    auto& c = s.canary;
    SELFHEAL_TRY(r.get(t, "canary", "pass", c.pass));
    SELFHEAL_TRY(r.get(t, "canary", "marginal", c.marginal));
    SELFHEAL_TRY(r.get(t, "canary", "confidence", c.confidence));
    SELFHEAL_TRY(r.get(t, "canary", "allowed_increase", c.allowed_increase));
    SELFHEAL_TRY(r.get(t, "canary", "min_effect_ms", c.min_effect_ms));
    SELFHEAL_TRY(r.get(t, "canary", "min_samples", c.min_samples));
    if (c.confidence <= 0 || c.confidence >= 1)
      return r.bad(t.get("confidence"), "[canary] confidence", "must be between 0 and 1");
    if (c.marginal > c.pass) return r.bad(t.get("marginal"), "[canary] marginal", "must not exceed pass");
  }
  if (auto b = table("policy"); !b) return tl::unexpected(b.error());
  else if (*b) {
    const auto& t = **b;
    SELFHEAL_TRY(r.only(t, "policy", {"mode", "strategies", "max_changed_lines", "max_deploys_per_handler", "kill_switch"}));
    auto& p = s.policy;
    SELFHEAL_TRY(r.get(t, "policy", "mode", p.mode));
    if (p.mode != "dry-run" && p.mode != "approve" && p.mode != "auto")
      return r.bad(t.get("mode"), "[policy] mode", "'" + p.mode + "' is not one of dry-run, approve, auto");
    SELFHEAL_TRY(r.get_strings(t, "policy", "strategies", p.strategies, false));
    SELFHEAL_TRY(r.get(t, "policy", "max_changed_lines", p.max_changed_lines));
    SELFHEAL_TRY(r.get(t, "policy", "kill_switch", p.kill_switch));
    if (const auto* n = t.get("max_deploys_per_handler")) {
      auto v = n->value<std::string>();
      const auto slash = v ? v->find('/') : std::string::npos;
      std::optional<seconds_d> window;
      unsigned count = 0;
      bool ok = slash != std::string::npos && slash > 0;
      if (ok) {
        for (std::size_t i = 0; i < slash; ++i) ok = ok && (*v)[i] >= '0' && (*v)[i] <= '9';
        if (ok) count = static_cast<unsigned>(std::stoul(v->substr(0, slash)));
        window = parse_duration(std::string_view(*v).substr(slash + 1));
      }
      if (!ok || !window || count == 0)
        return r.bad(n, "[policy] max_deploys_per_handler", "expected \"N/duration\" like \"1/24h\"");
      p.max_deploys = count;
      p.deploy_window = *window;
    }
  }
  if (auto b = table("git"); !b) return tl::unexpected(b.error());
  else if (*b) {
    const auto& t = **b;
    SELFHEAL_TRY(r.only(t, "git", {"author", "remote", "forge"}));
    SELFHEAL_TRY(r.get(t, "git", "author", s.git.author));
    SELFHEAL_TRY(r.get(t, "git", "remote", s.git.remote));
    SELFHEAL_TRY(r.get_strings(t, "git", "forge", s.git.forge, true));
  }
#undef SELFHEAL_TRY
  return s;
}

/// Reads `config` (default: `<repo>/selfheal.toml`). A missing file is `errc::not_found` saying
/// where it was looked for; every other problem is `errc::invalid_request` with file, line and key.
[[nodiscard]] inline result<settings> load_settings(const std::filesystem::path& repo,
                                                    const std::filesystem::path& config = {}) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::absolute(repo, ec);
  const fs::path file = config.empty() ? root / "selfheal.toml" : fs::absolute(config, ec);
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return fail(errc::not_found, "no settings file at " + file.string() + " (see HEALING.md: selfheal.toml)");
  std::string text;
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return parse_settings(text, file.string(), root);
}

}  // namespace selfheal::source
