// The dataset loaders: IDX images + labels (split by the input's first two bytes) and CSV
// (classification and regression), selected by the last byte.
#include <cstdint>

#include "fedra/ml/csv_loader.h"
#include "fedra/ml/idx_loader.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in = fedra::fuzz::AsText(data, size - 1);
  const uint8_t mode = data[size - 1];
  if (mode % 2 == 0) {
    const auto [images, labels] = fedra::fuzz::Split2(in);
    fedra::fuzz::MemFile a(images), b(labels);
    (void)fedra::LoadIdx(a.path(), b.path(), 1 + mode % 16);
  } else {
    fedra::fuzz::MemFile f(in);
    (void)fedra::LoadCsv(f.path(), {.has_header = (mode & 2) != 0,
                                    .label_column = (mode & 4) ? 0 : -1,
                                    .num_classes = (mode & 8) ? 0 : 5});
  }
  return 0;
}
