#pragma once
// SequenceBlock: what a language model stacks. GAU, FLASH, MultiHeadAttention and the
// Transformer++ block implement it, so one model class serves every flavour.
//
//   x [b, n, d] -> y [b, n, d]                       (a residual block: y = x + f(x))
//
// Training and evaluation run forward_sequence over whole sequences. Generation runs decode over a
// few tokens at a time against a cache that the block made with start_decoding: the tokens at
// positions cache.position .. position + m - 1, each attending to every earlier token the cache
// holds and to the earlier tokens of the same call (causal blocks only). The outputs equal the
// same rows of forward_sequence over the whole sequence (the decoding tests check it per block).
// What a block caches is its own: MHA keeps k and v per head, GAU keeps k, v of its single head
// (u and q are per token), FLASH keeps FlashDecodeState's O(s e) running sums.
#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "layers/module.h"

namespace gau::layers {

// Per-batch facts a block may need besides x.
struct SequenceInfo {
  // Optional [b] i32/i64: tokens at positions >= key_lengths[r] of row r are padding (keys left
  // out of attention; the queries still get outputs, which the loss masks).
  Tensor key_lengths;
};

// A block's incremental-decoding state for a batch of sequences decoded in step.
struct DecodeCache {
  virtual ~DecodeCache() = default;
  int64_t position = 0;  // tokens consumed so far
};

class SequenceBlock : public Module {
 public:
  using Module::Module;

  // x [b, n, d] -> [b, n, d].
  virtual Tensor forward_sequence(const Tensor& x, const SequenceInfo& info) = 0;
  Tensor forward(const Tensor& x) override { return forward_sequence(x, {}); }

  // The width d of x.
  virtual int64_t width() const = 0;
  // Whether token i sees only tokens j <= i (required by decode).
  virtual bool is_causal() const = 0;

  // A fresh cache for `batch` sequences of at most `max_length` tokens, on the block's device.
  // A block that cannot decode (not causal) throws, naming itself.
  virtual std::unique_ptr<DecodeCache> start_decoding(int64_t batch, int64_t max_length) const = 0;
  // x [b, m, d] for the tokens at positions cache.position .. + m - 1 -> [b, m, d]; advances
  // cache.position by m. Grad-free (generation), so it runs under NoGradGuard.
  virtual Tensor decode(const Tensor& x, DecodeCache& cache) = 0;
};

}  // namespace gau::layers
