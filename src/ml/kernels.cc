#include "kernels.h"

#include "fedra/ml/backend.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>

// Each element-wise kernel is compiled three times (AVX-512, AVX2, baseline x86-64) and the
// loader's ifunc resolver binds the widest one the CPU has. `#pragma omp simd` (with
// -fopenmp-simd, no OpenMP runtime) makes GCC vectorise the loops at -O2 whatever the trip
// count.
#if defined(__x86_64__) && !defined(FEDRA_NO_MULTIVERSION)
#define FEDRA_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FEDRA_MULTIVERSION
#endif

namespace fedra::internal {
namespace {

void SingleThreadedBlas() {
  // fedra splits work over its own threads; an OpenBLAS thread pool on top would oversubscribe
  // the cores (and a simulation runs one model per thread).
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

}  // namespace

void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  SingleThreadedBlas();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), alpha, a, static_cast<blasint>(lda), b,
              static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

std::string KernelInfo() {
  SingleThreadedBlas();
  std::string simd = "x86-64 baseline (SSE2)";
#if defined(__x86_64__) && !defined(FEDRA_NO_MULTIVERSION)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    simd = "avx512f";
  } else if (__builtin_cpu_supports("avx2")) {
    simd = "avx2";
  }
#endif
  return std::string("GEMM: ") + openblas_get_config() + " (core " + openblas_get_corename() +
         "); element-wise kernels: " + simd;
}

FEDRA_MULTIVERSION
void AddRowBias(float* y, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y + r * cols;
    const float b = bias[r];
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) row[j] += b;
  }
}

FEDRA_MULTIVERSION
void AddColBias(float* y, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t j = 0; j < cols; ++j) {
    float* col = y + j * rows;
#pragma omp simd
    for (int64_t r = 0; r < rows; ++r) col[r] += bias[r];
  }
}

FEDRA_MULTIVERSION
void RowSums(const float* x, int64_t rows, int64_t cols, float* sums, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; ++j) s += row[j];
    sums[r] = accumulate ? sums[r] + s : s;
  }
}

FEDRA_MULTIVERSION
void ColMajorRowSums(const float* x, int64_t rows, int64_t cols, float* sums) {
  std::fill(sums, sums + rows, 0.0f);
  for (int64_t j = 0; j < cols; ++j) {
    const float* col = x + j * rows;
#pragma omp simd
    for (int64_t r = 0; r < rows; ++r) sums[r] += col[r];
  }
}

FEDRA_MULTIVERSION
void Relu(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = std::max(x[i], 0.0f);
}

FEDRA_MULTIVERSION
void ReluBackward(const float* y, const float* dy, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

FEDRA_MULTIVERSION
bool AxpyTermsAllFinite(const float* acc, const float* w, const float* const* x, int64_t terms,
                        float* out, int64_t n) {
  // Blocks small enough for the stack and L1, so each term is one vectorised pass per block.
  constexpr int64_t kBlock = 2048;
  float v[kBlock];
  float s = 0.0f;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    if (acc) {
      std::copy(acc + b, acc + b + m, v);
    } else {
      std::fill(v, v + m, 0.0f);
    }
    for (int64_t t = 0; t < terms; ++t) {
      const float wt = w[t];
      const float* xt = x[t] + b;
#pragma omp simd
      for (int64_t i = 0; i < m; ++i) v[i] = v[i] + wt * xt[i];
    }
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < m; ++i) s += v[i] * 0.0f;  // NaN once any v[i] is NaN or Inf
    if (out) std::copy(v, v + m, out + b);
  }
  return s == 0.0f;
}

namespace {

// The output columns [*begin, *end) whose tap at kernel column kj falls inside an input row
// (stride 1: they read one contiguous run of it).
inline void ValidColumns(const ConvGeometry& g, int64_t kj, int64_t* begin, int64_t* end) {
  *begin = std::clamp<int64_t>(g.p - kj, 0, g.ow);
  *end = std::clamp<int64_t>(g.w + g.p - kj, *begin, g.ow);
}

}  // namespace

namespace {

// Walks the rows of col in order (channel, kernel row, kernel column, output row) and calls
// f(row, shift, begin, end): `row` is the offset of the input row that col row reads, or -1
// when it falls in the padding; output column oj taps input column oj * s + shift, which lies
// inside the row for oj in [begin, end) when s == 1.
template <typename F>
inline void ForEachColRow(const ConvGeometry& g, F&& f) {
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t ki = 0; ki < g.k; ++ki) {
      for (int64_t kj = 0; kj < g.k; ++kj) {
        int64_t begin, end;
        ValidColumns(g, kj, &begin, &end);
        for (int64_t oi = 0; oi < g.oh; ++oi) {
          const int64_t ii = oi * g.s - g.p + ki;
          f(ii < 0 || ii >= g.h ? -1 : (c * g.h + ii) * g.w, kj - g.p, begin, end);
        }
      }
    }
  }
}

}  // namespace

FEDRA_MULTIVERSION
void Im2Col(const ConvGeometry& geometry, const float* x, float* col) {
  const ConvGeometry g = geometry;  // a local copy the compiler keeps in registers
  float* dst = col;
  ForEachColRow(g, [&](int64_t row, int64_t shift, int64_t begin, int64_t end) {
    if (row < 0) {
      std::fill(dst, dst + g.ow, 0.0f);
    } else if (g.s == 1) {
      const int64_t base = row + shift;  // may be negative: index, never a pointer, with it
      for (int64_t oj = 0; oj < begin; ++oj) dst[oj] = 0.0f;
#pragma omp simd
      for (int64_t oj = begin; oj < end; ++oj) dst[oj] = x[base + oj];
      for (int64_t oj = end; oj < g.ow; ++oj) dst[oj] = 0.0f;
    } else {
      for (int64_t oj = 0; oj < g.ow; ++oj) {
        const int64_t ij = oj * g.s + shift;
        dst[oj] = ij >= 0 && ij < g.w ? x[row + ij] : 0.0f;
      }
    }
    dst += g.ow;
  });
}

FEDRA_MULTIVERSION
void Col2Im(const ConvGeometry& geometry, const float* dcol, float* dx) {
  const ConvGeometry g = geometry;
  std::fill(dx, dx + g.c * g.h * g.w, 0.0f);
  ForEachColRow(g, [&](int64_t row, int64_t shift, int64_t begin, int64_t end) {
    if (row < 0) {
      // padding: nothing to add
    } else if (g.s == 1) {
      const int64_t base = row + shift;
#pragma omp simd
      for (int64_t oj = begin; oj < end; ++oj) dx[base + oj] += dcol[oj];
    } else {
      for (int64_t oj = 0; oj < g.ow; ++oj) {
        const int64_t ij = oj * g.s + shift;
        if (ij >= 0 && ij < g.w) dx[row + ij] += dcol[oj];
      }
    }
    dcol += g.ow;
  });
}

namespace {

// Keeps the first maximum; a NaN replaces a number (and stays), as in PyTorch.
inline void Consider(float v, int64_t at, float* best, int64_t* best_at) {
  if (v > *best || (v != v && *best == *best)) *best = v, *best_at = at;
}

}  // namespace

FEDRA_MULTIVERSION
void MaxPoolForward(const ConvGeometry& g, const float* x, float* y, int32_t* argmax) {
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t oi = 0; oi < g.oh; ++oi) {
      const int64_t row = (c * g.h + oi * g.s) * g.w;  // first input row of the windows
      if (g.k == 2 && g.s == 2) {                      // the common case, unrolled
        for (int64_t oj = 0; oj < g.ow; ++oj, ++y, ++argmax) {
          const int64_t at = row + 2 * oj;
          float best = x[at];
          int64_t best_at = at;
          Consider(x[at + 1], at + 1, &best, &best_at);
          Consider(x[at + g.w], at + g.w, &best, &best_at);
          Consider(x[at + g.w + 1], at + g.w + 1, &best, &best_at);
          *y = best;
          *argmax = static_cast<int32_t>(best_at);
        }
        continue;
      }
      for (int64_t oj = 0; oj < g.ow; ++oj, ++y, ++argmax) {
        int64_t best_at = row + oj * g.s;
        float best = x[best_at];
        for (int64_t ki = 0; ki < g.k; ++ki) {
          for (int64_t kj = 0; kj < g.k; ++kj) {
            const int64_t at = row + ki * g.w + oj * g.s + kj;
            Consider(x[at], at, &best, &best_at);
          }
        }
        *y = best;
        *argmax = static_cast<int32_t>(best_at);
      }
    }
  }
}

FEDRA_MULTIVERSION
void AddInPlace(float* dst, const float* src, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

FEDRA_MULTIVERSION
bool AllFinite(const float* x, int64_t n) {
  // x * 0 is 0 for every finite x and NaN for NaN and +-Inf, so one sum tells.
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += x[i] * 0.0f;
  return s == 0.0f;
}

}  // namespace fedra::internal

namespace fedra {
std::string MlBackendInfo() { return internal::KernelInfo(); }
}  // namespace fedra
