# deploy/prometheus checked by promtool (the Debian prometheus package, from deploy/install-deps.sh):
# the scrape config with the rule files it loads, the alert rules (and what promtool does not check:
# severity, annotations, a firing and a quiet unit test per alert), and the rules' unit tests.
find_program(PROMTOOL promtool)
if(NOT PROMTOOL)
  # Not found at configure time: the tests fail saying what to install, rather than vanish.
  set(PROMTOOL promtool)
endif()
foreach(check IN ITEMS config rules test)
  set(name deploy.promtool_${check})
  if(check STREQUAL "test")
    set(name deploy.promtool_test_rules)
  endif()
  add_test(NAME ${name}
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/check_prometheus.sh ${check} ${PROJECT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES LABELS deploy TIMEOUT 60 ENVIRONMENT PROMTOOL=${PROMTOOL})
endforeach()
