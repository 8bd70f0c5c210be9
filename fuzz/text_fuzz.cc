// The text pipeline on crafted bytes: a mail message through MailText (mode byte even), or a
// tokenizer file through BpeTokenizer::Load (odd). The message, and the file when it loads,
// are also encoded; any byte string must decode back to itself.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fedra/ml/bpe_tokenizer.h"
#include "fedra/ml/mail_corpus.h"
#include "fuzz/fuzz_util.h"

namespace {

const fedra::BpeTokenizer& Small() {
  static const fedra::BpeTokenizer bpe = *fedra::BpeTokenizer::Train(
      std::vector<std::string>{"the cat sat on the mat", "the hat, the bat", "spam spam spam"},
      280);
  return bpe;
}

void RoundTrip(const fedra::BpeTokenizer& bpe, std::string_view text) {
  auto back = bpe.Decode(bpe.Encode(text));
  if (!back.ok() || *back != text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in = fedra::fuzz::AsText(data, size - 1);
  if (data[size - 1] % 2 == 0) {
    const std::string text = fedra::MailText(in, 1 + data[size - 1] * 64);
    if (text.size() > 1u + data[size - 1] * 64u) std::abort();
    RoundTrip(Small(), text);
    RoundTrip(Small(), in);
  } else {
    fedra::fuzz::MemFile f(in);
    auto bpe = fedra::BpeTokenizer::Load(f.path());
    if (bpe.ok()) RoundTrip(*bpe, in);
  }
  return 0;
}
