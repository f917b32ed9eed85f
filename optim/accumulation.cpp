#include "optim/accumulation.h"

#include <string>

#include "autograd/functions.h"
#include "core/error.h"

namespace gau::optim {

namespace {

void check_loss(const Tensor& loss) {
  GAU_CHECK(loss.defined() && loss.numel() == 1 && is_floating(loss.dtype()),
            "GradAccumulator::scale: expected a floating one-element loss, got ",
            loss.defined() ? describe(loss) : std::string("undefined"));
}

}  // namespace

GradAccumulator::GradAccumulator(int64_t micro_batches) : micro_batches_(micro_batches) {
  GAU_CHECK(micro_batches >= 1, "GradAccumulator: micro_batches must be >= 1, got ", micro_batches);
}

Tensor GradAccumulator::scale(const Tensor& loss) const {
  check_loss(loss);
  return micro_batches_ == 1 ? loss : gau::mul(loss, 1.0 / static_cast<double>(micro_batches_));
}

Tensor GradAccumulator::scale(const Tensor& loss, int64_t tokens, int64_t total_tokens) const {
  check_loss(loss);
  GAU_CHECK(total_tokens >= 1 && tokens >= 0 && tokens <= total_tokens,
            "GradAccumulator::scale: expected 0 <= tokens <= total_tokens and total_tokens >= 1, got tokens ", tokens,
            ", total_tokens ", total_tokens);
  return gau::mul(loss, static_cast<double>(tokens) / static_cast<double>(total_tokens));
}

bool GradAccumulator::step() {
  if (++index_ < micro_batches_) return false;
  index_ = 0;
  return true;
}

}  // namespace gau::optim
