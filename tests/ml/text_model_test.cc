// Text models: MLM pre-training learns a predictable token pattern, the encoder file round-trips
// and refuses what is not one, and the classifier exposes what its tuning trains.
#include "fedra/ml/text_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "fedra/ml/bpe_tokenizer.h"
#include "fedra/ml/metrics.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/safetensors.h"

namespace fedra {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kLength = 8;
const TextEncoderOptions kTiny{.vocab = 12, .dim = 16, .heads = 2, .layers = 1, .ff_dim = 32};

// Sequences cycling through the ids 5..10 from a random start, some cut short by padding:
// every masked token follows from its neighbours.
Dataset Cycles(size_t n, Rng& rng) {
  Dataset d{.features = Matrix(kLength, n),
            .targets = Matrix::Zero(1, n),
            .example_shape = {kLength},
            .num_classes = 1};
  for (size_t i = 0; i < n; ++i) {
    const auto start = static_cast<int64_t>(rng.UniformInt(6));
    const auto real = static_cast<int64_t>(4 + rng.UniformInt(kLength - 3));
    for (int64_t t = 0; t < kLength; ++t)
      d.features(t, i) = t < real ? static_cast<float>(5 + (start + t) % 6) : 0.0f;
  }
  return d;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("fedra_text_model_" + name)).string();
}

TextEncoderFile Pretrained(Rng& rng, int epochs, MlmResult* result = nullptr) {
  TextEncoderFile f{.options = kTiny, .length = kLength};
  MlmOptions o{.mask_fraction = 0.2, .epochs = epochs, .batch_size = 16, .learning_rate = 1e-2};
  auto r = PretrainMlm(Cycles(256, rng), o, rng, &f);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (result != nullptr && r.ok()) *result = *r;
  return f;
}

TEST(PretrainMlmTest, LearnsToPredictMaskedTokensFromTheirNeighbours) {
  Rng rng(1);
  MlmResult first;
  TextEncoderFile f = Pretrained(rng, 1, &first);
  std::vector<double> losses;
  MlmOptions o{.mask_fraction = 0.2, .epochs = 30, .batch_size = 16, .learning_rate = 1e-2};
  o.on_epoch_end = [&](int, double loss, double) { losses.push_back(loss); };
  auto r = PretrainMlm(Cycles(256, rng), o, rng, &f);  // continues from the first run
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(losses.size(), 30u);
  EXPECT_LT(r->loss, 0.5 * first.loss);
  EXPECT_GT(r->accuracy, 0.8);  // chance is 1/6 among the cycle's ids; both neighbours masked, less
  EXPECT_EQ(r->steps, 30 * 16);
}

TEST(PretrainMlmTest, BadOptionsAndIdsOutsideTheVocabularyAreRefused) {
  Rng rng(2);
  TextEncoderFile f{.options = kTiny, .length = kLength};
  Dataset d = Cycles(16, rng);
  EXPECT_FALSE(PretrainMlm(d, {.mask_fraction = 0}, rng, &f).ok());
  EXPECT_FALSE(PretrainMlm(d, {.epochs = 0}, rng, &f).ok());
  d.features(0, 0) = 12;
  EXPECT_THAT(PretrainMlm(d, {}, rng, &f).status().message(), HasSubstr("outside the vocabulary"));
  TextEncoderFile longer{.options = kTiny, .length = kLength + 1};
  EXPECT_THAT(PretrainMlm(Cycles(4, rng), {}, rng, &longer).status().message(),
              HasSubstr("length 9"));
}

TEST(TextEncoderFileTest, RoundTripsAndRefusesOtherFiles) {
  Rng rng(3);
  const TextEncoderFile f = Pretrained(rng, 1);
  const std::string path = TempPath("encoder.safetensors");
  ASSERT_TRUE(SaveTextEncoder(path, f).ok());
  auto back = LoadTextEncoder(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->length, kLength);
  EXPECT_EQ(back->options.vocab, 12);
  EXPECT_EQ(back->options.dim, 16);
  EXPECT_EQ(back->options.layers, 1);
  EXPECT_EQ(back->options.ff_dim, 32);
  EXPECT_EQ(back->weights.Flat(), f.weights.Flat());
  // A plain model file, and an encoder whose metadata disagrees with its tensors.
  ASSERT_TRUE(SaveSafetensors(path, f.weights).ok());
  EXPECT_THAT(LoadTextEncoder(path).status().message(), HasSubstr("not a text encoder"));
  ASSERT_TRUE(SaveSafetensors(path, f.weights,
                              {{"fedra.model", "text-encoder"},
                               {"vocab", "13"},
                               {"dim", "16"},
                               {"heads", "2"},
                               {"layers", "1"},
                               {"ff_dim", "32"},
                               {"length", "8"}})
                  .ok());
  auto bad = LoadTextEncoder(path);
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(bad.status().message(), HasSubstr(path));
  ASSERT_TRUE(
      SaveSafetensors(path, f.weights, {{"fedra.model", "text-encoder"}, {"vocab", "-3"}}).ok());
  EXPECT_THAT(LoadTextEncoder(path).status().message(), HasSubstr("vocab"));
  // Sizes that would allocate without bound are refused from the tensor count, at once.
  ASSERT_TRUE(SaveSafetensors(path, f.weights,
                              {{"fedra.model", "text-encoder"},
                               {"vocab", "999999999"},
                               {"dim", "999999999"},
                               {"heads", "1"},
                               {"layers", "999999999"},
                               {"ff_dim", "999999999"},
                               {"length", "999999999"}})
                  .ok());
  EXPECT_THAT(LoadTextEncoder(path).status().message(), HasSubstr("encoder blocks"));
  TextEncoderFile wrong = f;
  wrong.length = 9;
  EXPECT_FALSE(SaveTextEncoder(path, wrong).ok());
  std::filesystem::remove(path);
}

TEST(TextClassifierTest, TuningDecidesWhatIsExposed) {
  Rng rng(4);
  const TextEncoderFile f = Pretrained(rng, 1);
  using T = TextClassifierOptions::Tuning;
  auto names = [&](T tuning) {
    auto m = NewTextClassifier(f, {.tuning = tuning, .lora_rank = 2}, 7);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    std::vector<std::string> out;
    for (const TensorInfo& t : (*m)->parameters().tensors()) out.push_back(t.name);
    return out;
  };
  EXPECT_EQ(names(T::kHead), (std::vector<std::string>{"1.weight", "1.bias"}));
  EXPECT_EQ(names(T::kLora),
            (std::vector<std::string>{
                "0.layers.0.self_attn.in_proj.lora_A", "0.layers.0.self_attn.in_proj.lora_B",
                "0.layers.0.self_attn.out_proj.lora_A", "0.layers.0.self_attn.out_proj.lora_B",
                "1.weight", "1.bias"}));
  EXPECT_EQ(names(T::kLoraFrozenHead),
            (std::vector<std::string>{
                "0.layers.0.self_attn.in_proj.lora_A", "0.layers.0.self_attn.in_proj.lora_B",
                "0.layers.0.self_attn.out_proj.lora_A", "0.layers.0.self_attn.out_proj.lora_B"}));
  const auto full = names(T::kFull);
  EXPECT_EQ(full.size(), f.weights.num_tensors() + 2);
  // The full model starts from the pre-trained weights.
  auto m = *NewTextClassifier(f, {.tuning = T::kFull}, 7);
  const Parameters& p = m->parameters();
  EXPECT_EQ(p.Tensor(*p.Find("0.layers.0.linear1.weight")),
            f.weights.Tensor(*f.weights.Find("layers.0.linear1.weight")));
  // The frozen head is the same whatever the seed; a trained head is drawn from the seed.
  const Dataset some = Cycles(3, rng);
  auto head_of = [&](T tuning, uint64_t seed) {
    auto model = *NewTextClassifier(f, {.tuning = tuning, .lora_rank = 2}, seed);
    return Matrix(model->Forward(some.features));
  };
  EXPECT_EQ(head_of(T::kLoraFrozenHead, 1), head_of(T::kLoraFrozenHead, 2));
  EXPECT_NE(head_of(T::kHead, 1), head_of(T::kHead, 2));
  EXPECT_FALSE(NewTextClassifier(f, {.num_classes = 1}, 7).ok());
  EXPECT_FALSE(NewTextClassifier(f, {.tuning = T::kLora, .lora_rank = 0}, 7).ok());
  // A rank above the encoder's width is refused, on the word table too.
  const int64_t width = f.options.dim;
  EXPECT_FALSE(NewTextClassifier(f, {.tuning = T::kLora, .lora_rank = width + 1}, 7).ok());
  EXPECT_TRUE(NewTextClassifier(f, {.tuning = T::kLora, .lora_rank = width}, 7).ok());
  EXPECT_FALSE(NewTextClassifier(
                   f, {.tuning = T::kLora, .lora_rank = 2, .lora_embedding_rank = width + 1}, 7)
                   .ok());
  EXPECT_FALSE(NewTextClassifier(f, {.tuning = T::kFull, .lora_embedding_rank = 1}, 7).ok());
  // An adapter on the word table travels with the others; its base table stays frozen.
  auto emb =
      NewTextClassifier(f, {.tuning = T::kLora, .lora_rank = 2, .lora_embedding_rank = 1}, 7);
  ASSERT_TRUE(emb.ok()) << emb.status().ToString();
  const Parameters& ep = (*emb)->parameters();
  ASSERT_TRUE(ep.Find("0.embeddings.word_embeddings.lora_A").ok());
  EXPECT_EQ(ep.info(*ep.Find("0.embeddings.word_embeddings.lora_B")).shape,
            Shape({f.options.vocab, 1}));
  EXPECT_FALSE(ep.Find("0.embeddings.word_embeddings.weight").ok());
  EXPECT_TRUE(ParseTuning("lora").ok());
  EXPECT_EQ(*ParseTuning("lora-frozen-head"), T::kLoraFrozenHead);
  EXPECT_FALSE(ParseTuning("prefix").ok());
}

TEST(HashedBagOfTokensTest, CountsEveryRealTokenOnceInItsBucket) {
  Dataset tokens{
      .features = Matrix(4, 2), .targets = Matrix(1, 2), .example_shape = {4}, .num_classes = 2};
  tokens.features << 7, 9, 7, 0, 8, 0, 0, 0;  // (7, 7, 8) and (9)
  tokens.targets << 1, 0;
  auto bow = HashedBagOfTokens(tokens, 1024);
  ASSERT_TRUE(bow.ok()) << bow.status().ToString();
  EXPECT_EQ(bow->example_shape, Shape({1024}));
  EXPECT_EQ(bow->targets, tokens.targets);
  // log(1 + count): 7 twice, 8 once; padding never counted.
  EXPECT_NEAR(bow->features.col(0).array().expm1().sum(), 3.0, 1e-5);
  EXPECT_NEAR(bow->features.col(0).maxCoeff(), std::log(3.0), 1e-6);
  EXPECT_NEAR(bow->features.col(1).array().expm1().sum(), 1.0, 1e-5);
  EXPECT_FALSE(HashedBagOfTokens(tokens, 0).ok());
  tokens.features(0, 0) = -1;
  EXPECT_FALSE(HashedBagOfTokens(tokens, 8).ok());
}

// Precision, recall and F1 against counts worked out by hand: a linear model that predicts
// class 1 exactly when the feature is positive.
TEST(ScoreClassTest, MatchesHandCountedPrecisionAndRecall) {
  auto model = *NewSoftmaxRegression({1}, 2, 1);
  Parameters p = model->parameters();  // weight {2, 1}, bias {2}: logits (-x, x)
  p.SetZero();
  p.data()[0] = -1, p.data()[1] = 1;
  ASSERT_TRUE(model->SetParameters(p).ok());
  Dataset d{
      .features = Matrix(1, 6), .targets = Matrix(1, 6), .example_shape = {1}, .num_classes = 2};
  d.features << 1, 2, -1, 3, -2, -3;  // predicted 1, 1, 0, 1, 0, 0
  d.targets << 1, 0, 1, 1, 0, 0;      // tp 2, fp 1, fn 1
  auto s = ScoreClass(*model, d, 1, 4);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s->recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s->f1, 2.0 / 3);
  EXPECT_FALSE(ScoreClass(*model, d, 2).ok());
  d.targets.setZero();  // no positive at all: recall undefined, reported as 0
  EXPECT_EQ(ScoreClass(*model, d, 1)->recall, 0.0);
}

// One pass gives what Evaluate and ScoreClass give apart, bit for bit, over batches that do
// not divide the data (a random 3-class model on random data, scoring each class in turn).
TEST(ScoreClassTest, OnePassEqualsEvaluateThenScoreClass) {
  auto model = *NewSoftmaxRegression({5}, 3, 11);
  Rng rng(4);
  Dataset d{
      .features = Matrix(5, 37), .targets = Matrix(1, 37), .example_shape = {5}, .num_classes = 3};
  for (Eigen::Index i = 0; i < d.features.size(); ++i) d.features.data()[i] = rng.Normal();
  for (Eigen::Index c = 0; c < 37; ++c) d.targets(0, c) = static_cast<float>(rng.UniformInt(3));
  auto loss = NewSoftmaxCrossEntropy();
  for (int positive = 0; positive < 3; ++positive) {
    auto both = EvaluateAndScoreClass(*model, *loss, d, positive, 8);
    ASSERT_TRUE(both.ok()) << both.status().ToString();
    auto eval = *Evaluate(*model, *loss, d, 8);
    auto scores = *ScoreClass(*model, d, positive, 8);
    EXPECT_EQ(both->eval.num_examples, 37u);
    EXPECT_EQ(both->eval.loss, eval.loss);
    EXPECT_EQ(both->eval.accuracy, eval.accuracy);
    EXPECT_EQ(both->scores.precision, scores.precision);
    EXPECT_EQ(both->scores.recall, scores.recall);
    EXPECT_EQ(both->scores.f1, scores.f1);
  }
  EXPECT_FALSE(EvaluateAndScoreClass(*model, *loss, d, 3).ok());
  EXPECT_FALSE(EvaluateAndScoreClass(*model, *loss, d, 0, 0).ok());
}

}  // namespace
}  // namespace fedra
