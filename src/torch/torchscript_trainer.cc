#include "fedra/torch/torchscript_trainer.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

namespace fedra::torch {
namespace {

std::string ShapeText(const Shape& s) {
  std::string out = "{";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "}";
}

// {n, example_shape...} float32 tensor holding a copy of the dataset's examples: fedra keeps
// example i in column i of a column-major matrix, i.e. row-major {n, features}.
::torch::Tensor Examples(const Dataset& d) {
  std::vector<int64_t> shape = {static_cast<int64_t>(d.size())};
  shape.insert(shape.end(), d.example_shape.begin(), d.example_shape.end());
  return ::torch::from_blob(const_cast<float*>(d.features.data()),
                            {static_cast<int64_t>(d.size()), d.features.rows()}, ::torch::kFloat32)
      .reshape(shape)
      .clone();
}

::torch::Tensor Labels(const Dataset& d) {
  auto t = ::torch::empty({static_cast<int64_t>(d.size())}, ::torch::kInt64);
  auto* p = t.data_ptr<int64_t>();
  for (size_t i = 0; i < d.size(); ++i) p[i] = d.Label(i);
  return t;
}

}  // namespace

struct TorchScriptTrainer::Impl {
  std::string path;
  ::torch::jit::Module module;
  std::vector<std::string> names;
  std::vector<::torch::Tensor> params;  // the module's parameter tensors (shared storage)
  Parameters layout;
  ::torch::Tensor train_x, train_y, test_x, test_y;

  // Copies `global` into the module's parameters.
  Status Set(const Parameters& global) {
    FEDRA_RETURN_IF_ERROR(CheckModuleLayout(layout, global));
    ::torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      const TensorInfo& info = global.info(i);
      params[i].copy_(::torch::from_blob(const_cast<float*>(global.data() + info.offset),
                                         params[i].sizes(), ::torch::kFloat32));
    }
    return OkStatus();
  }

  Parameters Get() const {
    Parameters out = Parameters::ZerosLike(layout);
    for (size_t i = 0; i < params.size(); ++i) {
      const auto t = params[i].detach().contiguous();
      std::memcpy(out.data() + out.info(i).offset, t.data_ptr<float>(), out.info(i).size * 4);
    }
    return out;
  }

  ::torch::Tensor Logits(const ::torch::Tensor& x) { return module.forward({x}).toTensor(); }
};

TorchScriptTrainer::TorchScriptTrainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TorchScriptTrainer::~TorchScriptTrainer() = default;

StatusOr<std::unique_ptr<TorchScriptTrainer>> TorchScriptTrainer::Load(const std::string& path,
                                                                       const Dataset& train,
                                                                       const Dataset& test) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  try {
    impl->module = ::torch::jit::load(path);
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    return NotFoundError("TorchScript file " + path + " does not load: " + why);
  }
  for (const auto& p : impl->module.named_parameters(/*recurse=*/true)) {
    if (p.value.scalar_type() != ::torch::kFloat32)
      return InvalidArgumentError(path + ": parameter " + p.name + " is not float32");
    Shape shape(p.value.sizes().begin(), p.value.sizes().end());
    impl->layout.Add(p.name, shape);
    impl->names.push_back(p.name);
    impl->params.push_back(p.value);
  }
  if (impl->params.empty()) return InvalidArgumentError(path + " has no parameters to federate");
  if (train.size() == 0 || !train.is_classification())
    return InvalidArgumentError("a TorchScript trainer needs labelled training data");
  impl->train_x = Examples(train);
  impl->train_y = Labels(train);
  if (test.size() > 0) {
    impl->test_x = Examples(test);
    impl->test_y = Labels(test);
  }
  return std::unique_ptr<TorchScriptTrainer>(new TorchScriptTrainer(std::move(impl)));
}

Parameters TorchScriptTrainer::parameters() const { return impl_->Get(); }

StatusOr<FitResult> TorchScriptTrainer::Fit(const Parameters& global, const FitConfig& config,
                                            const std::map<std::string, Parameters>&, Rng& rng) {
  if (config.scaffold) return InvalidArgumentError("the TorchScript trainer does not do SCAFFOLD");
  FEDRA_RETURN_IF_ERROR(impl_->Set(global).WithContext(impl_->path));
  std::unique_ptr<::torch::optim::Optimizer> optimizer;
  if (config.optimizer == "sgd") {
    optimizer = std::make_unique<::torch::optim::SGD>(
        impl_->params, ::torch::optim::SGDOptions(config.learning_rate)
                           .momentum(config.momentum)
                           .weight_decay(config.weight_decay));
  } else if (config.optimizer == "adam") {
    optimizer = std::make_unique<::torch::optim::Adam>(
        impl_->params,
        ::torch::optim::AdamOptions(config.learning_rate).weight_decay(config.weight_decay));
  } else if (config.optimizer == "adamw") {
    optimizer = std::make_unique<::torch::optim::AdamW>(
        impl_->params,
        ::torch::optim::AdamWOptions(config.learning_rate).weight_decay(config.weight_decay));
  } else {
    return InvalidArgumentError("unknown local optimizer '" + config.optimizer + "'");
  }
  std::vector<::torch::Tensor> anchor;  // FedProx: the global parameters
  if (config.proximal_mu > 0) {
    for (const auto& p : impl_->params) anchor.push_back(p.detach().clone());
  }
  impl_->module.train(true);
  const int64_t n = impl_->train_x.size(0);
  const int64_t batch = std::max(1, config.batch_size);
  std::vector<int64_t> order(static_cast<size_t>(n));
  double loss_sum = 0;
  int64_t seen = 0;
  int64_t steps = 0;
  const bool by_steps = config.local_steps > 0 && n > 0;  // no data: no steps to count
  try {
    for (int epoch = 0; by_steps ? steps < config.local_steps : epoch < config.epochs; ++epoch) {
      for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
      for (int64_t i = n - 1; i > 0; --i)  // the round's stream orders the batches
        std::swap(order[static_cast<size_t>(i)],
                  order[rng.UniformInt(static_cast<uint64_t>(i) + 1)]);
      const auto index = ::torch::from_blob(order.data(), {n}, ::torch::kInt64);
      loss_sum = 0;
      seen = 0;
      for (int64_t start = 0; start < n; start += batch) {
        if (by_steps && steps == config.local_steps) break;
        const auto idx = index.slice(0, start, std::min(n, start + batch));
        optimizer->zero_grad();
        auto loss = ::torch::nn::functional::cross_entropy(
            impl_->Logits(impl_->train_x.index_select(0, idx)),
            impl_->train_y.index_select(0, idx));
        loss.backward();
        if (config.proximal_mu > 0) {
          ::torch::NoGradGuard no_grad;
          for (size_t k = 0; k < impl_->params.size(); ++k) {
            impl_->params[k].mutable_grad().add_(impl_->params[k] - anchor[k], config.proximal_mu);
          }
        }
        if (config.max_grad_norm > 0)
          ::torch::nn::utils::clip_grad_norm_(impl_->params, config.max_grad_norm);
        optimizer->step();
        loss_sum += loss.item<double>() * static_cast<double>(idx.size(0));
        seen += idx.size(0);
        ++steps;
      }
    }
  } catch (const std::exception& e) {
    std::string why = e.what();
    return FailedPreconditionError(impl_->path +
                                   ": training failed: " + why.substr(0, why.find('\n')));
  }
  FitResult result{.update = impl_->Get(),
                   .num_examples = static_cast<size_t>(n),
                   .local_steps = steps,
                   .train_loss = loss_sum / static_cast<double>(std::max<int64_t>(seen, 1))};
  result.update.SubInPlace(global);
  return result;
}

StatusOr<EvaluateResult> TorchScriptTrainer::Evaluate(const Parameters& global,
                                                      const EvaluateTask&) {
  if (!impl_->test_x.defined())
    return FailedPreconditionError("this client has no local test data");
  FEDRA_RETURN_IF_ERROR(impl_->Set(global).WithContext(impl_->path));
  impl_->module.eval();
  ::torch::NoGradGuard no_grad;
  try {
    const auto logits = impl_->Logits(impl_->test_x);
    const double loss =
        ::torch::nn::functional::cross_entropy(logits, impl_->test_y).item<double>();
    const double acc =
        logits.argmax(1).eq(impl_->test_y).to(::torch::kFloat64).mean().item<double>();
    return EvaluateResult{
        .num_examples = static_cast<size_t>(impl_->test_x.size(0)), .loss = loss, .accuracy = acc};
  } catch (const std::exception& e) {
    std::string why = e.what();
    return FailedPreconditionError(impl_->path +
                                   ": evaluation failed: " + why.substr(0, why.find('\n')));
  }
}

Status CheckModuleLayout(const Parameters& module, const Parameters& global) {
  if (module.SameLayout(global)) return OkStatus();
  std::map<std::string, Shape> mine, theirs;
  for (const auto& t : module.tensors()) mine[t.name] = t.shape;
  for (const auto& t : global.tensors()) theirs[t.name] = t.shape;
  std::string diff;
  auto add = [&](const std::string& s) { diff += (diff.empty() ? "" : "; ") + s; };
  for (const auto& [name, shape] : theirs) {
    auto it = mine.find(name);
    if (it == mine.end()) {
      add("only the server's model has " + name + " " + ShapeText(shape));
    } else if (it->second != shape) {
      add(name + " is " + ShapeText(shape) + " on the server, " + ShapeText(it->second) +
          " in the module");
    }
  }
  for (const auto& [name, shape] : mine) {
    if (!theirs.contains(name)) add("only the module has " + name + " " + ShapeText(shape));
  }
  if (diff.empty()) diff = "the same tensors in another order";
  return InvalidArgumentError("the TorchScript module does not match the server's model: " + diff);
}

void SetTorchThreads(int threads) { ::torch::set_num_threads(std::max(1, threads)); }

}  // namespace fedra::torch
