target_sources(fedra PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/crypto.cc
  ${CMAKE_CURRENT_LIST_DIR}/prg.cc
  ${CMAKE_CURRENT_LIST_DIR}/shamir.cc
  ${CMAKE_CURRENT_LIST_DIR}/shamir_decoder.cc
  ${CMAKE_CURRENT_LIST_DIR}/config.cc
  ${CMAKE_CURRENT_LIST_DIR}/neighbour_graph.cc
  ${CMAKE_CURRENT_LIST_DIR}/messages.cc
  ${CMAKE_CURRENT_LIST_DIR}/key_schedule.cc
  ${CMAKE_CURRENT_LIST_DIR}/client.cc
  ${CMAKE_CURRENT_LIST_DIR}/server.cc
  ${CMAKE_CURRENT_LIST_DIR}/quantizer.cc
  ${CMAKE_CURRENT_LIST_DIR}/server_stages.cc
  ${CMAKE_CURRENT_LIST_DIR}/runner.cc)
