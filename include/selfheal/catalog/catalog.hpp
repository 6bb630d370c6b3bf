#pragma once
/// \file
/// The readable catalogue: `sequences/*.json` in the seed's format (sequence → movements → beats with
/// `beat`, `event`, `title`, `description`, `handler`, `timing`, `kind`). This header reads those
/// files (simdjson DOM; they are small) and holds a compiled sequence to its file, beat by beat.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"

namespace selfheal::catalog {

struct beat_entry {
  std::size_t number = 0;
  std::string movement;
  std::string event;
  std::string title;
  std::string description;
  std::string handler;
  std::string timing;  ///< "immediate" | "async"
  std::string kind;    ///< "pure" | "stage-crew"
};

struct sequence_file {
  std::string id;
  std::string name;
  std::string key;   ///< "telemetry.parse"
  std::string path;
  std::vector<beat_entry> beats;  ///< all movements' beats, in order
};

namespace detail {
inline result<std::string> string_field(simdjson::dom::object obj, std::string_view field, const std::string& where) {
  std::string_view v;
  if (obj[field].get(v) != simdjson::SUCCESS)
    return fail(errc::parse_error, where + ": missing or non-string field \"" + std::string(field) + "\"");
  return std::string(v);
}
}  // namespace detail

/// Reads one sequence file. Errors name the file and the beat ("sequences/x.json: beat 3: missing
/// or non-string field \"handler\"").
[[nodiscard]] inline result<sequence_file> load_sequence_file(const std::filesystem::path& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.load(path.string()).get(doc); err) {
    return fail(err == simdjson::IO_ERROR ? errc::io_error : errc::parse_error,
                path.string() + ": " + simdjson::error_message(err));
  }
  const std::string where = path.string();
  simdjson::dom::object root;
  if (doc.get(root) != simdjson::SUCCESS) return fail(errc::parse_error, where + ": the top level is not an object");
  sequence_file out;
  out.path = where;
  auto id = detail::string_field(root, "id", where);
  if (!id) return tl::unexpected(id.error());
  out.id = std::move(*id);
  if (auto name = detail::string_field(root, "name", where)) out.name = std::move(*name);
  if (auto key = detail::string_field(root, "key", where)) out.key = std::move(*key);
  simdjson::dom::array movements;
  if (root["movements"].get(movements) != simdjson::SUCCESS)
    return fail(errc::parse_error, where + ": missing array \"movements\"");
  for (simdjson::dom::element m : movements) {
    simdjson::dom::object mo;
    if (m.get(mo) != simdjson::SUCCESS) return fail(errc::parse_error, where + ": a movement is not an object");
    std::string movement;
    if (auto mid = detail::string_field(mo, "id", where)) movement = std::move(*mid);
    simdjson::dom::array beats;
    if (mo["beats"].get(beats) != simdjson::SUCCESS)
      return fail(errc::parse_error, where + ": movement \"" + movement + "\" has no array \"beats\"");
    for (simdjson::dom::element b : beats) {
      simdjson::dom::object bo;
      const std::string at = where + ": beat " + std::to_string(out.beats.size() + 1);
      if (b.get(bo) != simdjson::SUCCESS) return fail(errc::parse_error, at + ": not an object");
      beat_entry e;
      e.movement = movement;
      std::uint64_t number = 0;
      if (bo["beat"].get(number) != simdjson::SUCCESS)
        return fail(errc::parse_error, at + ": missing or non-integer field \"beat\"");
      e.number = static_cast<std::size_t>(number);
      for (auto [field, target] : {std::pair<std::string_view, std::string*>{"event", &e.event},
                                   {"title", &e.title}, {"description", &e.description},
                                   {"handler", &e.handler}, {"timing", &e.timing}, {"kind", &e.kind}}) {
        auto v = detail::string_field(bo, field, at);
        if (!v) return tl::unexpected(v.error());
        *target = std::move(*v);
      }
      out.beats.push_back(std::move(e));
    }
  }
  return out;
}

/// One difference between a compiled sequence and its file.
struct mismatch {
  std::size_t beat;       ///< 1-based; 0 for the sequence itself
  std::string field;      ///< "id", "count", "number", "event", "handler", "timing", "kind"
  std::string in_file;
  std::string compiled;
};

/// Every difference between `seq` and `file` (empty when they agree): id, beat count, and per beat
/// its number, event, handler, timing and kind, in order.
template <sequence_like Seq>
[[nodiscard]] std::vector<mismatch> check(const Seq&, const sequence_file& file) {
  std::vector<mismatch> out;
  using S = std::remove_cvref_t<Seq>;
  if (file.id != S::id) out.push_back({0, "id", file.id, std::string(S::id)});
  constexpr auto rows = S::describe();
  if (file.beats.size() != rows.size())
    out.push_back({0, "count", std::to_string(file.beats.size()), std::to_string(rows.size())});
  const std::size_t n = std::min(file.beats.size(), rows.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto& f = file.beats[i];
    const auto& c = rows[i];
    auto compare = [&](std::string_view field, std::string_view a, std::string_view b) {
      if (a != b) out.push_back({i + 1, std::string(field), std::string(a), std::string(b)});
    };
    compare("number", std::to_string(f.number), std::to_string(c.number));
    compare("event", f.event, c.event);
    compare("handler", f.handler, c.handler);
    compare("timing", f.timing, to_string(c.timing));
    compare("kind", f.kind, to_string(c.kind));
  }
  return out;
}

}  // namespace selfheal::catalog
