// Sequential: a Model that applies layers in order. Built by chaining, each new layer taking
// the output shape of the previous one; Build() lays out all parameters in one Parameters
// (tensor names "<layer index>.<param>", e.g. "0.weight", as PyTorch's nn.Sequential names
// its state_dict) and initialises them from a seed.
//
//   auto model = Sequential::Builder({1, 28, 28}).Flatten().Dense(200).ReLU().Dense(10)
//                    .Build("mlp", /*seed=*/1);
//
// With SetThreads(n), Forward/Backward split the batch into n contiguous shards that n copies
// of the layers (sharing the weights, each with its own gradient buffer) process in parallel;
// the shards' gradients are then summed in a fixed order. Results are bit-identical run to
// run for a fixed n, and differ in the last bits between thread counts (another summation
// order; dropout draws its masks per shard).
//
// Thread-safety: not thread-safe (see Model).
#ifndef FEDRA_ML_SEQUENTIAL_H_
#define FEDRA_ML_SEQUENTIAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/ml/layer.h"
#include "fedra/ml/model.h"

namespace fedra {
namespace internal {
class ShardRunner;
}  // namespace internal

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

  ~Sequential() override;

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
  Status SetThreads(int threads) override;
  std::unique_ptr<Model> Clone() const override;

  size_t num_layers() const { return stacks_[0].layers.size(); }
  const Layer& layer(size_t i) const { return *stacks_[0].layers.at(i); }

 private:
  // One copy of the layers with its activations; stacks_[0] writes grads_, stack w > 0 writes
  // shard_grads_[w - 1].
  struct Stack {
    std::vector<std::unique_ptr<Layer>> layers;
    std::vector<Matrix> activations;  // activations[i] is the input of layer i
    Matrix delta, delta_next;
  };

  Sequential(std::string name, Shape input_shape, std::vector<std::unique_ptr<Layer>> layers);
  void BindStack(Stack& stack, Parameters& grads);
  void ForwardStack(Stack& stack);
  void BackwardStack(Stack& stack);
  // Runs fn(shard) for shards [0, shards_) on the pool (or inline for one shard).
  void ForEachShard(const std::function<void(size_t)>& fn);
  Eigen::Index ShardBegin(size_t shard) const;

  std::string name_;
  Shape input_shape_;
  std::vector<size_t> first_tensor_;  // index of each layer's first tensor in params_
  Parameters params_;
  Parameters grads_;
  bool training_ = true;
  std::vector<Stack> stacks_;                      // one per thread; at least one
  std::vector<Parameters> shard_grads_;            // gradients of stacks 1..n-1
  std::unique_ptr<internal::ShardRunner> runner_;  // null with one thread
  Eigen::Index batch_ = 0;                         // batch of the last Forward
  size_t shards_ = 1;                              // stacks that took part in it
  Matrix output_;                                  // the shards' outputs side by side
};

}  // namespace fedra

#endif  // FEDRA_ML_SEQUENTIAL_H_
