#include "fedra/ml/partition.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace fedra {
namespace {

constexpr int kMaxDirichletAttempts = 1000;

void SortEach(Partition* partition) {
  for (auto& indices : *partition) std::sort(indices.begin(), indices.end());
}

// Cut points splitting `n` items by cumulative `proportions` (floored, like NIID-Bench's
// (cumsum(p) * n).astype(int)); the last cut is always n.
std::vector<size_t> CutPoints(const std::vector<double>& proportions, size_t n) {
  std::vector<size_t> cuts(proportions.size());
  double cumulative = 0;
  for (size_t i = 0; i < proportions.size(); ++i) {
    cumulative += proportions[i];
    const double cut = std::floor(cumulative * static_cast<double>(n));
    cuts[i] = std::min(n, static_cast<size_t>(std::max(0.0, cut)));
  }
  if (!cuts.empty()) cuts.back() = n;
  return cuts;
}

// Cut points splitting `n` items into `parts` contiguous runs whose sizes differ by at most
// one, larger runs first (like np.array_split).
std::vector<size_t> EvenCuts(size_t n, size_t parts) {
  const size_t base = n / parts;
  const size_t extra = n % parts;
  std::vector<size_t> cuts(parts);
  for (size_t i = 0; i < parts; ++i) cuts[i] = (i + 1) * base + std::min(i + 1, extra);
  return cuts;
}

// Appends items[cuts[i-1], cuts[i]) to client i.
void DealByCuts(const std::vector<size_t>& items, const std::vector<size_t>& cuts,
                Partition* partition) {
  size_t begin = 0;
  for (size_t i = 0; i < cuts.size(); ++i) {
    const size_t end = std::max(begin, cuts[i]);
    auto& dst = (*partition)[i];
    dst.insert(dst.end(), items.begin() + static_cast<std::ptrdiff_t>(begin),
               items.begin() + static_cast<std::ptrdiff_t>(end));
    begin = end;
  }
}

Status ValidateLabels(const std::vector<int>& labels, int num_classes, size_t num_clients) {
  if (num_clients == 0) return InvalidArgumentError("num_clients is 0, expected > 0");
  if (num_classes <= 0) {
    return InvalidArgumentError("num_classes is " + std::to_string(num_classes) + ", expected > 0");
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      return InvalidArgumentError("label of example " + std::to_string(i) + " is " +
                                  std::to_string(labels[i]) + ", expected a class in [0, " +
                                  std::to_string(num_classes) + ")");
    }
  }
  return OkStatus();
}

Status ValidateAlpha(double alpha) {
  if (!(alpha > 0) || !std::isfinite(alpha)) {
    return InvalidArgumentError("Dirichlet alpha is " + std::to_string(alpha) +
                                ", expected finite and > 0");
  }
  return OkStatus();
}

std::vector<std::vector<size_t>> IndicesByClass(const std::vector<int>& labels, int num_classes) {
  std::vector<std::vector<size_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) by_class[static_cast<size_t>(labels[i])].push_back(i);
  return by_class;
}

// One NIID-Bench draw: per class, Dirichlet proportions over clients, with the proportion of
// every client already holding >= n / num_clients examples set to zero.
Partition DrawDirichletOnce(const std::vector<std::vector<size_t>>& by_class, size_t n,
                            size_t num_clients, double alpha, Rng& rng) {
  Partition partition(num_clients);
  for (std::vector<size_t> items : by_class) {
    if (items.empty()) continue;
    rng.Shuffle(items);
    std::vector<double> p = rng.Dirichlet(alpha, num_clients);
    double sum = 0;
    for (size_t j = 0; j < num_clients; ++j) {
      if (partition[j].size() * num_clients >= n) p[j] = 0;
      sum += p[j];
    }
    // All mass fell on full clients (tiny alpha): spread evenly over the others instead.
    if (sum <= 0) {
      for (size_t j = 0; j < num_clients; ++j) p[j] = partition[j].size() * num_clients < n;
      sum = std::accumulate(p.begin(), p.end(), 0.0);
    }
    for (double& x : p) x /= sum;
    DealByCuts(items, CutPoints(p, items.size()), &partition);
  }
  return partition;
}

size_t MinSize(const Partition& partition) {
  size_t m = partition.empty() ? 0 : partition[0].size();
  for (const auto& indices : partition) m = std::min(m, indices.size());
  return m;
}

// Client i gets class i % num_classes, then k - 1 further distinct classes drawn uniformly
// (NIID-Bench's rejection loop). Returns each client's classes.
std::vector<std::vector<int>> AssignClasses(int num_classes, size_t num_clients, int k, Rng& rng) {
  std::vector<std::vector<int>> contains(num_clients);
  for (size_t i = 0; i < num_clients; ++i) {
    auto& current = contains[i];
    current.push_back(static_cast<int>(i % static_cast<size_t>(num_classes)));
    while (current.size() < static_cast<size_t>(k)) {
      const int c = static_cast<int>(rng.UniformInt(static_cast<uint64_t>(num_classes)));
      if (std::find(current.begin(), current.end(), c) == current.end()) current.push_back(c);
    }
  }
  return contains;
}

// [0, num_examples) in random order, or InvalidArgument when there are fewer examples than
// clients (every client needs at least one).
StatusOr<std::vector<size_t>> ShuffledIndicesForClients(size_t num_examples, size_t num_clients,
                                                        Rng& rng) {
  if (num_clients > num_examples) {
    return InvalidArgumentError("num_clients (" + std::to_string(num_clients) +
                                ") exceeds num_examples (" + std::to_string(num_examples) +
                                "); every client needs at least one example");
  }
  std::vector<size_t> items(num_examples);
  std::iota(items.begin(), items.end(), size_t{0});
  rng.Shuffle(items);
  return items;
}

}  // namespace

StatusOr<Partition> PartitionIid(size_t num_examples, size_t num_clients, Rng& rng) {
  if (num_clients == 0) return InvalidArgumentError("num_clients is 0, expected > 0");
  FEDRA_ASSIGN_OR_RETURN(std::vector<size_t> items,
                         ShuffledIndicesForClients(num_examples, num_clients, rng));
  Partition partition(num_clients);
  DealByCuts(items, EvenCuts(num_examples, num_clients), &partition);
  SortEach(&partition);
  return partition;
}

StatusOr<Partition> PartitionDirichlet(const std::vector<int>& labels, int num_classes,
                                       size_t num_clients, double alpha, Rng& rng,
                                       size_t min_size) {
  FEDRA_RETURN_IF_ERROR(ValidateLabels(labels, num_classes, num_clients));
  FEDRA_RETURN_IF_ERROR(ValidateAlpha(alpha));
  const size_t n = labels.size();
  if (min_size > 0 && num_clients > n / min_size) {
    return InvalidArgumentError("cannot give each of " + std::to_string(num_clients) +
                                " clients at least min_size = " + std::to_string(min_size) +
                                " of " + std::to_string(n) + " examples");
  }
  const auto by_class = IndicesByClass(labels, num_classes);
  for (int attempt = 0; attempt < kMaxDirichletAttempts; ++attempt) {
    Partition partition = DrawDirichletOnce(by_class, n, num_clients, alpha, rng);
    if (MinSize(partition) >= min_size) {
      SortEach(&partition);
      return partition;
    }
  }
  return InvalidArgumentError("Dirichlet partition with alpha = " + std::to_string(alpha) +
                              " did not give every client min_size = " + std::to_string(min_size) +
                              " examples in " + std::to_string(kMaxDirichletAttempts) +
                              " attempts; lower min_size or raise alpha");
}

StatusOr<Partition> PartitionShards(const std::vector<int>& labels, int num_classes,
                                    size_t num_clients, int classes_per_client, Rng& rng) {
  FEDRA_RETURN_IF_ERROR(ValidateLabels(labels, num_classes, num_clients));
  if (classes_per_client <= 0 || classes_per_client > num_classes) {
    return InvalidArgumentError("classes_per_client is " + std::to_string(classes_per_client) +
                                ", expected 1.." + std::to_string(num_classes));
  }
  const auto contains = AssignClasses(num_classes, num_clients, classes_per_client, rng);
  auto by_class = IndicesByClass(labels, num_classes);
  Partition partition(num_clients);
  for (int c = 0; c < num_classes; ++c) {
    std::vector<size_t> holders;
    for (size_t i = 0; i < num_clients; ++i) {
      const auto& cls = contains[i];
      if (std::find(cls.begin(), cls.end(), c) != cls.end()) holders.push_back(i);
    }
    if (holders.empty()) continue;  // nobody holds class c: its examples are left out
    auto& items = by_class[static_cast<size_t>(c)];
    rng.Shuffle(items);
    Partition split(holders.size());
    DealByCuts(items, EvenCuts(items.size(), holders.size()), &split);
    for (size_t h = 0; h < holders.size(); ++h) {
      auto& dst = partition[holders[h]];
      dst.insert(dst.end(), split[h].begin(), split[h].end());
    }
  }
  SortEach(&partition);
  return partition;
}

StatusOr<Partition> PartitionQuantitySkew(size_t num_examples, size_t num_clients, double alpha,
                                          Rng& rng) {
  if (num_clients == 0) return InvalidArgumentError("num_clients is 0, expected > 0");
  FEDRA_RETURN_IF_ERROR(ValidateAlpha(alpha));
  FEDRA_ASSIGN_OR_RETURN(std::vector<size_t> items,
                         ShuffledIndicesForClients(num_examples, num_clients, rng));
  // One example per client up front; the rest are split by q ~ Dirichlet(alpha).
  const std::vector<double> q = rng.Dirichlet(alpha, num_clients);
  std::vector<size_t> cuts = CutPoints(q, num_examples - num_clients);
  for (size_t i = 0; i < num_clients; ++i) cuts[i] += i + 1;
  Partition partition(num_clients);
  DealByCuts(items, cuts, &partition);
  SortEach(&partition);
  return partition;
}

}  // namespace fedra
