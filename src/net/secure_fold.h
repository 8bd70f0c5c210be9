// Private to the net layer: how a secure round's terms are folded, shared by the client (which
// folds its real result) and the server (which folds a probe to announce the round's layout, so
// that no client's answer can fix it).
#ifndef FEDRA_SRC_NET_SECURE_FOLD_H_
#define FEDRA_SRC_NET_SECURE_FOLD_H_

#include <functional>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/fold_spec.h"
#include "fedra/fl/types.h"
#include "fedra/fl/update_accumulator.h"

namespace fedra::net {

// Folds `result` with `custom` when set, else with the fold the server names ("dp", or a
// built-in strategy's Fold), then adds the loss and example scalars every secure round
// carries. FailedPrecondition for an unknown fold name, InvalidArgument when no vector was
// folded.
// With `spec` (what current servers announce), folds by it and ignores `fold` and `custom`.
Status FoldForSecureSum(const std::string& fold, const FoldSpec* spec, const FitConfig& config,
                        const std::function<void(const FitResult&, UpdateAccumulator&)>& custom,
                        const FitResult& result, UpdateAccumulator& terms);

// The layout a round's clients must fold: the fold (by `spec` if given, else by the name
// `fold`) of a probe result — zeros of the global's layout, one example, one local step, and
// the extras the fold reads (the spec's sources; SCAFFOLD's control delta for a name).
struct AnnouncedLayout {
  std::vector<std::string> sums, scalars;
};
StatusOr<AnnouncedLayout> LayoutOfFold(const std::string& fold, const FoldSpec* spec,
                                       const Parameters& global);

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_SECURE_FOLD_H_
