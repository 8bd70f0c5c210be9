#include "net/raw_client.h"

#include <chrono>

#include "net/wire.h"

namespace fedra::testing {

RawClient::RawClient(int port, std::string token) : token_(std::move(token)) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);  // so tests can try oversized messages
  args.SetMaxReceiveMessageSize(64 << 20);
  stub_ = v1::Federation::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
}

std::unique_ptr<grpc::ClientContext> RawClient::Context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

grpc::Status RawClient::Register(const std::string& name,
                                 const std::vector<std::string>& features) {
  v1::RegisterRequest req;
  req.set_client_name(name);
  req.set_protocol_version(1);
  for (const std::string& f : features) req.add_features(f);
  v1::RegisterResponse resp;
  auto ctx = Context();
  grpc::Status s = stub_->Register(ctx.get(), req, &resp);
  if (s.ok()) session_ = resp.session_id();
  return s;
}

grpc::Status RawClient::Poll(v1::TaskHeader* header, std::map<std::string, Parameters>* groups) {
  v1::GetTaskRequest req;
  req.set_session_id(session_);
  auto ctx = Context();
  auto reader = stub_->GetTask(ctx.get(), req);
  v1::TaskChunk chunk;
  groups->clear();
  largest_chunk_ = 0;
  if (!reader->Read(&chunk)) return reader->Finish();
  *header = chunk.header();
  opaque_.clear();
  if (header->kind() == v1::STAGE) {  // the payload is the stage's message
    while (reader->Read(&chunk)) opaque_ += chunk.data();
    return reader->Finish();
  }
  auto payload =
      net::PayloadReader::FromSpecs(header->tensors(), header->payload_bytes(), uint64_t{1} << 33);
  if (!payload.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, payload.status().ToString());
  while (reader->Read(&chunk)) {
    largest_chunk_ = std::max(largest_chunk_, chunk.data().size());
    if (!payload->Append(chunk.data()).ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "payload overrun");
    }
  }
  grpc::Status s = reader->Finish();
  if (s.ok() && !payload->Finish().ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "short");
  *groups = payload->TakeGroups();
  return s;
}

grpc::Status RawClient::NextTask(v1::TaskHeader* header, std::map<std::string, Parameters>* groups,
                                 int max_polls) {
  for (int i = 0; i < max_polls; ++i) {
    grpc::Status s = Poll(header, groups);
    if (!s.ok()) return s;
    if (header->kind() != v1::WAIT) return s;
  }
  return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no task");
}

grpc::Status RawClient::Heartbeat() {
  v1::HeartbeatRequest req;
  req.set_session_id(session_);
  v1::HeartbeatResponse resp;
  auto ctx = Context();
  return stub_->Heartbeat(ctx.get(), req, &resp);
}

grpc::Status RawClient::Submit(const v1::ResultHeader& header,
                               const std::vector<std::string>& chunks) {
  v1::SubmitResultResponse resp;
  auto ctx = Context();
  auto writer = stub_->SubmitResult(ctx.get(), &resp);
  v1::ResultChunk chunk;
  *chunk.mutable_header() = header;
  bool ok = writer->Write(chunk);
  for (const std::string& c : chunks) {
    if (!ok) break;
    v1::ResultChunk data;
    data.set_data(c);
    ok = writer->Write(data);
  }
  writer->WritesDone();
  return writer->Finish();
}

std::unique_ptr<RawClient::OpenUpload> RawClient::StartSubmit(const v1::ResultHeader& header,
                                                              const std::string& first_chunk) {
  auto up = std::make_unique<OpenUpload>();
  up->ctx = Context();
  up->writer = stub_->SubmitResult(up->ctx.get(), &up->response);
  v1::ResultChunk chunk;
  *chunk.mutable_header() = header;
  up->writer->Write(chunk);
  v1::ResultChunk data;
  data.set_data(first_chunk);
  up->writer->Write(data);
  return up;
}

v1::ResultHeader RawClient::HeaderFor(const v1::TaskHeader& task) const {
  v1::ResultHeader h;
  h.set_session_id(session_);
  h.set_run_id(task.run_id());
  h.set_round(task.round());
  h.set_task_id(task.task_id());
  return h;
}

v1::ResultHeader RawClient::SecureFitHeader(const v1::TaskHeader& task) const {
  v1::ResultHeader h = HeaderFor(task);
  h.mutable_fit()->set_num_examples(1);
  *h.mutable_fit()->mutable_sum_names() = task.fit().secure().sum_names();
  *h.mutable_fit()->mutable_scalar_names() = task.fit().secure().scalar_names();
  return h;
}

v1::ResultHeader RawClient::FitHeader(const v1::TaskHeader& task, const Parameters& update,
                                      uint64_t num_examples) const {
  v1::ResultHeader h = HeaderFor(task);
  h.mutable_fit()->set_num_examples(num_examples);
  h.mutable_fit()->set_train_loss(0.5);
  h.set_payload_bytes(net::DescribePayload({{"update", &update}}, h.mutable_tensors()));
  return h;
}

std::string RawClient::Bytes(const Parameters& p) {
  return std::string(reinterpret_cast<const char*>(p.data()), p.num_bytes());
}

}  // namespace fedra::testing
