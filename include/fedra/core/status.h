// Status and StatusOr<T>: how fedra reports anything that input from a file, a flag,
// the network or another machine can get wrong. No exceptions cross the public API.
// A broken invariant inside fedra itself is a FEDRA_CHECK failure, not a Status.
//
// Thread-safety: value types; distinct objects may be used from distinct threads.
#ifndef FEDRA_CORE_STATUS_H_
#define FEDRA_CORE_STATUS_H_

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace fedra {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is malformed (bad flag, shape, value)
  kNotFound,         // a file, client or key does not exist
  kDataLoss,         // a file or message is corrupt or truncated
  kFailedPrecondition,
  kOutOfRange,
  kResourceExhausted,
  kUnavailable,
  kInternal,
  kUnimplemented,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // Returns a copy with `context + ": "` prepended to the message (for call-site context).
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status DataLossError(std::string message);
Status FailedPreconditionError(std::string message);
Status OutOfRangeError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnavailableError(std::string message);
Status InternalError(std::string message);
Status UnimplementedError(std::string message);

// Either a T or a non-OK Status. REQUIRES for value(): ok().
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : v_(value) {}            // NOLINT: implicit by design
  StatusOr(T&& value) : v_(std::move(value)) {}      // NOLINT
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok())
      v_ = Status(StatusCode::kInternal, "OK status given to StatusOr");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  const T& value() const& {
    CheckOk();
    return std::get<T>(v_);
  }
  T& value() & {
    CheckOk();
    return std::get<T>(v_);
  }
  T&& value() && {
    CheckOk();
    return std::move(std::get<T>(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void CheckOk() const;
  std::variant<Status, T> v_;
};

namespace internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, std::string_view msg);
}  // namespace internal

template <typename T>
void StatusOr<T>::CheckOk() const {
  if (!ok())
    internal::CheckFailed(__FILE__, __LINE__, "StatusOr::ok()", std::get<Status>(v_).ToString());
}

}  // namespace fedra

// Invariant checks for fedra's own logic (never for user input): abort with a message.
#define FEDRA_CHECK(cond)                                                       \
  do {                                                                          \
    if (!(cond)) ::fedra::internal::CheckFailed(__FILE__, __LINE__, #cond, ""); \
  } while (0)
#define FEDRA_CHECK_MSG(cond, msg)                                               \
  do {                                                                           \
    if (!(cond)) ::fedra::internal::CheckFailed(__FILE__, __LINE__, #cond, msg); \
  } while (0)

#define FEDRA_STATUS_CONCAT_INNER_(a, b) a##b
#define FEDRA_STATUS_CONCAT_(a, b) FEDRA_STATUS_CONCAT_INNER_(a, b)

#define FEDRA_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::fedra::Status fedra_status_ = (expr);        \
    if (!fedra_status_.ok()) return fedra_status_; \
  } while (0)

#define FEDRA_ASSIGN_OR_RETURN(lhs, expr) \
  FEDRA_ASSIGN_OR_RETURN_IMPL_(FEDRA_STATUS_CONCAT_(fedra_statusor_, __LINE__), lhs, expr)
#define FEDRA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // FEDRA_CORE_STATUS_H_
