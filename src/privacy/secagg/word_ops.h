// Private to secagg: wrap-around uint32 vector add/subtract, the inner loop of every mask
// expansion and of the server's running sum. Written with SSE2 intrinsics because GCC's -O2
// cost model leaves the plain loop scalar (and Eigen has no unsigned packet type), which made
// mask expansion 40 % slower than the AES-CTR keystream it adds.
#ifndef FEDRA_SRC_PRIVACY_SECAGG_WORD_OPS_H_
#define FEDRA_SRC_PRIVACY_SECAGG_WORD_OPS_H_

#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fedra::secagg::internal {

// a[i] += b[i] (kAdd) or a[i] -= b[i], mod 2^32, for i < n.
template <bool kAdd>
inline void AccumulateWords(uint32_t* a, const uint32_t* b, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 8 <= n; i += 8) {
    auto* pa = reinterpret_cast<__m128i*>(a + i);
    const auto* pb = reinterpret_cast<const __m128i*>(b + i);
    __m128i x0 = _mm_loadu_si128(pa), x1 = _mm_loadu_si128(pa + 1);
    const __m128i y0 = _mm_loadu_si128(pb), y1 = _mm_loadu_si128(pb + 1);
    if constexpr (kAdd) {
      x0 = _mm_add_epi32(x0, y0);
      x1 = _mm_add_epi32(x1, y1);
    } else {
      x0 = _mm_sub_epi32(x0, y0);
      x1 = _mm_sub_epi32(x1, y1);
    }
    _mm_storeu_si128(pa, x0);
    _mm_storeu_si128(pa + 1, x1);
  }
#endif
  for (; i < n; ++i) a[i] = kAdd ? a[i] + b[i] : a[i] - b[i];
}

}  // namespace fedra::secagg::internal

#endif  // FEDRA_SRC_PRIVACY_SECAGG_WORD_OPS_H_
