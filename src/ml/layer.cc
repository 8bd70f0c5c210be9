#include "fedra/ml/layer.h"

#include "layer_util.h"

namespace fedra::internal {

Status ShapeError(const char* layer, const Shape& input, const char* expected) {
  return InvalidArgumentError(std::string(layer) + " layer cannot take input of shape " +
                              ShapeToString(input) + ": " + expected);
}

}  // namespace fedra::internal
