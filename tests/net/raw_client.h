// A hand-driven fedra.v1 client for tests: speaks the protocol message by message so tests
// can send what a well-behaved fedra::Client never would.
#ifndef FEDRA_TESTS_NET_RAW_CLIENT_H_
#define FEDRA_TESTS_NET_RAW_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "fedra/ml/parameters.h"
#include "fedra/v1/federation.grpc.pb.h"

namespace fedra::testing {

class RawClient {
 public:
  explicit RawClient(int port, std::string token = "");

  // Registers listing no client feature (as a client from before features) or `features`.
  grpc::Status Register(const std::string& name, const std::vector<std::string>& features = {});
  // One long poll: the header (kind WAIT, FINISHED, FIT, ...) and the payload's groups; a
  // STAGE task's message (opaque bytes) goes to opaque().
  grpc::Status Poll(v1::TaskHeader* header, std::map<std::string, Parameters>* groups);
  // Polls until a FIT/EVALUATE task arrives (fails the test after `max_polls`).
  grpc::Status NextTask(v1::TaskHeader* header, std::map<std::string, Parameters>* groups,
                        int max_polls = 50);
  grpc::Status Heartbeat();
  // Sends `header` and then `chunks` as data messages, verbatim.
  grpc::Status Submit(const v1::ResultHeader& header, const std::vector<std::string>& chunks);
  // An upload left open after `header` and `first_chunk`, so a test can stall it.
  struct OpenUpload {
    std::unique_ptr<grpc::ClientContext> ctx;
    v1::SubmitResultResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::ResultChunk>> writer;
  };
  std::unique_ptr<OpenUpload> StartSubmit(const v1::ResultHeader& header,
                                          const std::string& first_chunk);
  // The header of an answer to `task` from this session (no report, no payload yet).
  v1::ResultHeader HeaderFor(const v1::TaskHeader& task) const;
  // A secure FIT answer to `task` reporting one example and the sums and scalars the task
  // announced (SecureFitInstructions.sum_names / scalar_names), with no payload.
  v1::ResultHeader SecureFitHeader(const v1::TaskHeader& task) const;
  // A well-formed fit result for `task`: `update` in one group "update".
  v1::ResultHeader FitHeader(const v1::TaskHeader& task, const Parameters& update,
                             uint64_t num_examples) const;
  static std::string Bytes(const Parameters& p);

  const std::string& session() const { return session_; }
  const std::string& opaque() const { return opaque_; }
  // The largest data chunk of the last poll's payload.
  size_t largest_chunk() const { return largest_chunk_; }
  void set_session(std::string s) { session_ = std::move(s); }

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;
  std::unique_ptr<v1::Federation::Stub> stub_;
  std::string token_;
  std::string session_;
  std::string opaque_;
  size_t largest_chunk_ = 0;
};

}  // namespace fedra::testing

#endif  // FEDRA_TESTS_NET_RAW_CLIENT_H_
