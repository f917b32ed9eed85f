// dot_product_attention(): f64 gradcheck on small shapes, linear peak memory (no n x n buffer),
// and the error messages for bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/allocator.h"
#include "core/ops/factory.h"
#include "layers/attention/attention.h"

namespace gau::attention {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

Tensor randn(const Shape& shape, DType dtype = DType::f64, double stddev = 1.0) {
  return ops::randn(shape, dtype, Device::cpu(), 0.0, stddev);
}

// q, k, v and (when the options carry a bias) the table are the checked inputs.
void check_gradients(AttentionOptions opt, int64_t n_q, int64_t n_k, double qk_std = 1.0) {
  manual_seed(42);
  std::vector<Tensor> inputs{randn({2, 2, n_q, 3}, DType::f64, qk_std), randn({2, 2, n_k, 3}, DType::f64, qk_std),
                             randn({2, 2, n_k, 4})};
  const bool has_bias = opt.bias.kind != RelativeBias::Kind::none;
  if (has_bias) inputs.push_back(opt.bias.table);
  auto fn = [opt, has_bias](const std::vector<Tensor>& in) {
    AttentionOptions o = opt;
    if (has_bias) o.bias.table = in[3];
    return dot_product_attention(in[0], in[1], in[2], o);
  };
  EXPECT_TRUE(gradcheck(fn, inputs, GradcheckOptions{1e-6, 1e-6, 1e-4}));
}

TEST(AttentionGradcheck, EveryKernelCausalAndNot) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace})
    for (bool causal : {false, true}) {
      SCOPED_TRACE(std::string(kernel_name(kernel)) + (causal ? " causal" : ""));
      AttentionOptions opt;
      opt.kernel = kernel;
      opt.causal = causal;
      opt.scale = kernel == Kernel::relu2 ? 0.5 : 0;
      check_gradients(opt, 5, 5);
      check_gradients(opt, 3, 6);
    }
}

TEST(AttentionGradcheck, BiasPaddingAndDropout) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2}) {
    SCOPED_TRACE(kernel_name(kernel));
    AttentionOptions opt;
    opt.kernel = kernel;
    opt.scale = kernel == Kernel::relu2 ? 0.5 : 0;
    opt.causal = true;
    opt.key_lengths = ops::from_vector<int64_t>({6, 4}, {2});
    opt.bias.kind = RelativeBias::Kind::per_offset;
    opt.bias.max_offset = 3;
    opt.bias.table = randn({7}, DType::f64, 0.3);
    check_gradients(opt, 6, 6);
    opt.causal = false;
    opt.bias.kind = RelativeBias::Kind::t5_buckets;
    opt.bias.num_buckets = 8;
    opt.bias.max_distance = 16;
    opt.bias.table = randn({8}, DType::f64, 0.3);
    opt.dropout_p = 0.25;
    opt.seed = 9;
    check_gradients(opt, 6, 6);
  }
}

// Peak allocator bytes of forward + backward (inputs excluded, outputs and workspace included).
size_t peak_bytes(int64_t n) {
  manual_seed(1);
  Tensor q = randn({1, 1, n, 16}, DType::f32).requires_grad_();
  Tensor k = randn({1, 1, n, 16}, DType::f32).requires_grad_();
  Tensor v = randn({1, 1, n, 16}, DType::f32).requires_grad_();
  Tensor d_o = randn({1, 1, n, 16}, DType::f32);
  const size_t before = memory_stats().current;
  reset_peak_memory();
  Tensor o = dot_product_attention(q, k, v, {});
  o.backward(d_o);
  return memory_stats().peak - before;
}

TEST(AttentionMemory, PeakGrowsLinearlyInN) {
  const size_t p2048 = peak_bytes(2048), p4096 = peak_bytes(4096);
  RecordProperty("peak_bytes_2048", std::to_string(p2048));
  RecordProperty("peak_bytes_4096", std::to_string(p4096));
  EXPECT_LT(static_cast<double>(p4096), 2.5 * static_cast<double>(p2048)) << p2048 << " -> " << p4096;
  // One f32 n x n score matrix at n = 4096 would be 64 MiB on its own.
  EXPECT_LT(p4096, size_t{4096} * 4096 * 4 / 8);
}

// ---- bad input ----

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected gau::Error";
  } catch (const Error& err) {
    for (const std::string& part : parts) EXPECT_THAT(err.what(), HasSubstr(part));
  }
}

TEST(AttentionErrors, MismatchedShapes) {
  Tensor q = ops::zeros({2, 3, 5, 8}), k = ops::zeros({2, 3, 6, 8}), v = ops::zeros({2, 3, 6, 4});
  expect_error([&] { dot_product_attention(q, ops::zeros({1, 3, 6, 8}), v); },
               {"attention", "[2, 3, 5, 8]", "[1, 3, 6, 8]"});
  expect_error([&] { dot_product_attention(q, k, ops::zeros({2, 2, 6, 4})); }, {"attention", "heads", "[2, 2, 6, 4]"});
  expect_error([&] { dot_product_attention(q, k, ops::zeros({2, 3, 7, 4})); },
               {"attention", "n_k", "[2, 3, 6, 8]", "[2, 3, 7, 4]"});
  expect_error([&] { dot_product_attention(q, ops::zeros({2, 3, 6, 9}), ops::zeros({2, 3, 6, 4})); },
               {"attention", "width s", "[2, 3, 5, 8]", "[2, 3, 6, 9]"});
  expect_error([&] { dot_product_attention(ops::zeros({2, 5, 8}), k, v); },
               {"attention", "q [b, h, n_q, s]", "[2, 5, 8]"});
}

TEST(AttentionErrors, BadDtypes) {
  Tensor k = ops::zeros({1, 1, 4, 2}), v = ops::zeros({1, 1, 4, 2});
  expect_error([&] { dot_product_attention(ops::zeros({1, 1, 4, 2}, DType::i32), k, v); },
               {"attention", "floating", "i32"});
  expect_error([&] { dot_product_attention(ops::zeros({1, 1, 4, 2}, DType::f64), k, v); },
               {"attention", "one dtype", "f64", "f32"});
}

TEST(AttentionErrors, BadPadding) {
  Tensor q = ops::zeros({2, 1, 5, 4}), k = ops::zeros({2, 1, 6, 4}), v = ops::zeros({2, 1, 6, 4});
  AttentionOptions opt;
  opt.key_lengths = ops::from_vector<int64_t>({6, 7}, {2});
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "key_lengths[1] = 7", "[0, 6]"});
  opt.key_lengths = ops::from_vector<int64_t>({-1, 2}, {2});
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "key_lengths[0] = -1"});
  opt.key_lengths = ops::from_vector<int64_t>({1, 2, 3}, {3});
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "key_lengths", "[2]", "i64[3]"});
  opt.key_lengths = Tensor();
  opt.key_mask = Tensor::empty({2, 5}, DType::b8);
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "key_mask", "[b, n_k] = [2, 6]", "[2, 5]"});
  opt.key_mask = ops::zeros({2, 6});
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "key_mask must be bool", "f32[2, 6]"});
}

TEST(AttentionErrors, BadBiasDropoutAndDevice) {
  Tensor q = ops::zeros({1, 1, 5, 4}), k = ops::zeros({1, 1, 5, 4}), v = ops::zeros({1, 1, 5, 4});
  AttentionOptions opt;
  opt.bias.kind = RelativeBias::Kind::per_offset;
  opt.bias.max_offset = 4;
  opt.bias.table = ops::zeros({8});
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "per_offset", "[9]", "f32[8]"});
  opt.bias.kind = RelativeBias::Kind::t5_buckets;
  opt.bias.num_buckets = 32;
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "t5_buckets", "[32]", "f32[8]"});
  opt.bias = {};
  opt.dropout_p = 1.0;
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "dropout_p", "[0, 1)", "1"});
  opt.dropout_p = 0;
  opt.backend = Backend::cudnn;
  expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "cudnn", "CUDA"});
  EXPECT_THROW(kernel_from_name("relu3"), Error);
  EXPECT_EQ(kernel_from_name("laplace"), Kernel::laplace);
}

TEST(AttentionErrors, ScaleByValidLengthIsTheInvNRuleOnly) {
  Tensor q = ops::zeros({1, 1, 5, 4}), k = ops::zeros({1, 1, 5, 4}), v = ops::zeros({1, 1, 5, 4});
  AttentionOptions opt;
  opt.kernel = Kernel::relu2;
  opt.scale_by_valid_length = true;
  opt.scale = 0.5;
  expect_error([&] { dot_product_attention(q, k, v, opt); },
               {"attention", "scale_by_valid_length = true", "scale = 0.5", "explicit scale"});
  opt.scale = 0;
  opt.kernel = Kernel::softmax;
  expect_error([&] { dot_product_attention(q, k, v, opt); },
               {"attention", "scale_by_valid_length = true", "kernel softmax", "relu2", "laplace"});
  for (Kernel kernel : {Kernel::relu2, Kernel::laplace}) {
    opt.kernel = kernel;
    EXPECT_EQ(dot_product_attention(q, k, v, opt).shape(), (Shape{1, 1, 5, 4})) << kernel_name(kernel);
  }
}

TEST(AttentionErrors, LogLengthBaseIsABaseAboveOneAndAloneAsARowRule) {
  Tensor q = ops::zeros({1, 1, 5, 4}), k = ops::zeros({1, 1, 5, 4}), v = ops::zeros({1, 1, 5, 4});
  AttentionOptions opt;
  for (double bad : {1.0, 0.5, -2.0, std::nan("")}) {
    opt.log_length_base = bad;
    expect_error([&] { dot_product_attention(q, k, v, opt); }, {"attention", "log_length_base", "base > 1", "512"});
  }
  opt.log_length_base = 512;
  opt.kernel = Kernel::relu2;
  opt.scale_by_valid_length = true;
  expect_error([&] { dot_product_attention(q, k, v, opt); },
               {"attention", "scale_by_valid_length", "log_length_base", "got both"});
}

}  // namespace
}  // namespace gau::attention
