// The server's reassembly of an upload: a ResultHeader's tensor specs checked against the
// model's layout (WithLayout, as SubmitResult does), then the payload bytes in chunks of
// input-chosen sizes; and the client's FromSpecs for a task's payload.
#include <cstdint>

#include "fedra/v1/federation.pb.h"
#include "fuzz/fuzz_util.h"
#include "net/wire.h"

namespace {

const fedra::Parameters& Layout() {
  static const fedra::Parameters* p = [] {
    auto* params = new fedra::Parameters;
    params->Add("dense/w", {3, 4});
    params->Add("dense/b", {4});
    return params;
  }();
  return *p;
}

void Feed(fedra::net::PayloadReader& reader, std::string_view bytes, uint8_t step) {
  const size_t chunk = 1 + step % 23;
  while (!bytes.empty()) {
    const size_t n = std::min(chunk, bytes.size());
    if (!reader.Append(bytes.substr(0, n)).ok()) return;
    bytes.remove_prefix(n);
  }
  if (reader.Finish().ok()) reader.TakeGroups();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [header_bytes, payload] = fedra::fuzz::Split2(fedra::fuzz::AsText(data, size));
  fedra::v1::ResultHeader header;
  if (!header.ParseFromArray(header_bytes.data(), static_cast<int>(header_bytes.size()))) {
    return 0;
  }
  const uint8_t step = size > 0 ? data[size - 1] : 0;
  auto allowed = [](const std::string& g) { return g == "update" || g == "control_delta"; };
  auto server = fedra::net::PayloadReader::WithLayout(header.tensors(), header.payload_bytes(),
                                                      Layout().tensors(), allowed, "update", 3);
  if (server.ok()) Feed(*server, payload, step);
  auto client =
      fedra::net::PayloadReader::FromSpecs(header.tensors(), header.payload_bytes(), 1 << 20);
  if (client.ok()) Feed(*client, payload, step);
  return 0;
}
