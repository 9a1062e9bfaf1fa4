# `cmake --install`: the `pinfer` binary, the shipped data it finds relative to itself
# (share/pinfer, src/cli/data_dir.hpp), the public headers and the layer libraries exported as
# pinfer::pinfer for find_package(pinfer) (cmake/pinfer-config.cmake.in).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PINFER_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/pinfer)

set(pinfer_export_targets pinfer_all)
foreach(layer IN LISTS PINFER_LAYERS)
  if(TARGET pinfer_${layer})
    list(APPEND pinfer_export_targets pinfer_${layer})
  endif()
endforeach()
# Consumers link pinfer::pinfer; the layers come with it as pinfer::pinfer_<layer>.
set_target_properties(pinfer_all PROPERTIES EXPORT_NAME pinfer)

install(TARGETS ${pinfer_export_targets} EXPORT pinferTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/pinfer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT pinferTargets NAMESPACE pinfer:: DESTINATION ${PINFER_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/pinfer-config.cmake.in
                              ${CMAKE_BINARY_DIR}/pinfer-config.cmake
                              INSTALL_DESTINATION ${PINFER_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/pinfer-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/pinfer-config.cmake ${CMAKE_BINARY_DIR}/pinfer-config-version.cmake
        DESTINATION ${PINFER_INSTALL_CMAKEDIR})

install(TARGETS pinfer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The binary looks for <bin>/../share/pinfer: keep the data under the same prefix.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/models ${CMAKE_SOURCE_DIR}/profiles
                  ${CMAKE_SOURCE_DIR}/scenarios
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pinfer
        PATTERN "*.py" EXCLUDE)
