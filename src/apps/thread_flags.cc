#include "apps/thread_flags.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <thread>

#include "fedra/core/logging.h"

namespace fedra::apps {
namespace {

int MachineThreads() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

}  // namespace

void AddModelThreadsOption(CLI::App& app, int* threads) {
  *threads = MachineThreads();
  app.add_option("--threads", *threads,
                 "threads for the model's forward and backward passes (the batch is split "
                 "between them); more than the machine has is capped")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

int CapModelThreads(int requested) {
  const int cores = MachineThreads();
  if (requested <= cores) return requested;
  Logger("threads")->warn("--threads {} is more than the {} cores of this machine: using {}",
                          requested, cores, cores);
  return cores;
}

}  // namespace fedra::apps
