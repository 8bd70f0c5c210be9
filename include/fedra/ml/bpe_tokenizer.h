// BpeTokenizer: byte-level byte-pair encoding (as GPT-2's, without its byte-to-unicode
// remapping). The base vocabulary is the 256 byte values, so any input, valid UTF-8 or not,
// encodes, and Decode(Encode(s)) == s for every byte string. Training learns merges of the
// most frequent adjacent pair in the training texts until the vocabulary has the size asked.
//
// Ids: 0 [PAD], 1 [UNK] (never produced; kept for BERT-style heads), 2 [CLS], 3 [SEP],
// 4 [MASK], 5..260 the bytes 0..255, then one id per merge in the order learned.
// Pre-tokenization: text is cut into words (a run of letters, digits and bytes >= 0x80, or a
// run of other non-space bytes), each with the single space before it if there is one, and
// cut into pieces of at most 64 bytes (long URLs and base64 runs would make encoding
// quadratic); merges never cross a word. Other whitespace bytes are single-byte words.
//
// File format (Save/Load, the file travels with the model): the line "fedra-bpe 1 <merges>",
// then one line per merge "<left id> <right id>" (ids of earlier tokens, making a token of at
// most 64 bytes, the longest word). Load refuses anything else with the line number.
//
// Thread-safety: immutable after Train/Load; Encode and Decode are const.
#ifndef FEDRA_ML_BPE_TOKENIZER_H_
#define FEDRA_ML_BPE_TOKENIZER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/ml/dataset.h"

namespace fedra {

class BpeTokenizer {
 public:
  static constexpr int32_t kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4, kFirstByte = 5;
  static constexpr size_t kBaseVocab = kFirstByte + 256;

  // InvalidArgument unless kBaseVocab <= vocab_size <= 1,000,000. Stops early (a smaller
  // vocabulary) when no pair occurs twice.
  static StatusOr<BpeTokenizer> Train(std::span<const std::string> texts, size_t vocab_size);
  static StatusOr<BpeTokenizer> Load(const std::string& path);
  Status Save(const std::string& path) const;

  std::vector<int32_t> Encode(std::string_view text) const;
  // The bytes of the non-special ids; InvalidArgument for an id outside the vocabulary.
  StatusOr<std::string> Decode(std::span<const int32_t> ids) const;

  size_t vocab_size() const { return kBaseVocab + merges_.size(); }
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }

 private:
  explicit BpeTokenizer(std::vector<std::pair<int32_t, int32_t>> merges);
  void EncodeWord(std::string_view word, std::vector<int32_t>& out) const;

  std::vector<std::pair<int32_t, int32_t>> merges_;  // token kBaseVocab + i = merges_[i]
  std::vector<std::string> bytes_;                   // the bytes of every token
  // Rank of a pair (its merge index), keyed by left << 32 | right.
  std::vector<std::pair<uint64_t, int32_t>> rank_;  // sorted by key
};

// Token-id sequences as a classification Dataset for NewTextEncoder: example i is the first
// `length` ids of Encode(texts[i]) (cut; padded with [PAD] = 0), stored as floats; its label
// labels[i] in [0, num_classes). example_shape {length}. InvalidArgument for mismatched sizes,
// length < 1, or a label out of range.
StatusOr<Dataset> TokenizedDataset(const BpeTokenizer& tokenizer,
                                   std::span<const std::string> texts, std::span<const int> labels,
                                   int64_t length, int num_classes);

}  // namespace fedra

#endif  // FEDRA_ML_BPE_TOKENIZER_H_
