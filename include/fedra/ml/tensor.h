// Basic numeric types shared by the ml layer.
//
// A batch of activations is a column-major Eigen matrix with one column per example; each
// column holds one example's tensor flattened in row-major (C, H, W) order. Layers know
// the per-example Shape they consume and produce.
#ifndef FEDRA_ML_TENSOR_H_
#define FEDRA_ML_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace fedra {

using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;
using MatrixMap = Eigen::Map<Eigen::MatrixXf>;
using ConstMatrixMap = Eigen::Map<const Eigen::MatrixXf>;

// Dimensions of one tensor, outermost first (row-major), e.g. {channels, height, width}.
using Shape = std::vector<int64_t>;

// Number of elements in `shape` (1 for the empty shape of a scalar).
int64_t NumElements(const Shape& shape);
// "[6, 1, 5, 5]"
std::string ShapeToString(const Shape& shape);

}  // namespace fedra

#endif  // FEDRA_ML_TENSOR_H_
