// Parameters: an ordered set of named float32 tensors stored back to back in one contiguous
// buffer. Models expose their weights and gradients as Parameters; aggregation works on the
// flat buffer (Flat()) with vectorised Eigen arithmetic and no copies; per-tensor access is
// a cheap Eigen::Map view.
//
// Two Parameters have the same *layout* when they hold the same names and shapes in the same
// order; arithmetic between Parameters REQUIRES the same layout (a FEDRA_CHECK; validate
// untrusted input with CheckSameLayout first).
//
// Thread-safety: like std::vector (concurrent const access is safe).
#ifndef FEDRA_ML_PARAMETERS_H_
#define FEDRA_ML_PARAMETERS_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/ml/tensor.h"

namespace fedra {

struct TensorInfo {
  std::string name;
  Shape shape;
  size_t offset = 0;  // in floats, into the flat buffer
  size_t size = 0;    // NumElements(shape)

  bool operator==(const TensorInfo&) const = default;
};

class Parameters {
 public:
  Parameters() = default;

  // Appends a zero-filled tensor. REQUIRES: `name` not yet present, non-negative dims.
  // Invalidates views and spans obtained earlier.
  void Add(std::string name, Shape shape);
  // A zero-filled Parameters with the same layout as `other`.
  static Parameters ZerosLike(const Parameters& other);

  size_t num_tensors() const { return tensors_.size(); }
  size_t size() const { return data_.size(); }  // total number of floats
  size_t num_bytes() const { return data_.size() * sizeof(float); }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo& info(size_t i) const { return tensors_.at(i); }
  // Index of tensor `name`, or NotFound.
  StatusOr<size_t> Find(std::string_view name) const;

  std::span<float> span() { return data_; }
  std::span<const float> span() const { return data_; }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }

  // The whole buffer as one vector, and one tensor as a vector.
  VectorMap Flat() { return VectorMap(data_.data(), static_cast<Eigen::Index>(data_.size())); }
  ConstVectorMap Flat() const {
    return ConstVectorMap(data_.data(), static_cast<Eigen::Index>(data_.size()));
  }
  VectorMap Tensor(size_t i);
  ConstVectorMap Tensor(size_t i) const;

  // OK iff `other` has the same names and shapes in the same order; otherwise says which
  // tensor differs.
  Status CheckSameLayout(const Parameters& other) const;
  bool SameLayout(const Parameters& other) const { return tensors_ == other.tensors_; }
  // OK iff every value is finite; otherwise names the first tensor holding NaN/Inf.
  Status CheckFinite() const;

  // Vector arithmetic, in place. REQUIRES: same layout.
  void SetZero();
  void CopyFrom(const Parameters& other);       // this = other (values only)
  void AddInPlace(const Parameters& other);     // this += other
  void SubInPlace(const Parameters& other);     // this -= other
  void Axpy(float alpha, const Parameters& x);  // this += alpha * x
  void Scale(float alpha);                      // this *= alpha
  double Dot(const Parameters& other) const;    // accumulated in double
  double L2Norm() const;                        // accumulated in double

 private:
  std::vector<TensorInfo> tensors_;
  std::vector<float> data_;
};

}  // namespace fedra

#endif  // FEDRA_ML_PARAMETERS_H_
