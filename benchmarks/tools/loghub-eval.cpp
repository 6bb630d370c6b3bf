// loghub-eval: grouping accuracy and speed of selfheal's template miner on Loghub-2k.
//
//   loghub-eval [--assignments DIR] FILE_2k.log_structured.csv...
//
// Mines the `Content` column of each file with one `template_miner` (default options, the same for
// every file), compares the mined grouping with the `EventId` column and prints one line per file:
//   <file> grouping_accuracy=<x> templates=<n> lines_per_s=<y>
// Grouping accuracy (Zhu et al., ICSE-SEIP 2019): the share of lines whose mined group holds exactly
// the lines of their true group. lines_per_s times the mining only (best of 5 passes), not the CSV.
// With --assignments DIR it also writes DIR/<input name>.assign.csv with `LineId,TemplateId`.
//
//   loghub-eval --cross-validate FILE...   (an even number of files, e.g. tests/data/loghub-2k/*.csv)
//
// Two-fold cross-validation of the miner's settings: the files are split into two halves in the
// order given; a grid of (similarity, depth, which masking rules are on) is scored on one half, the
// best setting is reported on the other half, and the reverse. Also prints the defaults' mean on each half. Figures on files the
// defaults were chosen on are in-sample; the held-out half's figure is the honest one.

#include <selfheal/anomaly/templates.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

/// RFC 4180 records: quoted fields may hold commas, doubled quotes and newlines.
std::vector<std::vector<std::string>> read_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < n && text[i + 1] == '"') { field.push_back('"'); i += 2; continue; }
        quoted = false;
        ++i;
        continue;
      }
      field.push_back(c);
      ++i;
      continue;
    }
    if (c == '"' && field.empty()) { quoted = true; ++i; continue; }
    if (c == ',') { row.push_back(std::move(field)); field.clear(); ++i; continue; }
    if (c == '\r' && i + 1 < n && text[i + 1] == '\n') { ++i; continue; }
    if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      ++i;
      continue;
    }
    field.push_back(c);
    ++i;
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

double grouping_accuracy(const std::vector<std::string>& truth, const std::vector<std::size_t>& mined) {
  std::unordered_map<std::string, std::size_t> truth_size;
  for (const auto& t : truth) ++truth_size[t];
  std::map<std::size_t, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < mined.size(); ++i) groups[mined[i]].push_back(i);
  std::size_t correct = 0;
  for (const auto& [id, lines] : groups) {
    const std::string& first = truth[lines.front()];
    const bool pure = std::all_of(lines.begin(), lines.end(), [&](std::size_t l) { return truth[l] == first; });
    if (pure && truth_size[first] == lines.size()) correct += lines.size();
  }
  return truth.empty() ? 1.0 : static_cast<double>(correct) / static_cast<double>(truth.size());
}

struct labelled_file {
  std::string path;
  std::vector<std::string> contents, truth;
};

double mean_accuracy(const std::vector<labelled_file>& files, const selfheal::anomaly::template_options& o) {
  double sum = 0;
  for (const auto& f : files) {
    selfheal::anomaly::template_miner miner(o);
    std::vector<std::size_t> mined(f.contents.size());
    for (std::size_t i = 0; i < f.contents.size(); ++i) mined[i] = miner.add(f.contents[i]).id;
    sum += grouping_accuracy(f.truth, mined);
  }
  return files.empty() ? 0.0 : sum / static_cast<double>(files.size());
}

std::string names_of(const std::vector<labelled_file>& files) {
  std::string out;
  for (const auto& f : files) out += (out.empty() ? "" : ",") + std::filesystem::path(f.path).stem().string();
  return out;
}

selfheal::anomaly::template_masks masks_of(unsigned bits) {
  selfheal::anomaly::template_masks m;
  bool* rules[] = {&m.quoted, &m.annotations, &m.units, &m.paths, &m.hosts, &m.hex_ids, &m.versioned_words};
  for (unsigned i = 0; i < 7; ++i) *rules[i] = (bits >> i) & 1u;
  return m;
}

/// The rules a mask set leaves on, by name ("digits only" when none).
std::string describe(const selfheal::anomaly::template_masks& m) {
  std::string out;
  const std::pair<bool, const char*> rules[] = {{m.quoted, "quoted"}, {m.annotations, "annotations"}, {m.units, "units"},
                                                {m.paths, "paths"},   {m.hosts, "hosts"},             {m.hex_ids, "hex_ids"},
                                                {m.versioned_words, "versioned_words"}};
  for (const auto& [on, name] : rules)
    if (on) out += (out.empty() ? "" : "+") + std::string(name);
  return out.empty() ? "digits-only" : out;
}

int cross_validate(const std::vector<labelled_file>& files) {
  if (files.size() < 2 || files.size() % 2) {
    std::cerr << "loghub-eval: --cross-validate needs an even number of files (two folds)\n";
    return 2;
  }
  const std::vector<labelled_file> a(files.begin(), files.begin() + static_cast<std::ptrdiff_t>(files.size() / 2));
  const std::vector<labelled_file> b(files.begin() + static_cast<std::ptrdiff_t>(files.size() / 2), files.end());
  const selfheal::anomaly::template_options defaults;
  std::printf("defaults (similarity=%.2f depth=%zu): fold A [%s] %.4f, fold B [%s] %.4f\n", defaults.similarity,
              defaults.depth, names_of(a).c_str(), mean_accuracy(a, defaults), names_of(b).c_str(), mean_accuracy(b, defaults));
  double held_out_sum = 0;
  for (int dir = 0; dir < 2; ++dir) {
    const auto& train = dir == 0 ? a : b;
    const auto& test = dir == 0 ? b : a;
    selfheal::anomaly::template_options best = defaults;
    double best_acc = -1;
    struct scored_setting { double accuracy; int rules; selfheal::anomaly::template_options options; };
    std::vector<scored_setting> scored;
    // the masking rules are settings too: every subset of the seven shape rules, with every
    // (similarity, depth), is scored on the training half only
    for (unsigned bits = 0; bits < (1u << 7); ++bits)
      for (double sim : {0.5, 0.6, 0.7, 0.8, 0.9})
        for (std::size_t depth : {3u, 4u, 5u}) {
          selfheal::anomaly::template_options o = defaults;
          o.similarity = sim;
          o.depth = depth;
          o.masks = masks_of(bits);
          const double acc = mean_accuracy(train, o);
          scored.push_back({acc, std::popcount(bits), o});
        }
    // a prior, fixed before looking at the held-out half: among the settings within 0.005 of the best
    // training mean, mask the most shapes (a shape the training half never shows is not evidence
    // against masking it); the first such in grid order otherwise
    for (const auto& s : scored) best_acc = std::max(best_acc, s.accuracy);
    int most_rules = -1;
    for (const auto& s : scored)
      if (s.accuracy >= best_acc - 0.005 && s.rules > most_rules) { most_rules = s.rules; best = s.options; }
    best_acc = mean_accuracy(train, best);
    const double held = mean_accuracy(test, best);
    held_out_sum += held;
    std::printf("chosen on [%s]: similarity=%.2f depth=%zu masks=%s, train mean %.4f; held out [%s] mean %.4f\n",
                names_of(train).c_str(), best.similarity, best.depth, describe(best.masks).c_str(), best_acc,
                names_of(test).c_str(), held);
  }
  std::printf("cross-validated mean grouping accuracy (held-out folds): %.4f\n", held_out_sum / 2.0);
  selfheal::anomaly::template_options digits_only = defaults;
  digits_only.masks = masks_of(0);
  std::printf("for scale, digits-only masking with the default knobs: fold A %.4f, fold B %.4f\n",
              mean_accuracy(a, digits_only), mean_accuracy(b, digits_only));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  std::string assign_dir;
  bool cv = false;
  selfheal::anomaly::template_options options;  // the defaults unless --similarity/--depth (exploration only)
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--assignments") {
      if (i + 1 >= argc) { std::cerr << "loghub-eval: --assignments needs a directory\n"; return 2; }
      assign_dir = argv[++i];
    } else if (a == "--cross-validate") {
      cv = true;
    } else if (a == "--similarity" && i + 1 < argc) {
      options.similarity = std::stod(argv[++i]);
    } else if (a == "--depth" && i + 1 < argc) {
      options.depth = std::stoul(argv[++i]);
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: loghub-eval [--assignments DIR] FILE_2k.log_structured.csv...\n"
                   "       loghub-eval --cross-validate FILE... (two folds: the first and second half)\n";
      return 0;
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.empty()) { std::cerr << "usage: loghub-eval [--assignments DIR] FILE_2k.log_structured.csv...\n"; return 2; }
  if (!assign_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(assign_dir, ec);
    if (ec) { std::cerr << "loghub-eval: cannot create " << assign_dir << ": " << ec.message() << "\n"; return 1; }
  }
  int status = 0;
  double sum_acc = 0;
  std::size_t files = 0;
  std::vector<labelled_file> labelled;
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) { std::cerr << "loghub-eval: cannot open " << path << "\n"; status = 1; continue; }
    std::stringstream ss;
    ss << in.rdbuf();
    const auto rows = read_csv(ss.str());
    if (rows.empty()) { std::cerr << "loghub-eval: " << path << ": empty file\n"; status = 1; continue; }
    const auto& header = rows.front();
    auto col = [&](std::string_view name) -> std::ptrdiff_t {
      auto it = std::find(header.begin(), header.end(), name);
      return it == header.end() ? -1 : it - header.begin();
    };
    const auto c_content = col("Content"), c_event = col("EventId"), c_line = col("LineId");
    if (c_content < 0) { std::cerr << "loghub-eval: " << path << ":1: no Content column\n"; status = 1; continue; }
    std::vector<std::string> contents, truth, line_ids;
    std::size_t bad = 0;
    for (std::size_t r = 1; r < rows.size(); ++r) {
      const auto& row = rows[r];
      const auto need = static_cast<std::size_t>(std::max({c_content, c_event, c_line})) + 1;
      if (row.size() < need) {
        if (++bad <= 5) std::cerr << "loghub-eval: " << path << ": record " << r + 1 << ": " << row.size() << " fields, expected " << need << "\n";
        continue;
      }
      contents.push_back(row[static_cast<std::size_t>(c_content)]);
      truth.push_back(c_event >= 0 ? row[static_cast<std::size_t>(c_event)] : std::string{});
      line_ids.push_back(c_line >= 0 ? row[static_cast<std::size_t>(c_line)] : std::to_string(r));
    }
    if (cv) {
      if (c_event < 0) { std::cerr << "loghub-eval: " << path << ":1: no EventId column\n"; return 2; }
      labelled.push_back({path, std::move(contents), std::move(truth)});
      continue;
    }
    std::vector<std::size_t> mined(contents.size());
    std::size_t template_count = 0;
    double best_seconds = 1e300;
    for (int pass = 0; pass < 5; ++pass) {
      selfheal::anomaly::template_miner miner(options);
      const auto t0 = std::chrono::steady_clock::now();
      for (std::size_t i = 0; i < contents.size(); ++i) mined[i] = miner.add(contents[i]).id;
      const auto t1 = std::chrono::steady_clock::now();
      best_seconds = std::min(best_seconds, std::chrono::duration<double>(t1 - t0).count());
      template_count = miner.size();
    }
    const double acc = c_event >= 0 ? grouping_accuracy(truth, mined) : 0.0;
    const double lps = best_seconds > 0 ? static_cast<double>(contents.size()) / best_seconds : 0.0;
    std::printf("%s grouping_accuracy=%.4f templates=%zu lines_per_s=%.0f\n", path.c_str(), acc, template_count, lps);
    sum_acc += acc;
    ++files;
    if (bad) std::fprintf(stderr, "loghub-eval: %s: %zu malformed records skipped\n", path.c_str(), bad);
    if (!assign_dir.empty()) {
      const auto out_path = std::filesystem::path(assign_dir) / (std::filesystem::path(path).filename().string() + ".assign.csv");
      std::ofstream out(out_path);
      if (!out) { std::cerr << "loghub-eval: cannot write " << out_path.string() << "\n"; status = 1; continue; }
      out << "LineId,TemplateId\n";
      for (std::size_t i = 0; i < mined.size(); ++i) out << line_ids[i] << ',' << mined[i] << '\n';
    }
  }
  if (cv) return status ? status : cross_validate(labelled);
  std::fflush(stdout);
  if (files > 1) std::fprintf(stderr, "mean grouping_accuracy=%.4f over %zu files (Drain: 0.888)\n", sum_acc / static_cast<double>(files), files);
  return status;
}
