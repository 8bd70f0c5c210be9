// Reading and writing Parameters in the safetensors format
// (https://github.com/huggingface/safetensors), so PyTorch and NumPy users can read fedra
// models: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"key": "value"}}, then the raw little-endian tensor bytes. Offsets are
// relative to the start of the data section, which follows the header.
//
// fedra writes F32 tensors in its own tensor order, with offsets ascending and the header
// padded with spaces to a multiple of 8 bytes (as the reference implementation does). The
// reader accepts any order of JSON keys but restores tensor order from the data offsets
// (tensors sharing an offset, i.e. empty ones, keep their JSON key order).
//
// The reader treats its input as untrusted (model files, network payloads). It accepts
// dtypes F32 and F64 (F64 is converted to float; a finite value beyond float range is an
// error) and rejects, with DataLoss: fewer than 8 bytes; a header length beyond the data or
// above 100 MB; invalid JSON or UTF-8; a header that is not an object; duplicate keys at any
// level (so duplicate tensor names); entries that are not objects, lack or add fields;
// other dtypes; shapes that are not arrays of non-negative integers or whose element count
// overflows int64; data_offsets that are not [begin <= end], exceed the data section or
// disagree with shape * dtype size; overlapping tensors; gaps between tensors; trailing
// bytes after the last tensor; "__metadata__" that is not an object of strings; more than
// 65536 tensors.
//
// Thread-safety: the functions are thread-safe (each save uses its own temporary file; of
// concurrent saves to one path, the last rename wins).
#ifndef FEDRA_ML_SAFETENSORS_H_
#define FEDRA_ML_SAFETENSORS_H_

#include <map>
#include <string>

#include "fedra/core/status.h"
#include "fedra/ml/parameters.h"

namespace fedra {

using Metadata = std::map<std::string, std::string>;

// Serialises to bytes. Names and metadata should be valid UTF-8 (invalid bytes are written
// as U+FFFD). REQUIRES: no tensor is named "__metadata__".
std::string EncodeSafetensors(const Parameters& params, const Metadata& metadata = {});
// Parses bytes. Errors are DataLoss and say what was wrong (see above). On success, fills
// `*metadata` (if not null) with the "__metadata__" map (empty if absent); on error leaves it
// untouched.
StatusOr<Parameters> DecodeSafetensors(const std::string& bytes, Metadata* metadata = nullptr);

// Writes atomically: the bytes go to a new temporary file beside `path`, which is fsynced and
// renamed over `path`, then the directory is fsynced; if writing or renaming fails the temporary
// file is removed and `path` is untouched. InvalidArgument if a tensor is named "__metadata__";
// NotFound if the directory does not exist; other I/O errors by errno. Errors are prefixed
// with the path.
Status SaveSafetensors(const std::string& path, const Parameters& params,
                       const Metadata& metadata = {});
// Reads and decodes the file. NotFound if it does not exist, DataLoss if it is corrupt.
// Errors are prefixed with the path.
StatusOr<Parameters> LoadSafetensors(const std::string& path, Metadata* metadata = nullptr);

}  // namespace fedra

#endif  // FEDRA_ML_SAFETENSORS_H_
