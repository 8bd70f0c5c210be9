# DP accountants (RDP sweep, PLD) and the noise/clipping cost per parameter.
add_executable(dp_accountant_bench dp_accountant_bench.cc)
target_link_libraries(dp_accountant_bench PRIVATE fedra fedra_warnings benchmark::benchmark)
