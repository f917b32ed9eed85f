#pragma once
// A vector that keeps up to N elements inline and only allocates beyond that.
//
// Shapes and strides are almost always rank <= 6, and every op creates a few of them: as a
// std::vector each one is a heap allocation, which made recording a 1-element op cost about 20
// allocations. SmallVector has the std::vector interface that gau uses (iterators, push_back,
// insert, erase, resize, comparisons) and converts to and from std::vector, so code that takes
// a std::vector<int64_t> (dims lists, user code) accepts a Shape and the reverse.
//
// Only trivially copyable T: elements are moved with memcpy and never destroyed.
#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <type_traits>
#include <vector>

namespace gau {

template <typename T, size_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>, "SmallVector holds trivially copyable elements only");

 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  SmallVector() = default;
  explicit SmallVector(size_t count, const T& value = T()) { assign(count, value); }
  SmallVector(std::initializer_list<T> values) { assign(values.begin(), values.end()); }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  SmallVector(It first, It last) {
    assign(first, last);
  }
  // Implicit both ways with std::vector: a Shape is passed where a dims list is taken.
  SmallVector(const std::vector<T>& v) { assign(v.begin(), v.end()); }        // NOLINT(google-explicit-constructor)
  operator std::vector<T>() const { return std::vector<T>(begin(), end()); }  // NOLINT

  SmallVector(const SmallVector& other) { assign(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept { steal(other); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      release();
      steal(other);
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> values) {
    assign(values.begin(), values.end());
    return *this;
  }
  ~SmallVector() { release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  T* data() { return data_; }
  const T* data() const { return data_; }

  iterator begin() { return data_; }
  iterator end() { return data_ + size_; }
  const_iterator begin() const { return data_; }
  const_iterator end() const { return data_ + size_; }
  const_iterator cbegin() const { return data_; }
  const_iterator cend() const { return data_ + size_; }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }

  void reserve(size_t want) {
    if (want > capacity_) grow_to(want);
  }
  void clear() { size_ = 0; }
  void resize(size_t count, const T& value = T()) {
    reserve(count);
    for (size_t i = size_; i < count; ++i) data_[i] = value;
    size_ = count;
  }
  void assign(size_t count, const T& value) {
    size_ = 0;
    resize(count, value);
  }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  void assign(It first, It last) {
    size_ = 0;
    if constexpr (std::is_same_v<std::remove_cv_t<std::remove_pointer_t<It>>, T> && std::is_pointer_v<It>) {
      // The common case (copying a shape): one block move, no per-element growth checks. memmove:
      // the range may be part of this vector (it then fits, so reserve keeps the buffer).
      const size_t count = static_cast<size_t>(last - first);
      reserve(count);
      if (count) std::memmove(data_, first, count * sizeof(T));
      size_ = count;
    } else {
      if constexpr (std::is_base_of_v<std::forward_iterator_tag, typename std::iterator_traits<It>::iterator_category>)
        reserve(static_cast<size_t>(std::distance(first, last)));
      for (; first != last; ++first) push_back(*first);
    }
  }
  void assign(std::initializer_list<T> values) { assign(values.begin(), values.end()); }

  void push_back(const T& value) {
    if (size_ == capacity_) {
      T copy = value;  // `value` may live in this vector's storage
      grow_to(2 * capacity_);
      data_[size_++] = copy;
    } else {
      data_[size_++] = value;
    }
  }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    push_back(T(std::forward<Args>(args)...));
    return back();
  }
  void pop_back() { --size_; }

  iterator insert(const_iterator pos, const T& value) { return insert(pos, size_t{1}, value); }
  iterator insert(const_iterator pos, size_t count, const T& value) {
    const T copy = value;
    iterator at = open_gap(pos, count);
    std::fill(at, at + count, copy);
    return at;
  }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  iterator insert(const_iterator pos, It first, It last) {
    const SmallVector values(first, last);  // the range may alias this vector
    iterator at = open_gap(pos, values.size());
    std::copy(values.begin(), values.end(), at);
    return at;
  }
  iterator insert(const_iterator pos, std::initializer_list<T> values) {
    return insert(pos, values.begin(), values.end());
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    iterator at = begin() + (first - cbegin());
    const size_t count = static_cast<size_t>(last - first);
    std::copy(at + count, end(), at);
    size_ -= count;
    return at;
  }

  // A plain loop, not std::equal: that becomes a memcmp call, which costs more than comparing
  // the few elements of a shape.
  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    if (a.size_ != b.size_) return false;
    for (size_t i = 0; i < a.size_; ++i)
      if (!(a.data_[i] == b.data_[i])) return false;
    return true;
  }
  friend auto operator<=>(const SmallVector& a, const SmallVector& b) {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }
  // With std::vector on either side (the implicit conversions would make these ambiguous).
  friend bool operator==(const SmallVector& a, const std::vector<T>& b) {
    return a.size_ == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  // Makes room for `count` elements at `pos`; returns where they go.
  iterator open_gap(const_iterator pos, size_t count) {
    const size_t index = static_cast<size_t>(pos - cbegin());
    if (size_ + count > capacity_) grow_to(std::max(size_ + count, 2 * capacity_));
    std::copy_backward(data_ + index, data_ + size_, data_ + size_ + count);
    size_ += count;
    return data_ + index;
  }
  void grow_to(size_t want) {
    want = std::max(want, N);
    T* bigger = static_cast<T*>(::operator new(want * sizeof(T)));
    if (size_) std::memcpy(bigger, data_, size_ * sizeof(T));
    release();
    data_ = bigger;
    capacity_ = want;
  }
  void release() {
    if (data_ != inline_) ::operator delete(data_);
    data_ = inline_;
    capacity_ = N;
  }
  // Takes other's elements: its heap block when it has one, else a copy of its inline ones.
  void steal(SmallVector& other) {
    if (other.data_ == other.inline_) {
      std::memcpy(inline_, other.inline_, other.size_ * sizeof(T));
      data_ = inline_;
      capacity_ = N;
    } else {
      data_ = other.data_;
      capacity_ = other.capacity_;
      other.data_ = other.inline_;
      other.capacity_ = N;
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  T* data_ = inline_;
  size_t size_ = 0;
  size_t capacity_ = N;
  T inline_[N];
};

}  // namespace gau
