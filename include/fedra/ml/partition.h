// Partitioners split a dataset's example indices among clients to simulate federated data.
// Each returns one index list per client; the lists are disjoint and (unless stated) cover
// every example. Each client's list is sorted ascending. Deterministic for a given Rng seed.
// Invalid inputs (no clients, a label outside [0, num_classes), alpha not finite and > 0, ...)
// give InvalidArgument.
//
// Skew models follow the NIID-Bench study (Li et al., "Federated Learning on Non-IID Data
// Silos: An Experimental Study", ICDE 2022).
#ifndef FEDRA_ML_PARTITION_H_
#define FEDRA_ML_PARTITION_H_

#include <cstddef>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"

namespace fedra {

using Partition = std::vector<std::vector<size_t>>;

// Shuffles [0, num_examples) and deals it into num_clients near-equal parts (sizes differ by
// at most one). InvalidArgument if num_clients == 0 or num_clients > num_examples.
StatusOr<Partition> PartitionIid(size_t num_examples, size_t num_clients, Rng& rng);

// Label skew: for each class, proportions p ~ Dirichlet(alpha) over clients decide how that
// class's examples are split; as in NIID-Bench, clients already holding >= N / num_clients
// examples get no share of later classes. Small alpha = strong skew. Redraws (as NIID-Bench does)
// until every client holds at least `min_size` examples; InvalidArgument if that is impossible
// (num_clients * min_size > examples) or not reached in 1000 attempts.
StatusOr<Partition> PartitionDirichlet(const std::vector<int>& labels, int num_classes,
                                       size_t num_clients, double alpha, Rng& rng,
                                       size_t min_size = 10);

// "#C = k" label skew: each client is assigned k distinct classes (client i gets class
// i % num_classes first, so every class is held by some client when
// num_clients * k >= num_classes), and each class's examples are split evenly among the
// clients holding it. Examples of a class nobody holds are left out. InvalidArgument unless
// 1 <= classes_per_client <= num_classes.
StatusOr<Partition> PartitionShards(const std::vector<int>& labels, int num_classes,
                                    size_t num_clients, int classes_per_client, Rng& rng);

// Quantity skew: client sizes follow proportions q ~ Dirichlet(alpha); labels stay IID.
// Every client gets at least one example: each gets one, then the other
// num_examples - num_clients are split by q. InvalidArgument if num_clients == 0 or
// num_clients > num_examples.
StatusOr<Partition> PartitionQuantitySkew(size_t num_examples, size_t num_clients, double alpha,
                                          Rng& rng);

}  // namespace fedra

#endif  // FEDRA_ML_PARTITION_H_
