// Text models on fedra's transformer encoder (NewTextEncoder): the encoder file that a
// pre-training run writes and fine-tuning reads, masked-language-model pre-training (BERT's
// objective), and a classifier built on a pre-trained encoder that trains everything, LoRA
// adapters and the head, or the head only.
//
// Encoder file: safetensors holding the encoder's tensors under their NewTextEncoder names
// (e.g. "layers.0.self_attn.in_proj_weight"), with metadata "fedra.model" = "text-encoder" and
// "vocab", "dim", "heads", "layers", "ff_dim", "length" as decimal strings.
//
// Thread-safety: free functions; the objects passed in belong to the caller.
#ifndef FEDRA_ML_TEXT_MODEL_H_
#define FEDRA_ML_TEXT_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/layer.h"
#include "fedra/ml/model.h"
#include "fedra/ml/parameters.h"

namespace fedra {

struct TextEncoderFile {
  TextEncoderOptions options;  // pooling and adapters are the user's choice, not stored
  int64_t length = 0;          // tokens per example
  Parameters weights;          // in NewTextEncoder's order, without adapters
};

// InvalidArgument if `weights` does not have the layout of NewTextEncoder({length}, options)
// without adapters.
Status SaveTextEncoder(const std::string& path, const TextEncoderFile& file);
// DataLoss (naming the path) for a file that is not a text encoder, bad metadata, or tensors
// that do not match it.
StatusOr<TextEncoderFile> LoadTextEncoder(const std::string& path);

struct MlmOptions {
  double mask_fraction = 0.15;  // of the real tokens; 80 % become [MASK], 10 % random, 10 % kept
  int epochs = 5;
  int batch_size = 32;
  double learning_rate = 5e-4;  // AdamW peak, after a linear warm-up over warmup_fraction
  double warmup_fraction = 0.06;
  double weight_decay = 0.01;  // not on biases and LayerNorm weights
  double max_grad_norm = 1.0;
  int threads = 1;
  std::function<void(int epoch, double loss, double accuracy)> on_epoch_end;
};
struct MlmResult {
  int64_t steps = 0;
  double loss = 0;      // mean cross-entropy over the masked tokens of the last epoch
  double accuracy = 0;  // fraction of them predicted right
};

// Pre-trains `encoder->weights` (a fresh encoder when empty, initialised from `rng`) on the
// token sequences of `texts` (labels ignored; example_shape {encoder->length}) to predict
// masked tokens from the encoder's last layer through the tied word embeddings plus a bias
// (masks drawn anew every epoch, as RoBERTa). InvalidArgument for bad options or data;
// FailedPrecondition if training diverges.
StatusOr<MlmResult> PretrainMlm(const Dataset& texts, const MlmOptions& options, Rng& rng,
                                TextEncoderFile* encoder);

struct TextClassifierOptions {
  // kLoraFrozenHead trains the adapters under a fixed random head (as FedBABU, Oh et al. 2022:
  // clients that each hold one label cannot drag a shared head to their class).
  enum class Tuning { kFull, kLora, kHead, kLoraFrozenHead };
  Tuning tuning = Tuning::kLora;
  int64_t lora_rank = 8;
  double lora_alpha = 16;
  bool lora_feed_forward = false;
  // > 0: an adapter of this rank on the word embeddings as well (TextEncoderOptions).
  int64_t lora_embedding_rank = 0;
  int num_classes = 2;
};

// Parses "full", "lora", "head" or "lora-frozen-head"; InvalidArgument otherwise.
StatusOr<TextClassifierOptions::Tuning> ParseTuning(const std::string& name);

// Sequential "text-classifier": the encoder of `base` (mean pooling, with adapters for kLora)
// then Dense(num_classes) ("0.<encoder tensor>", "1.weight", "1.bias"), adapters and head drawn
// from `seed` (a frozen head from a fixed seed, the same in every process). kFull trains and
// exposes every tensor; kLora only the adapters and the head; kHead only the head;
// kLoraFrozenHead only the adapters (see NewTrainableSubset). base.options' adapter settings
// are ignored (the tuning decides). InvalidArgument for bad options.
StatusOr<std::unique_ptr<Model>> NewTextClassifier(const TextEncoderFile& base,
                                                   const TextClassifierOptions& options,
                                                   uint64_t seed);

// Bag-of-words features for a linear baseline: each example of `tokens` (token ids, [PAD] = 0
// skipped) becomes log(1 + count) per hash bucket of its ids (`buckets` of them, a
// multiplicative hash), labels kept. InvalidArgument for buckets == 0 or a negative id.
StatusOr<Dataset> HashedBagOfTokens(const Dataset& tokens, size_t buckets);

}  // namespace fedra

#endif  // FEDRA_ML_TEXT_MODEL_H_
