foreach(t crypto shamir shamir_decoder neighbour_graph messages quantizer protocol server_stages
    runner)
  fedra_add_test(privacy/secagg/secagg_${t}_test.cc)
endforeach()
