#include "fedra/ml/sequential.h"

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
  for (size_t i = 0; i < model->layers_.size(); ++i) model->layers_[i]->Initialize(rng);
  layers_.clear();
  status_ = FailedPreconditionError("Build() was already called on this builder");
  return model;
}

Sequential::Sequential(std::string name, Shape input_shape,
                       std::vector<std::unique_ptr<Layer>> layers)
    : name_(std::move(name)), input_shape_(std::move(input_shape)), layers_(std::move(layers)) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    first_tensor_.push_back(params_.num_tensors());
    for (const ParamSpec& spec : layers_[i]->ParameterSpecs()) {
      params_.Add(std::to_string(i) + "." + spec.name, spec.shape);
    }
  }
  grads_ = Parameters::ZerosLike(params_);
  activations_.resize(layers_.size() + 1);
  BindLayers();
}

void Sequential::BindLayers() {
  for (size_t i = 0; i < layers_.size(); ++i) {
    std::vector<float*> w, g;
    const size_t n = layers_[i]->ParameterSpecs().size();
    for (size_t t = first_tensor_[i]; t < first_tensor_[i] + n; ++t) {
      w.push_back(params_.data() + params_.info(t).offset);
      g.push_back(grads_.data() + grads_.info(t).offset);
    }
    layers_[i]->Bind(w, g);
  }
}

Shape Sequential::OutputShape() const { return layers_.back()->OutputShape(); }

Status Sequential::SetParameters(const Parameters& params) {
  FEDRA_RETURN_IF_ERROR(params_.CheckSameLayout(params).WithContext("model '" + name_ + "'"));
  FEDRA_RETURN_IF_ERROR(params.CheckFinite().WithContext("model '" + name_ + "'"));
  params_.CopyFrom(params);
  return OkStatus();
}

const Matrix& Sequential::Forward(const Matrix& x) {
  FEDRA_CHECK_MSG(x.rows() == NumElements(input_shape_),
                  "input has " + std::to_string(x.rows()) + " rows, model '" + name_ +
                      "' expects " + std::to_string(NumElements(input_shape_)));
  activations_[0] = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->Forward(activations_[i], &activations_[i + 1], training_);
  }
  return activations_.back();
}

void Sequential::Backward(const Matrix& dout) {
  FEDRA_CHECK(dout.rows() == activations_.back().rows() &&
              dout.cols() == activations_.back().cols());
  delta_ = dout;
  for (size_t i = layers_.size(); i-- > 0;) {
    // The first layer's input gradient is never used: skip computing it.
    Matrix* dx = i == 0 ? nullptr : &delta_next_;
    layers_[i]->Backward(activations_[i], activations_[i + 1], delta_, dx);
    if (dx != nullptr) std::swap(delta_, delta_next_);
  }
}

void Sequential::ReseedRandomState(uint64_t seed) {
  Rng rng(seed);
  for (auto& layer : layers_) layer->Reseed(rng);
}

std::unique_ptr<Model> Sequential::Clone() const {
  std::vector<std::unique_ptr<Layer>> layers;
  for (const auto& l : layers_) layers.push_back(l->Clone());
  std::unique_ptr<Sequential> copy(new Sequential(name_, input_shape_, std::move(layers)));
  copy->params_.CopyFrom(params_);
  copy->training_ = training_;
  return copy;
}

}  // namespace fedra
