#pragma once
/// \file
/// The diagnosis tables of the store and their one-transaction writer / reader.
///
/// Schema (component "diagnosis", migration 2; `diagnosis_migrations` and `migrate_diagnosis` are in history.hpp):
///
/// | table | one row per | columns |
/// |---|---|---|
/// | `diagnosis_runs` | run (= record "diagnosis-N") | `record_id`, `anomaly_record`, `repo`, `head`, `symbols`, `symbol_source`, `commits`, `commits_from_git`, `created_at_ns` |
/// | `diagnosis_items` | diagnosis | `record_id`, `idx`, `anomaly_id`, `type`, `handler`, `root_cause`, `confidence`, `file`, `line`, `end_line`, `symbol` (NULLs when not located), `shape`, `severity`, `traffic_share`, `slo_budget_burn`, `sequences` (\n-joined), `evidence` (\n-joined), `json` (the item as `diagnose --json` prints it) |
/// | `diagnosis_suspects` | suspect commit | `record_id`, `item_idx`, `rank` (1 = top), `commit_id` (full sha), `summary`, `author`, `time` (s), `score`, `in_release`, `overlaps`, `file`, `hunks` ("os,ol,ns,nl;…"), `reasons` (\n-joined) |
/// | `diagnosis_recommendations` | recommendation | `record_id`, `item_idx`, `priority`, `strategy`, `expected_benefit`, `rationale`, `commit_id`, `file`, `config_key`, `hunks` |
///
/// The git history cache (`diagnosis_git_*`, migration 1) is in history.hpp; the symbol cache
/// (`diagnosis_symbol_files`, `diagnosis_symbols`: ctags results per file keyed by size and
/// mtime, migration 3) in codebase.hpp.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/diagnosis/history.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/diagnosis/report.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"

namespace selfheal::diagnosis {

inline constexpr std::string_view record_kind = "diagnosis";


namespace detail {

inline std::string encode_hunks(const std::vector<hunk>& hs) {
  std::string s;
  for (std::size_t i = 0; i < hs.size(); ++i) {
    if (i) s += ';';
    s += std::to_string(hs[i].old_start) + ',' + std::to_string(hs[i].old_lines) + ',' + std::to_string(hs[i].new_start) +
         ',' + std::to_string(hs[i].new_lines);
  }
  return s;
}
inline std::vector<hunk> decode_hunks(const std::string& s) {
  std::vector<hunk> out;
  if (s.empty()) return out;
  // "os,ol,ns,nl;os,ol,ns,nl…", read directly.
  std::size_t p = 0;
  while (p < s.size()) {
    auto semi = s.find(';', p);
    if (semi == std::string::npos) semi = s.size();
    std::uint32_t v[4] = {0, 0, 0, 0};
    std::size_t k = 0;
    for (std::size_t i = p; i < semi && k < 4; ++i) {
      if (s[i] == ',') ++k;
      else if (s[i] >= '0' && s[i] <= '9') v[k] = v[k] * 10 + static_cast<std::uint32_t>(s[i] - '0');
    }
    out.push_back(hunk{v[0], v[1], v[2], v[3]});
    p = semi + 1;
  }
  return out;
}

}  // namespace detail

/// What a diagnosis run stores about its inputs.
struct run_info {
  std::string anomaly_record;  ///< may be empty (anomalies given directly)
  std::string repo;
  std::string head;
  std::size_t symbols = 0;
  std::string symbol_source;
  std::size_t commits = 0;
  std::size_t commits_from_git = 0;
};

/// One transaction: a `records` row ("diagnosis-N", parent = the anomaly record when it is one),
/// the run, its items, suspects and recommendations. Returns the record id; on error nothing is written.
[[nodiscard]] inline result<std::string> store_diagnoses(store::database& db, const run_info& run,
                                                         const std::vector<diagnosis_item>& items, time_point now) {
  if (auto r = migrate_diagnosis(db); !r) return tl::unexpected(r.error());
  store::transaction tx(db);
  std::optional<std::string_view> parent;
  if (!run.anomaly_record.empty()) {
    auto exists = store::record_exists(db, run.anomaly_record);
    if (!exists) return tl::unexpected(exists.error());
    if (*exists) parent = run.anomaly_record;
  }
  const std::string summary = std::to_string(items.size()) + " diagnoses";
  auto id = store::create_record(db, record_kind, now, parent, summary);
  if (!id) return tl::unexpected(id.error());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  auto r1 = db.prepare(
      "INSERT INTO diagnosis_runs(record_id, anomaly_record, repo, head, symbols, symbol_source, commits, "
      "commits_from_git, created_at_ns) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  if (!r1) return tl::unexpected(r1.error());
  r1->bind(1, *id).bind(2, run.anomaly_record).bind(3, run.repo).bind(4, run.head)
      .bind(5, static_cast<std::int64_t>(run.symbols)).bind(6, run.symbol_source)
      .bind(7, static_cast<std::int64_t>(run.commits)).bind(8, static_cast<std::int64_t>(run.commits_from_git))
      .bind(9, static_cast<std::int64_t>(ns));
  if (auto r = r1->exec(); !r) return tl::unexpected(r.error());
  auto it = db.prepare(
      "INSERT INTO diagnosis_items(record_id, idx, anomaly_id, type, handler, root_cause, confidence, file, line, "
      "end_line, symbol, shape, severity, traffic_share, slo_budget_burn, sequences, evidence, json) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)");
  auto su = db.prepare(
      "INSERT INTO diagnosis_suspects(record_id, item_idx, rank, commit_id, summary, author, time, score, in_release, "
      "overlaps, file, hunks, reasons) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  auto re = db.prepare(
      "INSERT INTO diagnosis_recommendations(record_id, item_idx, priority, strategy, expected_benefit, rationale, "
      "commit_id, file, config_key, hunks, old_value, new_value) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
  if (!it) return tl::unexpected(it.error());
  if (!su) return tl::unexpected(su.error());
  if (!re) return tl::unexpected(re.error());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& d = items[i];
    const auto idx = static_cast<std::int64_t>(i);
    std::string json;
    json_writer w(json);
    write_json(w, d);
    it->bind(1, *id).bind(2, idx).bind(3, d.anomaly_id).bind(4, d.type).bind(5, d.handler).bind(6, d.root_cause)
        .bind(7, d.confidence);
    if (d.where) {
      it->bind(8, d.where->file).bind(9, static_cast<std::int64_t>(d.where->line))
          .bind(10, static_cast<std::int64_t>(d.where->end_line)).bind(11, d.where->symbol);
    } else {
      it->bind_null(8).bind_null(9).bind_null(10).bind_null(11);
    }
    it->bind(12, d.shape).bind(13, d.effect.severity).bind(14, d.effect.traffic_share).bind(15, d.effect.slo_budget_burn)
        .bind(16, store::join_nl(d.effect.sequences)).bind(17, store::join_nl(d.evidence)).bind(18, json);
    if (auto r = it->exec(); !r) return tl::unexpected(r.error());
    for (std::size_t k = 0; k < d.suspects.size(); ++k) {
      const auto& s = d.suspects[k];
      su->bind(1, *id).bind(2, idx).bind(3, static_cast<std::int64_t>(k + 1)).bind(4, s.commit).bind(5, s.summary)
          .bind(6, s.author).bind(7, s.time).bind(8, s.score).bind(9, static_cast<std::int64_t>(s.in_release_range))
          .bind(10, static_cast<std::int64_t>(s.overlaps)).bind(11, s.file).bind(12, detail::encode_hunks(s.target_hunks))
          .bind(13, store::join_nl(s.reasons));
      if (auto r = su->exec(); !r) return tl::unexpected(r.error());
    }
    for (const auto& rc : d.recommendations) {
      re->bind(1, *id).bind(2, idx).bind(3, static_cast<std::int64_t>(rc.priority)).bind(4, rc.strategy)
          .bind(5, rc.expected_benefit).bind(6, rc.rationale).bind(7, rc.commit).bind(8, rc.file).bind(9, rc.key)
          .bind(10, detail::encode_hunks(rc.hunks)).bind(11, rc.old_value).bind(12, rc.new_value);
      if (auto r = re->exec(); !r) return tl::unexpected(r.error());
    }
  }
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return *id;
}

/// The newest diagnosis record, or `errc::not_found`.
[[nodiscard]] inline result<std::string> latest_diagnosis_record(store::database& db) {
  return store::latest_record(db, record_kind);
}

/// What `store_diagnoses` wrote: items with location, suspects and recommendations (for fix.generate).
[[nodiscard]] inline result<std::vector<diagnosis_item>> load_diagnoses(store::database& db, std::string_view record_id) {
  if (auto r = migrate_diagnosis(db); !r) return tl::unexpected(r.error());
  auto ok = store::record_exists(db, record_id, record_kind);
  if (!ok) return tl::unexpected(ok.error());
  if (!*ok) return fail(errc::not_found, "no diagnosis record '" + std::string(record_id) + "'");
  const auto by_record = [&](store::statement& q) { q.bind(1, record_id); };
  auto items = db.query(
      "SELECT anomaly_id, type, handler, root_cause, confidence, file, line, end_line, symbol, shape, severity, "
      "traffic_share, slo_budget_burn, sequences, evidence FROM diagnosis_items WHERE record_id = ?1 ORDER BY idx",
      by_record, [](const store::statement& st) {
        diagnosis_item d;
        d.anomaly_id = st.column_text(0);
        d.type = st.column_text(1);
        d.handler = st.column_text(2);
        d.root_cause = st.column_text(3);
        d.confidence = st.column_double(4);
        if (!st.is_null(5))
          d.where = location{st.column_text(5), static_cast<std::uint32_t>(st.column_int(6)),
                             static_cast<std::uint32_t>(st.column_int(7)), st.column_text(8)};
        d.shape = st.column_text(9);
        d.effect.severity = st.column_text(10);
        d.effect.traffic_share = st.column_double(11);
        d.effect.slo_budget_burn = st.column_double(12);
        d.effect.sequences = store::split_nl(st.column_text(13));
        d.evidence = store::split_nl(st.column_text(14));
        return d;
      });
  if (!items) return tl::unexpected(items.error());
  auto suspects = db.each(
      "SELECT item_idx, commit_id, summary, author, time, score, in_release, overlaps, file, hunks, reasons "
      "FROM diagnosis_suspects WHERE record_id = ?1 ORDER BY item_idx, rank",
      by_record, [&](const store::statement& su) {
        const auto idx = static_cast<std::size_t>(su.column_int(0));
        if (idx >= items->size()) return;
        suspect_commit s;
        s.commit = su.column_text(1);
        s.summary = su.column_text(2);
        s.author = su.column_text(3);
        s.time = su.column_int(4);
        s.score = su.column_double(5);
        s.in_release_range = su.column_int(6) != 0;
        s.overlaps = su.column_int(7) != 0;
        s.file = su.column_text(8);
        s.target_hunks = detail::decode_hunks(su.column_text(9));
        s.reasons = store::split_nl(su.column_text(10));
        (*items)[idx].suspects.push_back(std::move(s));
      });
  if (!suspects) return tl::unexpected(suspects.error());
  auto recommendations = db.each(
      "SELECT item_idx, priority, strategy, expected_benefit, rationale, commit_id, file, config_key, hunks, old_value, new_value "
      "FROM diagnosis_recommendations WHERE record_id = ?1 ORDER BY item_idx, priority",
      by_record, [&](const store::statement& re) {
        const auto idx = static_cast<std::size_t>(re.column_int(0));
        if (idx >= items->size()) return;
        recommendation r;
        r.priority = static_cast<int>(re.column_int(1));
        r.strategy = re.column_text(2);
        r.expected_benefit = re.column_double(3);
        r.rationale = re.column_text(4);
        r.commit = re.column_text(5);
        r.file = re.column_text(6);
        r.key = re.column_text(7);
        r.hunks = detail::decode_hunks(re.column_text(8));
        r.old_value = re.column_text(9);
        r.new_value = re.column_text(10);
        (*items)[idx].recommendations.push_back(std::move(r));
      });
  if (!recommendations) return tl::unexpected(recommendations.error());
  return std::move(*items);
}

}  // namespace selfheal::diagnosis
