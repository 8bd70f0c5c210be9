// Splitting one dataset among simulated clients with a partitioner (see ml/partition.h).
#ifndef FEDRA_FL_FEDERATED_DATA_H_
#define FEDRA_FL_FEDERATED_DATA_H_

#include <string>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/fl/simulation.h"
#include "fedra/ml/dataset.h"

namespace fedra {

struct PartitionConfig {
  std::string kind = "iid";    // iid, dirichlet, shards, quantity
  double alpha = 0.5;          // dirichlet (label skew) and quantity (size skew)
  int classes_per_client = 2;  // shards
  size_t min_size = 10;        // dirichlet: minimum examples per client
  // Fraction of each client's examples held out as its local test set (0: none).
  double local_test_fraction = 0.0;
};

// One SimulatedClient per part. InvalidArgument for an unknown kind, label skew on regression
// data, or the partitioner's own errors.
StatusOr<std::vector<SimulatedClient>> PartitionClients(const Dataset& data, size_t num_clients,
                                                        const PartitionConfig& config, Rng& rng);

}  // namespace fedra

#endif  // FEDRA_FL_FEDERATED_DATA_H_
