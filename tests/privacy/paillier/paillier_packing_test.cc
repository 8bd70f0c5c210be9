// Fixed-point packing (packing.h): slot layout, round trips at the extremes of the range, the
// documented error bound of encode -> sum -> decode, and overflow detection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/privacy/paillier/packing.h"
#include "privacy/paillier/bn_util.h"

namespace fedra::paillier {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kBits = 2048;
constexpr size_t kWidth = kBits / 8;

// Slot-wise sum of packed plaintexts, as homomorphic addition computes it.
std::vector<BigBytes> SumPlaintexts(const std::vector<std::vector<BigBytes>>& parts) {
  internal::BnCtx ctx = internal::NewCtx();
  std::vector<BigBytes> out;
  for (size_t i = 0; i < parts[0].size(); ++i) {
    internal::Bn acc = internal::NewBn();
    for (const auto& p : parts) {
      internal::Bn x = internal::FromBytes(p[i]);
      FEDRA_CHECK(BN_add(acc.get(), acc.get(), x.get()) == 1);
    }
    out.push_back(internal::ToBytes(acc.get(), kWidth));
  }
  return out;
}

TEST(PaillierPackingTest, SlotLayoutFollowsTheConfiguration) {
  const PackingConfig config{
      .max_abs_value = 1.0, .max_weight = 1000, .precision_bits = 16, .max_clients = 10};
  StatusOr<Packer> packer = Packer::Create(config, kBits);
  ASSERT_TRUE(packer.ok());
  // Q = ceil(1000 * 2^16) + 1; a slot holds 2 Q 10 < 2^31.
  EXPECT_EQ(packer->offset(), 1000u * 65536u + 1u);
  EXPECT_EQ(packer->slot_bits(), 31);
  EXPECT_EQ(packer->slots_per_plaintext(), 2047u / 31u);
  EXPECT_EQ(packer->NumPlaintexts(0), 1u);
  EXPECT_EQ(packer->NumPlaintexts(65), 1u);  // 66 slots: weight + 65 values
  EXPECT_EQ(packer->NumPlaintexts(66), 2u);
  StatusOr<Packer> other = Packer::Create({.max_clients = 11}, kBits);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->fingerprint(), Packer::Create({}, kBits)->fingerprint());
}

TEST(PaillierPackingTest, RejectsConfigurationsThatCannotBePacked) {
  EXPECT_FALSE(Packer::Create({.max_abs_value = 0}, kBits).ok());
  EXPECT_FALSE(Packer::Create({.max_abs_value = NAN}, kBits).ok());
  EXPECT_FALSE(Packer::Create({.max_weight = 0}, kBits).ok());
  EXPECT_FALSE(Packer::Create({.precision_bits = 53}, kBits).ok());
  EXPECT_FALSE(Packer::Create({.max_clients = 0}, kBits).ok());
  StatusOr<Packer> huge = Packer::Create(
      {.max_abs_value = 1000, .max_weight = 1u << 30, .precision_bits = 20, .max_clients = 2},
      kBits);
  EXPECT_THAT(huge.status().message(), HasSubstr("2^52"));
  StatusOr<Packer> wide =
      Packer::Create({.max_weight = 1u << 20, .precision_bits = 30, .max_clients = 10000}, kBits);
  EXPECT_THAT(wide.status().message(), HasSubstr("62 bits"));
}

TEST(PaillierPackingTest, RoundTripsOneClientIncludingExtremesAndZero) {
  const PackingConfig config{
      .max_abs_value = 2.0, .max_weight = 500, .precision_bits = 20, .max_clients = 4};
  const Packer packer = *Packer::Create(config, kBits);
  std::vector<float> values = {0.0f, -0.0f, 2.0f, -2.0f, 1.0f / 3.0f, -1e-7f, 1.9999f};
  Rng rng(3);
  for (int i = 0; i < 300; ++i) values.push_back(static_cast<float>(rng.Uniform() * 4.0 - 2.0));
  for (uint32_t weight : {1u, 37u, 500u}) {
    StatusOr<std::vector<BigBytes>> packed = packer.Pack(values, weight, kWidth);
    ASSERT_TRUE(packed.ok()) << packed.status().ToString();
    EXPECT_EQ(packed->size(), packer.NumPlaintexts(values.size()));
    StatusOr<UnpackedSum> back = packer.Unpack(*packed, values.size(), 1);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->total_weight, weight);
    const double bound = packer.SumErrorBound(1);
    for (size_t j = 0; j < values.size(); ++j) {
      EXPECT_NEAR(back->weighted_sum[j], weight * static_cast<double>(values[j]), bound)
          << "value " << j;
    }
  }
}

TEST(PaillierPackingTest, SumOfMaxClientsStaysWithinTheDocumentedBound) {
  const PackingConfig config{
      .max_abs_value = 1.0, .max_weight = 1000, .precision_bits = 12, .max_clients = 8};
  const Packer packer = *Packer::Create(config, kBits);
  Rng rng(5);
  const size_t dim = 200;
  std::vector<std::vector<BigBytes>> parts;
  std::vector<double> exact(dim, 0.0);
  uint64_t total = 0;
  for (uint32_t c = 0; c < config.max_clients; ++c) {
    std::vector<float> v(dim);
    // Every client at the extremes on the first coordinates: the worst case for headroom.
    for (size_t j = 0; j < dim; ++j) {
      v[j] = j < 4 ? (j % 2 ? -1.0f : 1.0f) : static_cast<float>(rng.Uniform() * 2 - 1);
    }
    const uint32_t w = c == 0 ? 1000 : 1 + static_cast<uint32_t>(rng.UniformInt(1000));
    total += w;
    for (size_t j = 0; j < dim; ++j) exact[j] += w * static_cast<double>(v[j]);
    parts.push_back(*packer.Pack(v, w, kWidth));
  }
  StatusOr<UnpackedSum> sum = packer.Unpack(SumPlaintexts(parts), dim, config.max_clients);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->total_weight, total);
  const double bound = packer.SumErrorBound(config.max_clients);
  EXPECT_LT(bound, 1e-2);
  double worst = 0;
  for (size_t j = 0; j < dim; ++j)
    worst = std::max(worst, std::fabs(sum->weighted_sum[j] - exact[j]));
  EXPECT_LE(worst, bound);
  EXPECT_GT(worst, 0.0);  // fixed point does lose something: the test would notice a no-op
}

// The refusals name the limit and the flag, never the client's value or its position: they
// reach the server's log, and the server must not learn a client's values (issue #17).
TEST(PaillierPackingTest, OutOfRangeClientValuesAreErrorsThatRevealNoValue) {
  const Packer packer = *Packer::Create({.max_abs_value = 1.0, .max_weight = 100}, kBits);
  const std::string value_refused =
      std::string(packer.Pack(std::vector<float>{0.5f, 1.0137f}, 1, kWidth).status().message());
  EXPECT_THAT(value_refused, HasSubstr("--paillier-max-abs"));
  EXPECT_THAT(value_refused, Not(HasSubstr("1.013")));
  EXPECT_THAT(value_refused, Not(HasSubstr("#1")));
  EXPECT_FALSE(packer.Pack(std::vector<float>{NAN}, 1, kWidth).ok());
  EXPECT_FALSE(packer.Pack(std::vector<float>{-INFINITY}, 1, kWidth).ok());
  const std::string weight_refused =
      std::string(packer.Pack(std::vector<float>{0.5f}, 137, kWidth).status().message());
  EXPECT_THAT(weight_refused, HasSubstr("max_weight"));
  EXPECT_THAT(weight_refused, Not(HasSubstr("137")));
  EXPECT_FALSE(packer.Pack(std::vector<float>{0.5f}, 0, kWidth).ok());
}

TEST(PaillierPackingTest, DetectsSumsThatOverflowTheirSlots) {
  const PackingConfig config{
      .max_abs_value = 1.0, .max_weight = 10, .precision_bits = 8, .max_clients = 2};
  const Packer packer = *Packer::Create(config, kBits);
  const std::vector<float> ones(10, 1.0f);
  const std::vector<BigBytes> one = *packer.Pack(ones, 10, kWidth);
  // More contributions than the configured maximum are refused outright.
  EXPECT_EQ(packer.Unpack(SumPlaintexts({one, one, one}), 10, 3).status().code(),
            StatusCode::kOutOfRange);
  // Claiming fewer contributions than were summed is caught by the slot range check.
  EXPECT_EQ(packer.Unpack(SumPlaintexts({one, one}), 10, 1).status().code(),
            StatusCode::kOutOfRange);
  // Garbage (e.g. decrypted with the wrong key) has bits above the slots.
  BigBytes junk(kWidth, 0x5a);
  junk[0] = 0x7f;
  EXPECT_EQ(packer.Unpack(std::vector<BigBytes>{junk}, 10, 1).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(packer.Unpack(one, 200, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(packer.Unpack(one, SIZE_MAX, 1).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra::paillier
