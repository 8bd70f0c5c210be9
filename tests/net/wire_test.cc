#include "net/wire.h"

#include "net/model_lease.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "testing/fl_fixtures.h"

namespace fedra::net {
namespace {

using ::fedra::testing::Values;
using ::fedra::testing::Vec;
using ::testing::HasSubstr;

Parameters TwoTensors(float base) {
  Parameters p;
  p.Add("a", {2, 3});
  p.Add("b", {5});
  for (size_t i = 0; i < p.size(); ++i) p.data()[i] = base + static_cast<float>(i);
  return p;
}

TEST(WireTest, ChunksOfAnySizeReassembleEveryGroupExactly) {
  const Parameters x = TwoTensors(0), y = TwoTensors(100);
  const std::vector<PayloadGroup> groups = {{"update", &x}, {"extra/c", &y}};
  for (size_t chunk : {1u, 3u, 7u, 44u, 45u, 1000u}) {
    SpecList specs;
    const uint64_t bytes = DescribePayload(groups, &specs);
    ASSERT_EQ(bytes, x.num_bytes() + y.num_bytes());
    auto r = PayloadReader::WithLayout(
        specs, bytes, x.tensors(), [](const std::string&) { return true; }, "update", 2);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    size_t calls = 0;
    ASSERT_TRUE(ForEachChunk(groups, chunk, [&](std::string_view b) {
      ++calls;
      EXPECT_LE(b.size(), chunk);
      return r->Append(b).ok();
    }));
    EXPECT_EQ(calls, (bytes + chunk - 1) / chunk);
    ASSERT_TRUE(r->Finish().ok());
    auto out = r->TakeGroups();
    EXPECT_EQ(Values(out.at("update")), Values(x));
    EXPECT_EQ(Values(out.at("extra/c")), Values(y));
    EXPECT_EQ(out.at("update").tensors(), x.tensors());
  }
}

TEST(WireTest, MalformedSpecsAreRejectedBeforeAllocation) {
  auto spec = [](SpecList& s, const std::string& name, std::vector<int64_t> shape,
                 v1::DType dtype = v1::F32, const std::string& group = "g") {
    v1::TensorSpec* t = s.Add();
    t->set_name(name);
    for (auto d : shape) t->add_shape(d);
    t->set_dtype(dtype);
    t->set_group(group);
  };
  SpecList neg;
  spec(neg, "w", {-1});
  EXPECT_THAT(PayloadReader::FromSpecs(neg, 0, 100).status().message(), HasSubstr("negative"));
  SpecList dtype;
  spec(dtype, "w", {2}, v1::DTYPE_UNSPECIFIED);
  EXPECT_THAT(PayloadReader::FromSpecs(dtype, 8, 100).status().message(), HasSubstr("only F32"));
  SpecList dup;
  spec(dup, "w", {1});
  spec(dup, "w", {1});
  EXPECT_THAT(PayloadReader::FromSpecs(dup, 8, 100).status().message(), HasSubstr("twice"));
  SpecList huge;
  spec(huge, "w", {1 << 30, 1 << 30, 1 << 30});
  EXPECT_THAT(PayloadReader::FromSpecs(huge, 8, 100).status().message(), HasSubstr("too large"));
  SpecList big;
  spec(big, "w", {1000});
  EXPECT_THAT(PayloadReader::FromSpecs(big, 4000, 100).status().message(),
              HasSubstr("exceeds the limit"));
  SpecList split;
  spec(split, "a", {1}, v1::F32, "g1");
  spec(split, "b", {1}, v1::F32, "g2");
  spec(split, "c", {1}, v1::F32, "g1");
  EXPECT_THAT(PayloadReader::FromSpecs(split, 12, 100).status().message(),
              HasSubstr("not contiguous"));
  SpecList empty_name;
  spec(empty_name, "", {1});
  EXPECT_THAT(PayloadReader::FromSpecs(empty_name, 4, 100).status().message(),
              HasSubstr("empty name"));
}

// A header may declare at most max_groups copies of the model (checked before allocating),
// and the reader allocates a group only when its first byte arrives: a sender that declares
// a lot and then stalls holds the server to what it actually sent.
TEST(WireTest, DeclaredBytesAreBudgetedAndAllocatedOnlyAsTheyArrive) {
  Parameters model;
  model.Add("w", {1000});
  std::vector<Parameters> extras(40, model);
  std::vector<PayloadGroup> groups = {{"update", &model}};
  for (size_t i = 0; i < extras.size(); ++i) {
    groups.push_back({"extra/x" + std::to_string(i), &extras[i]});
  }
  SpecList specs;
  const uint64_t bytes = DescribePayload(groups, &specs);
  auto any = [](const std::string&) { return true; };
  auto refused = PayloadReader::WithLayout(specs, bytes, model.tensors(), any, "update", 3);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("declares 41 copies of the model"));

  SpecList three;
  const uint64_t three_bytes = DescribePayload(
      {{"update", &model}, {"extra/a", &extras[0]}, {"extra/b", &extras[1]}}, &three);
  auto r = PayloadReader::WithLayout(three, three_bytes, model.tensors(), any, "update", 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->allocated_bytes(), 0u);
  const std::string first(100, '\0');
  ASSERT_TRUE(r->Append(first).ok());
  EXPECT_EQ(r->allocated_bytes(), model.num_bytes());  // the first group only
  EXPECT_FALSE(r->Finish().ok());
}

// A spare buffer of the model's layout (a folded upload's memory) is read into instead of
// fresh memory, and every byte of it is overwritten; a spare of another layout stays spare.
TEST(WireTest, AGroupIsReadIntoASpareOfItsLayout) {
  const Parameters x = TwoTensors(0), y = TwoTensors(100);
  SpecList specs;
  const uint64_t bytes = DescribePayload({{"update", &x}, {"extra/c", &y}}, &specs);
  SpareBuffer spare;
  Parameters stale = TwoTensors(-7);
  const float* memory = stale.data();
  spare.Put(std::move(stale));
  spare.Put(TwoTensors(-9));  // one spare at most: this one is dropped
  auto r = PayloadReader::WithLayout(
      specs, bytes, x.tensors(), [](const std::string&) { return true; }, "update", 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  r->set_spare(&spare);
  ASSERT_TRUE(ForEachChunk({{"update", &x}, {"extra/c", &y}}, 5,
                           [&](std::string_view b) { return r->Append(b).ok(); }));
  ASSERT_TRUE(r->Finish().ok());
  auto out = r->TakeGroups();
  EXPECT_EQ(out.at("update").data(), memory);  // the spare, for the first group
  EXPECT_EQ(Values(out.at("update")), Values(x));
  EXPECT_EQ(Values(out.at("extra/c")), Values(y));  // fresh memory: the spare was used up
  EXPECT_EQ(spare.bytes(), 0u);

  Parameters other;
  other.Add("a", {6});
  other.Add("b", {5});
  spare.Put(std::move(other));
  auto again = PayloadReader::WithLayout(
      specs, bytes, x.tensors(), [](const std::string&) { return true; }, "update", 2);
  ASSERT_TRUE(again.ok());
  again->set_spare(&spare);
  ASSERT_TRUE(ForEachChunk({{"update", &x}, {"extra/c", &y}}, 64,
                           [&](std::string_view b) { return again->Append(b).ok(); }));
  ASSERT_TRUE(again->Finish().ok());
  EXPECT_EQ(Values(again->TakeGroups().at("update")), Values(x));
  EXPECT_EQ(spare.bytes(), 11 * sizeof(float));  // a 6 + 5 layout: still there, unused
}

TEST(WireTest, LayoutCheckNamesTheFirstMismatch) {
  const Parameters model = TwoTensors(0);
  Parameters other;
  other.Add("a", {2, 3});
  other.Add("b", {6});
  SpecList specs;
  const uint64_t bytes = DescribePayload({{"update", &other}}, &specs);
  auto any = [](const std::string&) { return true; };
  EXPECT_THAT(
      PayloadReader::WithLayout(specs, bytes, model.tensors(), any, "update", 3).status().message(),
      HasSubstr("is 'b' [6]; the model has 'b' [5]"));
  SpecList good;
  const uint64_t good_bytes = DescribePayload({{"weird", &model}}, &good);
  EXPECT_THAT(PayloadReader::WithLayout(
                  good, good_bytes, model.tensors(),
                  [](const std::string& g) { return g == "update"; }, "update", 3)
                  .status()
                  .message(),
              HasSubstr("unexpected tensor group 'weird'"));
}

TEST(WireTest, FoldSpecRoundTripsAndBadSpecsAreRefused) {
  const FoldSpec spec{.vectors = {{"nova", "update", FoldWeight::kExamplesPerEffectiveStep},
                                  {"c", "control_delta", FoldWeight::kOne}},
                      .scalars = {{"weight", FoldWeight::kExamples},
                                  {"tau_eff", FoldWeight::kExamplesTimesEffectiveStep}},
                      .momentum = 0.9};
  v1::FoldSpec p;
  ToProto(spec, &p);
  auto back = FromProto(p);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, spec);
  v1::FoldSpec bad = p;
  bad.mutable_vectors(0)->set_weight(static_cast<v1::FoldWeight>(42));
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("unknown weight 42"));
  bad = p;
  bad.mutable_scalars(1)->set_sum("weight");
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("appears twice"));
  bad = p;
  bad.set_momentum(NAN);
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("momentum"));
}

TEST(WireTest, OpenRoundConfigTravelsTypedAndHostileMapsAreRefused) {
  FitConfig c;
  c.extra = {
      {"steps", int64_t{-3}}, {"lr", 0.125}, {"schedule", std::string("cosine")}, {"warm", false}};
  v1::FitInstructions p;
  ToProto(c, &p);
  auto back = FromProto(p);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->extra, c.extra);  // types survive: an int stays an int, false stays a bool
  // A value without a type, a non-finite number and an oversized map are refused.
  v1::FitInstructions bad = p;
  (*bad.mutable_config())["empty"] = v1::ConfigValue();
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("without a type"));
  bad = p;
  (*bad.mutable_config())["lr"].set_double_value(INFINITY);
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("'lr' is not finite"));
  bad = p;
  for (int i = 0; i < 100; ++i)
    (*bad.mutable_config())["k" + std::to_string(i)].set_bool_value(true);
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("at most 64"));
  google::protobuf::Map<std::string, double> metrics;
  metrics["f1"] = 0.5;
  EXPECT_EQ(MetricsFromProto(metrics)->at("f1"), 0.5);
  metrics["nan"] = NAN;
  EXPECT_THAT(MetricsFromProto(metrics).status().message(), HasSubstr("'nan' is not finite"));
}

TEST(WireTest, FitInstructionsRoundTripAndOutOfRangeValuesAreRefused) {
  const FitConfig c{.epochs = 3,
                    .batch_size = 17,
                    .learning_rate = 0.05f,
                    .momentum = 0.9f,
                    .weight_decay = 1e-4f,
                    .proximal_mu = 0.01f,
                    .scaffold = true,
                    .clip_norm = 1.5f,
                    .noise_stddev = 0.25f};
  v1::FitInstructions p;
  ToProto(c, &p);
  auto back = FromProto(p);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->epochs, 3);
  EXPECT_EQ(back->batch_size, 17);
  EXPECT_EQ(back->learning_rate, 0.05f);
  EXPECT_EQ(back->momentum, 0.9f);
  EXPECT_TRUE(back->scaffold);
  EXPECT_EQ(back->clip_norm, 1.5f);
  EXPECT_EQ(back->noise_stddev, 0.25f);
  EXPECT_EQ(back->optimizer, "sgd");
  // AdamW and gradient clipping travel; an older server's empty optimizer means SGD.
  FitConfig adamw = c;
  adamw.optimizer = "adamw";
  adamw.max_grad_norm = 0.5f;
  v1::FitInstructions q;
  ToProto(adamw, &q);
  auto back2 = FromProto(q);
  ASSERT_TRUE(back2.ok()) << back2.status().ToString();
  EXPECT_EQ(back2->optimizer, "adamw");
  EXPECT_EQ(back2->max_grad_norm, 0.5f);
  q.clear_optimizer();
  EXPECT_EQ(FromProto(q)->optimizer, "sgd");
  q.set_optimizer("lbfgs");
  EXPECT_THAT(FromProto(q).status().message(), HasSubstr("optimizer must be sgd, adam or adamw"));
  q.set_optimizer("adamw");
  q.set_max_grad_norm(-1);
  EXPECT_THAT(FromProto(q).status().message(), HasSubstr("max_grad_norm"));
  // Local steps travel and are bounded.
  FitConfig stepped = c;
  stepped.local_steps = 4;
  v1::FitInstructions s;
  ToProto(stepped, &s);
  EXPECT_EQ(FromProto(s)->local_steps, 4);
  EXPECT_EQ(back->local_steps, 0);
  s.set_local_steps(-1);
  EXPECT_THAT(FromProto(s).status().message(), HasSubstr("local_steps"));
  s.set_local_steps(kMaxLocalSteps + 1);
  EXPECT_THAT(FromProto(s).status().message(), HasSubstr("local_steps"));
  v1::FitInstructions bad = p;
  bad.set_epochs(0);
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("epochs"));
  bad = p;
  bad.set_learning_rate(NAN);
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("learning_rate"));
  bad = p;
  bad.set_momentum(1.0f);
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("momentum"));
  bad = p;
  bad.set_noise_stddev(-1);
  EXPECT_THAT(FromProto(bad).status().message(), HasSubstr("noise_stddev"));
}

TEST(WireTest, OpaquePayloadsTravelInBoundedChunksAndPackingRoundTrips) {
  std::string message(2500, '\0');
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>(i * 7);
  std::vector<std::string> chunks;
  EXPECT_TRUE(ForEachChunk(message, 1000, [&](std::string_view b) {
    chunks.emplace_back(b);
    return true;
  }));
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[2].size(), 500u);
  EXPECT_EQ(chunks[0] + chunks[1] + chunks[2], message);
  int calls = 0;
  EXPECT_FALSE(ForEachChunk(message, 1000, [&](std::string_view) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(BytesToString(AsBytes(message)), message);

  const paillier::PackingConfig packing{
      .max_abs_value = 12.5, .max_weight = 7, .precision_bits = 20, .max_clients = 33};
  v1::SecureFitInstructions in;
  ToProto(packing, &in);
  const paillier::PackingConfig back = PackingFromProto(in);
  EXPECT_EQ(back.max_abs_value, packing.max_abs_value);
  EXPECT_EQ(back.max_weight, packing.max_weight);
  EXPECT_EQ(back.precision_bits, packing.precision_bits);
  EXPECT_EQ(back.max_clients, packing.max_clients);
}

// A download still reading when the round closes gets the model as it was lent, although
// the lender changes it afterwards; with no such download, nothing is copied.
TEST(ModelLeaseTest, ADownloadOutlivingItsRoundReadsTheModelAsLent) {
  Parameters model;
  model.Add("w", {3000});
  for (size_t i = 0; i < model.size(); ++i) model.data()[i] = static_cast<float>(i);
  std::map<std::string, Parameters> broadcast{{"c", TwoTensors(7)}};
  std::string want;
  ASSERT_TRUE(ForEachChunk({{"global", &model}, {"broadcast/c", &broadcast.at("c")}}, 1000,
                           [&](std::string_view b) {
                             want.append(b);
                             return true;
                           }));
  auto lease = std::make_shared<ModelLease>(model, broadcast);
  SpecList specs;
  EXPECT_EQ(lease->Describe(&specs), want.size());
  ASSERT_EQ(specs.size(), 3);
  EXPECT_EQ(specs[2].group(), "broadcast/c");
  ModelLease::Reader reader = lease->NewReader(1000);
  std::string got, chunk;
  ASSERT_TRUE(lease->Next(reader, &chunk));
  got += chunk;
  std::shared_ptr<ModelLease> download = lease;  // a writer's reference
  EXPECT_TRUE(lease->Return(lease.use_count()));
  model.Flat().setConstant(-1);  // the lender moves on
  broadcast.at("c").Flat().setConstant(-1);
  while (download->Next(reader, &chunk)) got += chunk;
  EXPECT_EQ(got, want);
  EXPECT_EQ(lease->layout()->size(), 1u);

  auto alone = std::make_shared<ModelLease>(model, broadcast);
  EXPECT_FALSE(alone->Return(alone.use_count()));
}

}  // namespace
}  // namespace fedra::net
