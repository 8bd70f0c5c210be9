#include "net/wire.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

namespace fedra::net {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian; big-endian hosts need byte swapping");

constexpr size_t kMaxTensors = 65536;

Status CheckSpec(const v1::TensorSpec& spec, Shape* shape, uint64_t* bytes) {
  if (spec.name().empty()) return InvalidArgumentError("a tensor has an empty name");
  if (spec.dtype() != v1::F32) {
    return InvalidArgumentError("tensor '" + spec.name() + "' has dtype " +
                                std::to_string(spec.dtype()) + "; only F32 is supported");
  }
  if (spec.shape_size() > 8) {
    return InvalidArgumentError("tensor '" + spec.name() + "' has more than 8 dimensions");
  }
  uint64_t elements = 1;
  shape->clear();
  for (int64_t d : spec.shape()) {
    if (d < 0) return InvalidArgumentError("tensor '" + spec.name() + "' has a negative dimension");
    if (d > 0 && elements > (uint64_t{1} << 40) / static_cast<uint64_t>(d)) {
      return InvalidArgumentError("tensor '" + spec.name() + "' is too large");
    }
    elements *= static_cast<uint64_t>(d);
    shape->push_back(d);
  }
  *bytes = elements * sizeof(float);
  return OkStatus();
}

}  // namespace

uint64_t DescribePayload(const std::vector<PayloadGroup>& groups, SpecList* specs) {
  uint64_t total = 0;
  for (const PayloadGroup& g : groups) {
    for (const TensorInfo& t : g.params->tensors()) {
      v1::TensorSpec* s = specs->Add();
      s->set_name(t.name);
      for (int64_t d : t.shape) s->add_shape(d);
      s->set_dtype(v1::F32);
      s->set_group(g.name);
    }
    total += g.params->num_bytes();
  }
  return total;
}

bool ForEachChunk(std::string_view bytes, size_t chunk_bytes,
                  const std::function<bool(std::string_view)>& write) {
  for (size_t at = 0; at < bytes.size(); at += chunk_bytes) {
    if (!write(bytes.substr(at, chunk_bytes))) return false;
  }
  return true;
}

std::span<const uint8_t> AsBytes(std::string_view bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

std::string BytesToString(std::span<const uint8_t> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

void ToProto(const paillier::PackingConfig& packing, v1::SecureFitInstructions* out) {
  out->set_paillier_max_abs_value(packing.max_abs_value);
  out->set_paillier_max_weight(packing.max_weight);
  out->set_paillier_precision_bits(packing.precision_bits);
  out->set_paillier_max_clients(packing.max_clients);
}

paillier::PackingConfig PackingFromProto(const v1::SecureFitInstructions& in) {
  return {.max_abs_value = in.paillier_max_abs_value(),
          .max_weight = in.paillier_max_weight(),
          .precision_bits = in.paillier_precision_bits(),
          .max_clients = in.paillier_max_clients()};
}

bool ChunkCursor::Next(std::string* chunk) {
  // Chunks may span groups, so a payload of many small tensors still travels in few messages.
  chunk->clear();
  while (chunk->size() < chunk_bytes_ && group_ <= groups_.size()) {
    std::string_view part = bytes_;
    if (group_ < groups_.size()) {
      const Parameters& p = *groups_[group_].params;
      part = std::string_view(reinterpret_cast<const char*>(p.data()), p.num_bytes());
    }
    part.remove_prefix(offset_);
    const size_t take = std::min(part.size(), chunk_bytes_ - chunk->size());
    chunk->append(part.data(), take);
    if (take == part.size()) {
      ++group_;
      offset_ = 0;
    } else {
      offset_ += take;
    }
  }
  return !chunk->empty();
}

bool ForEachChunk(const std::vector<PayloadGroup>& groups, size_t chunk_bytes,
                  const std::function<bool(std::string_view)>& write) {
  ChunkCursor cursor(groups, chunk_bytes);
  std::string chunk;
  while (cursor.Next(&chunk)) {
    if (!write(chunk)) return false;
  }
  return true;
}

StatusOr<PayloadReader> PayloadReader::FromSpecs(const SpecList& specs, uint64_t payload_bytes,
                                                 uint64_t max_bytes) {
  if (static_cast<size_t>(specs.size()) > kMaxTensors) {
    return InvalidArgumentError("payload has more than 65536 tensors");
  }
  if (payload_bytes > max_bytes) {
    return InvalidArgumentError("payload of " + std::to_string(payload_bytes) +
                                " bytes exceeds the limit of " + std::to_string(max_bytes));
  }
  PayloadReader r;
  uint64_t total = 0;
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> group_names;
  for (const v1::TensorSpec& spec : specs) {
    Shape shape;
    uint64_t bytes = 0;
    FEDRA_RETURN_IF_ERROR(CheckSpec(spec, &shape, &bytes));
    if (!seen.insert({spec.group(), spec.name()}).second) {
      return InvalidArgumentError("tensor '" + spec.name() + "' appears twice in group '" +
                                  spec.group() + "'");
    }
    total += bytes;
    if (total > payload_bytes) break;
    if (r.order_.empty() || spec.group() != r.order_.back().name) {
      if (!group_names.insert(spec.group()).second) {
        return InvalidArgumentError("group '" + spec.group() + "' is not contiguous");
      }
      r.order_.push_back({.name = spec.group()});
    }
    r.order_.back().tensors.emplace_back(spec.name(), std::move(shape));
    r.order_.back().bytes += bytes;
  }
  if (total != payload_bytes) {
    return InvalidArgumentError("tensor specs describe " + std::to_string(total) +
                                " bytes but the header declares " + std::to_string(payload_bytes));
  }
  r.expected_ = payload_bytes;
  return r;
}

StatusOr<PayloadReader> PayloadReader::WithLayout(
    const SpecList& specs, uint64_t payload_bytes, const std::vector<TensorInfo>& layout,
    const std::function<bool(const std::string&)>& group_allowed, const std::string& required_group,
    size_t max_groups) {
  // Check names and shapes against the layout before allocating anything.
  const std::vector<TensorInfo>& infos = layout;
  if (infos.empty() || specs.size() % static_cast<int>(infos.size()) != 0) {
    return InvalidArgumentError("payload has " + std::to_string(specs.size()) +
                                " tensors; expected a multiple of the model's " +
                                std::to_string(infos.size()));
  }
  bool has_required = false;
  for (int i = 0; i < specs.size(); ++i) {
    const v1::TensorSpec& spec = specs[i];
    const TensorInfo& want = infos[static_cast<size_t>(i) % infos.size()];
    if (i % static_cast<int>(infos.size()) == 0) {
      if (!group_allowed(spec.group())) {
        return InvalidArgumentError("unexpected tensor group '" + spec.group() + "'");
      }
      has_required |= spec.group() == required_group;
    } else if (spec.group() != specs[i - 1].group()) {
      return InvalidArgumentError("group '" + specs[i - 1].group() + "' is incomplete");
    }
    Shape shape;
    uint64_t bytes = 0;
    FEDRA_RETURN_IF_ERROR(CheckSpec(spec, &shape, &bytes));
    if (spec.name() != want.name || shape != want.shape) {
      return InvalidArgumentError("tensor " + std::to_string(i % infos.size()) + " of group '" +
                                  spec.group() + "' is '" + spec.name() + "' " +
                                  ShapeToString(shape) + "; the model has '" + want.name + "' " +
                                  ShapeToString(want.shape));
    }
  }
  if (!has_required && !required_group.empty()) {
    return InvalidArgumentError("payload lacks group '" + required_group + "'");
  }
  const uint64_t groups = static_cast<uint64_t>(specs.size()) / infos.size();
  if (groups > max_groups) {
    return InvalidArgumentError("payload declares " + std::to_string(groups) +
                                " copies of the model (the update and extras), more than the " +
                                std::to_string(max_groups) + " a result may carry");
  }
  uint64_t model_bytes = 0;
  for (const TensorInfo& t : infos) model_bytes += t.size * sizeof(float);
  return FromSpecs(specs, payload_bytes, groups * model_bytes);
}

Parameters& PayloadReader::Allocate(Group& g) {
  if (g.params == nullptr) {
    Parameters& p = groups_[g.name];
    std::optional<Parameters> reused = spare_ ? spare_->TakeIf(g.tensors) : std::nullopt;
    if (reused) {
      p = std::move(*reused);
    } else {
      for (auto& [name, shape] : g.tensors) p.Add(name, std::move(shape));
    }
    g.tensors.clear();
    g.params = &p;
    allocated_ += g.bytes;
  }
  return *g.params;
}

std::map<std::string, Parameters> PayloadReader::TakeGroups() {
  for (Group& g : order_) Allocate(g);  // groups of zero bytes never saw a byte
  return std::move(groups_);
}

Status PayloadReader::Append(std::string_view bytes) {
  if (bytes.size() > expected_ - received_) {
    return InvalidArgumentError("payload runs past the declared " + std::to_string(expected_) +
                                " bytes");
  }
  while (!bytes.empty()) {
    while (group_ < order_.size() && group_off_ == order_[group_].bytes) {
      ++group_;
      group_off_ = 0;
    }
    Parameters& p = Allocate(order_[group_]);
    const size_t take = std::min<uint64_t>(bytes.size(), p.num_bytes() - group_off_);
    std::memcpy(reinterpret_cast<char*>(p.data()) + group_off_, bytes.data(), take);
    group_off_ += take;
    received_ += take;
    bytes.remove_prefix(take);
  }
  return OkStatus();
}

Status PayloadReader::Finish() const {
  if (received_ != expected_) {
    return InvalidArgumentError("payload truncated: " + std::to_string(received_) + " of " +
                                std::to_string(expected_) + " bytes arrived");
  }
  return OkStatus();
}

void ToProto(const FitConfig& c, v1::FitInstructions* out) {
  out->set_epochs(c.epochs);
  out->set_local_steps(c.local_steps);
  out->set_batch_size(c.batch_size);
  out->set_learning_rate(c.learning_rate);
  out->set_momentum(c.momentum);
  out->set_weight_decay(c.weight_decay);
  out->set_proximal_mu(c.proximal_mu);
  out->set_scaffold(c.scaffold);
  out->set_clip_norm(c.clip_norm);
  out->set_noise_stddev(c.noise_stddev);
  out->set_optimizer(c.optimizer);
  out->set_max_grad_norm(c.max_grad_norm);
  ToProto(c.extra, out->mutable_config());
}

void ToProto(const RoundConfig& config, google::protobuf::Map<std::string, v1::ConfigValue>* out) {
  for (const auto& [key, value] : config) {
    v1::ConfigValue& v = (*out)[key];
    if (const auto* i = std::get_if<int64_t>(&value)) v.set_int_value(*i);
    if (const auto* d = std::get_if<double>(&value)) v.set_double_value(*d);
    if (const auto* t = std::get_if<std::string>(&value)) v.set_string_value(*t);
    if (const auto* b = std::get_if<bool>(&value)) v.set_bool_value(*b);
  }
}

StatusOr<RoundConfig> FromProto(const google::protobuf::Map<std::string, v1::ConfigValue>& in) {
  // Count first: a peer's map may be large, and nothing is copied before it is bounded.
  FEDRA_RETURN_IF_ERROR(CheckEntryCount("round config", in.size()));
  RoundConfig out;
  for (const auto& [key, v] : in) {
    switch (v.value_case()) {
      case v1::ConfigValue::kIntValue:
        out.emplace(key, v.int_value());
        break;
      case v1::ConfigValue::kDoubleValue:
        out.emplace(key, v.double_value());
        break;
      case v1::ConfigValue::kStringValue:
        out.emplace(key, v.string_value());
        break;
      case v1::ConfigValue::kBoolValue:
        out.emplace(key, v.bool_value());
        break;
      default:
        return InvalidArgumentError("round config value without a type");
    }
  }
  FEDRA_RETURN_IF_ERROR(ValidateRoundConfig(out));
  return out;
}

void ToProto(const FoldSpec& spec, v1::FoldSpec* out) {
  for (const auto& v : spec.vectors) {
    v1::FoldTerm* t = out->add_vectors();
    t->set_sum(v.sum);
    t->set_source(v.source);
    t->set_weight(static_cast<v1::FoldWeight>(v.weight));
  }
  for (const auto& s : spec.scalars) {
    v1::FoldTerm* t = out->add_scalars();
    t->set_sum(s.name);
    t->set_weight(static_cast<v1::FoldWeight>(s.weight));
  }
  out->set_momentum(spec.momentum);
}

StatusOr<FoldSpec> FromProto(const v1::FoldSpec& in) {
  if (in.vectors_size() > 16 || in.scalars_size() > 16)
    return InvalidArgumentError("fold spec: 1 to 16 vector terms and at most 16 scalars");
  auto weight = [](v1::FoldWeight w) -> StatusOr<FoldWeight> {
    if (w < v1::FOLD_WEIGHT_ONE || w > v1::FOLD_WEIGHT_EXAMPLES_TIMES_EFFECTIVE_STEP)
      return InvalidArgumentError("fold spec: unknown weight " + std::to_string(w));
    return static_cast<FoldWeight>(w);
  };
  FoldSpec spec{.momentum = in.momentum()};
  for (const auto& t : in.vectors()) {
    FEDRA_ASSIGN_OR_RETURN(FoldWeight w, weight(t.weight()));
    spec.vectors.push_back({.sum = t.sum(), .source = t.source(), .weight = w});
  }
  for (const auto& t : in.scalars()) {
    FEDRA_ASSIGN_OR_RETURN(FoldWeight w, weight(t.weight()));
    spec.scalars.push_back({.name = t.sum(), .weight = w});
  }
  FEDRA_RETURN_IF_ERROR(spec.Validate());
  return spec;
}

StatusOr<MetricMap> MetricsFromProto(const google::protobuf::Map<std::string, double>& in) {
  FEDRA_RETURN_IF_ERROR(CheckEntryCount("metrics map", in.size()));
  MetricMap out(in.begin(), in.end());
  FEDRA_RETURN_IF_ERROR(ValidateMetrics(out));
  return out;
}

StatusOr<FitConfig> FromProto(const v1::FitInstructions& in) {
  auto bad = [](const std::string& what) {
    return InvalidArgumentError("fit instructions: " + what);
  };
  if (in.epochs() < 1 || in.epochs() > 10000) return bad("epochs must be in [1, 10000]");
  if (in.batch_size() < 1) return bad("batch_size must be positive");
  if (in.local_steps() < 0 || in.local_steps() > kMaxLocalSteps)
    return bad("local_steps must be in [0, " + std::to_string(kMaxLocalSteps) + "]");
  auto nonneg = [](float v) { return std::isfinite(v) && v >= 0.0f; };
  if (!nonneg(in.learning_rate()) || in.learning_rate() == 0.0f) {
    return bad("learning_rate must be positive and finite");
  }
  if (!nonneg(in.momentum()) || in.momentum() >= 1.0f) return bad("momentum must be in [0, 1)");
  if (!nonneg(in.weight_decay())) return bad("weight_decay must be >= 0");
  if (!nonneg(in.proximal_mu())) return bad("proximal_mu must be >= 0");
  if (!nonneg(in.clip_norm())) return bad("clip_norm must be >= 0");
  if (!nonneg(in.noise_stddev())) return bad("noise_stddev must be >= 0");
  if (!nonneg(in.max_grad_norm())) return bad("max_grad_norm must be >= 0");
  const std::string optimizer = in.optimizer().empty() ? "sgd" : in.optimizer();
  if (optimizer != "sgd" && optimizer != "adam" && optimizer != "adamw")
    return bad("optimizer must be sgd, adam or adamw");
  auto extra = FromProto(in.config());
  if (!extra.ok()) return bad(extra.status().message());
  return FitConfig{.epochs = in.epochs(),
                   .local_steps = in.local_steps(),
                   .batch_size = in.batch_size(),
                   .learning_rate = in.learning_rate(),
                   .momentum = in.momentum(),
                   .weight_decay = in.weight_decay(),
                   .proximal_mu = in.proximal_mu(),
                   .scaffold = in.scaffold(),
                   .clip_norm = in.clip_norm(),
                   .noise_stddev = in.noise_stddev(),
                   .optimizer = optimizer,
                   .max_grad_norm = in.max_grad_norm(),
                   .extra = std::move(extra).value()};
}

grpc::Status ToGrpc(const Status& status) {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (status.code()) {
    case StatusCode::kOk:
      return grpc::Status::OK;
    case StatusCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case StatusCode::kNotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case StatusCode::kDataLoss:
      code = grpc::StatusCode::DATA_LOSS;
      break;
    case StatusCode::kFailedPrecondition:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case StatusCode::kOutOfRange:
      code = grpc::StatusCode::OUT_OF_RANGE;
      break;
    case StatusCode::kResourceExhausted:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    case StatusCode::kUnavailable:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case StatusCode::kInternal:
      code = grpc::StatusCode::INTERNAL;
      break;
    case StatusCode::kUnimplemented:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
  }
  return grpc::Status(code, status.message());
}

Status FromGrpc(const grpc::Status& status, std::string_view what) {
  if (status.ok()) return OkStatus();
  StatusCode code = StatusCode::kInternal;
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      code = StatusCode::kInvalidArgument;
      break;
    case grpc::StatusCode::NOT_FOUND:
      code = StatusCode::kNotFound;
      break;
    case grpc::StatusCode::DATA_LOSS:
      code = StatusCode::kDataLoss;
      break;
    case grpc::StatusCode::OUT_OF_RANGE:
      code = StatusCode::kOutOfRange;
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      code = StatusCode::kResourceExhausted;
      break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      code = StatusCode::kUnavailable;
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      code = StatusCode::kUnimplemented;
      break;
    default:
      code = StatusCode::kFailedPrecondition;
      break;
  }
  return Status(code, std::string(what) + ": " + status.error_message() + " (grpc code " +
                          std::to_string(static_cast<int>(status.error_code())) + ")");
}

}  // namespace fedra::net
