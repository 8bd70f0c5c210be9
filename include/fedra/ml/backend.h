// What computes fedra's layers on this machine: the BLAS library and the CPU kernel it chose
// at run time, and the instruction set of fedra's own element-wise kernels. Logged by the
// programs at start-up and printed by the benchmarks, so a figure says what produced it.
#ifndef FEDRA_ML_BACKEND_H_
#define FEDRA_ML_BACKEND_H_

#include <string>

namespace fedra {

// e.g. "GEMM: OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64 (core Zen);
// element-wise kernels: avx2".
std::string MlBackendInfo();

}  // namespace fedra

#endif  // FEDRA_ML_BACKEND_H_
