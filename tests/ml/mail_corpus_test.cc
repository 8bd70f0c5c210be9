// The SpamAssassin loader on hand-made messages in the package's layout
// (tests/data/spam_assassin: a folded subject, nested multipart with quoted-printable, base64
// HTML and an attachment, Latin-1 HTML, a file whose content does not match its name, a JSON
// copy to ignore), MailText on its own, and the hash split and group partition.
#include "fedra/ml/mail_corpus.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

namespace fedra {
namespace {

namespace fs = std::filesystem;
const std::string kData = std::string(FEDRA_TEST_DATA_DIR) + "/spam_assassin";

const MailMessage* Find(const MailCorpus& c, const std::string& group) {
  for (const auto& m : c.messages)
    if (m.group == group) return &m;
  return nullptr;
}

TEST(MailCorpusTest, LoadsTheFixtureMessagesWithLabelsAndText) {
  auto corpus = LoadSpamAssassin(kData);
  ASSERT_TRUE(corpus.ok()) << corpus.status().ToString();
  EXPECT_EQ(corpus->groups,
            (std::vector<std::string>{"easy-ham-1", "hard-ham-1", "spam-1", "spam-2"}));
  ASSERT_EQ(corpus->messages.size(), 4u);  // the tampered file is skipped, the JSON ignored
  EXPECT_EQ(corpus->skipped_checksum, 1u);
  EXPECT_EQ(corpus->skipped_oversized, 0u);

  const MailMessage* ham = Find(*corpus, "easy-ham-1");
  ASSERT_NE(ham, nullptr);
  EXPECT_EQ(ham->label, 0);
  EXPECT_EQ(ham->id, "00001.bef433659478446273b325a57ac25ba3");
  EXPECT_EQ(ham->text, "Lunch on Thursday?\nHi Bob, are we still on for lunch on Thursday? Alice");

  const MailMessage* spam = Find(*corpus, "spam-1");
  ASSERT_NE(spam, nullptr);
  EXPECT_EQ(spam->label, 1);
  // Q-encoded subject word, QP soft break and =3D, base64 HTML without style/script, entities;
  // the attachment and the MIME preamble are dropped.
  EXPECT_EQ(spam->text,
            "Best offer\nCheap meds = best price, click here now! Visit our store & save 50%");

  const MailMessage* hard = Find(*corpus, "hard-ham-1");
  ASSERT_NE(hard, nullptr);
  EXPECT_EQ(hard->label, 0);
  EXPECT_EQ(hard->text, "Weekly news\nCaf\xe9 newsletter <weekly> \xe2\x98\xba");  // bytes kept

  const MailMessage* bare = Find(*corpus, "spam-2");
  ASSERT_NE(bare, nullptr);
  EXPECT_EQ(bare->text, "\nWIN A PRIZE");
}

class MailCorpusFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("mail_corpus_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& bytes) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << bytes;
  }
  fs::path dir_;
};

TEST_F(MailCorpusFilesTest, BadLayoutsAreRefusedWithThePath) {
  EXPECT_EQ(LoadSpamAssassin((dir_ / "missing").string()).status().code(), StatusCode::kNotFound);
  auto empty = LoadSpamAssassin(dir_.string());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("no message found"), std::string::npos);

  Write("spam-1/readme.txt", "not a message");
  auto badname = LoadSpamAssassin(dir_.string());
  EXPECT_EQ(badname.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(badname.status().message().find("spam-1/readme.txt"), std::string::npos)
      << badname.status().ToString();
  fs::remove(dir_ / "spam-1/readme.txt");

  Write("misc/00001.0123456789abcdef0123456789abcdef.txt", "x");
  auto unlabeled = LoadSpamAssassin(dir_.string());
  EXPECT_EQ(unlabeled.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unlabeled.status().message().find("misc"), std::string::npos);
}

TEST_F(MailCorpusFilesTest, OversizedFilesAreSkippedAndCounted) {
  fs::copy(kData, dir_, fs::copy_options::recursive);
  auto corpus = LoadSpamAssassin(dir_.string(), {.max_file_bytes = 200});
  ASSERT_TRUE(corpus.ok()) << corpus.status().ToString();
  EXPECT_GT(corpus->skipped_oversized, 0u);
  EXPECT_EQ(corpus->messages.size() + corpus->skipped_oversized + corpus->skipped_checksum, 5u);
}

TEST(MailTextTest, EdgeCasesOfRealMailDoNotBreakIt) {
  // CRLF, no body, unterminated tag, base64 with junk, a boundary that never appears.
  EXPECT_EQ(MailText("Subject: hi\r\n", 100), "hi\n");
  EXPECT_EQ(MailText("Content-Type: text/html\nSubject: a\n\nx <b", 100), "a\nx");
  EXPECT_EQ(MailText("Subject: a\n\nx <b", 100), "a\nx <b");  // plain text keeps '<'
  EXPECT_EQ(MailText("Content-Transfer-Encoding: base64\n\naGVs\n*bG8=\n", 100), "\nhello");
  EXPECT_EQ(MailText("Content-Type: multipart/mixed; boundary=zz\n\nno parts here", 100), "\n");
  EXPECT_EQ(MailText("Content-Type: image/png\n\nPNG...", 100), "\n");
  EXPECT_EQ(MailText("Subject: =?utf-8?B?w6k=?= =?utf-8?Q?t=C3=A9?=\n\n", 100),
            "\xc3\xa9t\xc3\xa9\n");
  // Cut at max_text_bytes.
  EXPECT_EQ(MailText("Subject: s\n\n" + std::string(1000, 'a'), 10).size(), 10u);
  // Nesting deeper than followed is dropped, not recursed without end.
  std::string nested;
  for (int i = 0; i < 50; ++i)
    nested += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" +
              std::to_string(i) + "\n";
  nested += "\nburied";
  EXPECT_EQ(MailText(nested, 100), "\n");
}

TEST(MailCorpusSplitTest, AboutOneInFiveIsHeldOutByHashAndGroupsStayApart) {
  MailCorpus c;
  c.groups = {"easy-ham-1", "spam-1"};
  std::mt19937 gen(7);
  for (int i = 0; i < 4000; ++i) {
    MailMessage m;
    m.group = c.groups[i % 2];
    m.label = i % 2;
    for (auto& b : m.md5) b = static_cast<uint8_t>(gen());
    c.messages.push_back(m);
  }
  const MailSplit split = SplitByHash(c);
  EXPECT_EQ(split.train.size() + split.test.size(), c.messages.size());
  const double held = static_cast<double>(split.test.size()) / c.messages.size();
  EXPECT_NEAR(held, 52.0 / 256, 0.02);
  for (size_t i : split.test) EXPECT_TRUE(IsTestMessage(c.messages[i]));

  auto clients = PartitionByGroup(c, split.train, 3);
  ASSERT_TRUE(clients.ok());
  ASSERT_EQ(clients->size(), 6u);
  size_t total = 0;
  for (size_t k = 0; k < clients->size(); ++k) {
    EXPECT_GT((*clients)[k].size(), 100u);
    for (size_t i : (*clients)[k]) EXPECT_EQ(c.messages[i].group, c.groups[k / 3]);
    total += (*clients)[k].size();
  }
  EXPECT_EQ(total, split.train.size());
  EXPECT_FALSE(PartitionByGroup(c, split.train, 0).ok());
  const std::vector<size_t> outside = {c.messages.size()};
  EXPECT_FALSE(PartitionByGroup(c, outside, 1).ok());
}

}  // namespace
}  // namespace fedra
