// The subset is copied into the inner model before every forward pass and its gradients out
// after every backward pass: adapters and heads are small next to the encoder's work.
#include "fedra/ml/trainable_subset.h"

#include <string>
#include <vector>

namespace fedra {
namespace {

class TrainableSubset final : public Model {
 public:
  TrainableSubset(std::unique_ptr<Model> inner, std::vector<size_t> index)
      : inner_(std::move(inner)), index_(std::move(index)) {
    const Parameters& all = inner_->parameters();
    for (size_t i : index_) params_.Add(all.info(i).name, all.info(i).shape);
    grads_ = Parameters::ZerosLike(params_);
    for (size_t k = 0; k < index_.size(); ++k) params_.Tensor(k) = all.Tensor(index_[k]);
  }

  std::string Name() const override { return inner_->Name(); }
  Shape InputShape() const override { return inner_->InputShape(); }
  Shape OutputShape() const override { return inner_->OutputShape(); }
  const Parameters& parameters() const override { return params_; }
  Parameters& mutable_parameters() override { return params_; }
  const Parameters& gradients() const override { return grads_; }
  Parameters& mutable_gradients() override { return grads_; }
  Status SetParameters(const Parameters& params) override {
    FEDRA_RETURN_IF_ERROR(params_.CheckSameLayout(params));
    FEDRA_RETURN_IF_ERROR(params.CheckFinite());
    params_.CopyFrom(params);
    return OkStatus();
  }
  void SetTraining(bool training) override { inner_->SetTraining(training); }
  const Matrix& Forward(const Matrix& x) override {
    CopyIn(*inner_);
    return inner_->Forward(x);
  }
  void Backward(const Matrix& dout) override {
    inner_->Backward(dout);
    const Parameters& all = inner_->gradients();
    for (size_t k = 0; k < index_.size(); ++k) grads_.Tensor(k) = all.Tensor(index_[k]);
  }
  void ReseedRandomState(uint64_t seed) override { inner_->ReseedRandomState(seed); }
  Status SetThreads(int threads) override { return inner_->SetThreads(threads); }
  std::unique_ptr<Model> Clone() const override {
    auto inner = inner_->Clone();
    CopyIn(*inner);
    return std::make_unique<TrainableSubset>(std::move(inner), index_);
  }

 private:
  void CopyIn(Model& m) const {
    Parameters& all = m.mutable_parameters();
    for (size_t k = 0; k < index_.size(); ++k) all.Tensor(index_[k]) = params_.Tensor(k);
  }

  std::unique_ptr<Model> inner_;
  std::vector<size_t> index_;  // of each trainable tensor in the inner model
  Parameters params_, grads_;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> NewTrainableSubset(
    std::unique_ptr<Model> inner, const std::function<bool(std::string_view name)>& trainable) {
  std::vector<size_t> index;
  const Parameters& all = inner->parameters();
  for (size_t i = 0; i < all.num_tensors(); ++i)
    if (trainable(all.info(i).name)) index.push_back(i);
  if (index.empty())
    return InvalidArgumentError("no tensor of model '" + inner->Name() + "' is trainable");
  return std::unique_ptr<Model>(std::make_unique<TrainableSubset>(std::move(inner), index));
}

}  // namespace fedra
