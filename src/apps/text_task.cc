#include "apps/text_task.h"

#include "fedra/ml/bpe_tokenizer.h"
#include "fedra/ml/idx_loader.h"
#include "fedra/ml/mail_corpus.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/text_model.h"

namespace fedra::apps {

void AddTextFlags(CLI::App& app, TextFlags& f) {
  app.add_option("--encoder", f.encoder, "text: pre-trained encoder (fedra-text-pretrain)")
      ->capture_default_str();
  app.add_option("--tokenizer", f.tokenizer, "text: BPE vocabulary (fedra-text-pretrain)")
      ->capture_default_str();
  app.add_option("--tuning", f.tuning,
                 "text: train everything (full), LoRA adapters and the head (lora), the head "
                 "(head), or adapters under a fixed head (lora-frozen-head)")
      ->capture_default_str();
  // So that a --lora-* flag under --tuning full or head is an error, not silently unused.
  const auto given = [&f](const std::string&) { f.lora_flag_given = true; };
  app.add_option("--lora-rank", f.lora_rank, "text: LoRA rank")->capture_default_str()->each(given);
  app.add_option("--lora-alpha", f.lora_alpha, "text: LoRA scale alpha (W + alpha/rank B A)")
      ->capture_default_str()
      ->each(given);
  app.add_flag("--lora-feed-forward", f.lora_feed_forward,
               "text: adapters on the feed-forward projections too")
      ->each(given);
  app.add_option("--lora-embedding-rank", f.lora_embedding_rank,
                 "text: > 0: an adapter of this rank on the word embeddings too")
      ->capture_default_str()
      ->each(given);
}

Status CheckTextFlags(const TextFlags& f) {
  FEDRA_ASSIGN_OR_RETURN(auto tuning, ParseTuning(f.tuning));
  using T = TextClassifierOptions::Tuning;
  if (f.lora_flag_given && tuning != T::kLora && tuning != T::kLoraFrozenHead)
    return InvalidArgumentError(
        "--lora-rank, --lora-alpha, --lora-feed-forward and --lora-embedding-rank need "
        "--tuning lora or lora-frozen-head (not " +
        f.tuning + ")");
  return OkStatus();
}

StatusOr<TextData> LoadSpamAssassinTokens(const std::string& data_dir, const TextFlags& f) {
  // Before any file is read: a flag error is reported as such, not as a missing file.
  FEDRA_RETURN_IF_ERROR(CheckTextFlags(f));
  const std::string dir = data_dir == kFashionMnistDir ? kSpamAssassinDir : data_dir;
  FEDRA_ASSIGN_OR_RETURN(BpeTokenizer bpe, BpeTokenizer::Load(f.tokenizer));
  FEDRA_ASSIGN_OR_RETURN(TextEncoderFile enc, LoadTextEncoder(f.encoder));
  if (static_cast<int64_t>(bpe.vocab_size()) != enc.options.vocab)
    return InvalidArgumentError(f.tokenizer + " has " + std::to_string(bpe.vocab_size()) +
                                " tokens but " + f.encoder + " was trained with " +
                                std::to_string(enc.options.vocab));
  FEDRA_ASSIGN_OR_RETURN(MailCorpus corpus, LoadSpamAssassin(dir));
  const MailSplit split = SplitByHash(corpus);
  auto tokens = [&](const std::vector<size_t>& idx) {
    std::vector<std::string> texts;
    std::vector<int> labels;
    for (size_t i : idx) {
      texts.push_back(corpus.messages[i].text);
      labels.push_back(corpus.messages[i].label);
    }
    return TokenizedDataset(bpe, texts, labels, enc.length, 2);
  };
  TextData d;
  FEDRA_ASSIGN_OR_RETURN(d.train, tokens(split.train));
  FEDRA_ASSIGN_OR_RETURN(d.test, tokens(split.test));
  // Group lists as positions in split.train.
  std::vector<size_t> position(corpus.messages.size());
  for (size_t k = 0; k < split.train.size(); ++k) position[split.train[k]] = k;
  FEDRA_ASSIGN_OR_RETURN(auto groups, PartitionByGroup(corpus, split.train, 1));
  for (auto& g : groups) {
    for (size_t& i : g) i = position[i];
    d.groups.push_back(std::move(g));
  }
  return d;
}

StatusOr<std::unique_ptr<Model>> NewModelFromFlags(const std::string& name, const TextFlags& f,
                                                   const Shape& input, int classes, uint64_t seed) {
  if (name != "text") return NewModelByName(name, input, classes, seed);
  FEDRA_RETURN_IF_ERROR(CheckTextFlags(f));
  FEDRA_ASSIGN_OR_RETURN(TextEncoderFile enc, LoadTextEncoder(f.encoder));
  FEDRA_ASSIGN_OR_RETURN(auto tuning, ParseTuning(f.tuning));
  return NewTextClassifier(enc,
                           {.tuning = tuning,
                            .lora_rank = f.lora_rank,
                            .lora_alpha = f.lora_alpha,
                            .lora_feed_forward = f.lora_feed_forward,
                            .lora_embedding_rank = f.lora_embedding_rank},
                           seed);
}

StatusOr<std::vector<Dataset>> PartitionTextByGroup(const TextData& d, size_t clients) {
  const size_t groups = d.groups.size();
  if (clients == 0 || clients % groups != 0)
    return InvalidArgumentError("--partition group needs --clients a multiple of the " +
                                std::to_string(groups) + " mail groups, got " +
                                std::to_string(clients));
  const size_t per_group = clients / groups;
  std::vector<Dataset> out;
  for (const auto& g : d.groups) {
    for (size_t m = 0; m < per_group; ++m) {
      std::vector<size_t> mine;
      for (size_t k = m; k < g.size(); k += per_group) mine.push_back(g[k]);
      out.push_back(d.train.Subset(mine));
    }
  }
  return out;
}

}  // namespace fedra::apps
