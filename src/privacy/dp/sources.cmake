# Differential privacy: clipping, Gaussian noise, RDP/PLD accountants, calibration, and the
# strategy wrapper (fl/dp_strategy.cc).
target_sources(fedra PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/clipping.cc
  ${CMAKE_CURRENT_LIST_DIR}/gaussian_noise.cc
  ${CMAKE_CURRENT_LIST_DIR}/rdp_accountant.cc
  ${CMAKE_CURRENT_LIST_DIR}/fft.cc
  ${CMAKE_CURRENT_LIST_DIR}/pld_accountant.cc
  ${CMAKE_CURRENT_LIST_DIR}/calibration.cc
  ${CMAKE_CURRENT_LIST_DIR}/adaptive_clip.cc
  ${CMAKE_CURRENT_LIST_DIR}/../../fl/dp_strategy.cc
)
