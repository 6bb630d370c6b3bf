# Every dependency comes from a Debian 12 package, through find_package or pkg-config only.
#
# The library is split into components, one INTERFACE target each, so that a host links only what
# the layers it includes need:
#   selfheal::core       Hana (libboost1.81-dev), tl::expected (libexpected-dev), threads
#   selfheal::store      + SQLite (libsqlite3-dev)
#   selfheal::postgresql + store, libpq (libpq-dev): defines SELFHEAL_WITH_POSTGRESQL=1 so that
#                          store::database opens postgresql:// URLs too. Optional: selfheal::selfheal
#                          does not need it (a SQLite-only host links no libpq); the CLI and the
#                          tests link it.
#   selfheal::catalog    + simdjson (libsimdjson-dev)
#   selfheal::source     + store, libgit2 (libgit2-dev), toml++ (libtomlplusplus-dev), yaml-cpp
#                          (libyaml-cpp-dev), simdjson (config files)
#   selfheal::telemetry  + store, simdjson, zlib (zlib1g-dev, .gz logs), fmt (libfmt-dev: every
#                          number and column the layers from here up print)
#   selfheal::fleet      + telemetry, the NATS C client (libnats-dev 3.4; server: nats-server 2.9):
#                          telemetry/fleet/, `selfheal ship` and `selfheal ingest`. Not part of
#                          selfheal::selfheal: hosts that do not ship or ingest link nothing new.
#   selfheal::selfheal   everything: all of the above, cmark (libcmark-dev),
#                        expat (libexpat1-dev: JUnit XML of test runs)
# This file is included by the build (REQUIRED finds) and, installed, by selfheal-config.cmake
# (find_dependency, only for the components a consumer asks for).
include(CMakeFindDependencyMacro OPTIONAL)

set(SELFHEAL_COMPONENTS core store postgresql catalog source telemetry fleet selfheal)
set(SELFHEAL_COMPONENT_DEPENDS_core "")
set(SELFHEAL_COMPONENT_DEPENDS_store core)
set(SELFHEAL_COMPONENT_DEPENDS_postgresql core store)
set(SELFHEAL_COMPONENT_DEPENDS_catalog core)
set(SELFHEAL_COMPONENT_DEPENDS_source core store)
set(SELFHEAL_COMPONENT_DEPENDS_telemetry core store)
set(SELFHEAL_COMPONENT_DEPENDS_fleet core store telemetry)
set(SELFHEAL_COMPONENT_DEPENDS_selfheal core store catalog source telemetry)

# The components `wanted` need, themselves included, dependencies first, into `out`.
function(selfheal_component_closure out)
  set(result "")
  foreach(c IN LISTS SELFHEAL_COMPONENTS)  # SELFHEAL_COMPONENTS is in dependency order
    set(needed FALSE)
    foreach(w IN LISTS ARGN)
      if(w STREQUAL c OR c IN_LIST SELFHEAL_COMPONENT_DEPENDS_${w})
        set(needed TRUE)
      endif()
    endforeach()
    if(needed)
      list(APPEND result ${c})
    endif()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

macro(_selfheal_find)
  if(SELFHEAL_FIND_FOR_CONSUMER)
    find_dependency(${ARGN})   # returns from selfheal-config.cmake with selfheal_FOUND false
  else()
    find_package(${ARGN} REQUIRED)
  endif()
endmacro()

macro(_selfheal_pkg name module)
  if(NOT TARGET PkgConfig::${name})
    _selfheal_find(PkgConfig)
    pkg_check_modules(${name} REQUIRED IMPORTED_TARGET GLOBAL ${module})
  endif()
endmacro()

# Finds the external packages of one component (not those of the components it depends on) and
# sets SELFHEAL_<component>_LIBRARIES to their targets.
macro(selfheal_find_component_dependencies component)
  if("${component}" STREQUAL "core")
    _selfheal_find(Threads)
    _selfheal_find(Boost 1.81 CONFIG)          # Hana, header-only
    _selfheal_find(tl-expected CONFIG)
    set(SELFHEAL_core_LIBRARIES Boost::headers tl::expected Threads::Threads)
  elseif("${component}" STREQUAL "store")
    _selfheal_find(SQLite3)
    set(SELFHEAL_store_LIBRARIES SQLite::SQLite3)
  elseif("${component}" STREQUAL "postgresql")
    _selfheal_pkg(LIBPQ libpq)                 # 15
    set(SELFHEAL_postgresql_LIBRARIES PkgConfig::LIBPQ)
  elseif("${component}" STREQUAL "catalog")
    _selfheal_find(simdjson CONFIG)            # 3.0.1
    set(SELFHEAL_catalog_LIBRARIES simdjson::simdjson)
  elseif("${component}" STREQUAL "source")
    _selfheal_pkg(LIBGIT2 libgit2)             # 1.5
    _selfheal_find(tomlplusplus CONFIG)        # 3.3: selfheal.toml, TOML config files
    _selfheal_find(yaml-cpp CONFIG)            # 0.7: YAML config files
    _selfheal_find(simdjson CONFIG)            # JSON config files
    set(SELFHEAL_source_LIBRARIES PkgConfig::LIBGIT2 tomlplusplus::tomlplusplus yaml-cpp simdjson::simdjson)
  elseif("${component}" STREQUAL "telemetry")
    _selfheal_find(simdjson CONFIG)
    _selfheal_find(ZLIB)
    _selfheal_find(fmt 9 CONFIG)               # 9.1
    set(SELFHEAL_telemetry_LIBRARIES simdjson::simdjson ZLIB::ZLIB fmt::fmt)
  elseif("${component}" STREQUAL "fleet")
    _selfheal_pkg(LIBNATS libnats)             # 3.4: JetStream ship/ingest
    set(SELFHEAL_fleet_LIBRARIES PkgConfig::LIBNATS)
  elseif("${component}" STREQUAL "selfheal")
    _selfheal_pkg(LIBCMARK libcmark)           # runbook checks
    _selfheal_find(EXPAT)                      # JUnit XML of test runs
    set(SELFHEAL_selfheal_LIBRARIES PkgConfig::LIBCMARK EXPAT::EXPAT)
  endif()
endmacro()
