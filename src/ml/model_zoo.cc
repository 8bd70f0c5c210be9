#include "fedra/ml/model_zoo.h"

#include "fedra/ml/sequential.h"

namespace fedra {
namespace {

StatusOr<std::unique_ptr<Model>> Finish(StatusOr<std::unique_ptr<Sequential>> built) {
  if (!built.ok()) return built.status();
  return std::unique_ptr<Model>(std::move(built).value());
}

Status CheckClasses(int num_classes) {
  if (num_classes < 1)
    return InvalidArgumentError("need at least one class/output, got " +
                                std::to_string(num_classes));
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<Model>> NewLinearRegression(const Shape& input, int64_t outputs,
                                                     uint64_t seed) {
  if (outputs < 1) return InvalidArgumentError("linear regression needs outputs >= 1");
  return Finish(Sequential::Builder(input).Dense(outputs).Build("linear", seed));
}

StatusOr<std::unique_ptr<Model>> NewSoftmaxRegression(const Shape& input, int num_classes,
                                                      uint64_t seed) {
  FEDRA_RETURN_IF_ERROR(CheckClasses(num_classes));
  return Finish(Sequential::Builder(input).Dense(num_classes).Build("logreg", seed));
}

StatusOr<std::unique_ptr<Model>> NewMlp(const Shape& input, int num_classes, uint64_t seed,
                                        const std::vector<int64_t>& hidden) {
  FEDRA_RETURN_IF_ERROR(CheckClasses(num_classes));
  Sequential::Builder b(input);
  b.Flatten();
  for (int64_t units : hidden) b.Dense(units).ReLU();
  return Finish(b.Dense(num_classes).Build("mlp", seed));
}

namespace {

// conv(pad) - ReLU - pool - conv - ReLU - pool - 120 - ReLU - 84 - ReLU - classes.
StatusOr<std::unique_ptr<Model>> LeNetStack(const Shape& input, int num_classes, uint64_t seed,
                                            int64_t first_padding, std::string name) {
  FEDRA_RETURN_IF_ERROR(CheckClasses(num_classes));
  return Finish(Sequential::Builder(input)
                    .Conv2D({.out_channels = 6, .kernel = 5, .stride = 1, .padding = first_padding})
                    .ReLU()
                    .MaxPool2D(2)
                    .Conv2D({.out_channels = 16, .kernel = 5, .stride = 1, .padding = 0})
                    .ReLU()
                    .MaxPool2D(2)
                    .Flatten()
                    .Dense(120)
                    .ReLU()
                    .Dense(84)
                    .ReLU()
                    .Dense(num_classes)
                    .Build(std::move(name), seed));
}

}  // namespace

StatusOr<std::unique_ptr<Model>> NewLeNet(const Shape& input, int num_classes, uint64_t seed) {
  return LeNetStack(input, num_classes, seed, /*first_padding=*/2, "cnn");
}

StatusOr<std::unique_ptr<Model>> NewSimpleCnn(const Shape& input, int num_classes, uint64_t seed) {
  return LeNetStack(input, num_classes, seed, /*first_padding=*/0, "simple-cnn");
}

StatusOr<std::unique_ptr<Model>> NewModelByName(const std::string& name, const Shape& input,
                                                int num_classes, uint64_t seed) {
  if (name == "linear") return NewLinearRegression(input, num_classes, seed);
  if (name == "logreg") return NewSoftmaxRegression(input, num_classes, seed);
  if (name == "mlp") return NewMlp(input, num_classes, seed);
  if (name == "cnn") return NewLeNet(input, num_classes, seed);
  if (name == "simple-cnn") return NewSimpleCnn(input, num_classes, seed);
  return InvalidArgumentError("unknown model '" + name +
                              "' (expected linear, logreg, mlp, cnn or simple-cnn)");
}

}  // namespace fedra
