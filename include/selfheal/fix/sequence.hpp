#pragma once
/// \file
/// fix.generate, beat by beat, reading like `sequences/fix.generate.json`.
///
/// ```cpp
/// namespace fx = selfheal::fix;
/// selfheal::context ctx;  ctx.store = &db;
/// fx::generate_request req;  req.repo = "/path/to/repo";             // diagnosis record: latest
/// auto s = selfheal::run(fx::generate_fix, ctx, std::move(req));     // result<fx::generate_summary>
/// for (const auto& p : s->patches) std::cout << p.id << " " << p.strategy << "\n" << p.diff;
/// // with a user strategy (a model of fix::fix_strategy), tried with the built-in ones:
/// auto mine = fx::generate_fix.replace<"generateCodeFix">(fx::basic_generate_code_fix<my_strategy>{});
/// ```
///
/// Data flow — each beat hands on a type that says what it added, so a reordered sequence does not
/// compile: `generate_request` → `fix_requested` → `diagnosis_loaded` → `code_generated` →
/// `test_generated` → `docs_generated` → `patch_created` → `syntax_checked` → `patch_stored` →
/// `generate_summary`. Only `loadDiagnosis` and `storePatch` take the context; `loadDiagnosis` reads
/// everything the pure beats need from git's object database (and runs the `[fix] command`);
/// `validateSyntax` runs the language checkers on copies in a private temporary folder.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "selfheal/core/beat.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/diagnosis/input.hpp"
#include "selfheal/diagnosis/report.hpp"
#include "selfheal/diagnosis/store.hpp"
#include "selfheal/fix/edits.hpp"
#include "selfheal/fix/external.hpp"
#include "selfheal/fix/input.hpp"
#include "selfheal/fix/model.hpp"
#include "selfheal/fix/regression.hpp"
#include "selfheal/fix/repository.hpp"
#include "selfheal/fix/store.hpp"
#include "selfheal/fix/strategies.hpp"
#include "selfheal/fix/syntax.hpp"
#include "selfheal/source/settings.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::fix {

namespace sh = ::selfheal;

/// One diagnosis on its way to a patch.
struct draft {
  std::size_t item = 0;  ///< index into `fix_work::diagnoses`
  code_change change;
  regression_test test;
  std::optional<runbook_entry> runbook;
  std::vector<file_edit> edits;  ///< all of them: code, test, runbook
  patch result;
};

/// The state the beats share; each beat wraps it in its own stage type.
struct fix_work {
  generate_request request;
  std::string diagnosis_record;
  std::vector<diagnosis::diagnosis_item> diagnoses;
  std::map<std::string, evidence, std::less<>> production;  ///< by anomaly id
  repo_view repo;
  std::chrono::milliseconds fix_timeout{std::chrono::seconds{600}};
  std::vector<draft> drafts;
  std::vector<skipped_strategy> skipped;
  std::vector<std::string> warnings;
  std::string record_id;
};

/// What a beat hands on: the shared state, tagged with the beat that made it.
template <class Stage>
struct stage {
  fix_work work;
};
using fix_requested = stage<struct fix_requested_tag>;
using diagnosis_loaded = stage<struct diagnosis_loaded_tag>;
using code_generated = stage<struct code_generated_tag>;
using test_generated = stage<struct test_generated_tag>;
using docs_generated = stage<struct docs_generated_tag>;
using patch_created = stage<struct patch_created_tag>;
using syntax_checked = stage<struct syntax_checked_tag>;
using patch_stored = stage<struct patch_stored_tag>;

/// What the caller gets back.
struct generate_summary {
  std::string record_id;
  std::string diagnosis_record;
  std::string base_commit;
  std::vector<patch> patches;
  std::vector<skipped_strategy> skipped;
  std::vector<std::string> warnings;
};

namespace detail {

inline bool valid_id(std::string_view id, bool dots = false) {
  return !id.empty() && id.size() < 128 && std::all_of(id.begin(), id.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || (dots && c == '.');
  });
}

/// The keys of selfheal.toml this sequence reads (through `source::load_settings`, which checks the
/// whole file): `service.main`, `[test] command`, `[fix] command` and `[fix] timeout`. A missing file
/// means HEALING.md's defaults.
struct fix_settings {
  std::string main = "main";
  std::vector<std::string> test_command;
  std::vector<std::string> fix_command;
  std::chrono::milliseconds fix_timeout{std::chrono::seconds{600}};
};

inline result<fix_settings> read_fix_settings(const std::filesystem::path& repo, const std::filesystem::path& config) {
  fix_settings out;
  auto s = source::load_settings(repo, config);
  if (!s) {
    if (s.error().code == errc::not_found && config.empty()) return out;  // no selfheal.toml: defaults
    return tl::unexpected(s.error());
  }
  out.main = s->service.main;
  out.test_command = s->test.command;
  out.fix_command = s->fix.command;
  out.fix_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(s->fix.timeout);
  return out;
}

inline evidence evidence_of(const diagnosis::anomaly_input& in) {
  evidence e;
  e.anomaly_id = in.id;
  e.type = in.type;
  e.baseline_p50_ms = in.baseline_p50;
  e.baseline_p95_ms = in.baseline_p95;
  e.current_p50_ms = in.current_p50;
  e.current_p95_ms = in.current_p95;
  e.error_count = in.error_count;
  e.error_template = in.error_template;
  e.error_samples = in.error_samples;
  return e;
}

inline std::string evidence_json(const diagnosis::diagnosis_item& d, const evidence& ev, const repo_view& repo) {
  std::string out;
  json_writer w(out);
  w.begin_object().member("repo", std::filesystem::absolute(repo.root).string()).member("base_commit", repo.base_commit);
  w.key("production").begin_object()
      .member("anomaly_id", ev.anomaly_id).member("type", ev.type)
      .member("baseline_p50_ms", ev.baseline_p50_ms).member("baseline_p95_ms", ev.baseline_p95_ms)
      .member("current_p50_ms", ev.current_p50_ms).member("current_p95_ms", ev.current_p95_ms)
      .member("error_count", ev.error_count).member("error_template", ev.error_template)
      .end_object();
  w.key("diagnosis");
  diagnosis::write_json(w, d);
  w.end_object();
  return out;
}

}  // namespace detail

// ---- fix.generate ------------------------------------------------------------------------------

/// Beat 1: Validate; diagnosis record; strategy limits.
struct generate_fix_requested {
  result<fix_requested> operator()(generate_request req) const {
    if (!req.diagnosis_record.empty() && !detail::valid_id(req.diagnosis_record))
      return fail(errc::invalid_request, "diagnosis record id '" + req.diagnosis_record + "' is malformed (expected e.g. diagnosis-3)");
    for (const auto& a : req.anomaly_ids)
      if (!detail::valid_id(a, true)) return fail(errc::invalid_request, "anomaly id '" + a + "' is malformed (expected e.g. anomaly-2.1)");
    if (!req.strategy.empty() && !std::all_of(req.strategy.begin(), req.strategy.end(), [](char c) {
          return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
        }))
      return fail(errc::invalid_request, "strategy '" + req.strategy + "' is malformed (e.g. revert, partial_revert, config_change, external)");
    if (req.fix_timeout_ms < 0) return fail(errc::invalid_request, "the fix timeout must not be negative");
    if (!req.main_branch.empty() && (req.main_branch.find("..") != std::string::npos || req.main_branch.front() == '-'))
      return fail(errc::invalid_request, "branch '" + req.main_branch + "' is malformed");
    fix_requested s;
    s.work.request = std::move(req);
    return s;
  }
};

/// Beat 2: Load diagnoses and recommendations, the production evidence, selfheal.toml, and what the
/// pure beats need from the repository at the head of `service.main` (through libgit2's object
/// database: the user's work tree, index, HEAD and refs are not touched).
struct load_diagnosis {
  result<diagnosis_loaded> operator()(fix_requested in, context& ctx) const {
    fix_work& w = in.work;
    auto& req = w.request;
    if (!ctx.store) return fail(errc::invalid_request, "no store to read the diagnosis from");
    auto& db = *ctx.store;
    w.diagnosis_record = req.diagnosis_record;
    if (w.diagnosis_record.empty()) {
      auto latest = diagnosis::latest_diagnosis_record(db);
      if (!latest) {
        auto e = latest.error();
        e.detail += " (run `selfheal diagnose` first)";
        return tl::unexpected(std::move(e));
      }
      w.diagnosis_record = *latest;
    }
    auto items = diagnosis::load_diagnoses(db, w.diagnosis_record);
    if (!items) return tl::unexpected(items.error());
    w.diagnoses = std::move(*items);
    if (!req.anomaly_ids.empty()) {
      std::erase_if(w.diagnoses, [&](const diagnosis::diagnosis_item& d) {
        return std::find(req.anomaly_ids.begin(), req.anomaly_ids.end(), d.anomaly_id) == req.anomaly_ids.end();
      });
      if (w.diagnoses.empty()) return fail(errc::not_found, "none of the requested anomalies is in " + w.diagnosis_record);
    }
    if (w.diagnoses.empty()) return fail(errc::not_found, w.diagnosis_record + " holds no diagnosis to fix");
    // The run: which anomaly record and repository the diagnosis was made from.
    std::string anomaly_record, run_repo;
    {
      auto st = db.prepare("SELECT anomaly_record, repo FROM diagnosis_runs WHERE record_id = ?1");
      if (!st) return tl::unexpected(st.error());
      st->bind(1, w.diagnosis_record);
      auto row = st->step();
      if (!row) return tl::unexpected(row.error());
      if (*row) {
        anomaly_record = st->column_text(0);
        run_repo = st->column_text(1);
      }
    }
    if (!anomaly_record.empty()) {
      auto stored = diagnosis::load_stored_anomalies(db, anomaly_record);
      if (stored) {
        for (const auto& a : stored->anomalies) w.production[a.id] = detail::evidence_of(a);
      } else {
        w.warnings.push_back("production evidence of " + anomaly_record + " could not be read: " + stored.error().detail);
      }
    }
    for (const auto& e : req.production) w.production[e.anomaly_id] = e;
    for (const auto& d : w.diagnoses)
      if (!w.production.contains(d.anomaly_id)) {
        evidence e;
        e.anomaly_id = d.anomaly_id;
        e.type = d.type;
        w.production[d.anomaly_id] = std::move(e);
      }
    // The repository and its settings.
    std::filesystem::path root = req.repo.empty() ? std::filesystem::path(run_repo) : std::filesystem::path(req.repo);
    if (root.empty()) return fail(errc::invalid_request, "no repository given");
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) return fail(errc::not_found, "repository '" + root.string() + "' is not a directory");
    auto settings = detail::read_fix_settings(root, req.config);
    if (!settings) return tl::unexpected(settings.error());
    repo_view& repo = w.repo;
    repo.root = root;
    repo.main_branch = req.main_branch.empty() ? settings->main : req.main_branch;
    repo.test_command = req.test_command.empty() ? settings->test_command : req.test_command;
    const auto fix_command = req.fix_command.empty() ? settings->fix_command : req.fix_command;
    w.fix_timeout = req.fix_timeout_ms > 0 ? std::chrono::milliseconds{req.fix_timeout_ms} : settings->fix_timeout;
    auto base = resolve_commit(root, repo.main_branch);
    if (!base) return tl::unexpected(base.error());
    repo.base_commit = *base;
    auto files = list_files_at(root, repo.base_commit);
    if (!files) return tl::unexpected(files.error());
    repo.files = std::move(*files);
    // Texts the pure beats read: the handlers' files, tests, framework markers, runbooks, configs,
    // and every file a suspect touched.
    std::set<std::string> wanted = {"package.json", "pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "CMakeLists.txt"};
    std::size_t config_files = 0;
    for (const auto& f : repo.files) {
      const auto lang = language_of(f.path);
      if (!f.symlink && is_test_file(f.path, lang)) wanted.insert(f.path);
      if (f.path.ends_with(".md") && f.path.find("runbook") != std::string::npos) wanted.insert(f.path);
      // CMake files: where C++ tests are registered with CTest.
      if ((f.path.ends_with("/CMakeLists.txt") || f.path.ends_with(".cmake")) && !f.symlink) wanted.insert(f.path);
      // Configuration files, for config_change and user strategies (lock files are not configuration).
      if (config_format_of(f.path) != config_format::none && !f.path.ends_with("-lock.json") &&
          !f.path.ends_with(".lock.json") && config_files < 2000) {
        wanted.insert(f.path);
        ++config_files;
      }
    }
    std::set<std::string> suspects;
    for (const auto& d : w.diagnoses) {
      if (d.where) wanted.insert(d.where->file);
      for (const auto& r : d.recommendations) {
        if (!r.file.empty()) wanted.insert(r.file);
        if (!r.commit.empty()) suspects.insert(r.commit);
      }
      if (!d.suspects.empty()) suspects.insert(d.suspects.front().commit);
      for (const auto& s : d.suspects)
        if (!s.file.empty()) wanted.insert(s.file);
    }
    for (const auto& sha : suspects) {
      auto cc = read_commit_change(root, sha);
      if (!cc) {
        w.warnings.push_back("suspect commit " + sha.substr(0, 12) + " could not be read: " + cc.error().detail);
        continue;
      }
      for (const auto& f : cc->files) wanted.insert(f.path);
      revert_outcome rv;
      auto edits = revert_edits(root, cc->commit, repo.base_commit);
      if (edits) rv.edits = std::move(*edits);
      else rv.refusal = edits.error().detail;
      repo.reverts[cc->commit] = std::move(rv);
      repo.commits[cc->commit] = std::move(*cc);
    }
    std::vector<std::string> to_read;
    for (const auto& path : wanted)
      if (repo.has_file(path) && !repo.is_symlink(path)) to_read.push_back(path);
    auto texts = read_files_at(root, repo.base_commit, to_read);
    if (!texts) return tl::unexpected(texts.error());
    repo.texts = std::move(*texts);
    // The external fixer, when configured and wanted.
    if (!fix_command.empty() && (req.strategy.empty() || req.strategy == external_fix::name)) {
      for (const auto& d : w.diagnoses) {
        auto out = run_external_fixer(repo, fix_command, w.fix_timeout, detail::evidence_json(d, w.production[d.anomaly_id], repo));
        if (!out) return tl::unexpected(out.error());
        repo.external[d.anomaly_id] = std::move(*out);
      }
    }
    return diagnosis_loaded{std::move(w)};
  }
};

/// Beat 3: Apply the top strategy: full or partial revert of the suspect change, configuration
/// change, or a user-supplied strategy (`Extra...`, models of `fix::fix_strategy`). The recommended
/// code strategies are tried in the diagnosis's order (or only `--strategy`); `external` last when a
/// `[fix] command` is configured. Each refusal is kept with its reason.
template <fix_strategy... Extra>
struct basic_generate_code_fix {
  result<code_generated> operator()(diagnosis_loaded in) const {
    fix_work& w = in.work;
    const auto& req = w.request;
    if (!req.strategy.empty() && !is_code_strategy<Extra...>(req.strategy))
      return fail(errc::invalid_request, "unknown fix strategy '" + req.strategy + "'");
    for (std::size_t i = 0; i < w.diagnoses.size(); ++i) {
      const auto& d = w.diagnoses[i];
      std::vector<std::pair<std::string, const diagnosis::recommendation*>> order;
      auto add = [&](const std::string& name, const diagnosis::recommendation* rec) {
        for (const auto& o : order)
          if (o.first == name) return;
        order.emplace_back(name, rec);
      };
      auto rec_for = [&](std::string_view name) -> const diagnosis::recommendation* {
        for (const auto& r : d.recommendations)
          if (r.strategy == name) return &r;
        return nullptr;
      };
      if (!req.strategy.empty()) {
        add(req.strategy, rec_for(req.strategy));
      } else {
        for (const auto& r : d.recommendations)
          if (is_code_strategy<Extra...>(r.strategy) && r.strategy != external_fix::name) add(r.strategy, &r);
        // A suspect that only changed configuration: config_change even when not recommended.
        if (!d.suspects.empty()) add(std::string(config_change_fix::name), rec_for(config_change_fix::name));
        if (w.repo.external.contains(d.anomaly_id)) add(std::string(external_fix::name), nullptr);
      }
      const evidence& ev = w.production[d.anomaly_id];
      bool done = false;
      for (const auto& [name, rec] : order) {
        strategy_input si{d, rec, ev, w.repo};
        auto c = run_strategy<Extra...>(name, si);
        if (!c) {
          w.skipped.push_back({d.anomaly_id, d.handler, name, c.error().detail});
          continue;
        }
        if (auto conf = confine_edits(c->edits, w.repo); !conf) {
          w.skipped.push_back({d.anomaly_id, d.handler, name, conf.error().detail});
          continue;
        }
        draft dr;
        dr.item = i;
        dr.change = std::move(*c);
        w.drafts.push_back(std::move(dr));
        done = true;
        break;
      }
      if (!done && order.empty())
        w.skipped.push_back({d.anomaly_id, d.handler, req.strategy.empty() ? std::string("(none)") : req.strategy,
                             "no code strategy is recommended for this diagnosis"});
    }
    if (w.drafts.empty()) {
      std::string why;
      for (const auto& s : w.skipped) why += (why.empty() ? "" : "; ") + s.anomaly_id + " " + s.strategy + ": " + s.reason;
      return fail(errc::failed, "no strategy produced a patch (" + why + ")");
    }
    return code_generated{std::move(w)};
  }
};
struct generate_code_fix : basic_generate_code_fix<> {};

/// Beat 4: A regression test from production evidence, in the repository's test framework.
struct generate_test_fix {
  test_generated operator()(code_generated in) const {
    fix_work& w = in.work;
    for (auto& dr : w.drafts) {
      const auto& d = w.diagnoses[dr.item];
      dr.test = make_regression_test(d, w.production[d.anomaly_id], w.repo);
      if (!dr.test.path.empty() && w.repo.has_file(dr.test.path)) {
        dr.test.notes.push_back("no regression test: " + dr.test.path + " already exists");
        dr.test.path.clear();
        dr.test.text.clear();
      }
    }
    return test_generated{std::move(w)};
  }
};

/// Beat 5: Runbook / changelog entry: symptom, cause, fix, evidence.
struct generate_documentation_fix {
  docs_generated operator()(test_generated in) const {
    fix_work& w = in.work;
    for (auto& dr : w.drafts) {
      const auto& d = w.diagnoses[dr.item];
      dr.runbook = make_runbook(d, w.production[d.anomaly_id], w.repo, dr.change, dr.test);
    }
    return docs_generated{std::move(w)};
  }
};

/// Beat 6: One unified diff (git-apply compatible) of all changes; paths confined to the repository.
struct create_patch {
  result<patch_created> operator()(docs_generated in) const {
    fix_work& w = in.work;
    std::vector<draft> kept;
    for (auto& dr : w.drafts) {
      const auto& d = w.diagnoses[dr.item];
      dr.edits = dr.change.edits;
      auto touches = [&](const std::string& path) {
        return std::any_of(dr.edits.begin(), dr.edits.end(), [&](const file_edit& e) { return e.path == path; });
      };
      if (!dr.test.path.empty() && !touches(dr.test.path)) {
        dr.edits.push_back({dr.test.path, std::nullopt, dr.test.text});
        for (const auto& reg : dr.test.registration)
          if (!touches(reg.path)) dr.edits.push_back(reg);
      }
      if (dr.runbook && !touches(dr.runbook->path)) dr.edits.push_back({dr.runbook->path, dr.runbook->before, dr.runbook->after});
      if (auto conf = confine_edits(dr.edits, w.repo); !conf) {
        w.skipped.push_back({d.anomaly_id, d.handler, dr.change.strategy, conf.error().detail});
        continue;
      }
      auto diff = unified_diff(dr.edits);
      if (!diff) return tl::unexpected(diff.error());
      patch& p = dr.result;
      p.anomaly_id = d.anomaly_id;
      p.anomaly_type = d.type;
      p.handler = d.handler;
      p.strategy = dr.change.strategy;
      p.suspect_commit = dr.change.suspect_commit;
      p.base_commit = w.repo.base_commit;
      p.diff = std::move(*diff);
      p.test_framework = std::string(to_string(dr.test.framework));
      if (!dr.test.path.empty()) p.tests_added.push_back(dr.test.path);
      if (dr.runbook) p.docs_added.push_back(dr.runbook->path);
      p.notes = dr.change.notes;
      p.notes.insert(p.notes.begin(), dr.change.description);
      for (const auto& n : dr.test.notes) p.notes.push_back(n);
      for (const auto& e : dr.edits) {
        if (e.before == e.after) continue;
        auto st = edit_stat(e);
        if (!st) return tl::unexpected(st.error());
        p.files.push_back(std::move(*st));
      }
      kept.push_back(std::move(dr));
    }
    w.drafts = std::move(kept);
    if (w.drafts.empty()) return fail(errc::policy_denied, "every patch was refused (paths outside the repository)");
    return patch_created{std::move(w)};
  }
};

/// Beat 7: Each changed file parses (per-language check command; JSON/YAML/TOML parsed in process).
/// A patch with a file that does not parse is refused (kept under "skipped" with the checker's words).
struct validate_syntax {
  result<syntax_checked> operator()(patch_created in) const {
    fix_work& w = in.work;
    std::vector<draft> kept;
    for (auto& dr : w.drafts) {
      dr.result.syntax = check_syntax(dr.edits, w.repo);
      std::string bad;
      for (const auto& c : dr.result.syntax)
        if (!c.ok) bad += (bad.empty() ? "" : "; ") + c.path + " (" + c.tool + "): " + c.message;
      if (!bad.empty()) {
        const auto& d = w.diagnoses[dr.item];
        w.skipped.push_back({d.anomaly_id, d.handler, dr.change.strategy, "the patch does not parse: " + bad});
        continue;
      }
      kept.push_back(std::move(dr));
    }
    w.drafts = std::move(kept);
    if (w.drafts.empty()) {
      std::string why;
      for (const auto& s : w.skipped) why += (why.empty() ? "" : "; ") + s.strategy + ": " + s.reason;
      return fail(errc::failed, "no patch passed the syntax check (" + why + ")");
    }
    return syntax_checked{std::move(w)};
  }
};

/// Beat 8: One transaction; record id.
struct store_patch {
  result<patch_stored> operator()(syntax_checked in, context& ctx) const {
    fix_work& w = in.work;
    if (w.request.store_result) {
      if (!ctx.store) return fail(errc::invalid_request, "no store to write the fix to");
      std::vector<patch> ps;
      for (const auto& dr : w.drafts) ps.push_back(dr.result);
      auto id = store_patches(*ctx.store, {w.diagnosis_record, w.repo.root.string(), w.repo.base_commit}, ps, w.skipped, ctx.now());
      if (!id) return tl::unexpected(id.error());
      w.record_id = *id;
      for (std::size_t i = 0; i < ps.size(); ++i) w.drafts[i].result = std::move(ps[i]);
    }
    return patch_stored{std::move(w)};
  }
};

/// Beat 9: Summary.
struct generate_fix_completed {
  generate_summary operator()(patch_stored in) const {
    fix_work& w = in.work;
    generate_summary s;
    s.record_id = std::move(w.record_id);
    s.diagnosis_record = std::move(w.diagnosis_record);
    s.base_commit = w.repo.base_commit;
    for (auto& dr : w.drafts) s.patches.push_back(std::move(dr.result));
    s.skipped = std::move(w.skipped);
    s.warnings = std::move(w.warnings);
    return s;
  }
};

/// `self-healing-fix-generate-symphony` — reads like `sequences/fix.generate.json`.
inline constexpr auto generate_fix = sh::sequence<"self-healing-fix-generate-symphony", generate_request>(
    // movement: Prepare
    sh::beat<"self-healing:fix:generate:requested", "generateFixRequested", sh::immediate, sh::pure>(generate_fix_requested{}),
    sh::beat<"self-healing:fix:load:diagnosis", "loadDiagnosis", sh::async, sh::stage_crew>(load_diagnosis{}),
    // movement: Generate
    sh::beat<"self-healing:fix:generate:code", "generateCodeFix", sh::immediate, sh::pure>(generate_code_fix{}),
    sh::beat<"self-healing:fix:generate:test", "generateTestFix", sh::immediate, sh::pure>(generate_test_fix{}),
    sh::beat<"self-healing:fix:generate:documentation", "generateDocumentationFix", sh::immediate, sh::pure>(generate_documentation_fix{}),
    // movement: Patch and check
    sh::beat<"self-healing:fix:create:patch", "createPatch", sh::immediate, sh::pure>(create_patch{}),
    sh::beat<"self-healing:fix:validate:syntax", "validateSyntax", sh::immediate, sh::pure>(validate_syntax{}),
    // movement: Persist and report
    sh::beat<"self-healing:fix:store:patch", "storePatch", sh::async, sh::stage_crew>(store_patch{}),
    sh::beat<"self-healing:fix:generate:completed", "generateFixCompleted", sh::immediate, sh::pure>(generate_fix_completed{}));

}  // namespace selfheal::fix
