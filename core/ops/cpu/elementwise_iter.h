#pragma once
// Strided N-d iteration for CPU elementwise kernels.
//
// Operands are broadcast to one output shape (stride 0 on broadcast dims), size-1 dims are dropped,
// and a dim is merged into its inner neighbour when every operand steps through both as one, so a
// contiguous same-shape op becomes a single flat loop.
//
// The driver (StridedIter::run, compiled once in elementwise_iter.cpp, not once per op and dtype)
// walks runs of the innermost dim, splits them among OpenMP threads and tiles transposed operands.
// An op supplies only a block loop out[i] = f(in[i]...) over unit-stride arrays of its compute
// types (map_kernel below), which the compiler vectorises. A run whose operands are all unit-stride
// in their compute type goes to that loop whole; otherwise the driver stages it in blocks of kBlock
// elements: a broadcast (stride-0) input is filled once, a strided one gathered, the output
// scattered, and bf16/f16 operands are converted to f32 and back. So bf16/f16 ops run the f32 loop
// and round once to the storage type, exactly what computing each element in f32 gives.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "core/small_vector.h"
#include "core/tensor.h"

namespace gau::ops::cpu {

constexpr int kMaxOperands = 4;
// Side of the square tiles used when an operand is transposed relative to the output.
constexpr int64_t kTile = 32;
// Elements per staged block: small enough that every operand's block stays in L1.
constexpr int64_t kBlock = 256;

// out[i] = f(in_k[i]...) for i < n: ptrs[0] is the output, ptrs[1..] the inputs, all unit-stride
// arrays of the kernel's compute types; fn is the op's functor.
using BlockLoop = void (*)(char* const* ptrs, int64_t n, const void* fn);

// How the driver presents an operand to a block loop: as stored, or bf16/f16 storage as f32.
enum class Staging : uint8_t { raw, bf16, f16 };

struct BlockKernel {
  BlockLoop loop = nullptr;
  const void* fn = nullptr;
  std::array<int64_t, kMaxOperands> size{};  // bytes of each operand's compute type
  std::array<Staging, kMaxOperands> staging{};
};

class StridedIter {
 public:
  // operands[0] is the output and has `shape`; the others broadcast to `shape`.
  StridedIter(const Shape& shape, std::initializer_list<Tensor> operands);

  int64_t numel() const { return numel_; }
  int64_t ndim() const { return static_cast<int64_t>(sizes_.size()); }

  // A kernel whose operand k has a compute type of sizes[k] bytes, f32 when is_f32[k]. An operand
  // stored as bf16/f16 must compute in f32; any other must compute in a type of its own size.
  BlockKernel bind(BlockLoop loop, const void* fn, std::initializer_list<int64_t> sizes,
                   std::initializer_list<bool> is_f32) const;
  // Runs the kernel over every element, in parallel when the iteration is large.
  void run(const BlockKernel& k) const;

 private:
  void run_range(const BlockKernel& k, int64_t begin, int64_t end) const;
  void run_tiled(const BlockKernel& k, int64_t threads) const;
  // True when some operand steps through memory faster along dim 1 than along the inner dim 0
  // (a transposed view): runs of dim 0 would then touch one cache line and page per element.
  bool transposed() const;

  int nops_ = 0;
  int64_t numel_ = 0;
  std::array<char*, kMaxOperands> base_{};
  std::array<DType, kMaxOperands> dtypes_{};
  // Inline for rank <= 8: building an iterator allocates nothing (1-element ops are all overhead).
  SmallVector<int64_t, 8> sizes_;                              // innermost dim first
  SmallVector<std::array<int64_t, kMaxOperands>, 8> strides_;  // [dim][operand], in bytes
};

namespace detail {

template <typename Out, typename F, typename... In>
inline void contiguous_run(Out* out, int64_t n, const F& f, const In*... in) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]...);
}

template <typename F, typename Out, typename... In, size_t... I>
inline void block_loop_impl(char* const* p, int64_t n, const F& f, std::index_sequence<I...>) {
  contiguous_run(reinterpret_cast<Out*>(p[0]), n, f, reinterpret_cast<const In*>(p[I + 1])...);
}

template <typename F, typename Out, typename... In>
void block_loop(char* const* p, int64_t n, const void* fn) {
  block_loop_impl<F, Out, In...>(p, n, *static_cast<const F*>(fn), std::index_sequence_for<In...>{});
}

}  // namespace detail

// out = f(in...) elementwise over `it`, whose operands are (out, in...); Out and In are the compute
// types (float for f32, bf16 and f16 storage; double; the integer types; bool), not the storage types.
template <typename Out, typename... In, typename F>
void map_kernel(const StridedIter& it, const F& f) {
  it.run(it.bind(&detail::block_loop<F, Out, In...>, &f, {int64_t{sizeof(Out)}, int64_t{sizeof(In)}...},
                 {std::is_same_v<Out, float>, std::is_same_v<In, float>...}));
}

}  // namespace gau::ops::cpu
