// The text pipeline's costs on the SpamAssassin corpus, as one JSON line: loading and
// extracting the text of every message, training the byte-level BPE on the training split,
// and encoding the test split (with its compression, bytes per token).
//
//   scripts/fetch_spam_assassin.sh && build/release/bench/mail_text_bench data/spam-assassin 8000
#include <chrono>
#include <cstdio>
#include <string>

#include "fedra/ml/bpe_tokenizer.h"
#include "fedra/ml/mail_corpus.h"

namespace {
double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR VOCAB_SIZE\n", argv[0]);
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto corpus = fedra::LoadSpamAssassin(argv[1]);
  if (!corpus.ok()) {
    std::fprintf(stderr, "%s\n", corpus.status().ToString().c_str());
    return 1;
  }
  const double load_s = Since(start);
  const fedra::MailSplit split = fedra::SplitByHash(*corpus);
  std::vector<std::string> train;
  size_t train_bytes = 0, test_bytes = 0, tokens = 0;
  for (size_t i : split.train) {
    train.push_back(corpus->messages[i].text);
    train_bytes += train.back().size();
  }
  start = std::chrono::steady_clock::now();
  auto bpe = fedra::BpeTokenizer::Train(train, std::stoul(argv[2]));
  if (!bpe.ok()) {
    std::fprintf(stderr, "%s\n", bpe.status().ToString().c_str());
    return 1;
  }
  const double train_s = Since(start);
  start = std::chrono::steady_clock::now();
  for (size_t i : split.test) {
    tokens += bpe->Encode(corpus->messages[i].text).size();
    test_bytes += corpus->messages[i].text.size();
  }
  const double encode_s = Since(start);
  std::printf(
      "{\"messages\": %zu, \"skipped_checksum\": %zu, \"load_s\": %.3f, \"train_texts\": %zu, "
      "\"train_mb\": %.2f, \"vocab\": %zu, \"bpe_train_s\": %.3f, \"test_mb\": %.2f, "
      "\"encode_mb_per_s\": %.2f, \"bytes_per_token\": %.3f}\n",
      corpus->messages.size(), corpus->skipped_checksum, load_s, train.size(), train_bytes / 1e6,
      bpe->vocab_size(), train_s, test_bytes / 1e6, test_bytes / 1e6 / encode_s,
      static_cast<double>(test_bytes) / static_cast<double>(tokens));
  return 0;
}
