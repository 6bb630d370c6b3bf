#pragma once
/// \file
/// Code strategies: from a diagnosis to the edits of a fix. Pure: each reads only its
/// `strategy_input` (the repository was read by `loadDiagnosis`).
///
/// ## The `fix_strategy` concept (fix layer)
///
/// `fix::fix_strategy<S>` refines `diagnosis::fix_strategy<S>` (a `name` and a `propose` that ranks
/// the strategy in `diagnose`): `s.generate(in)` (const) takes a `strategy_input` and returns
/// `result<code_change>` — the edits, or an error whose message says why the strategy does not apply
/// (the strategy is then skipped with that reason and the next one is tried).
/// Laws: `generate` is pure (no I/O); `code_change::strategy == S::name`; every edit's `before` is the
/// file at `in.repo.base_commit` (or nullopt for a new file).
///
/// Models: `revert_fix`, `partial_revert_fix`, `config_change_fix`, `external_fix`.
/// A compiled user example: `examples/custom_strategy.cpp`.
///
/// ```cpp
/// struct feature_flag_off : selfheal::diagnosis::config_change_strategy {  // reuses propose()
///   static constexpr std::string_view name = "feature_flag_off";
///   selfheal::result<selfheal::fix::code_change> generate(const selfheal::fix::strategy_input& in) const;
/// };
/// auto gen = selfheal::fix::generate_fix.replace<"generateCodeFix">(selfheal::fix::basic_generate_code_fix<feature_flag_off>{});
/// ```

#include <algorithm>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "selfheal/core/result.hpp"
#include "selfheal/diagnosis/recommend.hpp"
#include "selfheal/fix/config_edit.hpp"
#include "selfheal/fix/edits.hpp"
#include "selfheal/fix/input.hpp"

namespace selfheal::fix {

template <class S>
concept fix_strategy = diagnosis::fix_strategy<S> && requires(const S& s, const strategy_input& in) {
  { s.generate(in) } -> std::same_as<result<code_change>>;
};

namespace detail {

inline std::string short_sha(std::string_view sha) { return std::string(sha.substr(0, 7)); }

/// The commit a code strategy undoes: the recommendation's, else the top suspect's.
inline std::string suspect_of(const strategy_input& in) {
  if (in.recommendation && !in.recommendation->commit.empty()) return in.recommendation->commit;
  if (!in.item.suspects.empty()) return in.item.suspects.front().commit;
  return {};
}

}  // namespace detail

/// `revert`: the whole suspect commit, three-way onto the base (made by `loadDiagnosis` with libgit2;
/// a conflict is a refusal naming the files).
struct revert_fix : diagnosis::revert_strategy {
  [[nodiscard]] result<code_change> generate(const strategy_input& in) const {
    const std::string sha = detail::suspect_of(in);
    if (sha.empty()) return fail(errc::not_found, "no suspect commit to revert");
    auto it = in.repo.reverts.find(sha);
    if (it == in.repo.reverts.end()) return fail(errc::not_found, "commit " + detail::short_sha(sha) + " was not read");
    if (!it->second.refusal.empty()) return fail(errc::failed, it->second.refusal);
    if (it->second.edits.empty())
      return fail(errc::failed, "reverting " + detail::short_sha(sha) + " changes nothing on the base (already undone?)");
    code_change c;
    c.strategy = std::string(name);
    c.suspect_commit = sha;
    const auto* cc = in.repo.commit(sha);
    c.description = "revert " + detail::short_sha(sha) + (cc ? " (" + cc->summary + ")" : std::string{});
    c.edits = it->second.edits;
    return c;
  }
};

/// `partial_revert`: only the suspect's hunks inside the handler's line range, reversed against the
/// current file (found again when later commits moved them; a hunk that no longer matches refuses).
/// The commit's other changes stay.
struct partial_revert_fix : diagnosis::partial_revert_strategy {
  [[nodiscard]] result<code_change> generate(const strategy_input& in) const {
    const std::string sha = detail::suspect_of(in);
    if (sha.empty()) return fail(errc::not_found, "no suspect commit to revert in part");
    const auto* cc = in.repo.commit(sha);
    if (!cc) return fail(errc::not_found, "commit " + detail::short_sha(sha) + " was not read");
    if (!in.item.where) return fail(errc::not_found, "the handler " + in.item.handler + " was not located in the code");
    const auto& where = *in.item.where;
    // The file as the suspect commit named it (a later rename keeps `where.file`).
    std::string suspect_file = in.recommendation && !in.recommendation->file.empty() ? in.recommendation->file : where.file;
    for (const auto& s : in.item.suspects)
      if (s.commit == sha && !s.file.empty()) suspect_file = s.file;
    const file_edit* change = nullptr;
    for (const auto& f : cc->files)
      if (f.path == suspect_file) change = &f;
    if (!change || !change->before || !change->after)
      return fail(errc::failed, "commit " + detail::short_sha(sha) + " did not modify " + suspect_file + " (nothing to revert in part)");
    const std::string* current = in.repo.text(where.file);
    if (!current) return fail(errc::not_found, where.file + " does not exist on the base commit");
    auto hunks = line_hunks(*change->before, *change->after);
    if (!hunks) return tl::unexpected(hunks.error());
    // Which hunks: those the diagnosis found inside the handler (its own numbering), else all that
    // can be found inside the handler's current range.
    std::vector<diagnosis::hunk> wanted;
    if (in.recommendation) wanted = in.recommendation->hunks;
    if (wanted.empty())
      for (const auto& s : in.item.suspects)
        if (s.commit == sha) wanted = s.target_hunks;
    std::vector<line_hunk> chosen;
    for (const auto& h : *hunks) {
      if (wanted.empty()) { chosen.push_back(h); continue; }
      const bool match = std::any_of(wanted.begin(), wanted.end(), [&](const diagnosis::hunk& w) {
        return w.new_start == h.new_start && w.new_lines == h.new_lines && w.old_lines == h.old_lines;
      });
      if (match) chosen.push_back(h);
    }
    if (chosen.empty())
      return fail(errc::failed, "none of the hunks of " + detail::short_sha(sha) + " in " + suspect_file +
                                    " falls inside " + in.item.handler);
    std::optional<line_range> range;
    if (where.line > 0 && where.end_line >= where.line) range = line_range{where.line, where.end_line};
    auto back = reverse_hunks(*current, *change->after, chosen, wanted.empty() ? range : range);
    if (!back) {
      auto e = back.error();
      e.detail = where.file + ": " + e.detail;
      return tl::unexpected(std::move(e));
    }
    if (back->text == *current) return fail(errc::failed, "reverting the hunks changes nothing in " + where.file);
    code_change c;
    c.strategy = std::string(name);
    c.suspect_commit = sha;
    c.description = "revert the " + std::to_string(chosen.size()) + " hunk(s) of " + detail::short_sha(sha) + " (" +
                    cc->summary + ") inside " + in.item.handler + ", keeping its other changes";
    c.edits.push_back({where.file, *current, back->text});
    c.notes = std::move(back->notes);
    return c;
  }
};

/// `config_change`: one value in a TOML/YAML/JSON/.env file, spliced at the value's byte range
/// (format and comments kept). The value restored is the one before the suspect commit changed it.
struct config_change_fix : diagnosis::config_change_strategy {
  [[nodiscard]] result<code_change> generate(const strategy_input& in) const {
    struct target {
      std::string file, key, value, commit;
    };
    std::vector<target> targets;
    const auto* rec = in.recommendation;
    // The suspects' own config changes: a key they changed that still has their value.
    auto from_commit = [&](const std::string& sha, const std::string& only_file, const std::string& only_key) {
      const auto* cc = in.repo.commit(sha);
      if (!cc) return;
      for (const auto& f : cc->files) {
        const auto fmt = config_format_of(f.path);
        if (fmt == config_format::none || !f.before || !f.after) continue;
        if (!only_file.empty() && f.path != only_file) continue;
        auto diffs = config_differences(*f.before, *f.after, fmt);
        if (!diffs) continue;
        for (const auto& d : *diffs)
          if (!d.added && (only_key.empty() || d.key == only_key)) targets.push_back({f.path, d.key, d.before, sha});
      }
    };
    if (rec && !rec->file.empty() && !rec->key.empty()) {
      for (const auto& s : in.item.suspects) from_commit(s.commit, rec->file, rec->key);
      if (targets.empty() && !rec->commit.empty()) from_commit(rec->commit, rec->file, rec->key);
      if (targets.empty())
        return fail(errc::failed, "no suspect commit changed " + rec->key + " in " + rec->file +
                                      ": no earlier value to restore");
    } else {
      for (const auto& s : in.item.suspects) from_commit(s.commit, "", "");
      if (targets.empty()) return fail(errc::failed, "no suspect commit changed a configuration value");
    }
    for (const auto& t : targets) {
      const std::string* current = in.repo.text(t.file);
      if (!current) continue;
      const auto fmt = config_format_of(t.file);
      auto now = find_config_value(*current, fmt, t.key, t.file);
      if (!now || now->value == t.value) continue;  // gone, or already restored
      auto out = set_config_value(*current, fmt, t.key, t.value, t.file);
      if (!out) return tl::unexpected(out.error());
      code_change c;
      c.strategy = std::string(name);
      c.suspect_commit = t.commit;
      c.description = "restore " + t.key + " in " + t.file + " from " + now->value + " to " + t.value +
                      " (its value before " + detail::short_sha(t.commit) + ")";
      c.edits.push_back({t.file, *current, std::move(*out)});
      return c;
    }
    return fail(errc::failed, "the configuration values the suspects changed are already back (or gone) on the base");
  }
};

/// `external`: the `[fix] command` of selfheal.toml. `loadDiagnosis` ran it (argv, time limit, its own
/// process group, a clean checkout as cwd, the diagnosis as JSON in `{evidence_file}`) and applied the
/// diff it printed to the base in memory; garbage, a hang or a diff that does not apply is a refusal.
struct external_fix {
  static constexpr std::string_view name = "external";
  [[nodiscard]] std::optional<diagnosis::recommendation> propose(const diagnosis::diagnosis_item&,
                                                                 const diagnosis::codebase&) const {
    return std::nullopt;  // not ranked by diagnose: used when configured
  }
  [[nodiscard]] result<code_change> generate(const strategy_input& in) const {
    auto it = in.repo.external.find(in.item.anomaly_id);
    if (it == in.repo.external.end()) return fail(errc::not_found, "no [fix] command is configured");
    if (!it->second.refusal.empty()) return fail(errc::failed, it->second.refusal);
    code_change c;
    c.strategy = std::string(name);
    c.description = "the diff printed by " + it->second.command;
    c.edits = it->second.edits;
    return c;
  }
};

static_assert(fix_strategy<revert_fix>, "revert_fix must model fix::fix_strategy");
static_assert(fix_strategy<partial_revert_fix>);
static_assert(fix_strategy<config_change_fix>);
static_assert(fix_strategy<external_fix>);

/// Whether `name` is one of the code strategies `Extra...` or the built-in ones.
template <fix_strategy... Extra>
[[nodiscard]] bool is_code_strategy(std::string_view name) {
  return name == revert_fix::name || name == partial_revert_fix::name || name == config_change_fix::name ||
         name == external_fix::name || ((name == Extra::name) || ...);
}

/// Runs the strategy called `name` (built-in or one of `Extra...`).
template <fix_strategy... Extra>
[[nodiscard]] result<code_change> run_strategy(std::string_view name, const strategy_input& in) {
  std::optional<result<code_change>> out;
  ((name == Extra::name && !out ? (out.emplace(Extra{}.generate(in)), 0) : 0), ...);
  if (out) return std::move(*out);
  if (name == revert_fix::name) return revert_fix{}.generate(in);
  if (name == partial_revert_fix::name) return partial_revert_fix{}.generate(in);
  if (name == config_change_fix::name) return config_change_fix{}.generate(in);
  if (name == external_fix::name) return external_fix{}.generate(in);
  return fail(errc::invalid_request, "unknown fix strategy '" + std::string(name) + "'");
}

}  // namespace selfheal::fix
