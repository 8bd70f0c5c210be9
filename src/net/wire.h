// Private to the net layer: conversion between library types and fedra.v1 messages, and the
// chunked payload format (tensor specs in a header, then the tensors' raw little-endian
// bytes in bounded chunks). Everything received is untrusted: readers check every spec and
// byte count before allocating or copying.
#ifndef FEDRA_SRC_NET_WIRE_H_
#define FEDRA_SRC_NET_WIRE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/support/status.h>
#include "fedra/core/status.h"
#include "fedra/fl/fold_spec.h"
#include "fedra/fl/types.h"
#include "fedra/ml/parameters.h"
#include "fedra/privacy/paillier/packing.h"
#include "net/spare_buffer.h"

#include "fedra/v1/federation.pb.h"

namespace fedra::net {

using SpecList = google::protobuf::RepeatedPtrField<v1::TensorSpec>;

// One named set of tensors inside a payload (e.g. "global", "update", "extra/control_delta").
struct PayloadGroup {
  std::string name;
  const Parameters* params = nullptr;
};

// Appends the specs of `groups` (in order) to `specs` and returns the payload's byte count.
uint64_t DescribePayload(const std::vector<PayloadGroup>& groups, SpecList* specs);

// The payload of `groups` (in order; then `bytes`, if any) in consecutive chunks of
// `chunk_bytes` (the last may be shorter), one at a time, for senders that resume between
// chunks (the server's callback handlers). The groups and bytes must outlive the cursor.
class ChunkCursor {
 public:
  ChunkCursor(std::vector<PayloadGroup> groups, size_t chunk_bytes, std::string_view bytes = {})
      : groups_(std::move(groups)), bytes_(bytes), chunk_bytes_(chunk_bytes) {}
  // The next chunk into `chunk`; false when the payload is exhausted.
  bool Next(std::string* chunk);
  // Reads on from the same position in `groups`, a copy of the groups it was made with.
  void Rebind(std::vector<PayloadGroup> groups) { groups_ = std::move(groups); }

 private:
  std::vector<PayloadGroup> groups_;
  std::string_view bytes_;
  size_t chunk_bytes_;
  size_t group_ = 0;     // groups_.size(): in bytes_; beyond: done
  uint64_t offset_ = 0;  // within the current group (or bytes_)
};

// Calls `write(bytes)` for consecutive slices of at most `chunk_bytes` covering the payload;
// stops early and returns false when `write` does.
bool ForEachChunk(const std::vector<PayloadGroup>& groups, size_t chunk_bytes,
                  const std::function<bool(std::string_view)>& write);

// Reassembles a payload from its specs and chunks.
class PayloadReader {
 public:
  // Accepts any layout the specs describe, up to `max_bytes` in total (client side: the
  // server's model is whatever it is). InvalidArgument if a spec is malformed (empty or
  // duplicate name within a group, negative dimension, dtype other than F32, element count
  // overflow) or the total disagrees with `payload_bytes` or exceeds `max_bytes`.
  static StatusOr<PayloadReader> FromSpecs(const SpecList& specs, uint64_t payload_bytes,
                                           uint64_t max_bytes);
  // Server side: every group must have exactly `layout`'s names and shapes, the group
  // names must satisfy `group_allowed`, `required_group` must be present, and there may be at
  // most `max_groups` groups: the budget is `max_groups` models, checked before anything is
  // allocated.
  static StatusOr<PayloadReader> WithLayout(
      const SpecList& specs, uint64_t payload_bytes, const std::vector<TensorInfo>& layout,
      const std::function<bool(const std::string&)>& group_allowed,
      const std::string& required_group, size_t max_groups);

  // Copies the next bytes in. InvalidArgument if they run past the declared payload. A group's
  // tensors are allocated when its first byte arrives, so a sender that declares much and sends
  // little makes the reader hold little.
  Status Append(std::string_view bytes);
  // InvalidArgument if fewer bytes than declared have arrived.
  Status Finish() const;
  uint64_t received() const { return received_; }
  uint64_t expected() const { return expected_; }
  uint64_t allocated_bytes() const { return allocated_; }
  // REQUIRES: Finish() is OK.
  std::map<std::string, Parameters> TakeGroups();
  // A group whose layout matches the spare's is read into its memory instead of fresh memory
  // (every byte is overwritten before Finish() passes). `spare` must outlive the reader.
  void set_spare(SpareBuffer* spare) { spare_ = spare; }

 private:
  struct Group {
    std::string name;
    std::vector<std::pair<std::string, Shape>> tensors;
    uint64_t bytes = 0;
    Parameters* params = nullptr;  // in groups_, once allocated
  };
  PayloadReader() = default;
  Parameters& Allocate(Group& g);
  std::map<std::string, Parameters> groups_;
  std::vector<Group> order_;  // groups in payload order
  SpareBuffer* spare_ = nullptr;
  uint64_t expected_ = 0, received_ = 0, allocated_ = 0;
  size_t group_ = 0;        // group being filled
  uint64_t group_off_ = 0;  // bytes of it filled
};

// Opaque payloads (secure rounds' protocol messages): calls `write(bytes)` for consecutive
// slices of at most `chunk_bytes`; stops early and returns false when `write` does.
bool ForEachChunk(std::string_view bytes, size_t chunk_bytes,
                  const std::function<bool(std::string_view)>& write);
// Views of a protocol message as the byte spans the privacy modules take, and back.
std::span<const uint8_t> AsBytes(std::string_view bytes);
std::string BytesToString(std::span<const uint8_t> bytes);

// The Paillier packing a secure round announces (SecureFitInstructions' paillier_* fields).
void ToProto(const paillier::PackingConfig& packing, v1::SecureFitInstructions* out);
paillier::PackingConfig PackingFromProto(const v1::SecureFitInstructions& in);

void ToProto(const FitConfig& config, v1::FitInstructions* out);
// InvalidArgument if a value is out of range (epochs < 1, batch size < 1, negative or
// non-finite rates, momentum outside [0, 1), ...).
StatusOr<FitConfig> FromProto(const v1::FitInstructions& in);

// A strategy's fold as data; FromProto validates it (FoldSpec::Validate).
void ToProto(const FoldSpec& spec, v1::FoldSpec* out);
StatusOr<FoldSpec> FromProto(const v1::FoldSpec& in);

// Open round configs and metric maps, validated on the way in (fedra/fl/round_config.h).
void ToProto(const RoundConfig& config, google::protobuf::Map<std::string, v1::ConfigValue>* out);
StatusOr<RoundConfig> FromProto(const google::protobuf::Map<std::string, v1::ConfigValue>& in);
StatusOr<MetricMap> MetricsFromProto(const google::protobuf::Map<std::string, double>& in);

// The gRPC status carrying `status`'s code (as the nearest gRPC code) and message.
grpc::Status ToGrpc(const Status& status);
// The fedra Status for a failed call (UNAVAILABLE and DEADLINE_EXCEEDED map to kUnavailable,
// UNAUTHENTICATED and PERMISSION_DENIED to kFailedPrecondition), message prefixed by `what`.
Status FromGrpc(const grpc::Status& status, std::string_view what);

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_WIRE_H_
