// Encoder files, MLM pre-training and the classifier on a pre-trained encoder (text_model.h).
// MLM scores only the masked positions: the logits of all T positions would cost vocab x T
// per example, about seven times the work of the encoder at vocab 4000, T 128, dim 64.
#include "fedra/ml/text_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fedra/ml/bpe_tokenizer.h"
#include "fedra/ml/fine_tuning.h"
#include "fedra/ml/optimizer.h"
#include "fedra/ml/safetensors.h"
#include "fedra/ml/sequential.h"
#include "fedra/ml/trainable_subset.h"

namespace fedra {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr char kEncoderPrefix[] = "0.";

// The encoder tensors (no adapters, no prefix) of NewTextEncoder({length}, o).
StatusOr<std::vector<ParamSpec>> EncoderSpecs(int64_t length, TextEncoderOptions o) {
  o.lora_rank = 0;
  o.lora_embedding_rank = 0;
  FEDRA_ASSIGN_OR_RETURN(auto enc, NewTextEncoder({length}, o));
  return enc->ParameterSpecs();
}

StatusOr<Parameters> EncoderLayout(int64_t length, const TextEncoderOptions& o) {
  FEDRA_ASSIGN_OR_RETURN(auto specs, EncoderSpecs(length, o));
  Parameters p;
  for (const ParamSpec& s : specs) p.Add(s.name, s.shape);
  return p;
}

// Compares shapes before anything is allocated: the sizes in a file's metadata are untrusted,
// its tensors (already in memory) are not bigger than the file.
Status CheckEncoderFile(const TextEncoderFile& f) {
  const Parameters& w = f.weights;
  constexpr int64_t kFixedTensors = 4, kTensorsPerBlock = 12;  // embeddings + final norm
  if (f.options.layers < 0 ||
      static_cast<int64_t>(w.num_tensors()) != kFixedTensors + kTensorsPerBlock * f.options.layers)
    return InvalidArgumentError("expected " + std::to_string(f.options.layers) +
                                " encoder blocks, found " + std::to_string(w.num_tensors()) +
                                " tensors");
  FEDRA_ASSIGN_OR_RETURN(auto specs, EncoderSpecs(f.length, f.options));
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name != w.info(i).name || specs[i].shape != w.info(i).shape)
      return InvalidArgumentError("tensor " + std::to_string(i) + " is " + w.info(i).name +
                                  ", expected " + specs[i].name + " of the shape the sizes give");
  }
  return OkStatus();
}

// Copies `from` (encoder tensors by name) into the tensors "0.<name>" of `to`.
Status CopyEncoder(const Parameters& from, Parameters& to) {
  for (size_t i = 0; i < from.num_tensors(); ++i) {
    FEDRA_ASSIGN_OR_RETURN(size_t j, to.Find(kEncoderPrefix + from.info(i).name));
    if (to.info(j).shape != from.info(i).shape)
      return InvalidArgumentError("encoder tensor " + from.info(i).name + " has another shape");
    to.Tensor(j) = from.Tensor(i);
  }
  return OkStatus();
}

StatusOr<int64_t> MetaInt(const Metadata& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) return DataLossError("metadata lacks \"" + key + "\"");
  const std::string& v = it->second;
  if (v.empty() || v.size() > 9 ||
      !std::all_of(v.begin(), v.end(), [](unsigned char ch) { return ch >= '0' && ch <= '9'; }))
    return DataLossError("metadata \"" + key + "\" is not a small non-negative integer");
  return std::stoll(v);
}

// One batch of MLM: the masked input, and per masked token its position and original id.
struct Masked {
  Matrix x;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> at;  // (position, example)
  std::vector<int32_t> target;
};

Masked MaskBatch(Matrix x, double fraction, int64_t vocab, Rng& rng) {
  Masked m;
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
      const auto id = static_cast<int32_t>(x(t, c));
      if (id == BpeTokenizer::kPad || !rng.Bernoulli(fraction)) continue;
      m.at.emplace_back(t, c);
      m.target.push_back(id);
      const double r = rng.Uniform();
      if (r < 0.8) {
        x(t, c) = BpeTokenizer::kMask;
      } else if (r < 0.9) {
        const auto spread = static_cast<uint64_t>(vocab - BpeTokenizer::kFirstByte);
        x(t, c) = static_cast<float>(BpeTokenizer::kFirstByte + rng.UniformInt(spread));
      }
    }
  }
  m.x = std::move(x);
  return m;
}

}  // namespace

Status SaveTextEncoder(const std::string& path, const TextEncoderFile& file) {
  FEDRA_RETURN_IF_ERROR(CheckEncoderFile(file).WithContext("text encoder"));
  const TextEncoderOptions& o = file.options;
  return SaveSafetensors(path, file.weights,
                         {{"fedra.model", "text-encoder"},
                          {"vocab", std::to_string(o.vocab)},
                          {"dim", std::to_string(o.dim)},
                          {"heads", std::to_string(o.heads)},
                          {"layers", std::to_string(o.layers)},
                          {"ff_dim", std::to_string(o.ff_dim)},
                          {"length", std::to_string(file.length)}});
}

StatusOr<TextEncoderFile> LoadTextEncoder(const std::string& path) {
  Metadata meta;
  FEDRA_ASSIGN_OR_RETURN(Parameters weights, LoadSafetensors(path, &meta));
  auto read = [&]() -> StatusOr<TextEncoderFile> {
    if (meta["fedra.model"] != "text-encoder")
      return DataLossError("not a text encoder (metadata \"fedra.model\" is not text-encoder)");
    TextEncoderFile f;
    FEDRA_ASSIGN_OR_RETURN(f.options.vocab, MetaInt(meta, "vocab"));
    FEDRA_ASSIGN_OR_RETURN(f.options.dim, MetaInt(meta, "dim"));
    FEDRA_ASSIGN_OR_RETURN(f.options.heads, MetaInt(meta, "heads"));
    FEDRA_ASSIGN_OR_RETURN(f.options.layers, MetaInt(meta, "layers"));
    FEDRA_ASSIGN_OR_RETURN(f.options.ff_dim, MetaInt(meta, "ff_dim"));
    FEDRA_ASSIGN_OR_RETURN(f.length, MetaInt(meta, "length"));
    f.weights = std::move(weights);
    if (Status s = CheckEncoderFile(f); !s.ok()) return DataLossError(std::string(s.message()));
    return f;
  };
  auto f = read();
  if (!f.ok()) return DataLossError(path + ": " + std::string(f.status().message()));
  return f;
}

StatusOr<MlmResult> PretrainMlm(const Dataset& texts, const MlmOptions& o, Rng& rng,
                                TextEncoderFile* encoder) {
  if (!(o.mask_fraction > 0 && o.mask_fraction < 1) || o.epochs < 1 || o.batch_size < 1 ||
      !(o.learning_rate > 0) || !(o.warmup_fraction >= 0 && o.warmup_fraction <= 1) ||
      !(o.weight_decay >= 0) || !(o.max_grad_norm >= 0) || o.threads < 1)
    return InvalidArgumentError(
        "mlm: need mask_fraction in (0, 1), epochs, batch_size, threads >= 1, learning_rate > 0, "
        "warmup_fraction in [0, 1], weight_decay >= 0, max_grad_norm >= 0");
  if (texts.example_shape != Shape{encoder->length} || texts.size() == 0)
    return InvalidArgumentError("mlm: expected token sequences of length " +
                                std::to_string(encoder->length));
  TextEncoderOptions eo = encoder->options;
  eo.pooling = TextEncoderOptions::Pooling::kNone;
  eo.lora_rank = 0;
  eo.lora_embedding_rank = 0;
  const int64_t vocab = eo.vocab, dim = eo.dim;
  if (vocab <= BpeTokenizer::kFirstByte)
    return InvalidArgumentError("mlm: the vocabulary must hold the special tokens and more");
  if ((texts.features.array() < 0).any() || (texts.features.array() >= vocab).any())
    return InvalidArgumentError("mlm: a token id is outside the vocabulary");
  Sequential::Builder builder({encoder->length});
  FEDRA_ASSIGN_OR_RETURN(auto layer, NewTextEncoder({encoder->length}, eo));
  builder.Add(std::move(layer));
  FEDRA_ASSIGN_OR_RETURN(auto model, builder.Build("mlm", rng.NextU64()));
  if (encoder->weights.num_tensors() > 0) {
    FEDRA_RETURN_IF_ERROR(CheckEncoderFile(*encoder));
    FEDRA_RETURN_IF_ERROR(CopyEncoder(encoder->weights, model->mutable_parameters()));
  }
  FEDRA_RETURN_IF_ERROR(model->SetThreads(o.threads));
  model->SetTraining(true);
  Parameters& params = model->mutable_parameters();
  FEDRA_ASSIGN_OR_RETURN(const size_t e_index, params.Find(std::string(kEncoderPrefix) +
                                                           "embeddings.word_embeddings.weight"));
  Eigen::VectorXf bias = Eigen::VectorXf::Zero(vocab), bias_grad(vocab);
  FEDRA_ASSIGN_OR_RETURN(auto opt, NewAdamW({.learning_rate = static_cast<float>(o.learning_rate),
                                             .weight_decay = static_cast<float>(o.weight_decay),
                                             .decay_mask = WeightDecayMask(params)}));
  FEDRA_ASSIGN_OR_RETURN(auto bias_opt,
                         NewAdamW({.learning_rate = static_cast<float>(o.learning_rate)}));
  const size_t n = texts.size();
  const int64_t per_epoch = static_cast<int64_t>((n + o.batch_size - 1) / o.batch_size);
  const int64_t total = per_epoch * o.epochs;
  const LrSchedule schedule{.peak = o.learning_rate,
                            .warmup_steps = static_cast<int64_t>(o.warmup_fraction * total),
                            .total_steps = total};
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  MlmResult result;
  Matrix x, y;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    rng.Shuffle(order);
    double loss_sum = 0;
    int64_t count = 0, right = 0;
    for (size_t begin = 0; begin < n; begin += o.batch_size) {
      const size_t end = std::min(n, begin + o.batch_size);
      texts.Gather(std::span<const size_t>(order).subspan(begin, end - begin), &x, &y);
      const Masked m = MaskBatch(x, o.mask_fraction, vocab, rng);
      if (m.at.empty()) continue;
      const auto k = static_cast<Eigen::Index>(m.at.size());
      const Matrix& h = model->Forward(m.x);
      Matrix hm(dim, k);
      for (Eigen::Index j = 0; j < k; ++j)
        hm.col(j) = h.block(m.at[j].first * dim, m.at[j].second, dim, 1);
      const Eigen::Map<const RowMat> e(params.Tensor(e_index).data(), vocab, dim);
      Matrix logits = (e * hm).colwise() + bias;
      for (Eigen::Index j = 0; j < k; ++j) {
        auto col = logits.col(j);
        Eigen::Index best = 0;
        const float top = col.maxCoeff(&best);
        right += best == m.target[j];
        const float target_logit = col(m.target[j]) - top;
        col = (col.array() - top).exp();
        const float z = col.sum();
        loss_sum += std::log(z) - target_logit;  // exact where exp(target_logit) underflows
        col /= z;
        col(m.target[j]) -= 1;
      }
      logits /= static_cast<float>(k);  // now dL/dlogits of the batch's mean loss
      count += k;
      const Matrix dhm = e.transpose() * logits;
      Matrix dh = Matrix::Zero(h.rows(), h.cols());
      for (Eigen::Index j = 0; j < k; ++j)
        dh.block(m.at[j].first * dim, m.at[j].second, dim, 1) += dhm.col(j);
      model->Backward(dh);
      Parameters& grads = model->mutable_gradients();
      Eigen::Map<RowMat>(grads.Tensor(e_index).data(), vocab, dim).noalias() +=
          logits * hm.transpose();
      bias_grad = logits.rowwise().sum();
      const double norm = std::sqrt(grads.Dot(grads) + bias_grad.squaredNorm());
      if (!std::isfinite(norm) || !std::isfinite(loss_sum))
        return FailedPreconditionError("mlm: training diverged at step " +
                                       std::to_string(result.steps));
      if (o.max_grad_norm > 0 && norm > o.max_grad_norm) {
        const auto scale = static_cast<float>(o.max_grad_norm / norm);
        grads.Scale(scale);
        bias_grad *= scale;
      }
      const auto lr = static_cast<float>(LearningRateAt(schedule, result.steps));
      opt->set_learning_rate(lr);
      bias_opt->set_learning_rate(lr);
      opt->Step(params.span(), grads.span());
      bias_opt->Step({bias.data(), static_cast<size_t>(vocab)},
                     {bias_grad.data(), static_cast<size_t>(vocab)});
      ++result.steps;
    }
    result.loss = count > 0 ? loss_sum / count : 0;
    result.accuracy = count > 0 ? static_cast<double>(right) / count : 0;
    if (o.on_epoch_end) o.on_epoch_end(epoch, result.loss, result.accuracy);
  }
  FEDRA_ASSIGN_OR_RETURN(Parameters out, EncoderLayout(encoder->length, encoder->options));
  for (size_t i = 0; i < out.num_tensors(); ++i) {
    FEDRA_ASSIGN_OR_RETURN(size_t j, params.Find(kEncoderPrefix + out.info(i).name));
    out.Tensor(i) = params.Tensor(j);
  }
  encoder->weights = std::move(out);
  return result;
}

StatusOr<Dataset> HashedBagOfTokens(const Dataset& tokens, size_t buckets) {
  if (buckets == 0) return InvalidArgumentError("bag of tokens: need buckets >= 1");
  if ((tokens.features.array() < 0).any())
    return InvalidArgumentError("bag of tokens: a token id is negative");
  Dataset out{.features = Matrix::Zero(static_cast<Eigen::Index>(buckets), tokens.features.cols()),
              .targets = tokens.targets,
              .example_shape = {static_cast<int64_t>(buckets)},
              .num_classes = tokens.num_classes};
  for (Eigen::Index c = 0; c < tokens.features.cols(); ++c) {
    for (Eigen::Index t = 0; t < tokens.features.rows(); ++t) {
      const auto id = static_cast<uint64_t>(tokens.features(t, c));
      if (id == BpeTokenizer::kPad) continue;
      const uint64_t h = (id * 0x9E3779B97F4A7C15ull) >> 32;  // Fibonacci hashing
      out.features(static_cast<Eigen::Index>(h % buckets), c) += 1;
    }
  }
  out.features = out.features.array().log1p().matrix();
  return out;
}

StatusOr<TextClassifierOptions::Tuning> ParseTuning(const std::string& name) {
  using T = TextClassifierOptions::Tuning;
  if (name == "full") return T::kFull;
  if (name == "lora") return T::kLora;
  if (name == "head") return T::kHead;
  if (name == "lora-frozen-head") return T::kLoraFrozenHead;
  return InvalidArgumentError("unknown tuning '" + name +
                              "' (expected full, lora, head or lora-frozen-head)");
}

StatusOr<std::unique_ptr<Model>> NewTextClassifier(const TextEncoderFile& base,
                                                   const TextClassifierOptions& o, uint64_t seed) {
  using T = TextClassifierOptions::Tuning;
  if (o.num_classes < 2) return InvalidArgumentError("a text classifier needs >= 2 classes");
  FEDRA_RETURN_IF_ERROR(CheckEncoderFile(base).WithContext("text classifier base"));
  TextEncoderOptions eo = base.options;
  eo.pooling = TextEncoderOptions::Pooling::kMean;
  eo.lora_rank = 0;
  eo.lora_embedding_rank = 0;
  const bool lora = o.tuning == T::kLora || o.tuning == T::kLoraFrozenHead;
  const bool head = o.tuning != T::kLoraFrozenHead;
  if (!lora && o.lora_embedding_rank != 0)
    return InvalidArgumentError("a LoRA embedding rank needs --tuning lora or lora-frozen-head");
  if (lora) {
    // Every adapted matrix has the model width on one side: a larger rank adds nothing.
    if (o.lora_rank < 1 || o.lora_rank > eo.dim)
      return InvalidArgumentError("LoRA rank " + std::to_string(o.lora_rank) + " is outside [1, " +
                                  std::to_string(eo.dim) + "] (the encoder's width)");
    if (o.lora_embedding_rank < 0 || o.lora_embedding_rank > eo.dim)
      return InvalidArgumentError("LoRA embedding rank " + std::to_string(o.lora_embedding_rank) +
                                  " is outside [0, " + std::to_string(eo.dim) +
                                  "] (0: no adapter on the word embeddings)");
    eo.lora_rank = o.lora_rank;
    eo.lora_alpha = o.lora_alpha;
    eo.lora_feed_forward = o.lora_feed_forward;
    eo.lora_embedding_rank = o.lora_embedding_rank;
  }
  Sequential::Builder builder({base.length});
  FEDRA_ASSIGN_OR_RETURN(auto layer, NewTextEncoder({base.length}, eo));
  builder.Add(std::move(layer)).Dense(o.num_classes);
  FEDRA_ASSIGN_OR_RETURN(auto model, builder.Build("text-classifier", seed));
  FEDRA_RETURN_IF_ERROR(CopyEncoder(base.weights, model->mutable_parameters()));
  if (!head) {
    // The frozen head never travels: every process draws the same one, whatever its seed.
    constexpr uint64_t kFrozenHeadSeed = 0x4eadf00d;
    FEDRA_ASSIGN_OR_RETURN(
        auto fixed,
        Sequential::Builder({eo.dim}).Dense(o.num_classes).Build("head", kFrozenHeadSeed));
    Parameters& p = model->mutable_parameters();
    for (const char* name : {"weight", "bias"}) {
      FEDRA_ASSIGN_OR_RETURN(size_t to, p.Find(std::string("1.") + name));
      FEDRA_ASSIGN_OR_RETURN(size_t from, fixed->parameters().Find(std::string("0.") + name));
      p.Tensor(to) = fixed->parameters().Tensor(from);
    }
  }
  if (o.tuning == T::kFull) return std::unique_ptr<Model>(std::move(model));
  return NewTrainableSubset(std::move(model), [lora, head](std::string_view name) {
    return (head && name.starts_with("1.")) ||
           (lora && (name.ends_with(".lora_A") || name.ends_with(".lora_B")));
  });
}

}  // namespace fedra
