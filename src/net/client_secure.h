// Private to the net layer: a client's side of secure rounds (see net/secure_rounds.h for the
// server's). After training, the client folds its own result into the strategy's sums and
// flattens them; with Paillier it uploads their ciphertexts under its own copy of the public
// key, with secure aggregation it keeps them for the STAGE tasks that follow. It answers
// Paillier's decryption stage with its secret key, refusing a total of fewer than two
// updates.
#ifndef FEDRA_SRC_NET_CLIENT_SECURE_H_
#define FEDRA_SRC_NET_CLIENT_SECURE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"
#include "fedra/net/client.h"
#include "fedra/v1/federation.pb.h"

namespace fedra::net {

class SecureParticipant {
 public:
  explicit SecureParticipant(const ClientOptions& options);
  ~SecureParticipant();

  struct FitUpload {
    std::vector<std::string> sum_names, scalar_names;
    std::string payload;  // Paillier ciphertexts; empty for secure aggregation
  };
  StatusOr<FitUpload> PrepareFit(const v1::SecureFitInstructions& in, const FitResult& result,
                                 const FitConfig& config, uint32_t round);
  // The answer to a STAGE task of `round`.
  StatusOr<std::string> Stage(const v1::StageInstructions& in, uint32_t round,
                              const std::string& message);

 private:
  struct SecAggState;
  StatusOr<std::string> SecAggStage(uint32_t stage, uint32_t round, const std::string& message);
  StatusOr<std::string> Decrypt(const std::string& message);
  Status LoadSecretKey();

  const ClientOptions& o_;
  uint32_t round_ = 0;
  std::vector<float> flat_;  // this round's folded sums, flattened (scalars last)
  size_t num_scalars_ = 0;
  std::unique_ptr<SecAggState> secagg_;
  struct KeyHolder;
  std::unique_ptr<KeyHolder> key_;
};

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_CLIENT_SECURE_H_
