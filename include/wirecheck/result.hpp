// Result<T>: the value of an operation that can fail on untrusted input
// (YAML, JSON, configuration, certificates). g++ 12 has no std::expected in
// C++20, so this is the small stand-in: either a value or an error message.
// Errors are values; nothing in the engine throws across a module boundary.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace wirecheck::core {

struct Error {
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}  // NOLINT

  static Result failure(std::string message) { return Result(Error{std::move(message)}); }

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &std::get<T>(data_); }
  const T* operator->() const { return &std::get<T>(data_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Only meaningful when !ok().
  const std::string& error() const { return std::get<Error>(data_).message; }

 private:
  std::variant<T, Error> data_;
};

// For operations that return nothing on success.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Status(Unit{}); }

}  // namespace wirecheck::core
