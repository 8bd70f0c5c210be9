# Round time over loopback gRPC vs a bare gRPC stream of the same bytes, and server peak RSS.
add_executable(net_round_bench net_round_bench.cc)
target_include_directories(net_round_bench PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(net_round_bench PRIVATE fedra_net fedra_proto gRPC::grpc++ fedra_warnings)

# Many connected clients (callback API, one process) on a real fedra-server (issue #15).
add_executable(fleet_bench fleet_bench.cc)
target_link_libraries(fleet_bench PRIVATE fedra fedra_proto gRPC::grpc++ fedra_warnings)
