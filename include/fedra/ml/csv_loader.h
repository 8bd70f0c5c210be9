// Loader for numeric CSV files: one example per line, feature columns plus one label
// column. Errors name the file, the line and the column.
#ifndef FEDRA_ML_CSV_LOADER_H_
#define FEDRA_ML_CSV_LOADER_H_

#include <string>

#include "fedra/core/status.h"
#include "fedra/ml/dataset.h"

namespace fedra {

struct CsvOptions {
  char delimiter = ',';
  bool has_header = false;  // skip the first line
  // Index of the label column; negative counts from the end (-1: last column).
  int label_column = -1;
  // > 0: the label is a class index in [0, num_classes); 0: a real-valued regression target.
  int num_classes = 0;
};

// Every line must have the same number of fields; every field must parse fully as a finite
// number (NaN/Inf are rejected); empty lines at the end of the file are ignored.
// example_shape is {number of feature columns}.
// Details: LF or CRLF line ends; spaces and tabs around a field are ignored; a leading '+' is
// allowed; no quoting. A class label may be written "3" or "3.0" but must be integral. There
// must be at least one data row and at least two columns. Errors: NotFound for a missing file,
// otherwise InvalidArgument with "path:line: column c: ..." (1-based, header line counted).
StatusOr<Dataset> LoadCsv(const std::string& path, const CsvOptions& options = {});

}  // namespace fedra

#endif  // FEDRA_ML_CSV_LOADER_H_
