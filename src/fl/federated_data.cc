#include "fedra/fl/federated_data.h"

#include "fedra/ml/partition.h"

namespace fedra {
namespace {

StatusOr<Partition> MakePartition(const Dataset& data, size_t n, const PartitionConfig& c,
                                  Rng& rng) {
  if (c.kind == "iid") return PartitionIid(data.size(), n, rng);
  if (c.kind == "quantity") return PartitionQuantitySkew(data.size(), n, c.alpha, rng);
  if (c.kind == "dirichlet" || c.kind == "shards") {
    if (!data.is_classification())
      return InvalidArgumentError("label skew ('" + c.kind + "') needs class labels");
    if (c.kind == "dirichlet")
      return PartitionDirichlet(data.Labels(), data.num_classes, n, c.alpha, rng, c.min_size);
    return PartitionShards(data.Labels(), data.num_classes, n, c.classes_per_client, rng);
  }
  return InvalidArgumentError("unknown partition '" + c.kind +
                              "' (expected iid, dirichlet, shards or quantity)");
}

}  // namespace

StatusOr<std::vector<SimulatedClient>> PartitionClients(const Dataset& data, size_t num_clients,
                                                        const PartitionConfig& config, Rng& rng) {
  if (!(config.local_test_fraction >= 0 && config.local_test_fraction < 1)) {
    return InvalidArgumentError("local test fraction must be in [0, 1)");
  }
  FEDRA_ASSIGN_OR_RETURN(Partition parts, MakePartition(data, num_clients, config, rng));
  std::vector<SimulatedClient> clients(parts.size());
  for (size_t c = 0; c < parts.size(); ++c) {
    Dataset mine = data.Subset(parts[c]);
    if (config.local_test_fraction > 0) {
      Rng split_rng = rng.Split(c);
      TrainTestSplit split = SplitTrainTest(mine, config.local_test_fraction, split_rng);
      clients[c] = {std::move(split.train), std::move(split.test)};
    } else {
      clients[c].train = std::move(mine);
      clients[c].test.example_shape = data.example_shape;
      clients[c].test.num_classes = data.num_classes;
    }
  }
  return clients;
}

}  // namespace fedra
