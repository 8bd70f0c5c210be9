#include "fedra/ml/sequential.h"

#include <algorithm>

#include "kernels.h"
#include "shard_runner.h"

namespace fedra {

Sequential::Builder::Builder(Shape input_shape)
    : input_shape_(input_shape), shape_(std::move(input_shape)) {
  if (input_shape_.empty() || NumElements(input_shape_) <= 0) {
    status_ = InvalidArgumentError("model input shape must be non-empty, got " +
                                   ShapeToString(input_shape_));
  }
}

Sequential::Builder& Sequential::Builder::Append(StatusOr<std::unique_ptr<Layer>> layer) {
  if (!status_.ok()) return *this;
  if (!layer.ok()) {
    status_ = layer.status().WithContext("layer " + std::to_string(layers_.size()));
    return *this;
  }
  shape_ = (*layer)->OutputShape();
  layers_.push_back(std::move(layer).value());
  return *this;
}

Sequential::Builder& Sequential::Builder::Dense(int64_t units) {
  return Append(NewDense(shape_, units));
}
Sequential::Builder& Sequential::Builder::ReLU() { return Append(NewReLU(shape_)); }
Sequential::Builder& Sequential::Builder::Conv2D(const Conv2DOptions& o) {
  return Append(NewConv2D(shape_, o));
}
Sequential::Builder& Sequential::Builder::MaxPool2D(int64_t kernel, int64_t stride) {
  return Append(NewMaxPool2D(shape_, kernel, stride));
}
Sequential::Builder& Sequential::Builder::Flatten() { return Append(NewFlatten(shape_)); }
Sequential::Builder& Sequential::Builder::Dropout(double rate) {
  return Append(NewDropout(shape_, rate));
}

Sequential::Builder& Sequential::Builder::Add(std::unique_ptr<Layer> layer) {
  if (layer == nullptr) return Append(InvalidArgumentError("null layer"));
  if (layer->InputShape() != shape_) {
    return Append(InvalidArgumentError("layer '" + layer->Name() + "' takes input " +
                                       ShapeToString(layer->InputShape()) + " but gets " +
                                       ShapeToString(shape_)));
  }
  return Append(std::move(layer));
}

StatusOr<std::unique_ptr<Sequential>> Sequential::Builder::Build(std::string name, uint64_t seed) {
  if (!status_.ok()) return status_.WithContext("model '" + name + "'");
  if (layers_.empty()) return InvalidArgumentError("model '" + name + "' has no layers");
  std::unique_ptr<Sequential> model(
      new Sequential(std::move(name), input_shape_, std::move(layers_)));
  Rng rng(seed);
  for (auto& layer : model->stacks_[0].layers) layer->Initialize(rng);
  layers_.clear();
  status_ = FailedPreconditionError("Build() was already called on this builder");
  return model;
}

Sequential::Sequential(std::string name, Shape input_shape,
                       std::vector<std::unique_ptr<Layer>> layers)
    : name_(std::move(name)), input_shape_(std::move(input_shape)) {
  for (size_t i = 0; i < layers.size(); ++i) {
    first_tensor_.push_back(params_.num_tensors());
    for (const ParamSpec& spec : layers[i]->ParameterSpecs()) {
      params_.Add(std::to_string(i) + "." + spec.name, spec.shape);
    }
  }
  grads_ = Parameters::ZerosLike(params_);
  stacks_.resize(1);
  stacks_[0].layers = std::move(layers);
  BindStack(stacks_[0], grads_);
}

Sequential::~Sequential() = default;

void Sequential::BindStack(Stack& stack, Parameters& grads) {
  stack.activations.resize(stack.layers.size() + 1);
  for (size_t i = 0; i < stack.layers.size(); ++i) {
    std::vector<float*> w, g;
    const size_t n = stack.layers[i]->ParameterSpecs().size();
    for (size_t t = first_tensor_[i]; t < first_tensor_[i] + n; ++t) {
      w.push_back(params_.data() + params_.info(t).offset);
      g.push_back(grads.data() + grads.info(t).offset);
    }
    stack.layers[i]->Bind(w, g);
  }
}

Shape Sequential::OutputShape() const { return stacks_[0].layers.back()->OutputShape(); }

Status Sequential::SetParameters(const Parameters& params) {
  FEDRA_RETURN_IF_ERROR(params_.CheckSameLayout(params).WithContext("model '" + name_ + "'"));
  FEDRA_RETURN_IF_ERROR(params.CheckFinite().WithContext("model '" + name_ + "'"));
  params_.CopyFrom(params);
  return OkStatus();
}

Status Sequential::SetThreads(int threads) {
  FEDRA_RETURN_IF_ERROR(Model::SetThreads(threads));
  const auto n = static_cast<size_t>(threads);
  if (n == stacks_.size()) return OkStatus();
  stacks_.resize(std::min(n, stacks_.size()));
  // Stacks keep pointers into shard_grads_: size it first, then bind.
  shard_grads_.resize(n - 1, Parameters::ZerosLike(params_));
  for (size_t w = stacks_.size(); w < n; ++w) {
    Stack stack;
    for (const auto& layer : stacks_[0].layers) stack.layers.push_back(layer->Clone());
    stacks_.push_back(std::move(stack));
  }
  for (size_t w = 1; w < n; ++w) BindStack(stacks_[w], shard_grads_[w - 1]);
  runner_ = n > 1 ? std::make_unique<internal::ShardRunner>(n) : nullptr;
  shards_ = 1;
  return OkStatus();
}

void Sequential::ForEachShard(const std::function<void(size_t)>& fn) {
  if (shards_ == 1) return fn(0);
  runner_->Run(shards_, fn);
}

Eigen::Index Sequential::ShardBegin(size_t shard) const {
  return batch_ * static_cast<Eigen::Index>(shard) / static_cast<Eigen::Index>(shards_);
}

void Sequential::ForwardStack(Stack& stack) {
  for (size_t i = 0; i < stack.layers.size(); ++i) {
    stack.layers[i]->Forward(stack.activations[i], &stack.activations[i + 1], training_);
  }
}

const Matrix& Sequential::Forward(const Matrix& x) {
  FEDRA_CHECK_MSG(x.rows() == NumElements(input_shape_),
                  "input has " + std::to_string(x.rows()) + " rows, model '" + name_ +
                      "' expects " + std::to_string(NumElements(input_shape_)));
  batch_ = x.cols();
  shards_ = std::clamp<size_t>(static_cast<size_t>(batch_), 1, stacks_.size());
  if (shards_ == 1) {
    stacks_[0].activations[0] = x;
    ForwardStack(stacks_[0]);
    return stacks_[0].activations.back();
  }
  output_.resize(NumElements(OutputShape()), batch_);
  ForEachShard([&](size_t w) {
    const Eigen::Index begin = ShardBegin(w), size = ShardBegin(w + 1) - begin;
    Stack& stack = stacks_[w];
    stack.activations[0] = x.middleCols(begin, size);
    ForwardStack(stack);
    output_.middleCols(begin, size) = stack.activations.back();
  });
  return output_;
}

void Sequential::BackwardStack(Stack& stack) {
  for (size_t i = stack.layers.size(); i-- > 0;) {
    // The first layer's input gradient is never used: skip computing it.
    Matrix* dx = i == 0 ? nullptr : &stack.delta_next;
    stack.layers[i]->Backward(stack.activations[i], stack.activations[i + 1], stack.delta, dx);
    if (dx != nullptr) std::swap(stack.delta, stack.delta_next);
  }
}

void Sequential::Backward(const Matrix& dout) {
  FEDRA_CHECK(dout.rows() == NumElements(OutputShape()) && dout.cols() == batch_);
  ForEachShard([&](size_t w) {
    const Eigen::Index begin = ShardBegin(w), size = ShardBegin(w + 1) - begin;
    stacks_[w].delta = dout.middleCols(begin, size);
    BackwardStack(stacks_[w]);
  });
  if (shards_ == 1) return;
  // grads_ += the other shards' gradients, in shard order, each worker over a slice.
  const auto n = static_cast<int64_t>(grads_.size());
  const auto slices = static_cast<int64_t>(stacks_.size());
  runner_->Run(stacks_.size(), [&](size_t worker) {
    const int64_t lo = n * static_cast<int64_t>(worker) / slices;
    const int64_t hi = n * static_cast<int64_t>(worker + 1) / slices;
    for (size_t s = 1; s < shards_; ++s) {
      internal::AddInPlace(grads_.data() + lo, shard_grads_[s - 1].data() + lo, hi - lo);
    }
  });
}

void Sequential::ReseedRandomState(uint64_t seed) {
  Rng rng(seed);
  for (auto& layer : stacks_[0].layers) layer->Reseed(rng);
  for (size_t w = 1; w < stacks_.size(); ++w) {
    Rng shard_rng = rng.Split(w);
    for (auto& layer : stacks_[w].layers) layer->Reseed(shard_rng);
  }
}

std::unique_ptr<Model> Sequential::Clone() const {
  std::vector<std::unique_ptr<Layer>> layers;
  for (const auto& l : stacks_[0].layers) layers.push_back(l->Clone());
  std::unique_ptr<Sequential> copy(new Sequential(name_, input_shape_, std::move(layers)));
  copy->params_.CopyFrom(params_);
  copy->training_ = training_;
  return copy;
}

}  // namespace fedra
