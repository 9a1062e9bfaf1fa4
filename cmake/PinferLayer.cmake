# Helpers that give every layer the same shape: one static library per layer built from
# src/<layer>/*.cpp, one test executable from tests/<layer>/*_test.cpp, one benchmark
# executable from bench/<layer>/*_bench.cpp.
#
# CPU-specific kernels are separate files whose name ends in the ISA they need; only those
# files get the target flags, so the rest of the build stays baseline x86-64 and the choice
# of kernel is made at run time (see include/pinfer/core/detail/cpu_features.hpp).
function(pinfer_isa_flags file out)
  set(flags "")
  if(file MATCHES "_aesni\\.cpp$")
    set(flags "-maes;-msse4.1;-mpclmul")
  elseif(file MATCHES "_vaes\\.cpp$")
    set(flags "-maes;-msse4.1;-mpclmul;-mavx2;-mvaes;-mvpclmulqdq;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq")
  elseif(file MATCHES "_avx2\\.cpp$")
    set(flags "-mavx2;-mbmi2;-msse4.1")
  elseif(file MATCHES "_avx512\\.cpp$")
    set(flags "-mavx2;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq")
  elseif(file MATCHES "_ifma\\.cpp$")
    set(flags "-mavx2;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512ifma")
  endif()
  if(flags MATCHES "avx512f" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12's own AVX-512 headers trip these on masked loads (_mm512_undefined_*); not ours.
    list(APPEND flags "-Wno-uninitialized" "-Wno-maybe-uninitialized")
  endif()
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()

# pinfer_read_layers(<file>): reads the layer graph (cmake/layers.txt, "<layer>: <deps...>") into
# PINFER_LAYERS (the libraries, in file order) and PINFER_LAYER_DEPS_<layer> (the layers each
# uses directly), in the caller's scope. Entries whose deps are "*" (cli, python) are programs,
# not libraries.
function(pinfer_read_layers file)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  file(STRINGS ${file} lines REGEX "^[a-z_]+:")
  set(layers "")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "^([a-z_]+):(.*)$" _ "${line}")
    set(layer ${CMAKE_MATCH_1})
    string(STRIP "${CMAKE_MATCH_2}" deps)
    if(deps STREQUAL "*")
      continue()
    endif()
    separate_arguments(deps UNIX_COMMAND "${deps}")
    foreach(dep IN LISTS deps)
      if(NOT dep IN_LIST layers)
        message(FATAL_ERROR "${file}: layer ${layer} uses ${dep}, which is not listed above it")
      endif()
    endforeach()
    list(APPEND layers ${layer})
    set(PINFER_LAYER_DEPS_${layer} ${deps} PARENT_SCOPE)
  endforeach()
  set(PINFER_LAYERS ${layers} PARENT_SCOPE)
endfunction()

# pinfer_add_layer(<layer> DEPS <external targets...>)
# The layers it uses come from cmake/layers.txt. Its sources see only the headers of the layers
# it may use: each layer's public headers are reached through a folder of its own in the build
# tree (<build>/layer-include/<layer>/pinfer/<layer>, a link to include/pinfer/<layer>), which
# it passes on to the layers linking it, and its private headers through another
# (<build>/layer-include/<layer>-private/<layer>, a link to src/<layer>) that it keeps to
# itself. An #include of a layer it may not use then fails to compile (and
# scripts/check-includes.py names it).
function(pinfer_add_layer layer)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${layer}/*.cpp)
  if(NOT sources)
    message(STATUS "layer ${layer} has no sources yet; skipped")
    return()
  endif()
  set(public_root ${CMAKE_BINARY_DIR}/layer-include/${layer})
  set(private_root ${CMAKE_BINARY_DIR}/layer-include/${layer}-private)
  file(MAKE_DIRECTORY ${public_root}/pinfer ${private_root})
  if(IS_DIRECTORY ${CMAKE_SOURCE_DIR}/include/pinfer/${layer})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/include/pinfer/${layer} ${public_root}/pinfer/${layer}
         SYMBOLIC)
  endif()
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${layer} ${private_root}/${layer} SYMBOLIC)
  add_library(pinfer_${layer} STATIC ${sources})
  target_include_directories(pinfer_${layer}
    PUBLIC $<BUILD_INTERFACE:${public_root}> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${private_root})
  set(layer_deps "")
  foreach(dep IN LISTS PINFER_LAYER_DEPS_${layer})
    list(APPEND layer_deps pinfer_${dep})
  endforeach()
  target_link_libraries(pinfer_${layer} PUBLIC ${layer_deps} ${ARG_DEPS})
  foreach(src IN LISTS sources)
    pinfer_isa_flags(${src} flags)
    if(flags)
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${flags}")
    endif()
  endforeach()
endfunction()

function(pinfer_add_layer_tests layer)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${layer}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(pinfer_${layer}_tests ${sources})
  target_include_directories(pinfer_${layer}_tests PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  if(TARGET pinfer_${layer})
    target_link_libraries(pinfer_${layer}_tests PRIVATE pinfer_${layer})
  else()
    target_link_libraries(pinfer_${layer}_tests PRIVATE pinfer_all)
  endif()
  target_link_libraries(pinfer_${layer}_tests PRIVATE GTest::gtest GTest::gtest_main)
  target_compile_definitions(pinfer_${layer}_tests PRIVATE
    PINFER_SOURCE_DIR="${CMAKE_SOURCE_DIR}" PINFER_BINARY_DIR="${CMAKE_BINARY_DIR}")
  gtest_discover_tests(pinfer_${layer}_tests DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS ${layer} TIMEOUT 600)
endfunction()

function(pinfer_add_layer_bench layer)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bench/${layer}/*_bench.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(pinfer_${layer}_bench ${sources})
  target_include_directories(pinfer_${layer}_bench PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(pinfer_${layer}_bench PRIVATE pinfer_all benchmark::benchmark benchmark::benchmark_main)
  target_compile_definitions(pinfer_${layer}_bench PRIVATE PINFER_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endfunction()
