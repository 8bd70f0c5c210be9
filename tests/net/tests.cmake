# Net layer tests: a real server on 127.0.0.1 (port 0), driven by hand-made and real clients.
# COST (seconds in a fresh run) makes ctest -j start the longest end-to-end tests first, so
# that a fresh clone's run does not end on one of them alone.
add_library(fedra_net_test_util STATIC net/raw_client.cc)
target_include_directories(fedra_net_test_util PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(fedra_net_test_util PUBLIC fedra_net fedra_proto gRPC::grpc++ PRIVATE fedra_warnings)
foreach(t net/wire_test.cc net/server_test.cc net/client_test.cc net/secure_round_test.cc
        net/server_auth_test.cc net/session_registry_test.cc net/task_board_test.cc net/edge_test.cc)
  fedra_add_test(${t})
  get_filename_component(name ${t} NAME_WE)
  target_link_libraries(${name} PRIVATE fedra_net_test_util)
endforeach()

# Real processes, TLS + mTLS + tokens, SIGKILL of a client and of the server, resume.
if(FEDRA_BUILD_APPS AND EXISTS /usr/share/datasets/fashion-mnist)
  add_test(NAME net.e2e_tls_kill_and_resume
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/e2e_test.sh $<TARGET_FILE_DIR:fedra-server>
                   ${CMAKE_CURRENT_BINARY_DIR}/e2e)
  set_tests_properties(net.e2e_tls_kill_and_resume PROPERTIES TIMEOUT 900
                       PASS_REGULAR_EXPRESSION "E2E OK")
endif()

# DP through real server and client processes: budget stop, epsilon in the metrics, accountant
# in the checkpoint.
if(FEDRA_BUILD_APPS)
  add_test(NAME net.dp_budget_stop_and_resume
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/dp_e2e_test.sh $<TARGET_FILE_DIR:fedra-server>
                   ${CMAKE_CURRENT_BINARY_DIR}/dp_e2e)
  set_tests_properties(net.dp_budget_stop_and_resume PROPERTIES TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "DP E2E OK")
endif()

# Federated LoRA fine-tuning of a pre-trained text encoder through real server and clients,
# with distributed DP and SecAgg (a generated mail corpus; no network needed).
if(FEDRA_BUILD_APPS)
  add_test(NAME net.text_lora_dp_secagg
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/text_e2e_test.sh $<TARGET_FILE_DIR:fedra-server>
                   ${CMAKE_CURRENT_BINARY_DIR}/text_e2e)
  set_tests_properties(net.text_lora_dp_secagg PROPERTIES TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "TEXT E2E OK")
endif()

# Secure rounds through real server and client processes: SecAgg with a client killed at each
# stage and below its threshold, Paillier (the server never opens the secret key: watch_opens
# counts opens of the file with inotify), and both compared with the same run in plaintext.
if(FEDRA_BUILD_APPS)
  add_executable(watch_opens net/watch_opens.cc)
  target_link_libraries(watch_opens PRIVATE fedra_warnings)
  add_test(NAME net.secure_rounds_e2e
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/secure_e2e_test.sh $<TARGET_FILE_DIR:fedra-server>
                   ${CMAKE_CURRENT_BINARY_DIR}/secure_e2e $<TARGET_FILE:watch_opens>)
  set_tests_properties(net.secure_rounds_e2e PROPERTIES TIMEOUT 300 COST 50
                       PASS_REGULAR_EXPRESSION "SECURE E2E OK")
endif()

# One hostile participant (hand-written protocol client) against fedra-server and four
# fedra-client processes: with the default influence bound the model stays within 2 points
# of the clean run; with the bound off the attack takes it over.
if(FEDRA_BUILD_APPS AND EXISTS /usr/share/datasets/fashion-mnist)
  add_executable(hostile_client net/hostile_client.cc)
  target_link_libraries(hostile_client PRIVATE fedra_net_test_util fedra_warnings)
  add_test(NAME net.one_hostile_client_cannot_own_the_model
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/influence_e2e_test.sh
                   $<TARGET_FILE_DIR:fedra-server> $<TARGET_FILE:hostile_client>
                   ${CMAKE_CURRENT_BINARY_DIR}/influence_e2e)
  set_tests_properties(net.one_hostile_client_cannot_own_the_model PROPERTIES TIMEOUT 600 COST 40
                       PASS_REGULAR_EXPRESSION "INFLUENCE E2E OK")
endif()

# A hierarchy of aggregators: a root, two edge fedra-servers (--upstream) with two
# fedra-clients each; FedAvg over two tiers equals FedAvg over the same clients flat.
if(FEDRA_BUILD_APPS AND EXISTS /usr/share/datasets/fashion-mnist)
  add_test(NAME net.two_tier_fedavg_equals_flat
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/hierarchy_e2e_test.sh
                   $<TARGET_FILE_DIR:fedra-server> ${CMAKE_CURRENT_BINARY_DIR}/hierarchy_e2e)
  set_tests_properties(net.two_tier_fedavg_equals_flat PROPERTIES TIMEOUT 600 COST 80
                       PASS_REGULAR_EXPRESSION "HIERARCHY E2E OK")
endif()

# Soak, short: 40 rounds while clients are SIGKILLed, restarted and SIGSTOPped at random;
# the server's RSS and threads must stay flat (bench/soak.py; 200 rounds in benchmarks.md).
if(FEDRA_BUILD_APPS)
  add_test(NAME net.soak_drop_rejoin_stall
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/bench/soak.py
                   --bin $<TARGET_FILE_DIR:fedra-server> --rounds 40 --clients 6
                   --work ${CMAKE_CURRENT_BINARY_DIR}/soak)
  set_tests_properties(net.soak_drop_rejoin_stall PROPERTIES TIMEOUT 300 COST 40
                       PASS_REGULAR_EXPRESSION "SOAK OK" FAIL_REGULAR_EXPRESSION "SOAK FAILED")
endif()

# Refusals in secure rounds reveal no client value (the server picks the ranges).
if(FEDRA_BUILD_APPS)
  add_test(NAME net.secure_refusals_reveal_no_value
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/secure_refusal_log_test.sh
                   $<TARGET_FILE_DIR:fedra-server> ${CMAKE_CURRENT_BINARY_DIR}/secure_refusal)
  set_tests_properties(net.secure_refusals_reveal_no_value PROPERTIES TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "SECURE REFUSAL LOG OK")
endif()

# A custom strategy and a custom trainer from a plugin, through the stock fedra-sim,
# fedra-server and fedra-client with no change to fedra; bad plugins refused by name.
if(FEDRA_BUILD_APPS AND FEDRA_BUILD_EXAMPLES)
  add_library(wrong_version_plugin MODULE ${CMAKE_CURRENT_SOURCE_DIR}/net/wrong_version_plugin.cc)
  target_link_libraries(wrong_version_plugin PRIVATE fedra)
  add_test(NAME net.plugins_in_stock_programs
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/plugin_e2e_test.sh $<TARGET_FILE_DIR:fedra-server>
                   $<TARGET_FILE:example_plugin> $<TARGET_FILE:wrong_version_plugin>
                   ${CMAKE_CURRENT_BINARY_DIR}/plugin_e2e)
  set_tests_properties(net.plugins_in_stock_programs PROPERTIES TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "PLUGIN E2E OK")
endif()

# A TorchScript model exported from PyTorch trains between fedra-client processes, beside a
# client on fedra's own layers (fedra::torch; needs libtorch-dev and python3-torch).
if(FEDRA_BUILD_APPS AND TARGET fedra_torch_plugin)
  add_test(NAME net.torchscript_clients
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net/torch_e2e_test.sh $<TARGET_FILE_DIR:fedra-server>
                   $<TARGET_FILE:fedra_torch_plugin> ${PROJECT_SOURCE_DIR}/examples/torch/export_mlp.py
                   ${CMAKE_CURRENT_BINARY_DIR}/torch_e2e)
  set_tests_properties(net.torchscript_clients PROPERTIES TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "TORCH E2E OK")
endif()
