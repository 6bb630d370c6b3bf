#pragma once
/// \file
/// The diagnosis sequence(s), declared beat by beat so that they read like their JSON files.
///
/// ```cpp
/// namespace dx = selfheal::diagnosis;
/// selfheal::context ctx;  ctx.store = &db;
/// dx::analyze_request req;  req.repo = "/path/to/repo";                  // anomaly record: latest
/// auto summary = selfheal::run(dx::analyze_diagnosis, ctx, std::move(req));   // result<analysis_summary>
/// // a user's own fix strategy, checked at compile time:
/// auto mine = dx::analyze_diagnosis.replace<"recommendFixes">(dx::basic_recommend_fixes<my_strategy>{});
/// ```
///
/// Data flow, one type per beat that says what the beat added, so that a reordered sequence does
/// not compile (pinned in tests/compile_fail/reordered_diagnosis.cpp):
/// `analyze_request` → 1 → `validated_request` → 2 → `anomalies_loaded` → 3 → `codebase_loaded`
/// → 4 → `performance_analyzed` → 5 → `behavior_analyzed` → 6 → `coverage_analyzed` → 7 →
/// `errors_analyzed` → 8 → `impact_assessed` → 9 → `fixes_recommended` → 10 → `diagnosis_stored`
/// → 11 → `analysis_summary`. Each type extends the one before it (public base), so a host reads
/// any field it has; `advance_to<T>(x)` moves a state on to a later type explicitly (tests that run
/// one beat alone use it).

#include <algorithm>
#include <chrono>
#include <concepts>
#include <type_traits>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/core/beat.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/diagnosis/analyzers.hpp"
#include "selfheal/diagnosis/codebase.hpp"
#include "selfheal/diagnosis/impact.hpp"
#include "selfheal/diagnosis/input.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/diagnosis/recommend.hpp"
#include "selfheal/diagnosis/store.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"

namespace selfheal::diagnosis {

namespace sh = ::selfheal;

/// What the caller asks for.
struct analyze_request {
  std::filesystem::path repo;                 ///< the monitored repository (a git work tree)
  std::string anomaly_record;                 ///< "anomaly-3"; empty = the latest anomaly record
  std::vector<std::string> anomaly_ids;       ///< only these anomalies (empty = all of the record)
  std::vector<anomaly::anomaly> detected;     ///< given directly (hosts, tests): no store read
  std::vector<anomaly_input> anomalies;       ///< given directly, already in the analyzers' form
  std::string telemetry_record;               ///< adds deploy markers/traffic/errors from it (optional)
  std::filesystem::path coverage_report;      ///< an lcov tracefile for coverage anomalies (optional)
  codebase_options codebase{};
  ranking_weights weights{};
  bool store_result = true;                   ///< false: beat 10 writes nothing (record id stays empty)
};

/// Beat 1's output: a request that passed validation, and the anomaly record asked for.
struct validated_request {
  analyze_request request;
  std::string anomaly_record;
};
/// Beat 2's: the anomalies to explain, with what telemetry and coverage add to them.
struct anomalies_loaded : validated_request {
  std::vector<anomaly_input> anomalies;
};
/// Beat 3's: the repository's index and the strategy priors.
struct codebase_loaded : anomalies_loaded {
  codebase code;
  strategy_priors priors = strategy_priors::defaults();
};
/// Beat 4's: the diagnoses, performance and SLO ones so far.
struct performance_analyzed : codebase_loaded {
  std::vector<diagnosis_item> diagnoses;
};
/// Beat 5's: behavioral diagnoses added.
struct behavior_analyzed : performance_analyzed {};
/// Beat 6's: coverage diagnoses added.
struct coverage_analyzed : behavior_analyzed {};
/// Beat 7's: error diagnoses added: every anomaly has its diagnosis.
struct errors_analyzed : coverage_analyzed {};
/// Beat 8's: each diagnosis has its impact; most severe first.
struct impact_assessed : errors_analyzed {};
/// Beat 9's: each diagnosis has its ranked recommendations.
struct fixes_recommended : impact_assessed {};
/// Beat 10's: the record id (empty when `store_result` is false).
struct diagnosis_stored : fixes_recommended {
  std::string record_id;
};

/// `from` moved on to the later state `To` (its added fields default): for hosts and tests that
/// run a beat alone. `To` must extend `From`.
template <class To, class From>
  requires std::derived_from<To, std::remove_cvref_t<From>>
[[nodiscard]] To advance_to(From&& from) {
  To to;
  static_cast<std::remove_cvref_t<From>&>(to) = std::forward<From>(from);
  return to;
}

/// What the caller gets back.
struct analysis_summary {
  std::string record_id;
  std::string anomaly_record;
  std::vector<diagnosis_item> diagnoses;
  std::size_t symbols = 0;
  std::string symbol_source;
  std::size_t commits = 0;
  std::size_t commits_from_git = 0;
  std::size_t commits_from_cache = 0;
  std::size_t symbol_files_cached = 0;
  std::size_t symbol_files_indexed = 0;
  std::vector<std::string> warnings;
};

namespace detail {
inline bool valid_record_id(std::string_view id) {
  return !id.empty() && id.size() < 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}
}  // namespace detail

// ---- diagnosis.analyze -------------------------------------------------------------------------

/// Beat 1: Validate; anomaly record (default latest); repository path.
struct analyze_requested {
  result<validated_request> operator()(analyze_request req) const {
    if (req.repo.empty()) return fail(errc::invalid_request, "no repository given");
    if (!req.anomaly_record.empty() && !detail::valid_record_id(req.anomaly_record))
      return fail(errc::invalid_request, "anomaly record id '" + req.anomaly_record + "' is malformed (expected e.g. anomaly-3)");
    if (!req.telemetry_record.empty() && !detail::valid_record_id(req.telemetry_record))
      return fail(errc::invalid_request, "telemetry record id '" + req.telemetry_record + "' is malformed");
    if (req.weights.max_suspects == 0) return fail(errc::invalid_request, "max_suspects must be at least 1");
    // Single anomalies name their record ("anomaly-2.1" is of "anomaly-2"): that record is read,
    // whether or not it is the latest.
    if (req.anomalies.empty() && req.detected.empty()) {
      for (const auto& id : req.anomaly_ids) {
        const auto rec = anomaly::record_of_anomaly(id);
        if (!rec) return fail(errc::invalid_request, "anomaly id '" + id + "' is malformed (expected e.g. anomaly-3.1)");
        if (req.anomaly_record.empty()) req.anomaly_record = *rec;
        else if (*rec != req.anomaly_record)
          return fail(errc::invalid_request, "anomaly " + id + " is not of the record " + req.anomaly_record + ": diagnose one record at a time");
      }
    }
    validated_request a;
    a.anomaly_record = req.anomaly_record;
    a.request = std::move(req);
    return a;
  }
};

/// Beat 2: Load the anomalies and the telemetry they came from.
struct load_anomalies {
  result<anomalies_loaded> operator()(validated_request v, context& ctx) const {
    auto a = advance_to<anomalies_loaded>(std::move(v));
    auto& req = a.request;
    a.anomalies = req.anomalies;
    for (const auto& d : req.detected) a.anomalies.push_back(to_input(d));
    std::string telemetry_records = req.telemetry_record;
    if (a.anomalies.empty()) {
      if (!ctx.store) return fail(errc::invalid_request, "no anomalies given and no store to read them from");
      auto stored = load_stored_anomalies(*ctx.store, req.anomaly_record);
      if (!stored) return tl::unexpected(stored.error());
      a.anomaly_record = stored->record_id;
      a.anomalies = std::move(stored->anomalies);
      if (telemetry_records.empty()) telemetry_records = stored->telemetry_records;
      if (a.anomalies.empty()) return a;  // nothing to explain: an empty diagnosis, not a failure
    }
    if (!req.anomaly_ids.empty())
      std::erase_if(a.anomalies, [&](const anomaly_input& x) {
        return std::find(req.anomaly_ids.begin(), req.anomaly_ids.end(), x.id) == req.anomaly_ids.end();
      });
    if (a.anomalies.empty()) return fail(errc::not_found, "none of the requested anomaly ids is in the record");
    if (ctx.store && !telemetry_records.empty()) {
      if (auto r = add_telemetry(*ctx.store, telemetry_records, a.anomalies); !r) return tl::unexpected(r.error());
    }
    if (!req.coverage_report.empty()) {
      auto rep = anomaly::load_lcov_file(req.coverage_report.string());
      if (!rep) return tl::unexpected(rep.error());
      const auto cov = coverage_from_lcov(*rep);
      for (auto& in : a.anomalies)
        if (in.type == "coverage" && in.coverage.empty()) in.coverage = cov;
    }
    return a;
  }
};

/// Beat 3: Index the monitored repository (symbols, tests, sequence files, config files, history).
struct load_codebase_info {
  result<codebase_loaded> operator()(anomalies_loaded in, context& ctx) const {
    auto a = advance_to<codebase_loaded>(std::move(in));
    std::error_code ec;
    if (!std::filesystem::is_directory(a.request.repo, ec))
      return fail(errc::not_found, "repository '" + a.request.repo.string() + "' is not a directory");
    auto cb = load_codebase(a.request.repo, ctx.store, a.request.codebase);
    if (!cb) return tl::unexpected(cb.error());
    a.code = std::move(*cb);
    if (ctx.store) {
      auto p = load_priors(*ctx.store);
      if (!p) return tl::unexpected(p.error());
      a.priors = std::move(*p);
    }
    return a;
  }
};

namespace detail {
/// Runs `f` on every anomaly of the given types, appending its diagnosis (in place: `f` may hold
/// references into `a.code`).
template <class F>
void analyze_type(performance_analyzed& a, std::initializer_list<std::string_view> types, F&& f) {
  for (const auto& in : a.anomalies)
    if (std::find(types.begin(), types.end(), in.type) != types.end()) a.diagnoses.push_back(f(in));
}
}  // namespace detail

/// Beat 4: Locate the handler's code; shift vs tail; suspect commits before the onset, ranked.
struct analyze_performance_issues {
  performance_analyzed operator()(codebase_loaded in) const {
    auto a = advance_to<performance_analyzed>(std::move(in));
    detail::analyze_type(a, {"performance", "slo"},
                         [&](const anomaly_input& in) { return analyze_performance(in, a.code, a.request.weights); });
    return a;
  }
};

/// Beat 5: Which definition or code change explains missing/out-of-order/new beats.
struct analyze_behavioral_issues {
  behavior_analyzed operator()(performance_analyzed in) const {
    auto a = advance_to<behavior_analyzed>(std::move(in));
    detail::analyze_type(a, {"behavioral"},
                         [&](const anomaly_input& in) { return analyze_behavioral(in, a.code, a.request.weights); });
    return a;
  }
};

/// Beat 6: Uncovered lines and branches of the hot handler; which tests exist near it.
struct analyze_coverage_issues {
  coverage_analyzed operator()(behavior_analyzed in) const {
    auto a = advance_to<coverage_analyzed>(std::move(in));
    detail::analyze_type(a, {"coverage"}, [&](const anomaly_input& in) { return analyze_coverage(in, a.code); });
    return a;
  }
};

/// Beat 7: Stack frames / messages → source location; first-seen time vs commits.
struct analyze_error_issues {
  errors_analyzed operator()(coverage_analyzed in) const {
    auto a = advance_to<errors_analyzed>(std::move(in));
    detail::analyze_type(a, {"error"}, [&](const anomaly_input& in) { return analyze_errors(in, a.code, a.request.weights); });
    return a;
  }
};

/// Beat 8: Traffic share, affected sequences, SLO error-budget burn, severity.
struct assess_impact {
  impact_assessed operator()(errors_analyzed in) const {
    auto a = advance_to<impact_assessed>(std::move(in));
    for (auto& d : a.diagnoses)
      for (const auto& in : a.anomalies)
        if (in.id == d.anomaly_id) { d.effect = estimate_impact(in, d, a.code); break; }
    // Most severe first, then most confident.
    auto rank = [](const std::string& s) { return static_cast<int>(parse_severity(s).value_or(anomaly::severity::low)); };
    std::stable_sort(a.diagnoses.begin(), a.diagnoses.end(), [&](const diagnosis_item& x, const diagnosis_item& y) {
      if (rank(x.effect.severity) != rank(y.effect.severity)) return rank(x.effect.severity) > rank(y.effect.severity);
      return x.confidence > y.confidence;
    });
    return a;
  }
};

/// Beat 9: Ranked fix strategies per diagnosis, priors from learning when present. `Extra` are
/// user strategies (models of `fix_strategy`) ranked with the six built-in ones.
template <fix_strategy... Extra>
struct basic_recommend_fixes {
  fixes_recommended operator()(impact_assessed in) const {
    auto a = advance_to<fixes_recommended>(std::move(in));
    for (auto& d : a.diagnoses) d.recommendations = rank_fixes_with_defaults<Extra...>(d, a.code, a.priors);
    return a;
  }
};
struct recommend_fixes : basic_recommend_fixes<> {};

/// Beat 10: One transaction; record id.
struct store_diagnosis {
  result<diagnosis_stored> operator()(fixes_recommended in, context& ctx) const {
    auto a = advance_to<diagnosis_stored>(std::move(in));
    if (!a.request.store_result) return a;
    if (!ctx.store) return fail(errc::invalid_request, "no store to write the diagnosis to");
    run_info info;
    info.anomaly_record = a.anomaly_record;
    info.repo = a.request.repo.string();
    info.head = a.code.git.head;
    info.symbols = a.code.symbols.symbols.size();
    info.symbol_source = a.code.symbols.source;
    info.commits = a.code.git.commits.size();
    info.commits_from_git = a.code.git.read_from_git;
    auto id = store_diagnoses(*ctx.store, info, a.diagnoses, ctx.now());
    if (!id) return tl::unexpected(id.error());
    a.record_id = std::move(*id);
    return a;
  }
};

/// Beat 11: Summary.
struct analyze_completed {
  analysis_summary operator()(diagnosis_stored a) const {
    analysis_summary s;
    s.record_id = std::move(a.record_id);
    s.anomaly_record = std::move(a.anomaly_record);
    s.diagnoses = std::move(a.diagnoses);
    s.symbols = a.code.symbols.symbols.size();
    s.symbol_source = a.code.symbols.source;
    s.commits = a.code.git.commits.size();
    s.commits_from_git = a.code.git.read_from_git;
    s.commits_from_cache = a.code.git.read_from_cache;
    s.symbol_files_cached = a.code.symbols.cached_files;
    s.symbol_files_indexed = a.code.symbols.indexed_files;
    s.warnings = std::move(a.code.warnings);
    return s;
  }
};

/// `self-healing-diagnosis-analyze-symphony` — reads like `sequences/diagnosis.analyze.json`.
inline constexpr auto analyze_diagnosis = sh::sequence<"self-healing-diagnosis-analyze-symphony">(
    // movement: Prepare
    sh::beat<"self-healing:diagnosis:analyze:requested", "analyzeRequested", sh::immediate, sh::pure>(analyze_requested{}),
    sh::beat<"self-healing:diagnosis:load:anomalies", "loadAnomalies", sh::async, sh::stage_crew>(load_anomalies{}),
    sh::beat<"self-healing:diagnosis:load:codebase", "loadCodebaseInfo", sh::async, sh::stage_crew>(load_codebase_info{}),
    // movement: Analyze
    sh::beat<"self-healing:diagnosis:analyze:performance", "analyzePerformanceIssues", sh::immediate, sh::pure>(analyze_performance_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:behavioral", "analyzeBehavioralIssues", sh::immediate, sh::pure>(analyze_behavioral_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:coverage", "analyzeCoverageIssues", sh::immediate, sh::pure>(analyze_coverage_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:errors", "analyzeErrorIssues", sh::immediate, sh::pure>(analyze_error_issues{}),
    // movement: Assess and recommend
    sh::beat<"self-healing:diagnosis:assess:impact", "assessImpact", sh::immediate, sh::pure>(assess_impact{}),
    sh::beat<"self-healing:diagnosis:recommend:fixes", "recommendFixes", sh::immediate, sh::pure>(recommend_fixes{}),
    // movement: Persist and report
    sh::beat<"self-healing:diagnosis:store:diagnosis", "storeDiagnosis", sh::async, sh::stage_crew>(store_diagnosis{}),
    sh::beat<"self-healing:diagnosis:analyze:completed", "analyzeCompleted", sh::immediate, sh::pure>(analyze_completed{}));

}  // namespace selfheal::diagnosis
