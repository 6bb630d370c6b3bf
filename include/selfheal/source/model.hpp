#pragma once
/// \file
/// What selfheal knows about a monitored repository, as plain data: symbols with line ranges,
/// test files, sequence definition files, configuration keys, the git history with structured
/// hunks, and the whole index (`codebase`). Read by anomaly (coverage), diagnosis and the healing
/// half. No I/O, no third-party headers.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace selfheal::source {

/// One definition in the monitored repository. `file` is relative to the repository root, with '/'.
struct symbol {
  std::string name;        ///< `applyDiscount`
  std::string scope;       ///< `Cart` or `shop::Cart` (empty at top level)
  std::string kind;        ///< ctags kind: function, method, member, class, constant, ...
  std::string language;    ///< C, C++, JavaScript, TypeScript, Python, Go, Java
  std::string file;        ///< `src/cart.js`
  std::uint32_t line = 0;      ///< first line, 1-based
  std::uint32_t end_line = 0;  ///< last line, 1-based (>= line)
  bool end_scanned = false;    ///< end line computed by the brace/indent scanner, not by ctags

  /// `Cart::applyDiscount` or `applyDiscount`.
  [[nodiscard]] std::string qualified() const { return scope.empty() ? name : scope + "::" + name; }
};

/// Where the symbols came from and what went wrong on the way.
struct symbol_index {
  std::vector<symbol> symbols;
  std::string source;                 ///< "ctags" or "fallback"
  std::vector<std::string> warnings;  ///< "ctags: ...", "src/x.js:12: ..."
  std::size_t cached_files = 0;   ///< source files whose symbols came from the symbol cache (load_codebase)
  std::size_t indexed_files = 0;  ///< source files run through ctags or the scanner this time

  /// Symbol indices by `normalized_name` (see symbols.hpp), built by `index_names()`: a lookup by
  /// handler name sees only the symbols that can match it. Stale (ignored) once `symbols` changes size.
  std::unordered_map<std::string, std::vector<std::size_t>> by_name;
  std::size_t names_indexed = 0;  ///< `symbols.size()` when `by_name` was built
  [[nodiscard]] bool has_name_index() const noexcept { return names_indexed == symbols.size() && !symbols.empty(); }
};

struct test_case_info {
  std::string name;        ///< "applies a 10% discount"
  std::uint32_t line = 0;
};

/// A test file, its test cases and the identifiers it mentions (for "tests near the handler").
struct test_file {
  std::string file;
  std::string language;
  std::vector<test_case_info> tests;
  std::vector<std::string> identifiers;  ///< sorted, unique identifiers appearing in the file
};

struct beat_definition {
  std::uint32_t number = 0;  ///< 1-based position in the sequence
  std::string event;
  std::string handler;
};

/// A sequence definition file (`sequences/*.json`: sequence → movements → beats).
struct sequence_file {
  std::string file;
  std::string id;
  std::string name;
  std::vector<beat_definition> beats;
};

/// One key of a configuration file, flattened: `database.pool.size`.
struct config_entry {
  std::string file;
  std::string key;
  std::string value;
  std::uint32_t line = 0;
};

/// A configuration value one commit changed (the flattened key, as in `config_entry`). An added
/// key has an empty `old_value` and `added`; a removed one an empty `new_value` and `removed`.
struct config_value_change {
  std::string file;
  std::string key;
  std::string old_value;
  std::string new_value;
  bool added = false;
  bool removed = false;
};

/// Where the code names a configuration key that some commit changed: the key (dotted, or its last
/// segment as a whole word) at `file:line`, inside the callable `function` (empty at top level),
/// which is itself called at `called_at` (file, line).
struct config_use {
  std::string key;
  std::string file;
  std::uint32_t line = 0;
  std::string function;
  std::vector<std::pair<std::string, std::uint32_t>> called_at;
};

/// A hunk of a diff against the first parent, zero context lines (git's @@ -a,b +c,d @@).
struct hunk {
  std::uint32_t old_start = 0;
  std::uint32_t old_lines = 0;
  std::uint32_t new_start = 0;
  std::uint32_t new_lines = 0;
};

struct file_change {
  std::string path;      ///< path after the commit
  std::string old_path;  ///< path before (differs on renames)
  char status = 'M';     ///< A, D, M, R
  std::uint32_t additions = 0;
  std::uint32_t deletions = 0;
  std::vector<hunk> hunks;
  bool hunks_known = true;  ///< false: its blobs are missing (blob-less clone); only the path is known
};

struct commit_info {
  std::string id;                     ///< full 40-hex sha
  std::string author;
  std::string email;
  std::int64_t time = 0;              ///< author time, seconds since the epoch (UTC)
  std::int64_t commit_time = 0;       ///< committer time, seconds since the epoch (UTC)
  std::string summary;                ///< first line of the message
  std::string message;
  std::vector<std::string> parents;
  std::vector<file_change> files;     ///< against the first parent (the empty tree for a root)
  bool shallow_boundary = false;      ///< a shallow clone's boundary: its parent is absent, `files` is empty
  bool incomplete = false;            ///< some of its objects are missing: files without hunks
  std::vector<config_value_change> config_changes;  ///< values of configuration files it changed (load_codebase)
};

struct tag_info {
  std::string name;    ///< `v1.2.0`
  std::string target;  ///< the commit it points to (peeled)
};

/// Commits newest first (topological + time order from HEAD).
struct history {
  std::string head;
  std::vector<commit_info> commits;
  std::vector<tag_info> tags;
  std::size_t read_from_git = 0;    ///< commits read through libgit2 in this run
  std::size_t read_from_cache = 0;  ///< commits read back from the store
  std::vector<std::string> warnings;  ///< shallow boundaries, missing objects
};

/// Everything `loadCodebaseInfo` learns about the monitored repository.
struct codebase {
  std::filesystem::path root;
  std::vector<std::string> files;  ///< tracked files, relative, sorted
  symbol_index symbols;
  std::vector<test_file> tests;
  std::vector<sequence_file> sequences;
  std::vector<config_entry> configs;
  std::vector<config_use> config_uses;  ///< where the code names keys that commits changed
  history git;
  std::vector<std::string> warnings;
};

}  // namespace selfheal::source
