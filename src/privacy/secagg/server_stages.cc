#include "fedra/privacy/secagg/server_stages.h"

#include <optional>
#include <string>
#include <utility>

namespace fedra::secagg {
namespace {

// fn() run inside peers.ServerStep, so an implementation that times server work sees it.
template <typename Fn>
auto Step(SecAggPeers& peers, int stage, Fn fn) -> decltype(fn()) {
  std::optional<decltype(fn())> out;
  peers.ServerStep(stage, [&] { out.emplace(fn()); });
  FEDRA_CHECK_MSG(out.has_value(), "SecAggPeers::ServerStep did not run the server's step");
  return std::move(*out);
}

}  // namespace

StatusOr<SecAggOutcome> RunServerStages(SecAggServer& server, const Quantizer& quantizer,
                                        SecAggPeers& peers, size_t max_dropped, ThreadPool* pool) {
  peers.Advertise([&](const AdvertiseKeys& m) { return server.ReceiveKeys(m); });
  FEDRA_ASSIGN_OR_RETURN(auto directories,
                         Step(peers, 0, [&] { return server.FinishAdvertise(); }));

  peers.Share(std::move(directories), [&](const ShareKeys& m) { return server.ReceiveShares(m); });
  FEDRA_ASSIGN_OR_RETURN(auto relayed, Step(peers, 1, [&] { return server.FinishShareKeys(); }));

  peers.Mask(std::move(relayed),
             [&](const MaskedInput& m) { return server.ReceiveMaskedInput(m); });
  FEDRA_ASSIGN_OR_RETURN(auto requests, Step(peers, 2, [&] { return server.FinishMaskedInput(); }));
  // Unmasking reveals the sum: a round that would reject it for its dropouts must not reveal
  // it at all.
  const size_t dropped = server.config().num_clients - server.survivors().size();
  if (dropped > max_dropped) {
    return UnavailableError(std::to_string(dropped) + " clients dropped out, more than the " +
                            std::to_string(max_dropped) + " tolerated; the sum is not unmasked");
  }

  peers.Unmask(std::move(requests),
               [&](const UnmaskResponse& m) { return server.ReceiveUnmask(m); });
  FEDRA_ASSIGN_OR_RETURN(auto raw, Step(peers, 3, [&] { return server.FinishUnmask(pool); }));

  SecAggOutcome out;
  out.sum.resize(raw.size());
  FEDRA_RETURN_IF_ERROR(
      quantizer.Dequantize(raw, static_cast<uint32_t>(server.survivors().size()), out.sum));
  out.raw_sum = std::move(raw);
  return out;
}

}  // namespace fedra::secagg
