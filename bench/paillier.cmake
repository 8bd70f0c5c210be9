# Paillier: encryption (DJN + fixed-base table, textbook, CRT), decryption, additions and packed
# federated updates, each beside a raw OpenSSL BN_mod_exp_mont / Montgomery multiplication of the
# same modulus and exponent size measured in the same run.
add_executable(paillier_bench paillier_bench.cc)
target_include_directories(paillier_bench PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(paillier_bench PRIVATE fedra fedra_warnings benchmark::benchmark OpenSSL::Crypto)
