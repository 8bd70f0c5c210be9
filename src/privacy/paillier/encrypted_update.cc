#include "fedra/privacy/paillier/encrypted_update.h"

#include <cstring>
#include <utility>

#include "privacy/paillier/key_impl.h"

namespace fedra::paillier {
namespace {

constexpr char kMagic[4] = {'F', 'P', 'A', 'U'};
constexpr uint32_t kVersion = 1;
// magic, version, key id, fingerprint, contributions, values, ciphertext width, count
constexpr size_t kHeaderBytes = 4 + 4 + 16 + 8 + 4 + 8 + 4 + 8;

template <typename T>
void PutLe(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

template <typename T>
T GetLe(std::string_view bytes, size_t& pos) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<T>(static_cast<uint8_t>(bytes[pos + i])) << (8 * i);
  }
  pos += sizeof(T);
  return v;
}

// Packs per `config` and encrypts with `encrypt_batch` (public or CRT: same output format).
template <typename EncryptBatchFn>
StatusOr<EncryptedUpdate> EncryptUpdateWith(const PublicKey& key, std::span<const float> update,
                                            uint32_t weight, const PackingConfig& config,
                                            const EncryptBatchFn& encrypt_batch) {
  FEDRA_ASSIGN_OR_RETURN(const Packer packer, Packer::Create(config, key.modulus_bits()));
  FEDRA_ASSIGN_OR_RETURN(std::vector<BigBytes> plaintexts,
                         packer.Pack(update, weight, key.modulus_bytes()));
  EncryptedUpdate out;
  out.key_id = key.key_id();
  out.packing_fingerprint = packer.fingerprint();
  out.num_contributions = 1;
  out.num_values = update.size();
  FEDRA_ASSIGN_OR_RETURN(out.ciphertexts, encrypt_batch(std::span<const BigBytes>(plaintexts)));
  return out;
}

}  // namespace

StatusOr<EncryptedUpdate> EncryptUpdate(const PublicKey& key, std::span<const float> update,
                                        uint32_t weight, const PackingConfig& config,
                                        ThreadPool* pool) {
  return EncryptUpdateWith(key, update, weight, config, [&](std::span<const BigBytes> plain) {
    return key.EncryptBatch(plain, pool);
  });
}

StatusOr<EncryptedUpdate> EncryptUpdate(const SecretKey& key, std::span<const float> update,
                                        uint32_t weight, const PackingConfig& config,
                                        ThreadPool* pool) {
  return EncryptUpdateWith(
      key.public_key(), update, weight, config,
      [&](std::span<const BigBytes> plain) { return key.EncryptBatch(plain, pool); });
}

std::string SerializeEncryptedUpdate(const EncryptedUpdate& update) {
  const size_t width = update.ciphertexts.empty() ? 0 : update.ciphertexts[0].bytes.size();
  std::string out(kMagic, sizeof(kMagic));
  out.reserve(kHeaderBytes + width * update.ciphertexts.size());
  PutLe<uint32_t>(out, kVersion);
  out.append(reinterpret_cast<const char*>(update.key_id.data()), update.key_id.size());
  PutLe<uint64_t>(out, update.packing_fingerprint);
  PutLe<uint32_t>(out, update.num_contributions);
  PutLe<uint64_t>(out, update.num_values);
  PutLe<uint32_t>(out, static_cast<uint32_t>(width));
  PutLe<uint64_t>(out, update.ciphertexts.size());
  for (const Ciphertext& c : update.ciphertexts) {
    FEDRA_CHECK(c.bytes.size() == width);
    out.append(reinterpret_cast<const char*>(c.bytes.data()), c.bytes.size());
  }
  return out;
}

StatusOr<EncryptedUpdate> ParseEncryptedUpdate(const PublicKey& key, std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) {
    return DataLossError("encrypted update of " + std::to_string(bytes.size()) +
                         " bytes is truncated (header alone is " + std::to_string(kHeaderBytes) +
                         ")");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return DataLossError("not an encrypted Paillier update (bad magic; expected \"FPAU\")");
  }
  size_t pos = 4;
  const uint32_t version = GetLe<uint32_t>(bytes, pos);
  if (version != kVersion) {
    return DataLossError("encrypted update version " + std::to_string(version) +
                         " is not supported (expected " + std::to_string(kVersion) + ")");
  }
  EncryptedUpdate u;
  std::memcpy(u.key_id.data(), bytes.data() + pos, u.key_id.size());
  pos += u.key_id.size();
  if (u.key_id != key.key_id()) {
    return FailedPreconditionError("encrypted update is under Paillier key " + KeyIdHex(u.key_id) +
                                   ", expected key " + KeyIdHex(key.key_id()));
  }
  u.packing_fingerprint = GetLe<uint64_t>(bytes, pos);
  u.num_contributions = GetLe<uint32_t>(bytes, pos);
  u.num_values = GetLe<uint64_t>(bytes, pos);
  const uint32_t width = GetLe<uint32_t>(bytes, pos);
  const uint64_t count = GetLe<uint64_t>(bytes, pos);
  if (u.num_contributions == 0) {
    return DataLossError("encrypted update claims 0 contributions (expected >= 1)");
  }
  if (width != key.ciphertext_bytes()) {
    return DataLossError("encrypted update has " + std::to_string(width) +
                         "-byte ciphertexts (expected " + std::to_string(key.ciphertext_bytes()) +
                         ")");
  }
  const size_t body = bytes.size() - kHeaderBytes;
  if (count > body / width || count * width != body) {
    return DataLossError("encrypted update body of " + std::to_string(body) +
                         " bytes does not hold " + std::to_string(count) + " ciphertexts of " +
                         std::to_string(width) + " bytes (truncated or padded)");
  }
  // Every slot has at least one bit, so no packing fits more values than this.
  if (u.num_values / static_cast<uint64_t>(key.modulus_bits()) >= count) {
    return DataLossError("encrypted update claims " + std::to_string(u.num_values) +
                         " values in only " + std::to_string(count) + " ciphertexts");
  }
  u.ciphertexts.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + pos);
    u.ciphertexts[i].bytes.assign(p, p + width);
    pos += width;
    Status s = key.Validate(u.ciphertexts[i]);
    if (!s.ok()) return s.WithContext("ciphertext " + std::to_string(i));
  }
  return u;
}

std::vector<double> DecryptedAggregate::WeightedMean() const {
  std::vector<double> mean(weighted_sum.size());
  const double w = static_cast<double>(total_weight);
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = weighted_sum[i] / w;
  return mean;
}

namespace {

// The checks both sides of a decryption make before touching a ciphertext.
StatusOr<Packer> PackerFor(const PublicKey& key, const EncryptedUpdate& sum,
                           const PackingConfig& config) {
  if (sum.key_id != key.key_id()) {
    return FailedPreconditionError("aggregate is under Paillier key " + KeyIdHex(sum.key_id) +
                                   ", but the key is " + KeyIdHex(key.key_id()));
  }
  FEDRA_ASSIGN_OR_RETURN(Packer packer, Packer::Create(config, key.modulus_bits()));
  if (sum.packing_fingerprint != packer.fingerprint()) {
    return FailedPreconditionError(
        "aggregate was packed with another packing configuration than the one given");
  }
  return packer;
}

StatusOr<DecryptedAggregate> Unpacked(const Packer& packer, const EncryptedUpdate& sum,
                                      std::span<const BigBytes> plain) {
  FEDRA_ASSIGN_OR_RETURN(UnpackedSum unpacked,
                         packer.Unpack(plain, sum.num_values, sum.num_contributions));
  DecryptedAggregate out;
  out.weighted_sum = std::move(unpacked.weighted_sum);
  out.total_weight = unpacked.total_weight;
  out.num_contributions = unpacked.num_contributions;
  out.sum_error_bound = packer.SumErrorBound(unpacked.num_contributions);
  return out;
}

}  // namespace

StatusOr<DecryptedAggregate> DecryptAggregate(const SecretKey& key, const EncryptedUpdate& sum,
                                              const PackingConfig& config, ThreadPool* pool) {
  FEDRA_ASSIGN_OR_RETURN(const Packer packer, PackerFor(key.public_key(), sum, config));
  FEDRA_ASSIGN_OR_RETURN(std::vector<BigBytes> plain, key.DecryptBatch(sum.ciphertexts, pool));
  return Unpacked(packer, sum, plain);
}

StatusOr<std::vector<Opening>> OpenAggregate(const SecretKey& key, const EncryptedUpdate& sum,
                                             const PackingConfig& config, ThreadPool* pool) {
  FEDRA_RETURN_IF_ERROR(PackerFor(key.public_key(), sum, config).status());
  return OpenBatch(key, sum.ciphertexts, pool);
}

StatusOr<DecryptedAggregate> VerifyAndUnpackAggregate(const PublicKey& key,
                                                      const EncryptedUpdate& sum,
                                                      const PackingConfig& config,
                                                      std::span<const Opening> openings,
                                                      ThreadPool* pool) {
  FEDRA_ASSIGN_OR_RETURN(const Packer packer, PackerFor(key, sum, config));
  FEDRA_RETURN_IF_ERROR(VerifyOpenings(key, sum.ciphertexts, openings, pool));
  std::vector<BigBytes> plain(openings.size());
  for (size_t i = 0; i < openings.size(); ++i) plain[i] = openings[i].m;
  return Unpacked(packer, sum, plain);
}

}  // namespace fedra::paillier
