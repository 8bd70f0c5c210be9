// Loader for IDX files (the MNIST / Fashion-MNIST format), plain or gzip'd (detected by
// content, not by name). Pixels are scaled to [0, 1].
//
// Every failure names the file and what was wrong: missing file, bad magic number, wrong
// element type or rank, dimensions that disagree with the file length (truncated or
// trailing data), image and label counts that disagree, labels out of range.
// Codes: NotFound for a missing file; DataLoss for a file whose own contents are malformed
// (including an empty or corrupt gzip file); InvalidArgument for files that disagree with each
// other or with `num_classes`.
#ifndef FEDRA_ML_IDX_LOADER_H_
#define FEDRA_ML_IDX_LOADER_H_

#include <string>

#include "fedra/core/status.h"
#include "fedra/ml/dataset.h"

namespace fedra {

// Default location of the Debian package dataset-fashion-mnist.
inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

// Reads an images file (magic 0x00000803, unsigned bytes, rank 3) and a labels file
// (magic 0x00000801, rank 1) into a classification Dataset with example_shape
// {1, rows, cols} and `num_classes` classes (1..256). Each file is read whole and must hold
// exactly the bytes its header announces.
StatusOr<Dataset> LoadIdx(const std::string& images_path, const std::string& labels_path,
                          int num_classes = 10);

enum class Split { kTrain, kTest };
// Fashion-MNIST's train (60,000) or test (10,000) split from `dir`
// ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz).
StatusOr<Dataset> LoadFashionMnist(Split split, const std::string& dir = kFashionMnistDir);

}  // namespace fedra

#endif  // FEDRA_ML_IDX_LOADER_H_
