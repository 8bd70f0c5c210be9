// GetTask on gRPC's callback API. A poll that finds its client's task answers at once; the
// others wait in Impl::waiting (memory, no thread) until a task for their client is queued,
// the run ends, the server stops, or poll_seconds pass (answered WAIT by one timer thread).
// Reactor operations are started only with mu released: gRPC may run a reaction inline.
#include <algorithm>
#include <utility>

#include "net/server_impl.h"
#include "net/wire.h"

namespace fedra {

struct Server::Impl::PollAnswer {
  TaskWriter* writer = nullptr;
  grpc::Status status;  // not OK: the call ends with it, nothing is written
  v1::TaskChunk header;
  std::shared_ptr<net::ModelLease> model;
  std::shared_ptr<const std::string> stage_message;
  ClientId client = 0;
  uint64_t task_id = 0;
  int round = 0;
};

// One GetTask call: the header, then the payload chunk by chunk as each write completes.
class Server::Impl::TaskWriter final : public grpc::ServerWriteReactor<v1::TaskChunk> {
 public:
  explicit TaskWriter(Impl& impl) : impl_(impl) {}

  void Send(PollAnswer answer) {
    if (!answer.status.ok()) {
      Finish(answer.status);
      return;
    }
    answer_ = std::move(answer);
    v1::TaskHeader* h = answer_.header.mutable_header();
    if (answer_.model) {
      h->set_payload_bytes(answer_.model->Describe(h->mutable_tensors()));
      counted_ = true;
      model_reader_ = answer_.model->NewReader(impl_.ChunkBytesForDownloads(++impl_.downloads));
    }
    std::string_view opaque;
    if (answer_.stage_message) {
      opaque = *answer_.stage_message;
      h->set_payload_bytes(opaque.size());
    }
    cursor_.emplace(std::vector<net::PayloadGroup>{}, impl_.o.chunk_bytes, opaque);
    StartWrite(&answer_.header);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      if (answer_.task_id != 0) impl_.DownloadBroke(answer_.client, answer_.task_id, answer_.round);
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "client went away during the download"));
      return;
    }
    const bool more = answer_.model ? answer_.model->Next(model_reader_, chunk_.mutable_data())
                                    : cursor_->Next(chunk_.mutable_data());
    if (more) {
      StartWrite(&chunk_);
    } else {
      answer_.model.reset();  // sent: no longer holds the round's model
      Uncount();
      Finish(grpc::Status::OK);
    }
  }

  // A cancelled poll that still waits leaves the list and ends here; one being answered ends
  // through its failed write.
  void OnCancel() override {
    if (impl_.ForgetPoll(this)) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
  }

  void OnDone() override {
    Uncount();
    delete this;
  }

 private:
  void Uncount() {
    if (std::exchange(counted_, false)) --impl_.downloads;
  }

  Impl& impl_;
  PollAnswer answer_;
  net::ModelLease::Reader model_reader_;    // the model's payload, when answer_.model
  std::optional<net::ChunkCursor> cursor_;  // else the stage message
  bool counted_ = false;                    // in impl_.downloads
  v1::TaskChunk chunk_;
};

namespace {

// The header of a task handed out; the payload (model or stage message) follows in chunks.
void DescribeTask(const net::Board& b, const net::Task& task, const ServerOptions& o,
                  v1::TaskHeader* h) {
  h->set_kind(b.kind);
  h->set_round(static_cast<uint32_t>(b.round));
  h->set_task_id(task.id);
  h->set_deadline_seconds(o.round_deadline_seconds);
  if (b.kind == v1::FIT) {
    net::ToProto(task.fit, h->mutable_fit());
    if (b.secure) *h->mutable_fit()->mutable_secure() = *b.secure;
  } else if (b.kind == v1::STAGE) {
    h->mutable_stage()->set_protocol(b.protocol);
    h->mutable_stage()->set_stage(b.stage);
    h->set_deadline_seconds(o.secure.stage_deadline_seconds);
  } else {
    h->mutable_evaluate()->set_batch_size(task.eval_batch);
    net::ToProto(task.eval_extra, h->mutable_evaluate()->mutable_config());
  }
}

}  // namespace

size_t Server::Impl::ChunkBytesForDownloads(size_t downloads_now) const {
  const size_t share = o.download_buffer_bytes / (2 * std::max<size_t>(downloads_now, 1));
  return std::clamp<size_t>(share, std::min<size_t>(o.chunk_bytes, 16 << 10), o.chunk_bytes);
}

// REQUIRES: mu held. What `record`'s poll hears now, if anything: stopping, the end of the
// run, or its queued task (now sent).
std::optional<Server::Impl::PollAnswer> Server::Impl::AnswerNowLocked(net::ClientRecord& record) {
  PollAnswer a;
  a.header.mutable_header()->set_run_id(o.run_id);
  if (stopping) {
    a.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
    return a;
  }
  if (finished) {
    a.header.mutable_header()->set_kind(v1::FINISHED);
    return a;
  }
  const net::Task* task = board.TakeQueued(record.id);
  if (!task) return std::nullopt;
  const net::Board& b = *board.board();
  a.task_id = task->id;
  a.round = b.round;
  DescribeTask(b, *task, o, a.header.mutable_header());
  if (b.kind == v1::STAGE) {
    a.stage_message = task->stage_message;
  } else {
    a.model = b.model;
  }
  return a;
}

void Server::Impl::AddWaitingLocked(TaskWriter* writer, net::ClientRecord* record,
                                    Clock::time_point until) {
  WaitingPoll& w = waiting[writer];
  w.record = record;
  w.until = until;
  w.by_time = waiting_by_time.emplace(until, writer);
  w.by_client = waiting_by_client.emplace(record->id, writer);
}

void Server::Impl::RemoveWaitingLocked(std::map<TaskWriter*, WaitingPoll>::iterator it) {
  registry.EndPoll(*it->second.record);
  waiting_by_time.erase(it->second.by_time);
  waiting_by_client.erase(it->second.by_client);
  waiting.erase(it);
}

std::vector<Server::Impl::PollAnswer> Server::Impl::AnswerPollsLocked(Clock::time_point now,
                                                                      Wake scope, ClientId client) {
  // The polls worth looking at: all of them only when the run ends or the server stops; else
  // those whose time is up, or those of the clients that may have a task now.
  std::vector<TaskWriter*> candidates;
  auto add_client = [&](ClientId id) {
    auto [first, last] = waiting_by_client.equal_range(id);
    for (auto it = first; it != last; ++it) candidates.push_back(it->second);
  };
  switch (scope) {
    case Wake::kAll:
      for (const auto& [writer, w] : waiting) candidates.push_back(writer);
      break;
    case Wake::kExpired:
      for (auto it = waiting_by_time.begin(); it != waiting_by_time.end() && it->first <= now;
           ++it) {
        candidates.push_back(it->second);
      }
      break;
    case Wake::kClient:
      add_client(client);
      break;
    case Wake::kBoard:
      if (const net::Board* b = board.board()) {
        for (const auto& [id, task] : b->tasks) {
          if (task.state == net::TaskState::kQueued) add_client(task.client);
        }
      }
      break;
  }
  std::vector<PollAnswer> answers;
  for (TaskWriter* writer : candidates) {
    auto it = waiting.find(writer);
    if (it == waiting.end()) continue;  // answered already (a client with two polls)
    net::ClientRecord& record = *it->second.record;
    std::optional<PollAnswer> a = AnswerNowLocked(record);
    if (!a && now >= it->second.until) {
      a.emplace();
      a->header.mutable_header()->set_run_id(o.run_id);
      a->header.mutable_header()->set_kind(v1::WAIT);
    }
    if (!a) continue;
    a->writer = writer;
    a->client = record.id;
    record.last_seen = now;
    RemoveWaitingLocked(it);
    answers.push_back(std::move(*a));
  }
  return answers;
}

void Server::Impl::SendAnswers(std::vector<PollAnswer> answers) {
  for (PollAnswer& a : answers) {
    TaskWriter* w = a.writer;
    w->Send(std::move(a));
  }
}

void Server::Impl::WakePolls(Wake scope, ClientId client) {
  std::vector<PollAnswer> answers;
  {
    std::lock_guard lock(mu);
    answers = AnswerPollsLocked(Clock::now(), scope, client);
  }
  SendAnswers(std::move(answers));
}

bool Server::Impl::ForgetPoll(TaskWriter* writer) {
  std::lock_guard lock(mu);
  auto it = waiting.find(writer);
  if (it == waiting.end()) return false;
  RemoveWaitingLocked(it);
  return true;
}

void Server::Impl::DownloadBroke(ClientId client, uint64_t task_id, int round) {
  {
    std::lock_guard lock(mu);
    board.RequeueTask(task_id, round);  // deliver again when the client polls
  }
  WakePolls(Wake::kClient, client);
}

grpc::ServerWriteReactor<v1::TaskChunk>* Server::Impl::GetTask(grpc::CallbackServerContext* ctx,
                                                               const v1::GetTaskRequest* req) {
  auto* writer = new TaskWriter(*this);
  std::string name;
  grpc::Status s = Authenticated(ctx, &name);
  if (!s.ok()) {
    writer->Finish(s);
    return writer;
  }
  std::optional<PollAnswer> now;
  {
    std::lock_guard lock(mu);
    net::ClientRecord* rec = nullptr;
    s = registry.Find(name, req->session_id(), Clock::now(), &rec);
    if (s.ok()) {
      // A poll that finds its task at once never waits, so it is never refused.
      now = AnswerNowLocked(*rec);
      if (!now) {
        s = registry.BeginPoll(*rec);
        if (!s.ok()) {
          ++stats.polls_refused;
          WarnAboutPeer(PeerKey(ctx, rec->name), "refused a poll: " + s.error_message());
          s = grpc::Status(s.error_code(), LogSafe(s.error_message(), 256));
        } else {
          const auto wait = std::chrono::milliseconds(static_cast<int64_t>(o.poll_seconds * 1000));
          AddWaitingLocked(writer, rec, Clock::now() + wait);
        }
      }
    }
  }
  if (!s.ok()) {
    writer->Finish(s);
  } else if (now) {
    now->writer = writer;
    writer->Send(std::move(*now));
  }
  return writer;
}

void Server::Impl::StartPollTimer() {
  poll_timer = std::thread([this] {
    std::unique_lock lock(mu);
    while (!stopping) {
      poll_cv.wait_for(lock, std::chrono::milliseconds(100));
      std::vector<PollAnswer> answers = AnswerPollsLocked(Clock::now(), Wake::kExpired);
      const bool uploads_queued = !slot_waiters.empty();
      if (answers.empty() && !uploads_queued) continue;
      lock.unlock();
      SendAnswers(std::move(answers));
      if (uploads_queued) GrantSlots();  // ends queued uploads whose task ended meanwhile
      lock.lock();
    }
  });
}

void Server::Impl::StopPollTimer() {
  {
    std::lock_guard lock(mu);
    stopping = true;
    cv.notify_all();
    poll_cv.notify_all();
  }
  if (poll_timer.joinable()) poll_timer.join();
  WakePolls(Wake::kAll);  // every waiting poll hears UNAVAILABLE
}

}  // namespace fedra
