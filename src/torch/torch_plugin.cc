// fedra's TorchScript trainer as a trainer plugin for the stock programs:
//   fedra-client --trainer-plugin libfedra_torch_plugin.so --plugin-args model.pt ...
// --plugin-args is the .pt file; the trainer gets the program's data for this client, and
// its parameters must match the server's --model (checked every round, names in the error).
#include "fedra/fl/plugin.h"
#include "fedra/torch/torchscript_trainer.h"

namespace {

fedra::Plugin MakePlugin() {
  return {.name = "torchscript",
          .new_trainer = [](const fedra::TrainerPluginContext& c)
              -> fedra::StatusOr<std::unique_ptr<fedra::LocalTrainer>> {
            if (c.args.empty())
              return fedra::InvalidArgumentError("--plugin-args must name the TorchScript file");
            if (c.train == nullptr || c.test == nullptr)
              return fedra::InvalidArgumentError("the TorchScript plugin needs the program's data");
            // One intra-op thread per trainer: fedra-sim runs one trainer per worker thread.
            if (c.num_clients > 1) fedra::torch::SetTorchThreads(1);
            FEDRA_ASSIGN_OR_RETURN(
                auto t, fedra::torch::TorchScriptTrainer::Load(c.args, *c.train, *c.test));
            return std::unique_ptr<fedra::LocalTrainer>(std::move(t));
          }};
}

}  // namespace

FEDRA_PLUGIN(MakePlugin)
