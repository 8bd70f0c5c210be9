// Writes a text encoder with LoRA adapters and every weight randomised, a batch of padded
// token ids and fedra's pooled output into one safetensors file, for
// torch_matches_text_encoder.py to recompute with torch.nn.TransformerEncoderLayer.
//
//   text_encoder_dump OUT.safetensors
#include <cstdio>

#include "fedra/ml/safetensors.h"
#include "fedra/ml/sequential.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.safetensors\n", argv[0]);
    return 2;
  }
  constexpr int64_t kLength = 6, kBatch = 3;
  const fedra::TextEncoderOptions o{.vocab = 30,
                                    .dim = 8,
                                    .heads = 2,
                                    .layers = 2,
                                    .ff_dim = 12,
                                    .lora_rank = 2,
                                    .lora_alpha = 4,
                                    .lora_feed_forward = true};
  fedra::Sequential::Builder builder({kLength});
  builder.Add(*fedra::NewTextEncoder({kLength}, o));
  auto model = builder.Build("encoder", 1);
  if (!model.ok()) return 1;
  fedra::Rng rng(2);
  fedra::Parameters p = (*model)->parameters();
  for (float& v : p.span()) v += static_cast<float>(0.2 * rng.Normal());
  if (!(*model)->SetParameters(p).ok()) return 1;
  fedra::Matrix ids(kLength, kBatch);
  ids << 7, 12, 5,  // one column per example: 5, 2 and 3 real tokens, then [PAD] = 0
      3, 29, 8,     //
      4, 0, 9,      //
      21, 0, 0,     //
      2, 0, 0,      //
      0, 0, 0;
  const fedra::Matrix& y = (*model)->Forward(ids);
  fedra::Parameters out;
  for (size_t i = 0; i < p.num_tensors(); ++i) {
    out.Add(p.info(i).name.substr(2), p.info(i).shape);  // drop Sequential's "0."
    out.Tensor(i) = p.Tensor(i);
  }
  out.Add("ids", {kBatch, kLength});
  out.Add("output", {kBatch, o.dim});
  const size_t n = p.num_tensors();
  Eigen::Map<fedra::Matrix>(out.Tensor(n).data(), kLength, kBatch) = ids;  // row-major {B, T}
  Eigen::Map<fedra::Matrix>(out.Tensor(n + 1).data(), o.dim, kBatch) = y;
  const auto s = fedra::SaveSafetensors(
      argv[1], out, {{"heads", "2"}, {"layers", "2"}, {"lora_scale", "2"}, {"eps", "1e-5"}});
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
