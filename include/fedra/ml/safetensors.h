// Reading and writing Parameters in the safetensors format
// (https://github.com/huggingface/safetensors), so PyTorch and NumPy users can read fedra
// models: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"key": "value"}}, then the raw little-endian tensor bytes.
//
// fedra writes F32 tensors in its own tensor order, with offsets ascending; the reader
// accepts any order of JSON keys but restores tensor order from the data offsets. Writes are
// atomic (temporary file, fsync, rename).
#ifndef FEDRA_ML_SAFETENSORS_H_
#define FEDRA_ML_SAFETENSORS_H_

#include <map>
#include <string>

#include "fedra/core/status.h"
#include "fedra/ml/parameters.h"

namespace fedra {

using Metadata = std::map<std::string, std::string>;

// Serialises to bytes / parses from bytes. Parse errors say what was wrong (header length
// beyond the data, JSON syntax, unsupported dtype, shape and offsets that disagree,
// overlapping or out-of-bounds or gapped offsets, duplicate names).
std::string EncodeSafetensors(const Parameters& params, const Metadata& metadata = {});
StatusOr<Parameters> DecodeSafetensors(const std::string& bytes, Metadata* metadata = nullptr);

Status SaveSafetensors(const std::string& path, const Parameters& params,
                       const Metadata& metadata = {});
// Errors are prefixed with the path.
StatusOr<Parameters> LoadSafetensors(const std::string& path, Metadata* metadata = nullptr);

}  // namespace fedra

#endif  // FEDRA_ML_SAFETENSORS_H_
