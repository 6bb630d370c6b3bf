#pragma once
/// \file
/// Configuration values found at their byte range, and one value changed by splicing there, so that
/// formatting, comments and every other byte of the file survive (`config_change`).
///
/// Formats: TOML (toml++ source regions), YAML (yaml-cpp marks; plain and quoted scalars, not block
/// scalars), JSON (a small scanner that tracks offsets) and `.env` (`KEY=value` lines). Keys are
/// dotted paths: `database.pool_size`, `http.retries`; JSON array elements are `list.0`.
///
/// ```cpp
/// auto v = selfheal::fix::config_values("http:\n  retries: 3  # tuned\n", selfheal::fix::config_format::yaml);
/// // v->front(): key "http.retries", text "3", begin 16, end 17
/// auto out = selfheal::fix::set_config_value(text, config_format::yaml, "http.retries", "5");  // "...retries: 5  # tuned"
/// ```
/// Errors: `errc::parse_error` (the file does not parse; line in the message), `errc::not_found`
/// (no such key), `errc::invalid_request` (a value that is not a scalar, or an unknown format).

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>
#include <yaml-cpp/yaml.h>

#include "selfheal/core/result.hpp"

namespace selfheal::fix {

enum class config_format : unsigned char { none, toml, yaml, json, env };

/// The format of a configuration file by its name, `none` when it is not one.
[[nodiscard]] inline config_format config_format_of(std::string_view path) {
  auto ends = [&](std::string_view s) { return path.size() >= s.size() && path.substr(path.size() - s.size()) == s; };
  const auto slash = path.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (ends(".toml")) return config_format::toml;
  if (ends(".yaml") || ends(".yml")) return config_format::yaml;
  if (ends(".json")) return config_format::json;
  if (base == ".env" || base.starts_with(".env.") || ends(".env")) return config_format::env;
  return config_format::none;
}

[[nodiscard]] constexpr std::string_view to_string(config_format f) noexcept {
  switch (f) {
    case config_format::toml: return "toml";
    case config_format::yaml: return "yaml";
    case config_format::json: return "json";
    case config_format::env: return "env";
    case config_format::none: return "none";
  }
  return "none";
}

/// One scalar value of a configuration file and where its text is.
struct config_value {
  std::string key;     ///< dotted path
  std::string text;    ///< the value as written (quotes included): `"x"`, `10`, `true`
  std::string value;   ///< the value itself (quotes removed, escapes kept): `x`, `10`
  std::size_t begin = 0;  ///< byte offset of `text` in the file
  std::size_t end = 0;    ///< one past its last byte
  std::uint32_t line = 0; ///< 1-based
  char quote = 0;         ///< '"' or '\'' when the value is quoted, else 0
};

namespace detail {

inline std::vector<std::size_t> line_starts(std::string_view text) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
  return starts;
}

inline std::uint32_t line_of(const std::vector<std::size_t>& starts, std::size_t pos) {
  auto it = std::upper_bound(starts.begin(), starts.end(), pos);
  return static_cast<std::uint32_t>(it - starts.begin());
}

/// Byte offset of a 1-based (line, column) where the column counts code points (toml++'s convention).
inline std::size_t offset_of(std::string_view text, const std::vector<std::size_t>& starts, std::uint32_t line,
                             std::uint32_t column) {
  if (line == 0 || line > starts.size()) return text.size();
  std::size_t pos = starts[line - 1];
  for (std::uint32_t c = 1; c < column && pos < text.size() && text[pos] != '\n'; ++c) {
    ++pos;
    while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  }
  return pos;
}

inline std::string unquote(std::string_view t, char& quote) {
  quote = 0;
  if (t.size() >= 2 && (t.front() == '"' || t.front() == '\'') && t.back() == t.front()) {
    quote = t.front();
    return std::string(t.substr(1, t.size() - 2));
  }
  return std::string(t);
}

inline void toml_walk(const toml::node& n, const std::string& prefix, std::string_view text,
                      const std::vector<std::size_t>& starts, std::vector<config_value>& out) {
  if (const auto* t = n.as_table()) {
    for (const auto& [k, v] : *t) toml_walk(v, prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str()), text, starts, out);
  } else if (const auto* a = n.as_array()) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto& e = *a->get(i);
      if (e.is_table() || e.is_array()) toml_walk(e, prefix + "." + std::to_string(i), text, starts, out);
    }
    // the array itself is also a value (replaced whole)
    const auto& src = n.source();
    if (src.begin.line != 0) {
      config_value v;
      v.key = prefix;
      v.begin = offset_of(text, starts, src.begin.line, src.begin.column);
      v.end = offset_of(text, starts, src.end.line, src.end.column);
      v.text = std::string(text.substr(v.begin, v.end - v.begin));
      v.value = v.text;
      v.line = src.begin.line;
      out.push_back(std::move(v));
    }
  } else {
    const auto& src = n.source();
    config_value v;
    v.key = prefix;
    v.begin = offset_of(text, starts, src.begin.line, src.begin.column);
    v.end = offset_of(text, starts, src.end.line, src.end.column);
    v.text = std::string(text.substr(v.begin, v.end - v.begin));
    v.value = unquote(v.text, v.quote);
    v.line = src.begin.line;
    out.push_back(std::move(v));
  }
}

/// End of a YAML plain or quoted scalar that starts at `pos`.
inline std::size_t yaml_scalar_end(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return pos;
  const char q = text[pos];
  if (q == '"' || q == '\'') {
    std::size_t i = pos + 1;
    while (i < text.size()) {
      if (q == '"' && text[i] == '\\') { i += 2; continue; }
      if (text[i] == q) {
        if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') { i += 2; continue; }
        return i + 1;
      }
      ++i;
    }
    return text.size();
  }
  std::size_t i = pos;
  while (i < text.size() && text[i] != '\n' && text[i] != '\r') {
    if (text[i] == '#' && i > pos && (text[i - 1] == ' ' || text[i - 1] == '\t')) break;
    if ((text[i] == ',' || text[i] == ']' || text[i] == '}') ) break;  // flow collections
    ++i;
  }
  while (i > pos && (text[i - 1] == ' ' || text[i - 1] == '\t')) --i;
  return i;
}

inline void yaml_walk(const YAML::Node& n, const std::string& prefix, std::string_view text,
                      const std::vector<std::size_t>& starts, std::vector<config_value>& out) {
  if (n.IsMap()) {
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>("");
      yaml_walk(kv.second, prefix.empty() ? k : prefix + "." + k, text, starts, out);
    }
  } else if (n.IsSequence()) {
    std::size_t i = 0;
    for (const auto& e : n) yaml_walk(e, prefix + "." + std::to_string(i++), text, starts, out);
  } else if (n.IsScalar()) {
    const auto mark = n.Mark();
    if (mark.pos < 0) return;
    const auto begin = static_cast<std::size_t>(mark.pos);
    if (begin >= text.size() || text[begin] == '|' || text[begin] == '>') return;  // block scalars: not spliced
    config_value v;
    v.key = prefix;
    v.begin = begin;
    v.end = yaml_scalar_end(text, begin);
    v.text = std::string(text.substr(v.begin, v.end - v.begin));
    v.value = unquote(v.text, v.quote);
    v.line = line_of(starts, begin);
    out.push_back(std::move(v));
  }
}

/// A JSON scanner that records every scalar's byte range. Strict enough to be a syntax check.
struct json_scanner {
  std::string_view s;
  std::size_t i = 0;
  std::vector<config_value>* out = nullptr;
  std::string error;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool fail_at(std::string what) {
    if (error.empty()) error = what + " at byte " + std::to_string(i);
    return false;
  }
  bool string_token(std::string* value) {
    if (i >= s.size() || s[i] != '"') return fail_at("expected a string");
    const std::size_t start = ++i;
    while (i < s.size() && s[i] != '"') {
      if (static_cast<unsigned char>(s[i]) < 0x20) return fail_at("control character in a string");
      if (s[i] == '\\') {
        if (i + 1 >= s.size()) return fail_at("unterminated escape");
        const char e = s[i + 1];
        if (std::string_view("\"\\/bfnrtu").find(e) == std::string_view::npos) return fail_at("bad escape");
        i += 2;
        continue;
      }
      ++i;
    }
    if (i >= s.size()) return fail_at("unterminated string");
    if (value) *value = std::string(s.substr(start, i - start));
    ++i;
    return true;
  }
  void record(const std::string& key, std::size_t b, char quote) {
    if (!out) return;
    config_value v;
    v.key = key;
    v.begin = b;
    v.end = i;
    v.text = std::string(s.substr(b, i - b));
    v.value = quote ? v.text.substr(1, v.text.size() - 2) : v.text;
    v.quote = quote;
    out->push_back(std::move(v));
  }
  bool value(const std::string& key, int depth) {
    if (depth > 256) return fail_at("nesting too deep");
    ws();
    if (i >= s.size()) return fail_at("unexpected end");
    const std::size_t b = i;
    const char c = s[i];
    if (c == '{') {
      ++i;
      ws();
      if (i < s.size() && s[i] == '}') { ++i; return true; }
      while (true) {
        ws();
        std::string k;
        if (!string_token(&k)) return false;
        ws();
        if (i >= s.size() || s[i] != ':') return fail_at("expected ':'");
        ++i;
        if (!value(key.empty() ? k : key + "." + k, depth + 1)) return false;
        ws();
        if (i < s.size() && s[i] == ',') { ++i; continue; }
        if (i < s.size() && s[i] == '}') { ++i; return true; }
        return fail_at("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++i;
      ws();
      if (i < s.size() && s[i] == ']') { ++i; return true; }
      for (std::size_t n = 0;; ++n) {
        if (!value(key + "." + std::to_string(n), depth + 1)) return false;
        ws();
        if (i < s.size() && s[i] == ',') { ++i; continue; }
        if (i < s.size() && s[i] == ']') { ++i; return true; }
        return fail_at("expected ',' or ']'");
      }
    }
    if (c == '"') {
      if (!string_token(nullptr)) return false;
      record(key, b, '"');
      return true;
    }
    for (std::string_view lit : {std::string_view("true"), std::string_view("false"), std::string_view("null")}) {
      if (s.substr(i, lit.size()) == lit) {
        i += lit.size();
        record(key, b, 0);
        return true;
      }
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      if (s[i] == '-') ++i;
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return fail_at("bad number");
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i < s.size() && s[i] == '.') {
        ++i;
        if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return fail_at("bad number");
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      }
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return fail_at("bad number");
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      }
      record(key, b, 0);
      return true;
    }
    return fail_at(std::string("unexpected character '") + c + "'");
  }
  bool document() {
    if (!value("", 0)) return false;
    ws();
    if (i != s.size()) return fail_at("trailing characters");
    return true;
  }
};

inline void env_values(std::string_view text, const std::vector<std::size_t>& starts, std::vector<config_value>& out) {
  for (std::size_t ln = 0; ln < starts.size(); ++ln) {
    const std::size_t b = starts[ln];
    std::size_t e = ln + 1 < starts.size() ? starts[ln + 1] - 1 : text.size();
    if (e > b && text[e - 1] == '\r') --e;
    std::size_t p = b;
    while (p < e && (text[p] == ' ' || text[p] == '\t')) ++p;
    if (p >= e || text[p] == '#') continue;
    if (text.substr(p, 7) == "export ") p += 7;
    const auto eq = text.find('=', p);
    if (eq == std::string_view::npos || eq >= e) continue;
    std::string key(text.substr(p, eq - p));
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::size_t vb = eq + 1;
    while (vb < e && (text[vb] == ' ' || text[vb] == '\t')) ++vb;
    std::size_t ve = e;
    if (vb < e && (text[vb] == '"' || text[vb] == '\'')) {
      const auto close = text.find(text[vb], vb + 1);
      ve = (close == std::string_view::npos || close >= e) ? e : close + 1;
    } else {
      for (std::size_t k = vb; k < e; ++k)
        if (text[k] == '#' && k > vb && (text[k - 1] == ' ' || text[k - 1] == '\t')) { ve = k; break; }
      while (ve > vb && (text[ve - 1] == ' ' || text[ve - 1] == '\t')) --ve;
    }
    config_value v;
    v.key = key;
    v.begin = vb;
    v.end = ve;
    v.text = std::string(text.substr(vb, ve - vb));
    v.value = unquote(v.text, v.quote);
    v.line = static_cast<std::uint32_t>(ln + 1);
    out.push_back(std::move(v));
  }
}

}  // namespace detail

/// Every scalar value of a configuration file with its byte range, in file order.
[[nodiscard]] inline result<std::vector<config_value>> config_values(std::string_view text, config_format format,
                                                                    std::string_view name = "config") {
  std::vector<config_value> out;
  const auto starts = detail::line_starts(text);
  switch (format) {
    case config_format::toml: {
#if TOML_EXCEPTIONS
      toml::table tbl;
      try {
        tbl = toml::parse(text, std::string(name));
      } catch (const toml::parse_error& e) {
        return fail(errc::parse_error, std::string(name) + ":" + std::to_string(e.source().begin.line) + ": " +
                                           std::string(e.description()));
      }
#else
      toml::parse_result r = toml::parse(text, std::string(name));
      if (!r) {
        const auto& e = r.error();
        return fail(errc::parse_error, std::string(name) + ":" + std::to_string(e.source().begin.line) + ": " +
                                           std::string(e.description()));
      }
      const toml::table& tbl = r.table();
#endif
      detail::toml_walk(tbl, "", text, starts, out);
      break;
    }
    case config_format::yaml: {
      try {
        const YAML::Node root = YAML::Load(std::string(text));
        detail::yaml_walk(root, "", text, starts, out);
      } catch (const YAML::Exception& e) {
        return fail(errc::parse_error, std::string(name) + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
      }
      break;
    }
    case config_format::json: {
      detail::json_scanner sc{text, 0, &out, {}};
      if (!sc.document()) {
        return fail(errc::parse_error,
                    std::string(name) + ":" + std::to_string(detail::line_of(starts, sc.i)) + ": " + sc.error);
      }
      for (auto& v : out) v.line = detail::line_of(starts, v.begin);
      break;
    }
    case config_format::env: detail::env_values(text, starts, out); break;
    case config_format::none:
      return fail(errc::invalid_request, std::string(name) + " is not a TOML, YAML, JSON or .env file");
  }
  std::stable_sort(out.begin(), out.end(), [](const config_value& a, const config_value& b) { return a.begin < b.begin; });
  return out;
}

/// The value of `key`, or `errc::not_found`.
[[nodiscard]] inline result<config_value> find_config_value(std::string_view text, config_format format,
                                                            std::string_view key, std::string_view name = "config") {
  auto all = config_values(text, format, name);
  if (!all) return tl::unexpected(all.error());
  for (auto& v : *all)
    if (v.key == key) return std::move(v);
  return fail(errc::not_found, std::string(name) + " has no key '" + std::string(key) + "'");
}

/// `text` with the value of `key` replaced by `new_value` (given unquoted: `5`, `fast`). The old value's
/// quoting is kept (a quoted value stays quoted with the same quote); every other byte is untouched.
[[nodiscard]] inline result<std::string> set_config_value(std::string_view text, config_format format, std::string_view key,
                                                          std::string_view new_value, std::string_view name = "config") {
  auto v = find_config_value(text, format, key, name);
  if (!v) return tl::unexpected(v.error());
  std::string replacement;
  if (v->quote) {
    replacement += v->quote;
    for (char c : new_value) {
      if (v->quote == '"' && (c == '"' || c == '\\')) replacement += '\\';
      if (v->quote == '\'' && c == '\'') {
        if (format == config_format::yaml) { replacement += "''"; continue; }
        return fail(errc::invalid_request, "the new value of '" + std::string(key) + "' contains a quote");
      }
      if (c == '\n' || c == '\r') return fail(errc::invalid_request, "the new value of '" + std::string(key) + "' spans lines");
      replacement += c;
    }
    replacement += v->quote;
  } else {
    if (new_value.find_first_of("\n\r") != std::string_view::npos)
      return fail(errc::invalid_request, "the new value of '" + std::string(key) + "' spans lines");
    replacement = std::string(new_value);
  }
  std::string out;
  out.reserve(text.size() + replacement.size());
  out.append(text.substr(0, v->begin));
  out.append(replacement);
  out.append(text.substr(v->end));
  // The result must parse, and the key must now hold the new value.
  auto check = find_config_value(out, format, key, name);
  if (!check) return tl::unexpected(check.error());
  return out;
}

/// Keys whose value differs between two versions of a configuration file (old → new), file order of `after`.
struct config_difference {
  std::string key;
  std::string before;  ///< unquoted; empty when the key is new
  std::string after;
  bool added = false;
};
[[nodiscard]] inline result<std::vector<config_difference>> config_differences(std::string_view before, std::string_view after,
                                                                             config_format format) {
  auto a = config_values(before, format, "before");
  if (!a) return tl::unexpected(a.error());
  auto b = config_values(after, format, "after");
  if (!b) return tl::unexpected(b.error());
  std::vector<config_difference> out;
  for (const auto& nv : *b) {
    auto it = std::find_if(a->begin(), a->end(), [&](const config_value& x) { return x.key == nv.key; });
    if (it == a->end()) out.push_back({nv.key, "", nv.value, true});
    else if (it->value != nv.value) out.push_back({nv.key, it->value, nv.value, false});
  }
  return out;
}

/// Whether `text` parses as `format` (the in-process syntax check); the parser's message otherwise.
[[nodiscard]] inline result<void> check_config_syntax(std::string_view text, config_format format, std::string_view name) {
  auto r = config_values(text, format, name);
  if (!r) return tl::unexpected(r.error());
  return {};
}

}  // namespace selfheal::fix
