#pragma once
/// \file
/// The repository's symbols and handler-name matching are the source layer's
/// (source/symbols.hpp: ctags runner, fallback scanner, name index); diagnosis names them here.

#include "selfheal/diagnosis/model.hpp"
#include "selfheal/source/languages.hpp"
#include "selfheal/source/paths.hpp"
#include "selfheal/source/symbols.hpp"

namespace selfheal::diagnosis {

using source::block_end;
using source::ctags_can_name;
using source::ctags_options;
using source::enclosing_symbol;
using source::identifier_words;
using source::index_names;
using source::index_symbols;
using source::is_test_path;
using source::language_of;
using source::match_handler;
using source::match_result;
using source::match_status;
using source::normalized_name;
using source::repository_files;
using source::run_ctags;
using source::scan_symbols;

}  // namespace selfheal::diagnosis
