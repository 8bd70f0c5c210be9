// The text encoder: gradients of every parameter by finite differences through two blocks with
// padding, padding that changes nothing (a padded sequence encodes as the unpadded one), and
// PyTorch's parameter names.
#include <gtest/gtest.h>

#include "fedra/ml/layer.h"
#include "fedra/ml/sequential.h"
#include "testing/gradient_check.h"

namespace fedra {
namespace {

using testing::BindLayer;
using testing::CheckLayerGradients;

const TextEncoderOptions kSmall{.vocab = 7, .dim = 4, .heads = 2, .layers = 2, .ff_dim = 6};

TEST(TextEncoderTest, GradientsMatchFiniteDifferences) {
  Rng rng(41);
  auto bound = BindLayer(*NewTextEncoder({4}, kSmall), rng);
  EXPECT_EQ(bound.layer->OutputShape(), Shape({4}));
  for (auto& w : bound.weights)  // biases and norms away from their 0 / 1 start
    for (float& v : w) v += static_cast<float>(0.1 * rng.Normal());
  Matrix ids(4, 3);
  ids << 5, 2, 6,  //
      3, 2, 1,     //
      6, 0, 4,     // the second example is padded after two tokens
      1, 0, 4;
  auto report = CheckLayerGradients(bound, ids, rng, 1e-3);
  EXPECT_LT(report.max_input_error, 1e-2);
  EXPECT_LT(report.max_param_error, 1e-2);
  EXPECT_EQ(report.checked, 4 * 3 + (7 + 4) * 4 + 2 * (80 + 30 + 28 + 16) + 8);
}

// LoRA adapters on the attention and feed-forward projections: every gradient (base weights,
// A and B) by finite differences, with B moved away from its zero start.
TEST(TextEncoderTest, LoraGradientsMatchFiniteDifferences) {
  Rng rng(43);
  TextEncoderOptions o = kSmall;
  o.lora_rank = 2;
  o.lora_alpha = 3;
  o.lora_feed_forward = true;
  auto bound = BindLayer(*NewTextEncoder({4}, o), rng);
  for (auto& w : bound.weights)
    for (float& v : w) v += static_cast<float>(0.1 * rng.Normal());
  Matrix ids(4, 2);
  ids << 5, 2,  //
      3, 2,     //
      6, 0,     //
      1, 0;
  auto report = CheckLayerGradients(bound, ids, rng, 1e-3);
  EXPECT_LT(report.max_param_error, 1e-2);
  // Base as before plus per block: in_proj 2x4 + 12x2, out_proj 2x4 + 4x2, linear1 2x4 + 6x2,
  // linear2 2x6 + 4x2.
  EXPECT_EQ(report.checked, 4 * 2 + (7 + 4) * 4 + 2 * (80 + 30 + 28 + 16 + 32 + 16 + 20 + 20) + 8);
}

// An adapter on the word table alone (rank 2 of its own): its A {2, 4} and B {7, 2} by finite
// differences, ids repeated so that a row of the table is hit twice.
TEST(TextEncoderTest, WordEmbeddingAdapterGradientsMatchFiniteDifferences) {
  Rng rng(45);
  TextEncoderOptions o = kSmall;
  o.lora_embedding_rank = 2;
  o.lora_alpha = 3;
  auto bound = BindLayer(*NewTextEncoder({4}, o), rng);
  for (auto& w : bound.weights)
    for (float& v : w) v += static_cast<float>(0.1 * rng.Normal());
  Matrix ids(4, 2);
  ids << 5, 2,  //
      5, 2,     //
      6, 0,     //
      1, 0;
  auto report = CheckLayerGradients(bound, ids, rng, 1e-3);
  EXPECT_LT(report.max_param_error, 1e-2);
  EXPECT_EQ(report.checked, 4 * 2 + (7 + 4) * 4 + 2 * 4 + 7 * 2 + 2 * (80 + 30 + 28 + 16) + 8);
}

// With B = 0 the adapted encoder computes exactly what the base does.
TEST(TextEncoderTest, FreshAdaptersChangeNothing) {
  Rng rng(44);
  TextEncoderOptions o = kSmall;
  auto base = BindLayer(*NewTextEncoder({4}, o), rng);
  o.lora_rank = 3;
  o.lora_embedding_rank = 2;
  auto adapted = BindLayer(*NewTextEncoder({4}, o), rng);
  const auto specs = adapted.layer->ParameterSpecs();
  size_t k = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name.ends_with(".lora_A")) continue;
    if (specs[i].name.ends_with(".lora_B")) {
      for (float v : adapted.weights[i]) ASSERT_EQ(v, 0.0f);
      continue;
    }
    adapted.weights[i] = base.weights[k++];
  }
  ASSERT_EQ(k, base.weights.size());
  Matrix ids(4, 2), y1, y2;
  ids << 5, 2, 3, 2, 6, 0, 1, 0;
  base.layer->Forward(ids, &y1, false);
  adapted.layer->Forward(ids, &y2, false);
  EXPECT_EQ(y1, y2);
  EXPECT_FALSE(NewTextEncoder({4}, {.vocab = 7, .dim = 4, .heads = 2, .lora_rank = -1}).ok());
  EXPECT_FALSE(
      NewTextEncoder({4}, {.vocab = 7, .dim = 4, .heads = 2, .lora_embedding_rank = -1}).ok());
  EXPECT_FALSE(
      NewTextEncoder({4}, {.vocab = 7, .dim = 4, .heads = 2, .lora_rank = 2, .lora_alpha = 0})
          .ok());
}

// Without pooling: one output vector per position, gradients checked through all of them.
TEST(TextEncoderTest, UnpooledOutputGradientsMatchFiniteDifferences) {
  Rng rng(45);
  TextEncoderOptions o = kSmall;
  o.pooling = TextEncoderOptions::Pooling::kNone;
  auto bound = BindLayer(*NewTextEncoder({3}, o), rng);
  EXPECT_EQ(bound.layer->OutputShape(), Shape({3, 4}));
  for (auto& w : bound.weights)
    for (float& v : w) v += static_cast<float>(0.1 * rng.Normal());
  Matrix ids(3, 2);
  ids << 5, 2,  //
      4, 2,     //
      6, 0;
  auto report = CheckLayerGradients(bound, ids, rng, 1e-3);
  EXPECT_LT(report.max_param_error, 1e-2);
  EXPECT_GT(report.checked, 100);
}

// A classifier on an adapted encoder computes the same outputs and gradients on 1 and 3
// threads (each shard's copy folds the adapters into its own buffers).
TEST(TextEncoderTest, AdaptedEncoderAgreesAcrossThreadCounts) {
  TextEncoderOptions o = kSmall;
  o.lora_rank = 2;
  o.lora_feed_forward = true;
  Sequential::Builder b({4});
  b.Add(*NewTextEncoder({4}, o)).Dense(2);
  auto one = *b.Build("m", 3);
  Rng rng(46);
  Parameters p = one->parameters();
  for (float& v : p.span()) v += static_cast<float>(0.1 * rng.Normal());
  ASSERT_TRUE(one->SetParameters(p).ok());
  auto three = one->Clone();
  ASSERT_TRUE(three->SetThreads(3).ok());
  Matrix ids(4, 7);
  for (Eigen::Index i = 0; i < ids.size(); ++i)
    ids.data()[i] = static_cast<float>(rng.UniformInt(7));
  const Matrix y1 = one->Forward(ids);
  const Matrix y3 = three->Forward(ids);
  EXPECT_LT((y1 - y3).cwiseAbs().maxCoeff(), 1e-5);
  const Matrix dout = Matrix::Ones(2, 7);
  one->Backward(dout);
  three->Backward(dout);
  const double diff = (one->gradients().Flat() - three->gradients().Flat()).cwiseAbs().maxCoeff();
  EXPECT_LT(diff, 1e-4);
  EXPECT_GT(one->gradients().L2Norm(), 0.1);
}

TEST(TextEncoderTest, PaddingChangesNothing) {
  Rng rng(42);
  auto longer = BindLayer(*NewTextEncoder({5}, kSmall), rng);
  auto shorter = BindLayer(*NewTextEncoder({2}, kSmall), rng);
  // The same weights; the shorter model's position table is the first 2 rows of the longer's.
  ASSERT_EQ(longer.weights.size(), shorter.weights.size());
  for (size_t i = 0; i < longer.weights.size(); ++i) {
    const size_t n = shorter.weights[i].size();
    std::copy(longer.weights[i].begin(), longer.weights[i].begin() + n, shorter.weights[i].begin());
  }
  Matrix a(5, 1), b(2, 1), ya, yb;
  a << 3, 6, 0, 0, 0;
  b << 3, 6;
  longer.layer->Forward(a, &ya, false);
  shorter.layer->Forward(b, &yb, false);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(ya(k, 0), yb(k, 0), 1e-5);
  // ... while a real token there does change it.
  a(2, 0) = 4;
  longer.layer->Forward(a, &ya, false);
  EXPECT_GT((ya - yb).norm(), 1e-3);
}

TEST(TextEncoderTest, ParameterNamesFollowPyTorch) {
  auto enc = NewTextEncoder({8}, {.vocab = 50, .dim = 8, .heads = 2, .layers = 1, .ff_dim = 16});
  ASSERT_TRUE(enc.ok());
  std::vector<std::string> names;
  for (const ParamSpec& s : (*enc)->ParameterSpecs()) names.push_back(s.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                "layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias",
                "layers.0.linear1.weight", "layers.0.linear1.bias", "layers.0.linear2.weight",
                "layers.0.linear2.bias", "layers.0.norm1.weight", "layers.0.norm1.bias",
                "layers.0.norm2.weight", "layers.0.norm2.bias", "norm.weight", "norm.bias"}));
  auto lora = NewTextEncoder(
      {8}, {.vocab = 50, .dim = 8, .heads = 2, .layers = 1, .ff_dim = 16, .lora_rank = 4});
  ASSERT_TRUE(lora.ok());
  std::vector<std::string> adapters;
  for (const ParamSpec& s : (*lora)->ParameterSpecs())
    if (s.name.find("lora_") != std::string::npos) adapters.push_back(s.name);
  EXPECT_EQ(adapters,
            (std::vector<std::string>{
                "layers.0.self_attn.in_proj.lora_A", "layers.0.self_attn.in_proj.lora_B",
                "layers.0.self_attn.out_proj.lora_A", "layers.0.self_attn.out_proj.lora_B"}));
  EXPECT_FALSE(NewTextEncoder({8}, {.vocab = 50, .dim = 6, .heads = 4}).ok());
  EXPECT_FALSE(NewTextEncoder({8, 2}, {.vocab = 50}).ok());
  EXPECT_FALSE(NewTextEncoder({8}, {.vocab = 1}).ok());
  // Adapter ranks run from 0 (none) to the width: above it they only add parameters.
  const TextEncoderOptions small{.vocab = 50, .dim = 8, .heads = 2, .layers = 1, .ff_dim = 16};
  for (int64_t rank : {0, 1, 8}) {
    TextEncoderOptions o = small;
    o.lora_rank = rank;
    EXPECT_TRUE(NewTextEncoder({8}, o).ok()) << rank;
    o.lora_rank = 0;
    o.lora_embedding_rank = rank;
    EXPECT_TRUE(NewTextEncoder({8}, o).ok()) << rank;
  }
  for (int64_t rank : {-1, 9}) {
    TextEncoderOptions o = small;
    o.lora_rank = rank;
    auto bad = NewTextEncoder({8}, o);
    ASSERT_FALSE(bad.ok()) << rank;
    EXPECT_NE(bad.status().message().find("[0, dim = 8]"), std::string::npos)
        << bad.status().ToString();
    o.lora_rank = 0;
    o.lora_embedding_rank = rank;
    EXPECT_FALSE(NewTextEncoder({8}, o).ok()) << rank;
  }
}

}  // namespace
}  // namespace fedra
