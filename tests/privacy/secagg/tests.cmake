foreach(t crypto shamir neighbour_graph messages quantizer protocol runner)
  fedra_add_test(privacy/secagg/secagg_${t}_test.cc)
endforeach()
