// Every fedra.v1 message a server or client parses from a peer, selected by the first byte,
// and then the conversions each side applies to it (task instructions, packing settings).
#include <cstdint>

#include "fedra/v1/federation.pb.h"
#include "fuzz/fuzz_util.h"
#include "net/wire.h"

namespace {

template <typename Message>
bool Parse(Message& m, std::string_view bytes) {
  return m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = fedra::fuzz::AsText(data + 1, size - 1);
  namespace v1 = fedra::v1;
  switch (data[0] % 7) {
    case 0: {
      v1::RegisterRequest m;
      Parse(m, bytes);
      break;
    }
    case 1: {
      v1::GetTaskRequest m;
      Parse(m, bytes);
      break;
    }
    case 2: {
      v1::HeartbeatRequest m;
      Parse(m, bytes);
      break;
    }
    case 3: {  // server side: an upload's first message
      v1::ResultChunk m;
      if (Parse(m, bytes) && m.has_header()) {
        (void)m.header().fit().num_examples();
        (void)m.header().tensors_size();
      }
      break;
    }
    case 4: {  // client side: a task
      v1::TaskChunk m;
      if (Parse(m, bytes) && m.has_header()) {
        (void)fedra::net::FromProto(m.header().fit());
        if (m.header().fit().has_secure()) {
          (void)fedra::net::PackingFromProto(m.header().fit().secure());
        }
      }
      break;
    }
    case 5: {
      v1::RegisterResponse m;
      Parse(m, bytes);
      break;
    }
    default: {
      v1::HeartbeatResponse m;
      Parse(m, bytes);
      break;
    }
  }
  return 0;
}
