// Sequential: a Model that applies layers in order. Built by chaining, each new layer taking
// the output shape of the previous one; Build() lays out all parameters in one Parameters
// (tensor names "<layer index>.<param>", e.g. "0.weight", as PyTorch's nn.Sequential names
// its state_dict) and initialises them from a seed.
//
//   auto model = Sequential::Builder({1, 28, 28}).Flatten().Dense(200).ReLU().Dense(10)
//                    .Build("mlp", /*seed=*/1);
//
// Thread-safety: not thread-safe (see Model).
#ifndef FEDRA_ML_SEQUENTIAL_H_
#define FEDRA_ML_SEQUENTIAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/ml/layer.h"
#include "fedra/ml/model.h"

namespace fedra {

class Sequential final : public Model {
 public:
  class Builder {
   public:
    explicit Builder(Shape input_shape);
    Builder& Dense(int64_t units);
    Builder& ReLU();
    Builder& Conv2D(const Conv2DOptions& options);
    Builder& MaxPool2D(int64_t kernel, int64_t stride = 0);
    Builder& Flatten();
    Builder& Dropout(double rate);
    // A custom layer. It must accept current_shape() as input.
    Builder& Add(std::unique_ptr<Layer> layer);
    // Output shape of the layers added so far.
    const Shape& current_shape() const { return shape_; }

    // The first error met while adding layers, if any, or the initialised model.
    StatusOr<std::unique_ptr<Sequential>> Build(std::string name, uint64_t seed);

   private:
    Builder& Append(StatusOr<std::unique_ptr<Layer>> layer);
    Shape input_shape_;
    Shape shape_;
    std::vector<std::unique_ptr<Layer>> layers_;
    Status status_;
  };

  std::string Name() const override { return name_; }
  Shape InputShape() const override { return input_shape_; }
  Shape OutputShape() const override;
  const Parameters& parameters() const override { return params_; }
  Parameters& mutable_parameters() override { return params_; }
  const Parameters& gradients() const override { return grads_; }
  Parameters& mutable_gradients() override { return grads_; }
  Status SetParameters(const Parameters& params) override;
  void SetTraining(bool training) override { training_ = training; }
  const Matrix& Forward(const Matrix& x) override;
  void Backward(const Matrix& dout) override;
  void ReseedRandomState(uint64_t seed) override;
  std::unique_ptr<Model> Clone() const override;

  size_t num_layers() const { return layers_.size(); }
  const Layer& layer(size_t i) const { return *layers_.at(i); }

 private:
  Sequential(std::string name, Shape input_shape, std::vector<std::unique_ptr<Layer>> layers);
  void BindLayers();

  std::string name_;
  Shape input_shape_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<size_t> first_tensor_;  // index of each layer's first tensor in params_
  Parameters params_;
  Parameters grads_;
  bool training_ = true;
  std::vector<Matrix> activations_;  // activations_[i] is the input of layer i
  Matrix delta_, delta_next_;
};

}  // namespace fedra

#endif  // FEDRA_ML_SEQUENTIAL_H_
