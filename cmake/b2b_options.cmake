# b2b_warnings and b2b_options: linked PRIVATE into every target of ours.

add_library(b2b_warnings INTERFACE)
target_compile_options(b2b_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
# -Wnull-dereference is left out: at -O2 it fires inside Boost.Asio's inlined scheduler code.
if(B2B_WARNINGS_AS_ERRORS)
  target_compile_options(b2b_warnings INTERFACE -Werror)
endif()

add_library(b2b_options INTERFACE)
# Boost.Asio: no deprecated names, and an explicit (header-only) Boost.System.
target_compile_definitions(b2b_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED)
if(B2B_SANITIZE)
  target_compile_options(b2b_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
    # clang 14 cannot emit -fsanitize=function's prologue data for a coroutine's split parts
    # ("Cannot represent a difference across sections" in every TU with a co_await); the check
    # (a call through a function pointer of the wrong type) is the one UBSan check we go without.
    $<$<CXX_COMPILER_ID:Clang>:-fno-sanitize=function>)
  target_link_options(b2b_options INTERFACE -fsanitize=address,undefined)
endif()
if(B2B_FUZZ)
  # Coverage instrumentation for libFuzzer in every library of ours; the fuzz targets link
  # libFuzzer itself (fuzz/CMakeLists.txt), every other program the sanitizers' no-op hooks.
  target_compile_options(b2b_options INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(B2B_SANITIZE_THREAD)
  target_compile_options(b2b_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(b2b_options INTERFACE -fsanitize=thread)
endif()

# b2b_add_library(name ALIAS b2b::x SOURCES ... PUBLIC_LIBS ... PRIVATE_LIBS ...)
function(b2b_add_library name)
  cmake_parse_arguments(ARG "" "ALIAS" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  add_library(${ARG_ALIAS} ALIAS ${name})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE b2b_warnings b2b_options ${ARG_PRIVATE_LIBS})
endfunction()

# b2b_add_test(name SOURCES ... LIBS ...): one GoogleTest binary, its cases registered with CTest.
function(b2b_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest_main b2b_warnings b2b_options)
  target_compile_definitions(${name} PRIVATE
    B2B_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
    B2B_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120 LABELS unit)
endfunction()
