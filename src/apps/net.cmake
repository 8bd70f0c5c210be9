add_executable(fedra-server server_main.cc server_edge.cc)
target_link_libraries(fedra-server PRIVATE fedra_net fedra_app_flags fedra_warnings CLI11::CLI11)
add_executable(fedra-client client_main.cc)
target_link_libraries(fedra-client PRIVATE fedra_net fedra_app_flags fedra_warnings CLI11::CLI11)
install(TARGETS fedra-server fedra-client RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

if(FEDRA_BUILD_TESTS)
  # Bad flags and files end with a message saying what was wrong, and exit status 1.
  add_test(NAME apps.server_needs_client_auth_with_tls
           COMMAND fedra-server --data none --input-shape 4 --model linear --cert a.pem --key a.key)
  set_tests_properties(apps.server_needs_client_auth_with_tls PROPERTIES
    PASS_REGULAR_EXPRESSION "fedra-server: INVALID_ARGUMENT: no client authentication")
  add_test(NAME apps.server_names_missing_certificate
           COMMAND fedra-server --data none --input-shape 4 --model linear --cert /nonexistent.pem
                   --key /nonexistent.key --tokens /nonexistent.txt)
  set_tests_properties(apps.server_names_missing_certificate PROPERTIES
    PASS_REGULAR_EXPRESSION "fedra-server: NOT_FOUND: /nonexistent.txt")
  add_test(NAME apps.server_rejects_unknown_strategy
           COMMAND fedra-server --insecure --data none --input-shape 4 --strategy fedfoo)
  set_tests_properties(apps.server_rejects_unknown_strategy PROPERTIES
    PASS_REGULAR_EXPRESSION "unknown strategy 'fedfoo'")
  add_test(NAME apps.server_reads_json_config
           COMMAND fedra-server --config ${PROJECT_SOURCE_DIR}/tests/net/bad_server_config.json)
  set_tests_properties(apps.server_reads_json_config PROPERTIES
    PASS_REGULAR_EXPRESSION "unknown strategy 'from-json'")
  add_test(NAME apps.client_rejects_partition_index
           COMMAND fedra-client --insecure --num-partitions 2 --partition-index 2)
  set_tests_properties(apps.client_rejects_partition_index PROPERTIES
    PASS_REGULAR_EXPRESSION "--partition-index must be below --num-partitions")
  add_test(NAME apps.client_needs_ca_for_tls
           COMMAND fedra-client --data synthetic --model logreg --give-up-seconds 1)
  set_tests_properties(apps.client_needs_ca_for_tls PROPERTIES
    PASS_REGULAR_EXPRESSION "TLS needs the CA certificate")
endif()
