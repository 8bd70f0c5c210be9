// The numeric kernels under the built-in layers (private to src/ml).
//
// GEMM goes to OpenBLAS, which Debian builds with DYNAMIC_ARCH: it picks its kernels for the
// CPU it runs on (Haswell/Zen AVX2+FMA, SkylakeX AVX-512, ...), so one binary is fast on a new
// machine and still runs on an old one. fedra drives its own threads (see Sequential), so every
// GEMM runs single-threaded on the calling thread. The element-wise kernels are compiled for
// several instruction sets and chosen at load time (FEDRA_MULTIVERSION below).
//
// All matrices are row-major with explicit leading dimensions. Thread-safety: every function
// is reentrant; concurrent calls on disjoint outputs are safe.
#ifndef FEDRA_SRC_ML_KERNELS_H_
#define FEDRA_SRC_ML_KERNELS_H_

#include <cstdint>
#include <string>

namespace fedra::internal {

// C (m x n) = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T; row-major storage.
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// "OpenBLAS 0.3.21 ... (core Zen)" and the element-wise kernels' instruction set, e.g.
// "avx2": what actually runs on this machine.
std::string KernelInfo();

// y[r * cols + j] += bias[r] for every row r (a row per channel / output unit).
void AddRowBias(float* y, const float* bias, int64_t rows, int64_t cols);
// y[j * rows + r] += bias[r]: a column-major (rows x cols) matrix, one column per example.
void AddColBias(float* y, const float* bias, int64_t rows, int64_t cols);
// sums[r] (+)= sum over j of x[r * cols + j]; accumulates when `accumulate`.
void RowSums(const float* x, int64_t rows, int64_t cols, float* sums, bool accumulate);
// sums[r] = sum over columns of the column-major (rows x cols) x.
void ColMajorRowSums(const float* x, int64_t rows, int64_t cols, float* sums);

// y = max(x, 0); dx = dy where y > 0, else 0. In-place (y == x, dx == dy) is allowed.
void Relu(const float* x, float* y, int64_t n);
void ReluBackward(const float* y, const float* dy, float* dx, int64_t n);

// v[i] = acc[i] (0 if acc is null), then v[i] += w[t] * x[t][i] for t = 0 .. terms-1, each
// step rounded to float as a sequence of axpys would; true when every v[i] is finite. Writes
// v to `out` (which may be acc) only when out is not null, so the same call checks first.
bool AxpyTermsAllFinite(const float* acc, const float* w, const float* const* x, int64_t terms,
                        float* out, int64_t n);
// A 2-D convolution's shape: input C x H x W, square kernel K, stride S, zero padding P,
// output OH x OW.
struct ConvGeometry {
  int64_t c, h, w, k, s, p, oh, ow;
};
// col (C*K*K x OH*OW, row-major) = the input patch under every output pixel (zeros for the
// padding), for one example x (C x H x W).
void Im2Col(const ConvGeometry& g, const float* x, float* col);
// dx (C x H x W) = the sum, over the taps that read each input value, of dcol's entries.
void Col2Im(const ConvGeometry& g, const float* dcol, float* dx);

// Max pooling of one example (C x H x W) with a K x K window and stride S: y (C x OH x OW)
// and, per output, the input offset of its maximum (the first one, NaN winning, as PyTorch).
void MaxPoolForward(const ConvGeometry& g, const float* x, float* y, int32_t* argmax);

// dst[i] += src[i].
void AddInPlace(float* dst, const float* src, int64_t n);
// True when no value is NaN or +-Inf (one pass, vectorised).
bool AllFinite(const float* x, int64_t n);

}  // namespace fedra::internal

#endif  // FEDRA_SRC_ML_KERNELS_H_
