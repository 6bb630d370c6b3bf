# Every dependency comes from a Debian 12 package, through find_package or pkg-config only.
# The same list is replayed by selfheal-config.cmake for consumers (find_dependency).
include(CMakeFindDependencyMacro OPTIONAL)
find_package(Threads REQUIRED)
find_package(Boost 1.81 CONFIG REQUIRED)           # Hana, header-only: libboost1.81-dev
find_package(simdjson CONFIG REQUIRED)             # libsimdjson-dev 3.0.1
find_package(SQLite3 REQUIRED)                     # libsqlite3-dev
find_package(tl-expected CONFIG REQUIRED)          # libexpected-dev
find_package(ZLIB REQUIRED)                        # zlib1g-dev (.gz logs)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET GLOBAL libgit2)  # libgit2-dev 1.5
find_package(tomlplusplus CONFIG REQUIRED)         # libtomlplusplus-dev 3.3 (selfheal.toml, TOML config files)
find_package(yaml-cpp CONFIG REQUIRED)             # libyaml-cpp-dev 0.7 (YAML config files)
pkg_check_modules(LIBCMARK REQUIRED IMPORTED_TARGET GLOBAL libcmark)  # libcmark-dev (runbook checks)
find_package(EXPAT REQUIRED)                       # libexpat1-dev (JUnit XML of test runs)

set(SELFHEAL_DEPENDENCY_TARGETS
  Boost::headers simdjson::simdjson SQLite::SQLite3 tl::expected ZLIB::ZLIB PkgConfig::LIBGIT2
  tomlplusplus::tomlplusplus yaml-cpp PkgConfig::LIBCMARK EXPAT::EXPAT
  Threads::Threads)
