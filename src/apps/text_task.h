// The spam-filter task shared by fedra-sim, fedra-train, fedra-server and fedra-client: the
// SpamAssassin corpus tokenized with a saved BPE vocabulary, and a classifier on a
// pre-trained encoder file (both written by fedra-text-pretrain).
#ifndef FEDRA_APPS_TEXT_TASK_H_
#define FEDRA_APPS_TEXT_TASK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fedra/core/status.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/model.h"
#include "fedra/ml/tensor.h"

namespace fedra::apps {

inline constexpr char kSpamAssassinDir[] = "data/spam-assassin";

struct TextFlags {
  std::string encoder = "data/text/encoder.safetensors";
  std::string tokenizer = "data/text/tokenizer.bpe";
  std::string tuning = "lora";  // full, lora, head or lora-frozen-head
  int64_t lora_rank = 8;
  double lora_alpha = 16;
  bool lora_feed_forward = false;
  int64_t lora_embedding_rank = 0;
  bool lora_flag_given = false;  // a --lora-* flag was on the command line
};
void AddTextFlags(CLI::App& app, TextFlags& f);
// A known --tuning, and --lora-* flags only with a LoRA tuning.
Status CheckTextFlags(const TextFlags& f);

struct TextData {
  Dataset train, test;                      // the corpus' fixed hash split, tokenized
  std::vector<std::vector<size_t>> groups;  // indices into train, one list per mail group
};
// `data_dir` is the programs' --data-dir: its Fashion-MNIST default means kSpamAssassinDir,
// anything else holds the unpacked corpus (scripts/fetch_spam_assassin.sh). The sequence length
// is the encoder's.
StatusOr<TextData> LoadSpamAssassinTokens(const std::string& data_dir, const TextFlags& f);

// --model: "text" is NewTextClassifier on the encoder file with the flags' tuning; any other
// name is NewModelByName(name, input, classes, seed).
StatusOr<std::unique_ptr<Model>> NewModelFromFlags(const std::string& name, const TextFlags& f,
                                                   const Shape& input, int classes, uint64_t seed);

// One client per group and mailbox (`clients` a multiple of the group count): clients'
// training sets, in group order.
StatusOr<std::vector<Dataset>> PartitionTextByGroup(const TextData& d, size_t clients);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_TEXT_TASK_H_
