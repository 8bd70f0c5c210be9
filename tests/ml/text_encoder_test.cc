// The text encoder: gradients of every parameter by finite differences through two blocks with
// padding, padding that changes nothing (a padded sequence encodes as the unpadded one), and
// PyTorch's parameter names.
#include <gtest/gtest.h>

#include "fedra/ml/layer.h"
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
  EXPECT_FALSE(NewTextEncoder({8}, {.vocab = 50, .dim = 6, .heads = 4}).ok());
  EXPECT_FALSE(NewTextEncoder({8, 2}, {.vocab = 50}).ok());
  EXPECT_FALSE(NewTextEncoder({8}, {.vocab = 1}).ok());
}

}  // namespace
}  // namespace fedra
