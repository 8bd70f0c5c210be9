// --threads for programs that train one model (fedra-train, fedra-client).
#ifndef FEDRA_SRC_APPS_THREAD_FLAGS_H_
#define FEDRA_SRC_APPS_THREAD_FLAGS_H_

// Only the name: CLI11 is expensive to compile, so only the files that add flags include it.
namespace CLI {
class App;
}  // namespace CLI

namespace fedra::apps {

// Adds --threads (default: every core of the machine) to `app`.
void AddModelThreadsOption(CLI::App& app, int* threads);
// `requested`, or the machine's core count with a warning when more were asked for.
int CapModelThreads(int requested);

}  // namespace fedra::apps

#endif  // FEDRA_SRC_APPS_THREAD_FLAGS_H_
