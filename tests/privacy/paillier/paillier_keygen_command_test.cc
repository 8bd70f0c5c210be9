// `fedra-keygen paillier` (src/apps/keygen_paillier.h): the files it writes, their modes, and
// its refusals, driven through CLI11 as the program parses its flags.
#include "apps/keygen_paillier.h"

#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "fedra/privacy/paillier/key_json.h"
#include "testing/temp_dir.h"

namespace fedra::apps {
namespace {

using ::testing::HasSubstr;

TEST(PaillierKeygenCommandTest, WritesReadableKeyPairWithSecretMode0600) {
  fedra::testing::TempDir dir;
  const std::string pub = dir.File("p.pub.json");
  const std::string sec = dir.File("p.key.json");
  CLI::App app;
  AddPaillierCommand(app);
  app.parse("paillier --public-out " + pub + " --secret-out " + sec, false);
  struct stat st;
  ASSERT_EQ(::stat(sec.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  StatusOr<paillier::PublicKey> pk = paillier::ReadPublicKeyFile(pub);
  StatusOr<paillier::SecretKey> sk = paillier::ReadSecretKeyFile(sec);
  ASSERT_TRUE(pk.ok()) << pk.status().ToString();
  ASSERT_TRUE(sk.ok()) << sk.status().ToString();
  EXPECT_EQ(pk->modulus_bits(), 2048);
  EXPECT_EQ(pk->key_id(), sk->key_id());
}

TEST(PaillierKeygenCommandTest, RefusesToOverwriteAndBadOptions) {
  fedra::testing::TempDir dir;
  const std::string existing = dir.Write("taken.json", "{}");
  StatusOr<std::string> r =
      WritePaillierKeyFiles({.public_out = existing, .secret_out = dir.File("k.json")});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("--force"));
  EXPECT_EQ(WritePaillierKeyFiles({.bits = 1024}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WritePaillierKeyFiles({.public_out = "a", .secret_out = "a"}).status().code(),
            StatusCode::kInvalidArgument);
  CLI::App app;
  AddPaillierCommand(app);
  EXPECT_THROW(app.parse("paillier --bits 1024", false), CLI::ValidationError);
}

}  // namespace
}  // namespace fedra::apps
