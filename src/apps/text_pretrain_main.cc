// fedra-text-pretrain: learns the BPE vocabulary on the SpamAssassin training split and
// pre-trains a transformer encoder on the same texts (labels unused) with the masked-language-
// model objective, then writes the tokenizer and the encoder file that `--model text` of
// fedra-sim, fedra-train, fedra-server and fedra-client fine-tune. The test split is never read
// for training.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/text_task.h"
#include "apps/thread_flags.h"
#include "fedra/core/logging.h"
#include "fedra/ml/bpe_tokenizer.h"
#include "fedra/ml/mail_corpus.h"
#include "fedra/ml/text_model.h"

namespace {

struct Flags {
  std::string data_dir = fedra::apps::kSpamAssassinDir;
  std::string out_dir = "data/text";
  size_t vocab = 4000;
  int64_t length = 128;
  fedra::TextEncoderOptions encoder{.dim = 64, .heads = 4, .layers = 2, .ff_dim = 256};
  fedra::MlmOptions mlm{.epochs = 4};
  uint64_t seed = 1;
  std::string log_level = "info";
};

fedra::Status Run(Flags f) {
  FEDRA_RETURN_IF_ERROR(fedra::SetLogLevel(f.log_level));
  auto log = fedra::Logger("pretrain");
  f.mlm.threads = fedra::apps::CapModelThreads(f.mlm.threads);
  FEDRA_ASSIGN_OR_RETURN(auto corpus, fedra::LoadSpamAssassin(f.data_dir));
  const fedra::MailSplit split = fedra::SplitByHash(corpus);
  std::vector<std::string> texts;
  for (size_t i : split.train) texts.push_back(corpus.messages[i].text);
  const std::vector<int> no_labels(texts.size(), 0);
  auto start = std::chrono::steady_clock::now();
  FEDRA_ASSIGN_OR_RETURN(auto bpe, fedra::BpeTokenizer::Train(texts, f.vocab));
  FEDRA_ASSIGN_OR_RETURN(auto data, fedra::TokenizedDataset(bpe, texts, no_labels, f.length, 1));
  log->info("{} training messages, vocabulary {} learned in {:.1f} s", texts.size(),
            bpe.vocab_size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  fedra::TextEncoderFile enc{.options = f.encoder, .length = f.length};
  enc.options.vocab = static_cast<int64_t>(bpe.vocab_size());
  f.mlm.on_epoch_end = [&](int epoch, double loss, double accuracy) {
    std::printf("epoch %2d/%d  masked-token loss %.4f  accuracy %.4f  %.0f s\n", epoch,
                f.mlm.epochs, loss, accuracy,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::fflush(stdout);
  };
  fedra::Rng rng(f.seed);
  start = std::chrono::steady_clock::now();
  FEDRA_ASSIGN_OR_RETURN(auto result, fedra::PretrainMlm(data, f.mlm, rng, &enc));
  std::error_code ec;
  std::filesystem::create_directories(f.out_dir, ec);
  if (ec) return fedra::InvalidArgumentError(f.out_dir + ": " + ec.message());
  FEDRA_RETURN_IF_ERROR(bpe.Save(f.out_dir + "/tokenizer.bpe"));
  FEDRA_RETURN_IF_ERROR(fedra::SaveTextEncoder(f.out_dir + "/encoder.safetensors", enc));
  std::printf("wrote %s/tokenizer.bpe and %s/encoder.safetensors (%zu parameters, %lld steps)\n",
              f.out_dir.c_str(), f.out_dir.c_str(), enc.weights.size(),
              static_cast<long long>(result.steps));
  return fedra::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fedra-text-pretrain: BPE vocabulary and MLM pre-training on SpamAssassin"};
  Flags f;
  app.add_option("--data-dir", f.data_dir, "the unpacked corpus (scripts/fetch_spam_assassin.sh)")
      ->capture_default_str();
  app.add_option("--out-dir", f.out_dir, "writes tokenizer.bpe and encoder.safetensors here")
      ->capture_default_str();
  app.add_option("--vocab", f.vocab, "BPE vocabulary size")->capture_default_str();
  app.add_option("--length", f.length, "tokens per message")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--dim", f.encoder.dim, "model width")->capture_default_str();
  app.add_option("--heads", f.encoder.heads, "attention heads")->capture_default_str();
  app.add_option("--layers", f.encoder.layers, "encoder blocks")->capture_default_str();
  app.add_option("--ff-dim", f.encoder.ff_dim, "feed-forward width")->capture_default_str();
  app.add_option("--epochs", f.mlm.epochs, "MLM epochs")->capture_default_str();
  app.add_option("--batch-size", f.mlm.batch_size, "MLM batch size")->capture_default_str();
  app.add_option("--lr", f.mlm.learning_rate, "AdamW peak learning rate")->capture_default_str();
  app.add_option("--mask-fraction", f.mlm.mask_fraction, "fraction of tokens masked")
      ->capture_default_str();
  app.add_option("--threads", f.mlm.threads, "threads for the encoder")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", f.seed, "initialisation and masking")->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const fedra::Status s = Run(f);
  if (!s.ok()) {
    std::fprintf(stderr, "fedra-text-pretrain: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
