#pragma once
/// \file
/// Online error-message template mining, Drain-style (He et al., ICWS 2017), written here.
///
/// A message is split into tokens, variable-looking tokens are masked to `<*>` (numbers, hex,
/// ids — any token holding a digit —, quoted strings, paths, host names, parenthesised numeric
/// annotations such as `(1.16 KB)`, a number followed by a unit such as `<1 sec`). The masked
/// token list descends a fixed-depth prefix tree: first by token count, then by its first
/// `depth - 2` tokens (a masked token takes the `<*>` branch, as does any token once a node has
/// `max_children` children). The leaf holds clusters; the message joins the most similar cluster
/// when it matches at least `similarity` of the template's constant tokens (a masked message token
/// facing a constant counts as a match: that position is variable), and the template's differing
/// positions become `<*>`; otherwise it founds a new cluster. Unlike Drain, positions already `<*>`
/// do not count towards similarity, so short templates with many variables stay discriminating.
/// Template ids are 1-based, in creation order, and never change.
///
/// One set of defaults serves every dataset (no per-dataset tuning): see `loghub-eval`.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace selfheal::anomaly {

/// Which variable shapes beyond "holds a digit" are masked. Each rule can be switched off so that
/// `loghub-eval --cross-validate` chooses them on one half of the data and reports the other half,
/// like the numeric knobs: the rules are settings, not a fit to the files they were written on.
struct template_masks {
  bool quoted = true;          ///< a quoted string is one variable
  bool annotations = true;     ///< a parenthesised numeric annotation, `(1.16 KB)`, is dropped
  bool units = true;           ///< `<number> <unit>` is one quantity
  bool paths = true;           ///< `/a/b`, `C:\x\y`
  bool hosts = true;           ///< `a.b.com`, `x.y.log`
  bool hex_ids = true;         ///< a run of 16 or more hex letters (an id with no digit in it)
  bool versioned_words = true; ///< `SOCKS5`, `ssh2` stay constants (a word with one trailing digit)

  friend bool operator==(const template_masks&, const template_masks&) = default;
};

/// Knobs of the miner. The defaults are the ones evaluated on Loghub-2k.
struct template_options {
  std::size_t depth = 4;            ///< tree depth: length layer + (depth-2) token layers + leaf
  double similarity = 0.8;          ///< share of the template's constant tokens a message must match
  std::size_t max_children = 100;   ///< children per inner node before new tokens go to `<*>`
  template_masks masks{};           ///< the variable shapes masked besides tokens holding a digit
};

/// One mined template: its id, tokens (masked positions are `<*>`) and how many messages it holds.
struct log_template {
  std::size_t id = 0;
  std::vector<std::string> tokens;
  std::size_t count = 0;

  /// The template as text, tokens joined by one space.
  [[nodiscard]] std::string text() const {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i) out.push_back(' ');
      out += tokens[i];
    }
    return out;
  }
};

/// What `template_miner::add` did with a message.
struct template_match {
  std::size_t id = 0;     ///< the template the message belongs to
  bool created = false;   ///< true when the message founded a new template
};

inline constexpr std::string_view template_wildcard = "<*>";

namespace detail {

[[nodiscard]] constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
[[nodiscard]] constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
[[nodiscard]] constexpr bool is_hex_digit(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

[[nodiscard]] inline bool has_digit(std::string_view t) noexcept {
  return std::any_of(t.begin(), t.end(), [](char c) { return is_digit(c); });
}

/// Lower-case unit words that make "<number> <unit>" one quantity.
[[nodiscard]] inline bool is_unit(std::string_view t) noexcept {
  while (!t.empty() && (t.back() == ',' || t.back() == ';' || t.back() == ')' || t.back() == '.'))
    t.remove_suffix(1);
  static constexpr std::string_view units[] = {"ms", "us", "ns", "s", "sec", "secs", "second",
                                               "seconds", "min", "mins", "minutes", "kb", "mb",
                                               "gb", "tb", "kib", "mib", "gib", "b", "bytes"};
  std::string lower(t);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return std::find(std::begin(units), std::end(units), lower) != std::end(units);
}

/// A token is variable when it holds a digit, is a path (`/a/b`, `C:\x`), a host or file name
/// (`a.b.com`), a long hex run, or a quoted string.
[[nodiscard]] inline bool is_variable_token(std::string_view t, const template_masks& m = {}) noexcept {
  if (t.empty()) return false;
  if (has_digit(t)) {
    if (!m.versioned_words) return true;
    // a word with a one-digit version suffix is a constant name: SOCKS5, ssh2, log4j-free "utf8"
    std::size_t letters = 0;
    while (letters < t.size() && is_alpha(t[letters])) ++letters;
    const bool word_digit = letters >= 2 && letters + 1 == t.size() && is_digit(t.back());
    return !word_digit;
  }
  // strip surrounding punctuation for the shape tests
  std::size_t b = 0, e = t.size();
  while (b < e && !is_alpha(t[b]) && t[b] != '/' && t[b] != '\\' && t[b] != '"' && t[b] != '\'') ++b;
  while (e > b && !is_alpha(t[e - 1]) && t[e - 1] != '"' && t[e - 1] != '\'') --e;
  const std::string_view core = t.substr(b, e - b);
  if (core.empty()) return false;
  if (m.quoted && core.size() >= 2 && (core.front() == '"' || core.front() == '\'') && core.back() == core.front())
    return true;
  // path: two or more separators with text between, or a leading slash followed by text
  std::size_t slashes = 0;
  for (char c : core) slashes += (c == '/' || c == '\\') ? 1u : 0u;
  if (m.paths && (slashes >= 2 || (slashes == 1 && core.front() == '/' && core.size() > 1))) return true;
  // host / file name: alnum '.' alnum '.' alnum (two dots, no spaces, no parentheses)
  std::size_t dots = 0;
  bool plain = true;
  for (std::size_t i = 0; i < core.size(); ++i) {
    const char c = core[i];
    if (c == '.') {
      if (i == 0 || i + 1 == core.size() || core[i + 1] == '.') { plain = false; break; }
      ++dots;
    } else if (!(is_alpha(c) || c == '-' || c == '_')) {
      plain = false;
      break;
    }
  }
  if (m.hosts && plain && dots >= 2) return true;
  // hex run without 0x but long enough to be an id (>= 16 hex chars)
  if (m.hex_ids && core.size() >= 16 && std::all_of(core.begin(), core.end(), [](char c) { return is_hex_digit(c); }))
    return true;
  return false;
}

}  // namespace detail

/// Split `message` into tokens and mask variables. Masked tokens are `template_wildcard`; the
/// others are views into `message` (so `message` must outlive the result).
[[nodiscard]] inline std::vector<std::string_view> mask_message(std::string_view message,
                                                               const template_masks& masks = {}) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  const std::size_t n = message.size();
  while (i < n) {
    while (i < n && detail::is_space(message[i])) ++i;
    if (i >= n) break;
    const char c = message[i];
    std::size_t j = i;
    // a quoted string runs to its closing quote (which must end a token)
    if (masks.quoted && (c == '"' || c == '\'')) {
      std::size_t k = message.find(c, i + 1);
      while (k != std::string_view::npos && k + 1 < n && !detail::is_space(message[k + 1]) &&
             message[k + 1] != ',' && message[k + 1] != ';' && message[k + 1] != ')' &&
             message[k + 1] != ']' && message[k + 1] != '.' && message[k + 1] != ':')
        k = message.find(c, k + 1);
      if (k != std::string_view::npos && k > i + 1) {
        j = k + 1;
        while (j < n && !detail::is_space(message[j])) ++j;
        out.push_back(template_wildcard);
        i = j;
        continue;
      }
    }
    // a parenthesised annotation holding a number, e.g. "(1.16 KB)": optional, dropped
    if (masks.annotations && c == '(') {
      const std::size_t k = message.find(')', i + 1);
      if (k != std::string_view::npos && k - i <= 24) {
        const std::string_view inner = message.substr(i + 1, k - i - 1);
        const bool numeric_start = !inner.empty() && (detail::is_digit(inner.front()) ||
                                                      (inner.front() == '~' && inner.size() > 1));
        if (numeric_start && inner.find(',') == std::string_view::npos &&
            (k + 1 >= n || detail::is_space(message[k + 1]))) {
          i = k + 1;
          continue;
        }
      }
    }
    while (j < n && !detail::is_space(message[j])) ++j;
    const std::string_view tok = message.substr(i, j - i);
    i = j;
    if (detail::is_variable_token(tok, masks)) {
      // "<number> <unit>" is one quantity: swallow the unit
      if (masks.units && detail::has_digit(tok)) {
        std::size_t k = i;
        while (k < n && detail::is_space(message[k])) ++k;
        std::size_t m = k;
        while (m < n && !detail::is_space(message[m])) ++m;
        if (m > k && detail::is_unit(message.substr(k, m - k))) i = m;
      }
      out.push_back(template_wildcard);
    } else {
      out.push_back(tok);
    }
  }
  return out;
}

/// The online miner. Not thread-safe; one per stream of messages.
class template_miner {
 public:
  explicit template_miner(template_options options = {}) : options_(options) {
    if (options_.depth < 3) options_.depth = 3;
  }

  /// Put a message into its template, creating or generalising one.
  template_match add(std::string_view message) {
    const auto tokens = mask_message(message, options_.masks);
    leaf& lf = descend(tokens, /*create=*/true);
    const auto best = best_cluster(lf, tokens);
    if (best && best->second >= options_.similarity) {
      log_template& t = templates_[best->first];
      for (std::size_t i = 0; i < tokens.size(); ++i)
        if (t.tokens[i] != tokens[i] && t.tokens[i] != template_wildcard) t.tokens[i] = template_wildcard;
      ++t.count;
      return {t.id, false};
    }
    log_template t;
    t.id = templates_.size() + 1;
    t.tokens.reserve(tokens.size());
    for (auto tok : tokens) t.tokens.emplace_back(tok);
    t.count = 1;
    templates_.push_back(std::move(t));
    lf.clusters.push_back(templates_.size() - 1);
    return {templates_.back().id, true};
  }

  /// The template a message would join, without changing anything; nullopt when none would.
  [[nodiscard]] std::optional<std::size_t> match(std::string_view message) const {
    const auto tokens = mask_message(message, options_.masks);
    const leaf* lf = lookup(tokens);
    if (!lf) return std::nullopt;
    const auto best = best_cluster(*lf, tokens);
    if (best && best->second >= options_.similarity) return templates_[best->first].id;
    return std::nullopt;
  }

  /// Template by its 1-based id (precondition: 1 <= id <= size()).
  [[nodiscard]] const log_template& get(std::size_t id) const { return templates_.at(id - 1); }
  [[nodiscard]] std::span<const log_template> templates() const noexcept { return templates_; }
  [[nodiscard]] std::size_t size() const noexcept { return templates_.size(); }
  [[nodiscard]] const template_options& options() const noexcept { return options_; }

 private:
  struct leaf {
    std::vector<std::size_t> clusters;  // indexes into templates_
  };
  struct node {
    std::unordered_map<std::string, std::size_t> children;  // token -> index into nodes_
    std::size_t leaf_index = static_cast<std::size_t>(-1);
  };

  [[nodiscard]] std::size_t token_layers() const noexcept { return options_.depth - 2; }

  leaf& descend(const std::vector<std::string_view>& tokens, bool create) {
    leaf* lf = find_or_make(tokens, create);
    return *lf;
  }
  /// The leaf a token list would reach, without creating anything; nullptr when none.
  [[nodiscard]] const leaf* lookup(const std::vector<std::string_view>& tokens) const {
    if (nodes_.empty()) return nullptr;
    std::size_t cur = 0;
    auto it = nodes_[cur].children.find("#" + std::to_string(tokens.size()));
    if (it == nodes_[cur].children.end()) return nullptr;
    cur = it->second;
    const std::size_t layers = std::min(token_layers(), tokens.size());
    for (std::size_t d = 0; d < layers; ++d) {
      const auto& children = nodes_[cur].children;
      it = children.find(std::string(tokens[d]));
      if (it == children.end()) it = children.find(std::string(template_wildcard));
      if (it == children.end()) return nullptr;
      cur = it->second;
    }
    return nodes_[cur].leaf_index == static_cast<std::size_t>(-1) ? nullptr : &leaves_[nodes_[cur].leaf_index];
  }

  leaf* find_or_make(const std::vector<std::string_view>& tokens, bool create) {
    if (nodes_.empty()) nodes_.emplace_back();
    std::size_t cur = 0;
    // layer 1: token count
    {
      const std::string key = "#" + std::to_string(tokens.size());
      auto it = nodes_[cur].children.find(key);
      if (it == nodes_[cur].children.end()) {
        if (!create) return nullptr;
        nodes_.emplace_back();
        it = nodes_[cur].children.emplace(key, nodes_.size() - 1).first;
      }
      cur = it->second;
    }
    const std::size_t layers = std::min(token_layers(), tokens.size());
    for (std::size_t d = 0; d < layers; ++d) {
      std::string key(tokens[d]);
      auto& children = nodes_[cur].children;
      auto it = children.find(key);
      if (it == children.end()) {
        // route to the wildcard branch when the token is masked or the node is full
        const bool full = children.size() + 1 >= options_.max_children;
        if (key != template_wildcard && !full && create) {
          nodes_.emplace_back();
          it = nodes_[cur].children.emplace(std::move(key), nodes_.size() - 1).first;
        } else {
          it = nodes_[cur].children.find(std::string(template_wildcard));
          if (it == nodes_[cur].children.end()) {
            if (!create) return nullptr;
            nodes_.emplace_back();
            it = nodes_[cur].children.emplace(std::string(template_wildcard), nodes_.size() - 1).first;
          }
        }
      }
      cur = it->second;
    }
    if (nodes_[cur].leaf_index == static_cast<std::size_t>(-1)) {
      if (!create) return nullptr;
      leaves_.emplace_back();
      nodes_[cur].leaf_index = leaves_.size() - 1;
    }
    return &leaves_[nodes_[cur].leaf_index];
  }

  /// Best cluster of a leaf and its similarity (matched constants over the template's constants);
  /// ties go to the template with more wildcards (the more general one).
  [[nodiscard]] std::optional<std::pair<std::size_t, double>> best_cluster(
      const leaf& lf, const std::vector<std::string_view>& tokens) const {
    std::optional<std::pair<std::size_t, double>> best;
    std::size_t best_params = 0;
    for (std::size_t idx : lf.clusters) {
      const auto& t = templates_[idx].tokens;
      if (t.size() != tokens.size()) continue;
      std::size_t same = 0, params = 0, constants = 0;
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == template_wildcard) {
          ++params;
          continue;
        }
        ++constants;
        // a masked message token facing a template constant: that position is variable too
        if (t[i] == tokens[i] || tokens[i] == template_wildcard) ++same;
      }
      const double sim = constants == 0 ? 1.0 : static_cast<double>(same) / static_cast<double>(constants);
      if (!best || sim > best->second || (sim == best->second && params > best_params)) {
        best = std::pair{idx, sim};
        best_params = params;
      }
    }
    return best;
  }

  template_options options_;
  std::vector<log_template> templates_;
  std::vector<node> nodes_;
  std::vector<leaf> leaves_;
};

}  // namespace selfheal::anomaly
