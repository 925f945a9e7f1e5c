# coffer_library(NAME <name> SRCS <files...> DEPS <targets...>)
#   One static library per source folder, named coffer_<name>. Includes are rooted at src/,
#   so code writes #include "base/status.h".
function(coffer_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(coffer_${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(coffer_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(coffer_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
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
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT 300)
endfunction()
