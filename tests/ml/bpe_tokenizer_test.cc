// Byte-level BPE: every byte string round-trips, training equals a naive reference (recount
// every pair at every step), is deterministic, and the file format refuses bad files by line.
#include "fedra/ml/bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace fedra {
namespace {

std::vector<std::string> Corpus() {
  return {"the cat sat on the mat", "the hat, the bat!", "The cat's hat is on the cat.",
          "spam spam spam: WIN $$$ now", "caf\xc3\xa9 na\xc3\xafve \xff\xfe bytes"};
}

// The merges BPE must learn on single words (no pre-tokenization at play): at each step the
// most frequent adjacent pair, ties to the smallest (left, right), stopping below count 2.
std::vector<std::pair<int32_t, int32_t>> NaiveMerges(const std::vector<std::string>& words,
                                                     size_t vocab) {
  std::map<std::string, int64_t> counts;
  for (const auto& w : words) ++counts[w];
  std::vector<std::vector<int32_t>> syms;
  std::vector<int64_t> freq;
  for (const auto& [w, f] : counts) {
    syms.emplace_back();
    for (char c : w) syms.back().push_back(BpeTokenizer::kFirstByte + static_cast<uint8_t>(c));
    freq.push_back(f);
  }
  std::vector<std::pair<int32_t, int32_t>> merges;
  while (BpeTokenizer::kBaseVocab + merges.size() < vocab) {
    std::map<std::pair<int32_t, int32_t>, int64_t> pairs;
    for (size_t w = 0; w < syms.size(); ++w)
      for (size_t i = 0; i + 1 < syms[w].size(); ++i)
        pairs[{syms[w][i], syms[w][i + 1]}] += freq[w];
    std::pair<int32_t, int32_t> best{};
    int64_t most = 1;
    for (const auto& [p, c] : pairs)
      if (c > most) most = c, best = p;  // map order: the smallest pair wins ties
    if (most < 2) break;
    const auto id = static_cast<int32_t>(BpeTokenizer::kBaseVocab + merges.size());
    merges.push_back(best);
    for (auto& s : syms) {
      std::vector<int32_t> out;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == best.first && s[i + 1] == best.second) {
          out.push_back(id);
          ++i;
        } else {
          out.push_back(s[i]);
        }
      }
      s = out;
    }
  }
  return merges;
}

TEST(BpeTokenizerTest, TrainingEqualsTheNaiveReference) {
  std::mt19937 gen(3);
  for (int trial = 0; trial < 5; ++trial) {
    // Words over a small alphabet so that pairs repeat and compete.
    std::vector<std::string> words;
    for (int i = 0; i < 300; ++i) {
      std::string w;
      const int len = 2 + static_cast<int>(gen() % 12);
      for (int k = 0; k < len; ++k) w.push_back(static_cast<char>('a' + gen() % (3 + trial)));
      words.push_back(w);
    }
    const size_t vocab = BpeTokenizer::kBaseVocab + 60;
    auto bpe = BpeTokenizer::Train(words, vocab);
    ASSERT_TRUE(bpe.ok()) << bpe.status().ToString();
    EXPECT_EQ(bpe->merges(), NaiveMerges(words, vocab)) << "trial " << trial;
  }
}

TEST(BpeTokenizerTest, EveryByteStringRoundTrips) {
  auto bpe = BpeTokenizer::Train(Corpus(), 400);
  ASSERT_TRUE(bpe.ok());
  std::mt19937 gen(5);
  for (int trial = 0; trial < 300; ++trial) {
    std::string s(gen() % 200, '\0');
    for (char& c : s) {
      const uint32_t r = gen();
      c = r % 4 == 0 ? " \t\n\rthecat"[r % 10] : static_cast<char>(r >> 8);
    }
    const auto ids = bpe->Encode(s);
    for (int32_t id : ids) {
      ASSERT_GE(id, BpeTokenizer::kFirstByte);
      ASSERT_LT(static_cast<size_t>(id), bpe->vocab_size());
    }
    auto back = bpe->Decode(ids);
    ASSERT_TRUE(back.ok());
    ASSERT_EQ(*back, s) << "trial " << trial;
  }
  // A long run without spaces (cut into 64-byte words) round-trips too.
  const std::string run(5000, 'x');
  EXPECT_EQ(*bpe->Decode(bpe->Encode(run)), run);
}

TEST(BpeTokenizerTest, LearnedMergesShortenFrequentWordsAndTrainingIsDeterministic) {
  std::vector<std::string> texts;
  for (int copy = 0; copy < 3; ++copy)
    for (const auto& t : Corpus()) texts.push_back(t);
  auto bpe = BpeTokenizer::Train(texts, 300);
  ASSERT_TRUE(bpe.ok());
  EXPECT_EQ(bpe->vocab_size(), 300u);
  EXPECT_EQ(bpe->Encode(" the").size(), 1u);  // " the" is the commonest word
  EXPECT_LT(bpe->Encode("the cat sat on the mat").size(), 12u);
  auto shuffled = texts;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(9));
  EXPECT_EQ(BpeTokenizer::Train(shuffled, 300)->merges(), bpe->merges());
  // Specials decode to nothing; an id outside the vocabulary is an error.
  std::vector<int32_t> ids = {BpeTokenizer::kCls};
  for (int32_t id : bpe->Encode("hat")) ids.push_back(id);
  ids.push_back(BpeTokenizer::kPad);
  EXPECT_EQ(*bpe->Decode(ids), "hat");
  const std::vector<int32_t> outside = {static_cast<int32_t>(bpe->vocab_size())};
  EXPECT_EQ(bpe->Decode(outside).status().code(), StatusCode::kInvalidArgument);
  const std::vector<int32_t> negative = {-1};
  EXPECT_FALSE(bpe->Decode(negative).ok());
}

TEST(BpeTokenizerTest, VocabularyLimitsAndEarlyStop) {
  EXPECT_EQ(BpeTokenizer::Train(Corpus(), 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(BpeTokenizer::Train(Corpus(), 2'000'000).ok());
  // No pair occurs twice: nothing to learn.
  const std::vector<std::string> once = {"ab", "cd", "ef"};
  auto bpe = BpeTokenizer::Train(once, 1000);
  ASSERT_TRUE(bpe.ok());
  EXPECT_EQ(bpe->vocab_size(), BpeTokenizer::kBaseVocab);
}

TEST(TokenizedDatasetTest, CutsPadsAndLabels) {
  auto bpe = BpeTokenizer::Train(Corpus(), 300);
  ASSERT_TRUE(bpe.ok());
  std::vector<std::string> texts(2);
  texts[0] = "the cat";
  texts[1].assign(400, 'z');
  texts[1].append(" long");
  const std::vector<int> labels = {0, 1};
  auto d = TokenizedDataset(*bpe, texts, labels, 8, 2);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_TRUE(d->Validate().ok());
  EXPECT_EQ(d->example_shape, Shape({8}));
  const auto first = bpe->Encode("the cat");
  ASSERT_LT(first.size(), 8u);
  for (size_t t = 0; t < 8; ++t)
    EXPECT_EQ(d->features(static_cast<Eigen::Index>(t), 0), t < first.size() ? first[t] : 0);
  for (Eigen::Index t = 0; t < 8; ++t) EXPECT_NE(d->features(t, 1), 0);  // cut, not padded
  EXPECT_EQ(d->Labels(), labels);
  const std::vector<int> bad = {0, 2};
  EXPECT_FALSE(TokenizedDataset(*bpe, texts, bad, 8, 2).ok());
  EXPECT_FALSE(TokenizedDataset(*bpe, texts, std::vector<int>{0}, 8, 2).ok());
  EXPECT_FALSE(TokenizedDataset(*bpe, texts, labels, 0, 2).ok());
}

class BpeFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::path(::testing::TempDir()) /
             ("bpe_" + std::to_string(::getpid()) + ".txt"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  Status LoadText(const std::string& text) {
    std::ofstream(path_) << text;
    return BpeTokenizer::Load(path_).status();
  }
  std::string path_;
};

TEST_F(BpeFileTest, SaveAndLoadGiveTheSameTokenizer) {
  auto bpe = BpeTokenizer::Train(Corpus(), 350);
  ASSERT_TRUE(bpe.ok());
  ASSERT_TRUE(bpe->Save(path_).ok());
  auto loaded = BpeTokenizer::Load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->merges(), bpe->merges());
  for (const auto& t : Corpus()) EXPECT_EQ(loaded->Encode(t), bpe->Encode(t));
}

TEST_F(BpeFileTest, BadFilesAreRefusedWithTheLine) {
  EXPECT_EQ(BpeTokenizer::Load(path_ + ".missing").status().code(), StatusCode::kNotFound);
  auto expect_bad = [&](const std::string& text, const std::string& what) {
    Status s = LoadText(text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(s.message().find(what), std::string::npos) << s.ToString();
  };
  expect_bad("", "not a fedra BPE file");
  expect_bad("gpt2 merges\n", ":1: not a fedra BPE file");
  expect_bad("fedra-bpe 1 2\n5 6\n", "the header says 2 merges, the file has 1");
  expect_bad("fedra-bpe 1 1\n5 6\n7 8\n", ":3: more merges");
  expect_bad("fedra-bpe 1 1\n5 261\n", ":2: merge of ids 5 and 261");  // not yet defined
  expect_bad("fedra-bpe 1 1\n2 6\n", "each must be a byte");           // a special token
  expect_bad("fedra-bpe 1 1\n5 x\n", ":2: expected");
  expect_bad("fedra-bpe 1 99999999999\n", "too many merges");
  EXPECT_TRUE(LoadText("fedra-bpe 1 2\n5 6\n261 7\n").ok());
  // Merges that double a token each time (2, 4, ..., 2^40 bytes) stop at 64 bytes, the longest
  // word, instead of exhausting memory.
  std::string doubling = "fedra-bpe 1 40\n5 5\n";
  for (int i = 0; i < 39; ++i)
    doubling += std::to_string(261 + i) + " " + std::to_string(261 + i) + "\n";
  expect_bad(doubling, ":8: merge of ids 266 and 266 makes a 128-byte token");
}

}  // namespace
}  // namespace fedra
