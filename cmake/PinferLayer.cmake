# Helpers that give every layer the same shape: one static library per layer built from
# src/<layer>/*.cpp, one test executable from tests/<layer>/*_test.cpp, one benchmark
# executable from bench/<layer>/*_bench.cpp.
#
# CPU-specific kernels are separate files whose name ends in the ISA they need; only those
# files get the target flags, so the rest of the build stays baseline x86-64 and the choice
# of kernel is made at run time (see include/pinfer/core/cpu_features.hpp).
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

# pinfer_add_layer(<layer> DEPS <targets...>)
function(pinfer_add_layer layer)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${layer}/*.cpp)
  if(NOT sources)
    message(STATUS "layer ${layer} has no sources yet; skipped")
    return()
  endif()
  add_library(pinfer_${layer} STATIC ${sources})
  target_include_directories(pinfer_${layer}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(pinfer_${layer} PUBLIC ${ARG_DEPS})
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
