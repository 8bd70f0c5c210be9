# fedra-keygen: `tls` (CA, server and client certificates, auth tokens); further subcommands
# add their source here.
# `tls` is a library of its own, compiled once for the program and for its test.
add_library(fedra_keygen_tls STATIC tls_keygen.cc)
target_include_directories(fedra_keygen_tls PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(fedra_keygen_tls PUBLIC fedra CLI11::CLI11 OpenSSL::Crypto
                      PRIVATE fedra_warnings)
add_executable(fedra-keygen keygen_main.cc keygen_paillier.cc)
target_include_directories(fedra-keygen PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(fedra-keygen PRIVATE fedra fedra_keygen_tls fedra_warnings CLI11::CLI11
                      OpenSSL::Crypto)
install(TARGETS fedra-keygen RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

if(FEDRA_BUILD_TESTS)
  include(GoogleTest)
  # Links fedra_keygen_tls: the test checks the files WriteTlsFiles() makes, and that gRPC's
  # TLS accepts them.
  add_executable(tls_keygen_test ${PROJECT_SOURCE_DIR}/tests/apps/tls_keygen_test.cc)
  target_include_directories(tls_keygen_test PRIVATE ${PROJECT_SOURCE_DIR}/src
                             ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(tls_keygen_test PRIVATE fedra fedra_keygen_tls fedra_warnings fedra_test_util
                        GTest::gtest_main GTest::gmock OpenSSL::Crypto gRPC::grpc++)
  gtest_discover_tests(tls_keygen_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)

  add_test(NAME apps.keygen_help COMMAND fedra-keygen --help)
  set_tests_properties(apps.keygen_help PROPERTIES PASS_REGULAR_EXPRESSION "tls")
  add_test(NAME apps.keygen_tls_help COMMAND fedra-keygen tls --help)
  set_tests_properties(apps.keygen_tls_help PROPERTIES
    PASS_REGULAR_EXPRESSION "--out.*--clients.*--client-names.*--days.*--server-names.*--force")
  add_test(NAME apps.keygen_rejects_unknown_flag COMMAND fedra-keygen tls --out x --colour blue)
  set_tests_properties(apps.keygen_rejects_unknown_flag PROPERTIES WILL_FAIL TRUE)
  add_test(NAME apps.keygen_needs_a_subcommand COMMAND fedra-keygen)
  set_tests_properties(apps.keygen_needs_a_subcommand PROPERTIES WILL_FAIL TRUE)
  add_test(NAME apps.keygen_names_missing_parent
           COMMAND fedra-keygen tls --out /nonexistent/fedra-keygen-test)
  set_tests_properties(apps.keygen_names_missing_parent PROPERTIES
    PASS_REGULAR_EXPRESSION "fedra-keygen tls: NOT_FOUND: --out /nonexistent/fedra-keygen-test: cannot create the directory")
endif()
