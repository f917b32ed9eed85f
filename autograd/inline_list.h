#pragma once
// A list whose length is set once (by resize) and whose first N elements live inline. A node's inputs, outputs and
// saved tensors are such lists: almost every op has at most two inputs, one output and two saved tensors, and keeping
// them inside the node saves three heap allocations per recorded op. Unlike SmallVector it holds any movable type.
#include <cstddef>
#include <new>
#include <utility>

namespace gau::autograd {

template <typename T, size_t N>
class InlineList {
 public:
  InlineList() = default;
  InlineList(const InlineList&) = delete;
  InlineList& operator=(const InlineList&) = delete;
  InlineList(InlineList&& other) noexcept { take(other); }
  InlineList& operator=(InlineList&& other) noexcept {
    if (this != &other) {
      clear();
      take(other);
    }
    return *this;
  }
  ~InlineList() { clear(); }

  // Replaces the contents by `count` default-constructed elements.
  void resize(size_t count) {
    clear();
    data_ = count <= N ? inline_data() : static_cast<T*>(::operator new(count * sizeof(T)));
    for (size_t i = 0; i < count; ++i) new (data_ + i) T();
    size_ = count;
  }
  void clear() {
    for (size_t i = 0; i < size_; ++i) data_[i].~T();
    if (data_ != inline_data()) ::operator delete(data_);
    data_ = inline_data();
    size_ = 0;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

 private:
  T* inline_data() { return reinterpret_cast<T*>(storage_); }
  void take(InlineList& other) {
    if (other.data_ == other.inline_data()) {
      data_ = inline_data();
      for (size_t i = 0; i < other.size_; ++i) {
        new (data_ + i) T(std::move(other.data_[i]));
        other.data_[i].~T();
      }
    } else {
      data_ = other.data_;
      other.data_ = other.inline_data();
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  alignas(T) unsigned char storage_[N * sizeof(T)];
  T* data_ = inline_data();
  size_t size_ = 0;
};

}  // namespace gau::autograd
