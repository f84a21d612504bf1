# ctl_tests: b2buactl's pure parts (command line, rendering, exit codes). Included from
# tests/unit/CMakeLists.txt, apart from the admin layer's own tests.
b2b_add_test(ctl_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ctl_test.cpp
  LIBS b2b::ctl)
