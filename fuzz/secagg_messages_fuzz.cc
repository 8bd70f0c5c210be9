// The SecAgg stage messages a peer sends (advertised keys, the key directory, sealed shares,
// relayed shares, masked inputs, unmask requests and responses), selected by the first byte;
// what parses must serialise back to the same bytes.
#include <cstdint>
#include <cstdlib>

#include "fedra/privacy/secagg/messages.h"

namespace sa = fedra::secagg;

namespace {

template <typename Message>
void RoundTrip(fedra::StatusOr<Message> parsed, std::span<const uint8_t> bytes) {
  if (!parsed.ok()) return;
  const std::vector<uint8_t> again = sa::Serialize(*parsed);
  if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      RoundTrip(sa::ParseAdvertiseKeys(in), in);
      break;
    case 1:
      RoundTrip(sa::ParseKeyDirectory(in), in);
      break;
    case 2:
      RoundTrip(sa::ParseShareKeys(in), in);
      break;
    case 3:
      RoundTrip(sa::ParseRelayedShares(in), in);
      break;
    case 4:
      RoundTrip(sa::ParseMaskedInput(in), in);
      break;
    case 5:
      RoundTrip(sa::ParseUnmaskRequest(in), in);
      break;
    default:
      RoundTrip(sa::ParseUnmaskResponse(in), in);
      break;
  }
  return 0;
}
