// zflow/boxed.h: Boxed<T>, an optional value kept out of line.
//
// It reads like std::optional<T> (has_value, *, ->, value_or, = std::nullopt) but takes one
// pointer when absent, so a model with many rarely set fields (an ASL state has dozens) stays
// small: `std::optional<json::value>` is 32 bytes, `Boxed<json::value>` is 8.
//
//   zflow::Boxed<std::string> label;
//   if (!label) label = "train";
//   std::cout << *label << label->size();
//
// Copying copies the value (deep); moving moves the pointer.
#ifndef ZFLOW_BOXED_H_
#define ZFLOW_BOXED_H_

#include <cassert>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace zflow {

template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): reads like std::optional
  Boxed(const T& v) : p_(std::make_unique<T>(v)) {}  // NOLINT(google-explicit-constructor)
  Boxed(T&& v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT(google-explicit-constructor)
  Boxed(const std::optional<T>& v)  // NOLINT(google-explicit-constructor)
      : p_(v ? std::make_unique<T>(*v) : nullptr) {}
  Boxed(std::optional<T>&& v)  // NOLINT(google-explicit-constructor)
      : p_(v ? std::make_unique<T>(std::move(*v)) : nullptr) {}
  Boxed(const Boxed& other) : p_(other.p_ ? std::make_unique<T>(*other.p_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  ~Boxed() = default;

  Boxed& operator=(const Boxed& other) {
    if (this != &other) p_ = other.p_ ? std::make_unique<T>(*other.p_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(std::nullopt_t) {
    p_.reset();
    return *this;
  }
  Boxed& operator=(std::optional<T> v) {
    if (v) {
      Set(std::move(*v));
    } else {
      p_.reset();
    }
    return *this;
  }
  template <typename U = T>
    requires(std::is_constructible_v<T, U &&> && std::is_assignable_v<T&, U &&> &&
             !std::is_same_v<std::remove_cvref_t<U>, Boxed> &&
             !std::is_same_v<std::remove_cvref_t<U>, std::optional<T>> &&
             !std::is_same_v<std::remove_cvref_t<U>, std::nullopt_t>)
  Boxed& operator=(U&& v) {
    Set(std::forward<U>(v));
    return *this;
  }

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return p_ != nullptr; }

  // Preconditions: has_value().
  T& operator*() {
    assert(p_);
    return *p_;
  }
  const T& operator*() const {
    assert(p_);
    return *p_;
  }
  T* operator->() {
    assert(p_);
    return p_.get();
  }
  const T* operator->() const {
    assert(p_);
    return p_.get();
  }
  T& value() { return **this; }
  const T& value() const { return **this; }
  // The value, or null when absent.
  const T* get() const { return p_.get(); }

  template <typename U>
  T value_or(U&& fallback) const {
    return p_ ? *p_ : static_cast<T>(std::forward<U>(fallback));
  }

  template <typename... Args>
  T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() { p_.reset(); }

  // A std::optional copy, for APIs that take one.
  std::optional<T> ToOptional() const { return p_ ? std::optional<T>(*p_) : std::nullopt; }

  friend bool operator==(const Boxed& a, const Boxed& b) {
    return a.p_ ? (b.p_ != nullptr && *a.p_ == *b.p_) : b.p_ == nullptr;
  }
  friend bool operator==(const Boxed& a, std::nullopt_t) { return a.p_ == nullptr; }

 private:
  template <typename U>
  void Set(U&& v) {
    if (p_) {
      *p_ = std::forward<U>(v);
    } else {
      p_ = std::make_unique<T>(std::forward<U>(v));
    }
  }

  std::unique_ptr<T> p_;
};

}  // namespace zflow

#endif  // ZFLOW_BOXED_H_
