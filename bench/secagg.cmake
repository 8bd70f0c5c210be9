# Secure aggregation: micro-benchmarks (Google Benchmark) and a whole-round driver.
add_executable(secagg_bench secagg_bench.cc)
# OpenSSL directly too: the raw AES-256-CTR baseline calls EVP itself.
target_link_libraries(secagg_bench PRIVATE fedra fedra_warnings benchmark::benchmark OpenSSL::Crypto)
add_executable(secagg_round_bench secagg_round_bench.cc)
target_link_libraries(secagg_round_bench PRIVATE fedra fedra_warnings)
