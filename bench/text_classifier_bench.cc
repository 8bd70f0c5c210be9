// Centralized spam classification with fedra's transformer text encoder, end to end: load the
// SpamAssassin corpus, learn the BPE vocabulary on the training split, tokenize, train
// NewTextEncoder + a 2-way head with AdamW (decay mask, warm-up then linear decay, clipping),
// evaluate on the test split. One JSON line with the costs and the accuracy.
//
//   scripts/fetch_spam_assassin.sh
//   build/release/bench/text_classifier_bench data/spam-assassin [epochs] [threads]
#include <chrono>
#include <cstdio>
#include <string>

#include "fedra/ml/bpe_tokenizer.h"
#include "fedra/ml/fine_tuning.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/mail_corpus.h"
#include "fedra/ml/sequential.h"
#include "fedra/ml/trainer.h"

namespace {
double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
int Fail(const fedra::Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [EPOCHS=1] [THREADS=1]\n", argv[0]);
    return 2;
  }
  const int epochs = argc > 2 ? std::stoi(argv[2]) : 1;
  const int threads = argc > 3 ? std::stoi(argv[3]) : 1;
  constexpr int64_t kLength = 128, kVocab = 4000, kBatch = 32;
  const fedra::TextEncoderOptions enc{
      .vocab = kVocab, .dim = 64, .heads = 4, .layers = 2, .ff_dim = 256};

  auto corpus = fedra::LoadSpamAssassin(argv[1]);
  if (!corpus.ok()) return Fail(corpus.status());
  const fedra::MailSplit split = fedra::SplitByHash(*corpus);
  auto texts_of = [&](const std::vector<size_t>& idx, std::vector<std::string>& texts,
                      std::vector<int>& labels) {
    for (size_t i : idx) {
      texts.push_back(corpus->messages[i].text);
      labels.push_back(corpus->messages[i].label);
    }
  };
  std::vector<std::string> train_texts, test_texts;
  std::vector<int> train_labels, test_labels;
  texts_of(split.train, train_texts, train_labels);
  texts_of(split.test, test_texts, test_labels);

  auto start = std::chrono::steady_clock::now();
  auto bpe = fedra::BpeTokenizer::Train(train_texts, kVocab);
  if (!bpe.ok()) return Fail(bpe.status());
  const double bpe_s = Since(start);
  auto train = fedra::TokenizedDataset(*bpe, train_texts, train_labels, kLength, 2);
  auto test = fedra::TokenizedDataset(*bpe, test_texts, test_labels, kLength, 2);
  if (!train.ok()) return Fail(train.status());
  if (!test.ok()) return Fail(test.status());

  fedra::Sequential::Builder builder({kLength});
  builder.Add(*fedra::NewTextEncoder({kLength}, enc)).Dense(2);
  auto model = builder.Build("spam-encoder", 1);
  if (!model.ok()) return Fail(model.status());
  if (auto s = (*model)->SetThreads(threads); !s.ok()) return Fail(s);
  auto loss = fedra::NewSoftmaxCrossEntropy();
  auto opt = fedra::NewAdamW({.learning_rate = 1e-3f,
                              .weight_decay = 0.01f,
                              .decay_mask = fedra::WeightDecayMask((*model)->parameters())});
  if (!opt.ok()) return Fail(opt.status());
  const int64_t steps = epochs * ((static_cast<int64_t>(train->size()) + kBatch - 1) / kBatch);
  fedra::TrainOptions options{.epochs = epochs, .batch_size = static_cast<int>(kBatch)};
  options.schedule =
      fedra::LrSchedule{.peak = 1e-3, .warmup_steps = steps / 10, .total_steps = steps};
  options.max_grad_norm = 1.0;
  fedra::Rng rng(7);
  start = std::chrono::steady_clock::now();
  auto fit = fedra::Fit(**model, *loss, **opt, *train, options, rng);
  if (!fit.ok()) return Fail(fit.status());
  const double train_s = Since(start);
  auto eval = fedra::Evaluate(**model, *loss, *test, 64);
  if (!eval.ok()) return Fail(eval.status());
  std::printf(
      "{\"train_messages\": %zu, \"test_messages\": %zu, \"vocab\": %zu, \"length\": %lld, "
      "\"dim\": %lld, \"layers\": %lld, \"parameters\": %zu, \"threads\": %d, \"epochs\": %d, "
      "\"bpe_train_s\": %.2f, \"train_s\": %.1f, \"samples_per_s\": %.1f, "
      "\"train_loss\": %.4f, \"test_loss\": %.4f, \"test_accuracy\": %.4f}\n",
      train->size(), test->size(), bpe->vocab_size(), static_cast<long long>(kLength),
      static_cast<long long>(enc.dim), static_cast<long long>(enc.layers),
      (*model)->parameters().size(), threads, epochs, bpe_s, train_s,
      static_cast<double>(train->size()) * epochs / train_s, fit->loss(), eval->loss,
      eval->accuracy);
  return 0;
}
