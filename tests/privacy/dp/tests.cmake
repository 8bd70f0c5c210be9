foreach(t dp_mechanisms_test dp_rdp_accountant_test dp_pld_accountant_test dp_strategy_test)
  fedra_add_test(privacy/dp/${t}.cc)
endforeach()
