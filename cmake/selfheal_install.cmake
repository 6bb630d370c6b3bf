include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# One export set per component, so that the config file loads only the asked ones.
foreach(component IN LISTS SELFHEAL_COMPONENTS)
  if(component STREQUAL "selfheal")
    set(target selfheal)
  else()
    set(target selfheal_${component})
  endif()
  install(TARGETS ${target} EXPORT selfheal-${component}-targets FILE_SET HEADERS)
  install(EXPORT selfheal-${component}-targets NAMESPACE selfheal::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/selfheal)
endforeach()
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
