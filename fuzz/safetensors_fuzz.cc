// safetensors files (model exports and the checkpoint container), read from an in-memory file.
#include <cstdint>

#include "fedra/ml/safetensors.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fedra::fuzz::MemFile file(fedra::fuzz::AsText(data, size));
  fedra::Metadata metadata;
  (void)fedra::LoadSafetensors(file.path(), &metadata);
  return 0;
}
