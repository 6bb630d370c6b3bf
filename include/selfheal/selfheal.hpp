#pragma once
/// \file
/// The umbrella header: the core, the store, the catalogue and every sequence.
/// Prefer the narrow headers in hot translation units (compile time is a feature).

#include "selfheal/catalog/catalog.hpp"
#include "selfheal/core.hpp"
#include "selfheal/sequences.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
