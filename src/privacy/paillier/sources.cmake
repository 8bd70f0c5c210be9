target_sources(fedra PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/bn_util.cc
  ${CMAKE_CURRENT_LIST_DIR}/fixed_base_table.cc
  ${CMAKE_CURRENT_LIST_DIR}/public_key.cc
  ${CMAKE_CURRENT_LIST_DIR}/secret_key.cc
  ${CMAKE_CURRENT_LIST_DIR}/packing.cc
  ${CMAKE_CURRENT_LIST_DIR}/encrypted_update.cc
  ${CMAKE_CURRENT_LIST_DIR}/opening.cc
  ${CMAKE_CURRENT_LIST_DIR}/encrypted_aggregator.cc
  ${CMAKE_CURRENT_LIST_DIR}/key_json.cc
  ${CMAKE_CURRENT_LIST_DIR}/phe_number.cc
)
