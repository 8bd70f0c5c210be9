// Finite-difference checks of every built-in layer's input and parameter gradients.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "fedra/ml/layer.h"
#include "testing/gradient_check.h"

namespace fedra {
namespace {

using testing::BindLayer;
using testing::CheckLayerGradients;

constexpr double kEps = 1e-3;
constexpr double kTol = 5e-3;

Matrix RandomInput(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Matrix x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.Normal());
  return x;
}

// Values a fixed distance apart in random order: max-pooling and ReLU stay away from ties and
// kinks, so a finite-difference step never flips which input wins.
Matrix SpacedInput(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = 0.05f * (static_cast<float>(i) - static_cast<float>(v.size()) / 2 + 0.5f);
  rng.Shuffle(v);
  return Eigen::Map<Matrix>(v.data(), rows, cols);
}

TEST(LayerGradientTest, Dense) {
  Rng rng(1);
  auto bound = BindLayer(*NewDense({7}, 4), rng);
  auto report = CheckLayerGradients(bound, RandomInput(7, 3, rng), rng, kEps);
  EXPECT_LT(report.max_input_error, kTol);
  EXPECT_LT(report.max_param_error, kTol);
  EXPECT_EQ(report.checked, 7 * 3 + 7 * 4 + 4);
}

TEST(LayerGradientTest, DenseFlattensMultiDimensionalInput) {
  Rng rng(2);
  auto bound = BindLayer(*NewDense({2, 3, 2}, 5), rng);
  EXPECT_EQ(bound.layer->OutputShape(), Shape({5}));
  auto report = CheckLayerGradients(bound, RandomInput(12, 2, rng), rng, kEps);
  EXPECT_LT(report.max_input_error, kTol);
  EXPECT_LT(report.max_param_error, kTol);
}

TEST(LayerGradientTest, ReLU) {
  Rng rng(3);
  auto bound = BindLayer(*NewReLU({10}), rng);
  auto report = CheckLayerGradients(bound, SpacedInput(10, 4, rng), rng, kEps);
  EXPECT_LT(report.max_input_error, kTol);
}

TEST(LayerGradientTest, Gelu) {
  Rng rng(31);
  auto bound = BindLayer(*NewGelu({6, 2}), rng);
  auto report = CheckLayerGradients(bound, RandomInput(12, 3, rng), rng, kEps);
  EXPECT_LT(report.max_input_error, kTol);
  EXPECT_EQ(report.checked, 12 * 3);
}

TEST(GeluTest, MatchesTheExactFormula) {
  Rng rng(32);
  auto bound = BindLayer(*NewGelu({4}), rng);
  Matrix x(4, 1), y;
  x << -3.0f, -0.5f, 0.0f, 2.0f;
  bound.layer->Forward(x, &y, false);
  // x Phi(x), Phi from the erfc identity, computed independently here.
  for (int i = 0; i < 4; ++i) {
    const double v = x(i, 0);
    EXPECT_NEAR(y(i, 0), v * 0.5 * std::erfc(-v / std::sqrt(2.0)), 1e-6);
  }
}

// Token ids as inputs: the finite-difference step never changes an id (ids are rounded), so
// the input gradient is zero on both sides; the tables' gradients are checked.
TEST(LayerGradientTest, EmbeddingTables) {
  Rng rng(35);
  auto bound = BindLayer(*NewEmbedding({4}, 6, 3), rng);
  EXPECT_EQ(bound.layer->OutputShape(), Shape({4, 3}));
  Matrix ids(4, 2);
  ids << 0, 5, 2, 2, 5, 1, 3, 0;  // repeated ids accumulate
  auto report = CheckLayerGradients(bound, ids, rng, kEps);
  EXPECT_LT(report.max_input_error, kTol);
  EXPECT_LT(report.max_param_error, kTol);
  EXPECT_EQ(report.checked, 4 * 2 + 6 * 3 + 4 * 3);
}

TEST(EmbeddingTest, LooksUpWordsAddsPositionsAndReadsBadIdsAsUnk) {
  Rng rng(36);
  auto bound = BindLayer(*NewEmbedding({3}, 4, 2), rng);
  const auto& words = bound.weights[0];
  const auto& pos = bound.weights[1];
  Matrix ids(3, 1), y;
  ids << 3, 7, std::nanf("");  // 7 is outside the vocabulary
  bound.layer->Forward(ids, &y, false);
  ASSERT_EQ(y.rows(), 6);  // {T = 3, D = 2} per example, position-major
  for (int k = 0; k < 2; ++k) {
    EXPECT_FLOAT_EQ(y(0 * 2 + k, 0), words[3 * 2 + k] + pos[0 * 2 + k]);
    EXPECT_FLOAT_EQ(y(1 * 2 + k, 0), words[1 * 2 + k] + pos[1 * 2 + k]);  // [UNK]
    EXPECT_FLOAT_EQ(y(2 * 2 + k, 0), words[1 * 2 + k] + pos[2 * 2 + k]);  // [UNK]
  }
  EXPECT_FALSE(NewEmbedding({3, 2}, 4, 2).ok());
  EXPECT_FALSE(NewEmbedding({3}, 1, 2).ok());
  EXPECT_FALSE(NewEmbedding({3}, 4, 0).ok());
}

TEST(LayerGradientTest, SelfAttentionWithNonZeroBiases) {
  for (int64_t heads : {1, 2}) {
    Rng rng(37);
    auto bound = BindLayer(*NewSelfAttention({3, 4}, heads), rng);
    for (float& b : bound.weights[1]) b = static_cast<float>(0.3 * rng.Normal());
    for (float& b : bound.weights[3]) b = static_cast<float>(0.3 * rng.Normal());
    auto report = CheckLayerGradients(bound, RandomInput(12, 2, rng), rng, kEps);
    EXPECT_LT(report.max_input_error, kTol) << heads << " heads";
    EXPECT_LT(report.max_param_error, kTol) << heads << " heads";
    EXPECT_EQ(report.checked, 12 * 2 + 12 * 4 + 12 + 16 + 4);
  }
}

// The forward pass against the definition written out in loops (PyTorch's packing: rows
// 0..D-1 of in_proj are the query projection, then key, then value).
TEST(SelfAttentionTest, ForwardMatchesTheDefinition) {
  Rng rng(39);
  const int T = 3, D = 4, H = 2, dh = D / H;
  auto bound = BindLayer(*NewSelfAttention({T, D}, H), rng);
  for (float& b : bound.weights[1]) b = static_cast<float>(0.3 * rng.Normal());
  const auto& w_in = bound.weights[0];
  const auto& b_in = bound.weights[1];
  const auto& w_out = bound.weights[2];
  const auto& b_out = bound.weights[3];
  const Matrix x = RandomInput(T * D, 1, rng);
  Matrix y;
  bound.layer->Forward(x, &y, false);
  double qkv[T][3 * D];
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < 3 * D; ++r) {
      qkv[t][r] = b_in[r];
      for (int k = 0; k < D; ++k) qkv[t][r] += w_in[r * D + k] * x(t * D + k, 0);
    }
  double o[T][D] = {};
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < T; ++i) {
      double s[T], z = 0;
      for (int j = 0; j < T; ++j) {
        s[j] = 0;
        for (int k = 0; k < dh; ++k) s[j] += qkv[i][h * dh + k] * qkv[j][D + h * dh + k];
        s[j] = std::exp(s[j] / std::sqrt(double{dh}));
        z += s[j];
      }
      for (int j = 0; j < T; ++j)
        for (int k = 0; k < dh; ++k) o[i][h * dh + k] += s[j] / z * qkv[j][2 * D + h * dh + k];
    }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < D; ++r) {
      double want = b_out[r];
      for (int k = 0; k < D; ++k) want += w_out[r * D + k] * o[t][k];
      EXPECT_NEAR(y(t * D + r, 0), want, 1e-5);
    }
}

// Without positions, attention is permutation-equivariant: permuting the sequence permutes
// the output the same way.
TEST(SelfAttentionTest, PermutingTheSequencePermutesTheOutput) {
  Rng rng(38);
  auto bound = BindLayer(*NewSelfAttention({4, 6}, 3), rng);
  const Matrix x = RandomInput(24, 1, rng);
  const int perm[] = {2, 0, 3, 1};
  Matrix xp(24, 1), y, yp;
  for (int t = 0; t < 4; ++t) xp.block(t * 6, 0, 6, 1) = x.block(perm[t] * 6, 0, 6, 1);
  bound.layer->Forward(x, &y, false);
  bound.layer->Forward(xp, &yp, false);
  for (int t = 0; t < 4; ++t)
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(yp(t * 6 + k, 0), y(perm[t] * 6 + k, 0), 1e-5);
  EXPECT_FALSE(NewSelfAttention({4, 6}, 4).ok());  // 4 heads do not divide 6
  EXPECT_FALSE(NewSelfAttention({24}, 2).ok());
}

TEST(LayerGradientTest, LayerNormWithNonTrivialScaleAndShift) {
  Rng rng(33);
  auto bound = BindLayer(*NewLayerNorm({3, 5}), rng);
  EXPECT_EQ(bound.weights[0], std::vector<float>(5, 1.0f));  // PyTorch's initialisation
  EXPECT_EQ(bound.weights[1], std::vector<float>(5, 0.0f));
  for (auto& w : bound.weights)
    for (float& v : w) v += static_cast<float>(0.5 * rng.Normal());
  auto report = CheckLayerGradients(bound, RandomInput(15, 2, rng), rng, kEps);
  EXPECT_LT(report.max_input_error, kTol);
  EXPECT_LT(report.max_param_error, kTol);
  EXPECT_EQ(report.checked, 15 * 2 + 5 + 5);
}

TEST(LayerNormTest, EachVectorComesOutWithZeroMeanAndUnitVariance) {
  Rng rng(34);
  auto bound = BindLayer(*NewLayerNorm({4, 8}), rng);
  Matrix x = RandomInput(32, 3, rng), y;
  x *= 7.0f;
  x.array() += 3.0f;
  bound.layer->Forward(x, &y, true);
  for (Eigen::Index c = 0; c < y.cols(); ++c) {
    for (Eigen::Index r = 0; r < 32; r += 8) {
      const auto v = y.block(r, c, 8, 1);
      EXPECT_NEAR(v.mean(), 0.0, 1e-5);
      EXPECT_NEAR((v.array() - v.mean()).square().mean(), 1.0, 1e-3);  // eps 1e-5 / var ~49
    }
  }
  EXPECT_FALSE(NewLayerNorm({4, 8}, 0.0).ok());
  EXPECT_FALSE(NewLayerNorm({}).ok());
}

struct ConvCase {
  Shape input;
  Conv2DOptions options;
};

class Conv2DGradientTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2DGradientTest, MatchesFiniteDifferences) {
  Rng rng(4);
  const ConvCase& c = GetParam();
  auto bound = BindLayer(*NewConv2D(c.input, c.options), rng);
  auto report = CheckLayerGradients(bound, RandomInput(NumElements(c.input), 2, rng), rng, kEps);
  EXPECT_LT(report.max_input_error, kTol);
  EXPECT_LT(report.max_param_error, kTol);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv2DGradientTest,
    ::testing::Values(
        ConvCase{{1, 5, 5}, {.out_channels = 2, .kernel = 3, .stride = 1, .padding = 0}},
        ConvCase{{2, 6, 5}, {.out_channels = 3, .kernel = 3, .stride = 1, .padding = 1}},
        ConvCase{{2, 7, 7}, {.out_channels = 2, .kernel = 3, .stride = 2, .padding = 1}},
        ConvCase{{3, 4, 4}, {.out_channels = 1, .kernel = 4, .stride = 1, .padding = 2}},
        // A 1x1 kernel takes the no-im2col path; padding wider than the kernel overhang.
        ConvCase{{3, 4, 5}, {.out_channels = 2, .kernel = 1, .stride = 1, .padding = 0}},
        ConvCase{{1, 3, 3}, {.out_channels = 2, .kernel = 2, .stride = 1, .padding = 3}}));

TEST(Conv2DTest, BackwardAfterAnEvaluationForwardRebuildsItsInputs) {
  // A training Forward keeps the batch's im2col matrices; an evaluation Forward does not, so
  // a Backward after it must rebuild them and give the same gradients.
  Rng rng(9);
  const Shape in{2, 6, 5};
  auto bound = BindLayer(*NewConv2D(in, {.out_channels = 3, .kernel = 3, .padding = 1}), rng);
  const Matrix x = RandomInput(NumElements(in), 3, rng);
  Matrix y, dx_train, dx_eval;
  bound.layer->Forward(x, &y, /*training=*/true);
  const Matrix dy = RandomInput(y.rows(), y.cols(), rng);
  bound.layer->Backward(x, y, dy, &dx_train);
  const std::vector<std::vector<float>> grads_train = bound.grads;
  bound.layer->Forward(x.leftCols(1), &y, /*training=*/true);  // another batch in the cache
  bound.layer->Forward(x, &y, /*training=*/false);
  bound.layer->Backward(x, y, dy, &dx_eval);
  EXPECT_EQ(dx_eval, dx_train);
  EXPECT_EQ(bound.grads, grads_train);
}

TEST(Conv2DTest, ForwardMatchesDirectConvolution) {
  Rng rng(5);
  const Shape in{2, 5, 6};
  const Conv2DOptions o{.out_channels = 3, .kernel = 3, .stride = 2, .padding = 1};
  auto bound = BindLayer(*NewConv2D(in, o), rng);
  const Matrix x = RandomInput(NumElements(in), 2, rng);
  Matrix y;
  bound.layer->Forward(x, &y, false);
  const Shape out = bound.layer->OutputShape();
  ASSERT_EQ(out, Shape({3, 3, 3}));
  const auto& w = bound.weights[0];  // {oc, c, k, k} row-major, as PyTorch
  for (int b = 0; b < 2; ++b)
    for (int oc = 0; oc < 3; ++oc)
      for (int oi = 0; oi < 3; ++oi)
        for (int oj = 0; oj < 3; ++oj) {
          double acc = bound.weights[1][static_cast<size_t>(oc)];
          for (int c = 0; c < 2; ++c)
            for (int ki = 0; ki < 3; ++ki)
              for (int kj = 0; kj < 3; ++kj) {
                const int ii = oi * 2 - 1 + ki, ij = oj * 2 - 1 + kj;
                if (ii < 0 || ii >= 5 || ij < 0 || ij >= 6) continue;
                acc += w[static_cast<size_t>(((oc * 2 + c) * 3 + ki) * 3 + kj)] *
                       x((c * 5 + ii) * 6 + ij, b);
              }
          EXPECT_NEAR(y((oc * 3 + oi) * 3 + oj, b), acc, 1e-5);
        }
}

TEST(LayerGradientTest, MaxPool2D) {
  Rng rng(6);
  for (auto [k, s] : {std::pair<int64_t, int64_t>{2, 2}, {3, 1}, {2, 1}}) {
    auto bound = BindLayer(*NewMaxPool2D({2, 6, 6}, k, s), rng);
    auto report = CheckLayerGradients(bound, SpacedInput(72, 2, rng), rng, kEps);
    EXPECT_LT(report.max_input_error, kTol) << "kernel " << k << " stride " << s;
  }
}

TEST(MaxPool2DTest, PicksWindowMaximum) {
  Rng rng(7);
  auto bound = BindLayer(*NewMaxPool2D({1, 4, 4}, 2), rng);
  Matrix x(16, 1);
  for (int i = 0; i < 16; ++i) x(i, 0) = static_cast<float>((i * 7) % 16);
  Matrix y;
  bound.layer->Forward(x, &y, false);
  ASSERT_EQ(y.rows(), 4);
  for (int oi = 0; oi < 2; ++oi)
    for (int oj = 0; oj < 2; ++oj) {
      float best = -1;
      for (int ki = 0; ki < 2; ++ki)
        for (int kj = 0; kj < 2; ++kj) best = std::max(best, x((oi * 2 + ki) * 4 + oj * 2 + kj, 0));
      EXPECT_EQ(y(oi * 2 + oj, 0), best);
    }
}

TEST(MaxPool2DTest, TiesGoToTheFirstMaximumAndNaNPropagates) {
  Rng rng(8);
  auto bound = BindLayer(*NewMaxPool2D({1, 2, 4}, 2), rng);
  Matrix x(8, 1);
  // Window 0 holds a tie (3 at offsets 1 and 5), window 1 a NaN after its maximum.
  x << 1, 3, 9, NAN, 2, 3, 0, 4;
  Matrix y, dx;
  bound.layer->Forward(x, &y, false);
  EXPECT_EQ(y(0, 0), 3.0f);
  EXPECT_TRUE(std::isnan(y(1, 0)));
  Matrix dy(2, 1);
  dy << 1, 1;
  bound.layer->Backward(x, y, dy, &dx);
  EXPECT_EQ(dx(1, 0), 1.0f);  // the first 3
  EXPECT_EQ(dx(5, 0), 0.0f);
  EXPECT_EQ(dx(3, 0), 1.0f);  // the NaN
  EXPECT_EQ(dx(2, 0), 0.0f);
}

TEST(LayerGradientTest, Flatten) {
  Rng rng(8);
  auto bound = BindLayer(*NewFlatten({2, 3, 3}), rng);
  EXPECT_EQ(bound.layer->OutputShape(), Shape({18}));
  auto report = CheckLayerGradients(bound, RandomInput(18, 2, rng), rng, kEps);
  EXPECT_LT(report.max_input_error, kTol);
}

TEST(DropoutTest, TrainingMasksAndRescalesEvaluationIsIdentity) {
  Rng rng(9);
  const double rate = 0.3;
  auto bound = BindLayer(*NewDropout({1000}, rate), rng);
  const Matrix x = Matrix::Constant(1000, 20, 2.0f);
  Matrix y, dx;
  bound.layer->Forward(x, &y, /*training=*/true);
  const double zero_fraction = (y.array() == 0.0f).cast<double>().mean();
  EXPECT_NEAR(zero_fraction, rate, 0.02);
  EXPECT_NEAR(y.cast<double>().mean(), 2.0, 0.05);  // inverted dropout keeps the mean
  // The gradient flows exactly through the kept units, with the same scale.
  const Matrix dy = RandomInput(1000, 20, rng);
  bound.layer->Backward(x, y, dy, &dx);
  EXPECT_TRUE(dx.isApprox(dy.cwiseProduct(y / 2.0f)));
  bound.layer->Forward(x, &y, /*training=*/false);
  EXPECT_EQ(y, x);
}

TEST(LayerTest, FactoriesRejectShapesThatDoNotFit) {
  EXPECT_EQ(NewConv2D({784}, {.out_channels = 2}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(NewConv2D({1, 2, 2}, {.out_channels = 2, .kernel = 5}).ok());
  EXPECT_FALSE(NewConv2D({1, 8, 8}, {.out_channels = 0}).ok());
  EXPECT_FALSE(NewMaxPool2D({1, 3, 3}, 4).ok());
  EXPECT_FALSE(NewDense({}, 3).ok());
  EXPECT_FALSE(NewDense({4}, 0).ok());
  EXPECT_FALSE(NewDropout({4}, 1.0).ok());
  const Status s = NewConv2D({10}, {.out_channels = 1}).status();
  EXPECT_NE(s.message().find("[10]"), std::string::npos) << s.message();
}

// The checker itself must notice a wrong gradient, or the tests above prove nothing.
TEST(GradientCheckTest, DetectsACorruptedGradient) {
  Rng rng(10);
  auto bound = BindLayer(*NewDense({5}, 3), rng);
  auto report = CheckLayerGradients(bound, RandomInput(5, 2, rng), rng, kEps,
                                    [](testing::BoundLayer& b) { b.grads[0][4] += 0.05f; });
  EXPECT_GT(report.max_param_error, 0.04);
  auto conv = BindLayer(*NewConv2D({1, 4, 4}, {.out_channels = 1, .kernel = 3}), rng);
  auto conv_report = CheckLayerGradients(conv, RandomInput(16, 2, rng), rng, kEps,
                                         [](testing::BoundLayer& b) { b.grads[1][0] *= 1.1f; });
  EXPECT_GT(conv_report.max_param_error, kTol);
}

}  // namespace
}  // namespace fedra
