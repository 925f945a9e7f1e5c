# Precompiled headers (COFFER_PCH, on by default). GoogleTest, gmock and nlohmann/json are most of
# what a test file parses, and json is a large part of every library file that uses it; GCC parses
# them once per build instead of once per file. A GCC PCH is ~100 MB, so there are only two, each
# shared through PRECOMPILE_HEADERS_REUSE_FROM: coffer_test_pch (tests: -O0) and coffer_lib_pch
# (libraries that link nlohmann_json). The PCH is force-included (-include), so a file that forgets
# `#include <nlohmann/json.hpp>` still builds here but not in fuzz/run (clang, no PCH): keep includes
# complete. Configure with -DCOFFER_PCH=OFF to check that, or to build without.
option(COFFER_PCH "Precompile GoogleTest/gmock/nlohmann_json headers" ON)

function(coffer_pch_owner name)
  add_library(${name} OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch_stub.cc)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ARGN})
endfunction()

if(COFFER_PCH AND NOT TARGET coffer_test_pch)
  # Flags must match the users' (GCC rejects a PCH built with other options), hence -O0 and the
  # same interface libraries as coffer_test below.
  coffer_pch_owner(coffer_test_pch GTest::gtest GTest::gmock Threads::Threads nlohmann_json::nlohmann_json)
  target_compile_options(coffer_test_pch PRIVATE -O0)
  target_precompile_headers(coffer_test_pch PRIVATE <gtest/gtest.h> <gmock/gmock.h> <nlohmann/json.hpp>)

  coffer_pch_owner(coffer_lib_pch nlohmann_json::nlohmann_json)
  target_precompile_headers(coffer_lib_pch PRIVATE <nlohmann/json.hpp>)
endif()

# coffer_library(NAME <name> SRCS <files...> DEPS <targets...>)
#   One static library per source folder, named coffer_<name>. Includes are rooted at src/,
#   so code writes #include "base/status.h".
function(coffer_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(coffer_${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(coffer_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(coffer_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  if(COFFER_PCH AND "nlohmann_json::nlohmann_json" IN_LIST ARG_DEPS OR
     COFFER_PCH AND "nlohmann_json::nlohmann_json" IN_LIST ARG_PRIVATE_DEPS)
    set_target_properties(coffer_${ARG_NAME} PROPERTIES PRECOMPILE_HEADERS_REUSE_FROM coffer_lib_pch)
  endif()
endfunction()

# coffer_test(NAME <name> SRCS <files...> DEPS <targets...>)
#   A GoogleTest binary registered with CTest as one test.
function(coffer_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock Threads::Threads)
  # Test code is compiled without optimisation (the code under test, in the libraries, is not):
  # it halves the compile time of the heaviest translation units and tests run just as well.
  target_compile_options(${ARG_NAME} PRIVATE -O0)
  if(COFFER_PCH)
    set_target_properties(${ARG_NAME} PROPERTIES PRECOMPILE_HEADERS_REUSE_FROM coffer_test_pch)
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT 300)
endfunction()
