// Writes the fuzzers' seed corpora, made by the same serialisers the tests use:
//   make_seeds OUT_DIR  ->  OUT_DIR/<target>/seed-N for every fuzz target.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "fedra/fl/checkpoint.h"
#include "fedra/ml/safetensors.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/key_json.h"
#include "fedra/privacy/paillier/phe_number.h"
#include "fedra/privacy/secagg/messages.h"
#include "fedra/v1/federation.pb.h"
#include "fuzz/fuzz_util.h"
#include "net/wire.h"

namespace {

std::string out_dir;

void Check(const fedra::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "make_seeds: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

void Seed(const std::string& target, const std::string& bytes) {
  static std::map<std::string, int> counts;
  const std::string dir = out_dir + "/" + target;
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/seed-" + std::to_string(counts[target]++), std::ios::binary) << bytes;
}

std::string Read(const std::string& path) {
  fedra::StatusOr<std::string> bytes = fedra::internal::ReadFile(path);
  Check(bytes.status());
  return *std::move(bytes);
}

std::string Split2(const std::string& a, const std::string& b) {
  std::string out;
  out += static_cast<char>(a.size() >> 8);
  out += static_cast<char>(a.size() & 0xff);
  return out + a + b;
}

std::string Bytes(const std::vector<uint8_t>& v) { return {v.begin(), v.end()}; }

fedra::Parameters Model() {
  fedra::Parameters p;
  p.Add("dense/w", {3, 4});
  p.Add("dense/b", {4});
  for (size_t i = 0; i < p.size(); ++i) p.data()[i] = 0.25f * static_cast<float>(i);
  return p;
}

void PayloadSeeds() {
  const fedra::Parameters p = Model();
  fedra::v1::ResultHeader h;
  h.set_session_id("s");
  h.mutable_fit()->set_num_examples(10);
  h.set_payload_bytes(
      fedra::net::DescribePayload({{"update", &p}, {"control_delta", &p}}, h.mutable_tensors()));
  const std::string data(reinterpret_cast<const char*>(p.data()), p.num_bytes());
  Seed("payload_reader", Split2(h.SerializeAsString(), data + data) + "\x07");
}

void ProtoSeeds() {
  fedra::v1::RegisterRequest r;
  r.set_client_name("client-1");
  r.set_protocol_version(1);
  Seed("proto_messages", std::string(1, '\0') + r.SerializeAsString());
  fedra::v1::ResultChunk c;
  c.mutable_header()->set_task_id(7);
  c.mutable_header()->mutable_fit()->set_num_examples(100);
  Seed("proto_messages", std::string(1, '\3') + c.SerializeAsString());
  fedra::v1::TaskChunk t;
  fedra::net::ToProto(fedra::FitConfig{.epochs = 2, .clip_norm = 1},
                      t.mutable_header()->mutable_fit());
  fedra::net::ToProto(fedra::paillier::PackingConfig{},
                      t.mutable_header()->mutable_fit()->mutable_secure());
  Seed("proto_messages", std::string(1, '\4') + t.SerializeAsString());
}

void FileSeeds() {
  const std::string tmp = out_dir + "/tmp";
  mkdir(tmp.c_str(), 0700);
  Check(fedra::SaveSafetensors(tmp + "/m.safetensors", Model(), {{"model", "mlp"}}));
  Seed("safetensors", Read(tmp + "/m.safetensors"));
  fedra::RoundMetrics m{.round = 1, .aggregated = true, .fit_clients = 2};
  m.extras["dp_epsilon"] = 0.5;
  fedra::Checkpoint c{.round = 1,
                      .seed = 3,
                      .run_id = "r",
                      .fingerprint = "f",
                      .global = Model(),
                      .strategy = {.vectors = {{"momentum", {1, 2}}}, .scalars = {{"t", 3}}},
                      .history = {m}};
  Check(fedra::SaveCheckpoint(tmp, c));
  Seed("checkpoint", Read(fedra::CheckpointPath(tmp)));
  // IDX: two 2x2 images and their labels (11 classes: the mode byte 10).
  const std::string images(
      "\0\0\x08\x03\0\0\0\x02\0\0\0\x02\0\0\0\x02\x01\x02\x03\x04\x05\x06\x07\x08", 24);
  const std::string labels("\0\0\x08\x01\0\0\0\x02\x01\x09", 10);
  Seed("datasets", Split2(images, labels) + "\x0a");
  Seed("datasets", "1.5,2,0\n3,4e-3,4\n\x01");
  Seed("datasets", "a;b;y\n1,2,0.5\n\x0b");
  // Text: a multipart message (mode byte even) and a tokenizer file (odd).
  Seed("text",
       "Subject: =?utf-8?Q?caf=C3=A9?=\nContent-Type: multipart/alternative; boundary=b\n\n--b\n"
       "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nhi=3D=\nthere\n"
       "--b\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGI+aGk8L2I+Jmx0Ow==\n"
       "--b--\n\x04");
  Seed("text", "fedra-bpe 1 2\n5 6\n261 7\n\x01");
  Seed("config",
       R"({"rounds": 3, "lr": 0.1, "insecure": true, "name": "a", "input-shape": [1, 28, 28]})");
  Seed("config",
       "rounds = 3\nlr = 0.1\ninsecure = true\nname = \"a\"\ninput-shape = [1, 28, 28]\n");
}

void PaillierSeeds() {
  namespace pai = fedra::paillier;
  const pai::PublicKey key = pai::PublicKeyFromJwk(fedra::fuzz::kPublicKeyJwk).value();
  Seed("paillier_json", std::string(1, '\0') + std::string(fedra::fuzz::kPublicKeyJwk));
  auto small = pai::GenerateKeyPair({.modulus_bits = 512, .allow_small_for_testing = true});
  Check(small.status());
  Seed("paillier_json", std::string(1, '\1') + pai::PublicKeyToJwk(small->public_key()));
  Seed("paillier_json", std::string(1, '\2') + pai::SecretKeyToJwk(*small));
  auto number = pai::EncryptPheNumber(key, -1.5e3);
  Check(number.status());
  Seed("paillier_json", std::string(1, '\3') + pai::PheEncryptedNumberToJson(*number));
  const std::vector<float> update = {0.5f, -0.25f, 0.125f};
  auto encrypted = pai::EncryptUpdate(key, update, 3, {});
  Check(encrypted.status());
  Seed("paillier_json", std::string(1, '\4') + pai::SerializeEncryptedUpdate(*encrypted));
}

void SecAggSeeds() {
  namespace sa = fedra::secagg;
  sa::AdvertiseKeys a{.sender = 1};
  a.encryption_key[0] = 9;
  Seed("secagg_messages", "\x00" + Bytes(sa::Serialize(a)));
  Seed("secagg_messages",
       "\x01" + Bytes(sa::Serialize(sa::KeyDirectory{.recipient = 1, .keys = {a, a}})));
  const sa::SealedShare share{.peer = 2, .ciphertext = {1, 2, 3, 4}};
  Seed("secagg_messages",
       "\x02" + Bytes(sa::Serialize(sa::ShareKeys{.sender = 1, .shares = {share}})));
  Seed("secagg_messages",
       "\x03" + Bytes(sa::Serialize(sa::RelayedShares{.recipient = 2, .shares = {share, share}})));
  Seed("secagg_messages",
       "\x04" + Bytes(sa::Serialize(sa::MaskedInput{.sender = 1, .masked = {1, 2, 3}})));
  Seed("secagg_messages", "\x05" + Bytes(sa::Serialize(sa::UnmaskRequest{
                                       .recipient = 1, .survivors = {1, 2}, .dropped = {3}})));
  sa::UnmaskResponse r{.sender = 1};
  r.shares.push_back({.owner = 3, .kind = sa::ShareKind::kMaskKey});
  Seed("secagg_messages", "\x06" + Bytes(sa::Serialize(r)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  out_dir = argv[1];
  mkdir(out_dir.c_str(), 0755);
  PayloadSeeds();
  ProtoSeeds();
  FileSeeds();
  PaillierSeeds();
  SecAggSeeds();
  return 0;
}
