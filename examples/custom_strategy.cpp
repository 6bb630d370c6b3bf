// A fix strategy of one's own, plugged into fix.generate at compile time.
//
// `feature_flag_off` models `selfheal::fix::fix_strategy`: a `name`, a `propose` (how `diagnose` ranks
// it; here: never, it is asked for by name) and a pure `generate` that turns a diagnosis into edits.
// It switches off the feature flag that guards the slow handler — `features.<handler> = false` in
// config/features.toml — spliced at the value's byte range, so the file's comments stay.
//
// The program makes a small repository in a temporary folder, stores a diagnosis for it, runs
// fix.generate with the strategy added, and prints the patch's strategy and the changed line.
//
//   build/custom_strategy      -> "feature_flag_off: +computeTax = false  # on since v1.4"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "selfheal/core/process.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/store.hpp"
#include "selfheal/fix/config_edit.hpp"
#include "selfheal/fix/sequence.hpp"
#include "selfheal/store/database.hpp"

namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;

struct feature_flag_off {
  static constexpr std::string_view name = "feature_flag_off";
  [[nodiscard]] std::optional<dx::recommendation> propose(const dx::diagnosis_item&, const dx::codebase&) const {
    return std::nullopt;
  }
  [[nodiscard]] selfheal::result<fx::code_change> generate(const fx::strategy_input& in) const {
    const std::string file = "config/features.toml";
    const std::string* text = in.repo.text(file);
    if (!text) return selfheal::fail(selfheal::errc::not_found, file + " is not read (not tracked?)");
    const std::string key = "features." + in.item.handler;
    auto out = fx::set_config_value(*text, fx::config_format::toml, key, "false", file);
    if (!out) return tl::unexpected(out.error());
    fx::code_change c;
    c.strategy = std::string(name);
    c.description = "switch off the feature flag " + key;
    c.edits.push_back({file, *text, std::move(*out)});
    return c;
  }
};
static_assert(fx::fix_strategy<feature_flag_off>, "feature_flag_off must model fix::fix_strategy");

namespace {

bool git(const std::filesystem::path& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com"});
  selfheal::process_options o;
  o.cwd = repo;
  auto r = selfheal::run_process(args, o);
  return r && r->ok();
}

}  // namespace

int main() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "selfheal-custom-strategy-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return 1;
  const std::filesystem::path dir = tmpl;
  struct cleanup {
    std::filesystem::path p;
    ~cleanup() { std::error_code ec; std::filesystem::remove_all(p, ec); }
  } cleaner{dir};
  const auto repo = dir / "repo";
  std::filesystem::create_directories(repo / "config");
  std::ofstream(repo / "config/features.toml") << "[features]\ncomputeTax = true  # on since v1.4\n";
  std::ofstream(repo / "pricing.py") << "def compute_tax(amount, region):\n    return round(amount * 0.2, 2)\n";
  if (!git(repo, {"init", "-q", "-b", "main"}) || !git(repo, {"add", "-A"}) || !git(repo, {"commit", "-q", "-m", "Shop"})) {
    std::fprintf(stderr, "custom_strategy: git is needed\n");
    return 1;
  }

  auto db = selfheal::store::database::open((dir / "store.db").string());
  if (!db) return 1;
  dx::diagnosis_item d;
  d.anomaly_id = "anomaly-1.1";
  d.type = "performance";
  d.handler = "computeTax";
  d.where = dx::location{"pricing.py", 1, 2, "compute_tax"};
  dx::run_info info;
  info.repo = repo.string();
  auto record = dx::store_diagnoses(*db, info, {d}, selfheal::time_point{std::chrono::seconds{1740787200}});
  if (!record) return 1;

  // fix.generate with the strategy added to the built-in ones, checked at compile time.
  const auto generate = fx::generate_fix.replace<"generateCodeFix">(fx::basic_generate_code_fix<feature_flag_off>{});
  selfheal::context ctx;
  ctx.store = &*db;
  fx::generate_request req;
  req.repo = repo.string();
  req.diagnosis_record = *record;
  req.strategy = "feature_flag_off";
  auto s = selfheal::run(generate, ctx, std::move(req));
  if (!s) {
    std::fprintf(stderr, "custom_strategy: %s\n", s.error().message().c_str());
    return 1;
  }
  const auto& p = s->patches.front();
  const auto added = p.diff.find("\n+computeTax");
  const auto end = p.diff.find('\n', added + 1);
  std::printf("%s: %s\n", p.strategy.c_str(), p.diff.substr(added + 1, end - added - 1).c_str());
  return 0;
}
