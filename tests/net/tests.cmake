# Net layer tests: a real server on 127.0.0.1 (port 0), driven by hand-made and real clients.
add_library(fedra_net_test_util STATIC net/raw_client.cc)
target_include_directories(fedra_net_test_util PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(fedra_net_test_util PUBLIC fedra_net fedra_proto gRPC::grpc++ PRIVATE fedra_warnings)
foreach(t net/wire_test.cc net/server_test.cc net/client_test.cc)
  fedra_add_test(${t})
  get_filename_component(name ${t} NAME_WE)
  target_link_libraries(${name} PRIVATE fedra_net_test_util)
endforeach()
