// Private to the net layer: the monotonic clock the registry and the task board measure
// liveness and stalls with.
#ifndef FEDRA_SRC_NET_STEADY_TIME_H_
#define FEDRA_SRC_NET_STEADY_TIME_H_

#include <chrono>

namespace fedra::net {

using SteadyTime = std::chrono::steady_clock::time_point;

inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_STEADY_TIME_H_
