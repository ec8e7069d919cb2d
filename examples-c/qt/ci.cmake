# The Qt example for CI, where LiteCore is not installed: included from tests/c/CMakeLists.txt,
# so it shares that directory's fake_litecore target, strict flags, sanitizer options, test
# environment and valgrind launcher.
#   example_qt_fake   main.cpp (unchanged) + replicator_fake.cpp, compiled against the glue tests'
#                     mock LiteCore headers (tests/c/litecore_mock, LiteCore 4.1's API) and linked
#                     with the fake LiteCore, which plays the replicator's part of one socket;
#   example_qt        ctest: run_qt_example.py runs it against the SG stand-in (ws, and wss through
#                     nginx with --ca) and checks exit status, output and the request SG received.
# replicator_litecore.cpp, the real c4repl_* variant, is compiled here too (not linked) against
# declarations of LiteCore's API (tests/c/examples/litecore_api), with the same strict flags.
find_package(Qt6 COMPONENTS Core QUIET)
if(NOT Qt6_FOUND)
  message(STATUS "Qt6 Core not found (apt-get install qt6-base-dev): example_qt is reported skipped")
  lcws_skip_test(example_qt "Qt6 Core not found (scripts/setup.sh installs qt6-base-dev)")
  return()
endif()

set(_qt_src "${PROJECT_SOURCE_DIR}/examples-c/qt")
add_executable(example_qt_fake "${_qt_src}/main.cpp" "${_qt_src}/replicator_fake.cpp"
               "${PROJECT_SOURCE_DIR}/examples-c/common/example_flow.c")
set_target_properties(example_qt_fake PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF
                      C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_include_directories(example_qt_fake PRIVATE "${_qt_src}" "${PROJECT_SOURCE_DIR}/examples-c/common"
                           "${PROJECT_SOURCE_DIR}/tests/c/litecore_mock")
target_compile_definitions(example_qt_fake PRIVATE MOCK_LC_VERSION=410)
target_compile_options(example_qt_fake PRIVATE ${LCWS_STRICT_FLAGS})
target_link_libraries(example_qt_fake PRIVATE Qt6::Core fake_litecore LiteCoreWS::shared ${CMAKE_DL_LIBS}
                      Threads::Threads)

add_library(example_qt_litecore_compile_check OBJECT "${_qt_src}/replicator_litecore.cpp")
set_target_properties(example_qt_litecore_compile_check PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
                      CXX_EXTENSIONS OFF)
target_include_directories(example_qt_litecore_compile_check PRIVATE "${_qt_src}"
  "${PROJECT_SOURCE_DIR}/tests/c/examples/litecore_api" "${PROJECT_SOURCE_DIR}/tests/c/litecore_mock")
target_compile_options(example_qt_litecore_compile_check PRIVATE ${LCWS_STRICT_FLAGS})

if(LCWS_PEERS_MISSING)
  lcws_skip_test(example_qt "${LCWS_PEERS_MISSING}")
else()
  add_test(NAME example_qt
           COMMAND "${Python3_EXECUTABLE}" "${_qt_src}/run_qt_example.py"
                   --peers-dir "${PROJECT_SOURCE_DIR}/tests/peers" --bin $<TARGET_FILE:example_qt_fake>
                   -- ${_launcher})
  set_tests_properties(example_qt PROPERTIES ENVIRONMENT "${_test_env}" TIMEOUT 600)
endif()
