#pragma once
/// \file
/// The codebase index of `loadCodebaseInfo` is the source layer's (source/repository.hpp:
/// `load_codebase`, configuration files read with toml++/yaml-cpp/simdjson, test and sequence file
/// discovery, the symbol cache); diagnosis names it here.

#include "selfheal/diagnosis/history.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/diagnosis/symbols.hpp"
#include "selfheal/source/repository.hpp"

namespace selfheal::diagnosis {

using source::add_config_changes;
using source::codebase_options;
using source::config_format;
using source::find_config_uses;
using source::index_configs;
using source::index_sequences;
using source::index_symbols_cached;
using source::index_tests;
using source::load_codebase;
using source::parse_config;
using source::parse_sequence_file;
using source::test_names;

}  // namespace selfheal::diagnosis
