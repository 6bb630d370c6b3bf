include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS selfheal EXPORT selfheal-targets FILE_SET HEADERS)
install(EXPORT selfheal-targets NAMESPACE selfheal::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/selfheal)
configure_package_config_file(cmake/selfheal-config.cmake.in
  ${PROJECT_BINARY_DIR}/selfheal-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/selfheal)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/selfheal-config-version.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/selfheal-config.cmake
              ${PROJECT_BINARY_DIR}/selfheal-config-version.cmake
              ${PROJECT_SOURCE_DIR}/cmake/selfheal_dependencies.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/selfheal)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sequences/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/selfheal/sequences)
