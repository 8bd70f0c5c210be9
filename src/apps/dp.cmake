# fedra-privacy: DP accounting and noise calibration from the command line.
add_executable(fedra-privacy privacy_main.cc)
target_link_libraries(fedra-privacy PRIVATE CLI11::CLI11 fedra fedra_warnings)
install(TARGETS fedra-privacy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

if(FEDRA_BUILD_TESTS)
  # The TF Privacy MNIST tutorial value (classic conversion, its orders): 2.92.
  add_test(NAME apps.privacy_epsilon_tf_tutorial
           COMMAND fedra-privacy epsilon --noise-multiplier 1.12 --sampling-rate 0.00426666667
                   --steps 14063 --delta 1e-5 --orders tf --conversion classic)
  set_tests_properties(apps.privacy_epsilon_tf_tutorial PROPERTIES
    PASS_REGULAR_EXPRESSION "\n2\\.92[0-9]*\n$")
  add_test(NAME apps.privacy_epsilon_both_accountants
           COMMAND fedra-privacy epsilon -z 1.0 -q 0.1 -t 100 -d 1e-5 --accountant both)
  set_tests_properties(apps.privacy_epsilon_both_accountants PROPERTIES
    PASS_REGULAR_EXPRESSION "rdp epsilon [0-9.]+.*\npld epsilon [0-9.]+.*\n[0-9.]+\n$")
  add_test(NAME apps.privacy_noise_for_target
           COMMAND fedra-privacy noise --target-epsilon 2 --sampling-rate 0.1 --steps 100 --delta 1e-5)
  set_tests_properties(apps.privacy_noise_for_target PROPERTIES
    PASS_REGULAR_EXPRESSION "\n2\\.[0-9]+\n$")
  # Bad parameters: a clear message and exit status 1.
  add_test(NAME apps.privacy_rejects_negative_noise
           COMMAND fedra-privacy epsilon -z -1 -q 0.1 -t 10)
  set_tests_properties(apps.privacy_rejects_negative_noise PROPERTIES
    PASS_REGULAR_EXPRESSION "fedra-privacy: INVALID_ARGUMENT: noise multiplier must be a finite number > 0")
  add_test(NAME apps.privacy_rejects_sampling_rate_above_one
           COMMAND fedra-privacy epsilon -z 1 -q 1.5 -t 10)
  set_tests_properties(apps.privacy_rejects_sampling_rate_above_one PROPERTIES
    PASS_REGULAR_EXPRESSION "sampling rate q must be in \\(0, 1\\]")
  add_test(NAME apps.privacy_rejects_bad_delta
           COMMAND fedra-privacy noise -e 1 -q 0.1 -t 10 -d 1)
  set_tests_properties(apps.privacy_rejects_bad_delta PROPERTIES
    PASS_REGULAR_EXPRESSION "delta must be in \\(0, 1\\)")
  add_test(NAME apps.privacy_requires_a_subcommand COMMAND fedra-privacy)
  set_tests_properties(apps.privacy_requires_a_subcommand PROPERTIES WILL_FAIL TRUE)
endif()

if(FEDRA_BUILD_TESTS)
  # fedra-sim with DP: epsilon printed per round; the budget stops the run; DP refuses a
  # strategy it cannot wrap.
  add_test(NAME apps.sim_dp_central_reports_epsilon
           COMMAND fedra-sim --data synthetic --clients 20 --fraction-fit 0.5 --rounds 2
                   --model logreg --threads 2 --dp-mode central --dp-clip 1
                   --dp-noise-multiplier 1.0 --dp-seed 3)
  set_tests_properties(apps.sim_dp_central_reports_epsilon PROPERTIES
    PASS_REGULAR_EXPRESSION "round   2/2  clients 10 \\(0 failed\\).*  eps [0-9]+\\.[0-9]+.*privacy: epsilon [0-9.]+ at delta 1e-05 after 2 rounds")
  add_test(NAME apps.sim_dp_local_adaptive_rejected
           COMMAND fedra-sim --data synthetic --dp-mode local --dp-adaptive-quantile 0.5)
  set_tests_properties(apps.sim_dp_local_adaptive_rejected PROPERTIES
    PASS_REGULAR_EXPRESSION "fedra-sim: INVALID_ARGUMENT: adaptive clipping needs --dp-mode central")
  add_test(NAME apps.sim_dp_budget_stops_the_run
           COMMAND fedra-sim --data synthetic --clients 10 --rounds 5 --model logreg --threads 2
                   --dp-mode distributed --dp-noise-multiplier 2 --dp-target-epsilon 3)
  set_tests_properties(apps.sim_dp_budget_stops_the_run PROPERTIES
    PASS_REGULAR_EXPRESSION "stopped after [1-4] rounds: privacy budget spent")
  add_test(NAME apps.sim_dp_refuses_median
           COMMAND fedra-sim --data synthetic --strategy fedmedian --dp-mode central)
  set_tests_properties(apps.sim_dp_refuses_median PROPERTIES
    PASS_REGULAR_EXPRESSION "differential privacy cannot wrap strategy 'fedmedian'")
endif()
