#include "layers/embedding.h"

#include <vector>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/init.h"
#include "layers/registry.h"

namespace gau::layers {

Embedding::Embedding(int64_t vocab, int64_t dim, double init_std, Generator* gen)
    : Module("Embedding"), vocab_(vocab), dim_(dim) {
  GAU_CHECK(vocab > 0 && dim > 0, "Embedding: vocab and dim must be > 0, got vocab ", vocab, ", dim ", dim);
  weight_ = register_parameter("weight", ops::empty({vocab, dim}));
  init::normal_(weight_, 0.0, init_std, gen ? *gen : default_generator());
}

Tensor Embedding::forward(const Tensor& ids) {
  GAU_CHECK(ids.defined() && (ids.dtype() == DType::i32 || ids.dtype() == DType::i64), where(),
            ": expected token ids (i32 or i64) in [0, ", vocab_, "), got ",
            ids.defined() ? describe(ids) : std::string("an undefined tensor"));
  GAU_CHECK(ids.device() == weight_.device(), where(), ": the ids ", describe(ids), " are not on the device of ",
            describe(weight_));
  return gau::embedding(weight_, ids);
}

Tensor Embedding::attend(const Tensor& h) const {
  GAU_CHECK(h.defined() && h.dim() >= 1 && h.size(-1) == dim_, where(), ": attend expects h [..., ", dim_, "], got ",
            h.defined() ? describe(h) : std::string("an undefined tensor"));
  ops::MatmulOptions opt;
  opt.trans_b = true;
  return gau::matmul(h, weight_, opt);
}

std::shared_ptr<Module> Embedding::from_config(ConfigReader& r) {
  r.explain({{"vocab", "rows of the table: token ids are in [0, vocab)"},
             {"dim", "width of each embedding"},
             {"init_std", "the table starts N(0, init_std)"}});
  const int64_t vocab = r.integer("vocab", Range::at_least(1));
  const int64_t dim = r.integer("dim", Range::at_least(1));
  const double init_std = r.number("init_std", 0.02, Range::greater_than(0));
  return std::make_shared<Embedding>(vocab, dim, init_std);
}

const char* Embedding::example_config() { return "{vocab: 11, dim: 6}"; }

Tensor Embedding::example_input(const Embedding& m, uint64_t seed) {
  std::vector<int64_t> ids(10);
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<int64_t>(philox_uniform(seed, 0, i) * static_cast<float>(m.vocab())) % m.vocab();
  return ops::from_vector<int64_t>(ids, {2, 5}, m.weight().device());
}

GAU_REGISTER_LAYER("embedding", Embedding);

}  // namespace gau::layers
