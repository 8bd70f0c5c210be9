// TorchScriptTrainer (optional component fedra::torch, built when Debian libtorch-dev is
// found): federates a TorchScript module — a `.pt` file from torch.jit.script(model).save() —
// as a fedra LocalTrainer. The module's parameters map by name to fedra Parameters with
// PyTorch's names and layouts, which fedra's own layers use too, so a fedra-server whose
// --model has the same layout (e.g. `mlp` = nn.Sequential(Flatten, Linear(784, 200), ReLU,
// Linear(200, 200), ReLU, Linear(200, 10))) runs TorchScript clients, fedra clients or both.
//
// Training: the module's forward(x) returns logits; the loss is cross entropy (mean over the
// batch); SGD (momentum, weight decay) or AdamW per FitConfig, FedProx's proximal term,
// gradient clipping; the batch order is drawn from the round's Rng. SCAFFOLD is refused.
//
// Thread-safety: one trainer per thread; libtorch's intra-op threads are set process-wide.
#ifndef FEDRA_TORCH_TORCHSCRIPT_TRAINER_H_
#define FEDRA_TORCH_TORCHSCRIPT_TRAINER_H_

#include <memory>
#include <string>

#include "fedra/fl/local_trainer.h"
#include "fedra/ml/dataset.h"

namespace fedra::torch {

class TorchScriptTrainer final : public LocalTrainer {
 public:
  // Loads `path` and copies the data into tensors shaped {n, example_shape...}. NotFound /
  // InvalidArgument naming the file when it does not load, has no parameters, or is not float32.
  // `test` may be empty.
  static StatusOr<std::unique_ptr<TorchScriptTrainer>> Load(const std::string& path,
                                                            const Dataset& train,
                                                            const Dataset& test);
  ~TorchScriptTrainer() override;

  // The module's parameters as fedra Parameters (names, shapes and values, in module order).
  Parameters parameters() const;

  StatusOr<FitResult> Fit(const Parameters& global, const FitConfig& config,
                          const std::map<std::string, Parameters>& broadcast, Rng& rng) override;
  StatusOr<EvaluateResult> Evaluate(const Parameters& global, const EvaluateTask& task) override;

  struct Impl;

 private:
  explicit TorchScriptTrainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// OK iff `global` has the module's names and shapes in the module's order; otherwise
// InvalidArgument listing the names that differ (missing on either side, other shapes).
Status CheckModuleLayout(const Parameters& module, const Parameters& global);

// Sets libtorch's intra-op threads (process-wide); fedra-sim gives every task one.
void SetTorchThreads(int threads);

}  // namespace fedra::torch

#endif  // FEDRA_TORCH_TORCHSCRIPT_TRAINER_H_
