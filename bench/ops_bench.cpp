#include "bench/ops_bench.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/ops/copy.h"
#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/matmul.h"
#include "core/ops/norm.h"
#include "core/ops/reduce.h"
#include "core/ops/rope.h"
#include "core/ops/softmax.h"
#include "core/ops/view.h"

namespace gau::bench {

namespace {

constexpr int64_t kMiB = 1 << 20;

// max |x - y| / max |y| over two f32 CPU tensors of the same shape.
double max_rel_diff(const Tensor& x, const Tensor& y) {
  const float* a = x.data<float>();
  const float* b = y.data<float>();
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::abs(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// C = A B for square n x n f32 matrices: gau::ops::matmul and cblas_sgemm on the same buffers,
// interleaved. The overhead is what gau adds on top of OpenBLAS (dispatch, checks, allocation).
nlohmann::json matmul_cpu(int64_t n, const BenchConfig& cfg) {
  Tensor a = ops::randn({n, n});  // [n, n]
  Tensor b = ops::randn({n, n});  // [n, n]
  Tensor c = ops::empty({n, n});  // [n, n] the raw sgemm's output
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* pc = c.data<float>();
  auto raw = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(n),
                static_cast<int>(n), 1.0f, pa, static_cast<int>(n), pb, static_cast<int>(n), 0.0f, pc,
                static_cast<int>(n));
  };
  Tensor out;
  auto ours = [&] { out = ops::matmul(a, b); };
  // Small products take a millisecond or two, where one preemption moves a median of 10: repeat
  // them as often as 1024^3 takes in total (up to 1000 times), so every size gets the same spread.
  BenchConfig many = cfg;
  double per_1024 = 1024.0 / static_cast<double>(n);
  many.repeats = std::clamp(static_cast<int>(cfg.repeats * per_1024 * per_1024 * per_1024), cfg.repeats, 1000);
  auto t = time_interleaved({ours, raw}, many);
  double flops = 2.0 * n * n * n;
  return {{"name", "matmul"},
          {"dtype", "f32"},
          {"shape", {n, n, n}},
          {"gau", to_json(t[0])},
          {"cblas_sgemm", to_json(t[1])},
          {"gau_gflops", gflop_per_s(flops, t[0].median_ms)},
          {"cblas_gflops", gflop_per_s(flops, t[1].median_ms)},
          {"overhead_pct", 100.0 * (t[0].median_ms / t[1].median_ms - 1.0)},
          {"max_rel_diff", max_rel_diff(out, c)}};
}

nlohmann::json matmul_gpu(int64_t n, DType dtype, const BenchConfig& cfg) {
  Tensor a = ops::randn({n, n}, dtype, cfg.device);  // [n, n]
  Tensor b = ops::randn({n, n}, dtype, cfg.device);  // [n, n]
  Tensor out;
  Timing t = time_ms([&] { out = ops::matmul(a, b); }, cfg);
  // Checked against the CPU in f32 on the same (rounded) inputs.
  Tensor ref = ops::matmul(ops::to_dtype(ops::to_device(a, Device::cpu()), DType::f32),
                           ops::to_dtype(ops::to_device(b, Device::cpu()), DType::f32));
  Tensor got = ops::to_dtype(ops::to_device(out, Device::cpu()), DType::f32);
  return {{"name", "matmul"},
          {"dtype", dtype_name(dtype)},
          {"shape", {n, n, n}},
          {"gau", to_json(t)},
          {"gau_tflops", gflop_per_s(2.0 * n * n * n, t.median_ms) / 1e3},
          {"max_rel_diff", max_rel_diff(got, ref)}};
}

// The memory-bandwidth reference: bytes read + written per second by a plain copy.
struct CopyReference {
  std::string name;
  Timing timing;
  double gbps = 0;
};

CopyReference copy_reference(const Tensor& src, const Tensor& dst, const BenchConfig& cfg) {
  double bytes = 2.0 * static_cast<double>(src.nbytes());
  if (cfg.device.is_cuda()) {
    Timing t = time_ms([&] { ops::copy_(dst, src); }, cfg);
    return {"copy_", t, gb_per_s(bytes, t.median_ms)};
  }
  // One memcpy call runs on one core; the parallel one splits the buffer across the OpenMP
  // threads, as the elementwise ops do. The faster of the two is the machine's figure.
  const char* s = static_cast<const char*>(src.data_ptr());
  char* d = static_cast<char*>(dst.data_ptr());
  size_t total = src.nbytes();
  auto serial = [&] { std::memcpy(d, s, total); };
  auto parallel = [&] {
#pragma omp parallel
    {
      size_t parts = static_cast<size_t>(omp_get_num_threads());
      size_t i = static_cast<size_t>(omp_get_thread_num());
      size_t begin = total * i / parts, end = total * (i + 1) / parts;
      std::memcpy(d + begin, s + begin, end - begin);
    }
  };
  auto t = time_interleaved({serial, parallel}, cfg);
  bool par_wins = t[1].median_ms < t[0].median_ms;
  const Timing& best = par_wins ? t[1] : t[0];
  return {par_wins ? "memcpy_omp" : "memcpy", best, gb_per_s(bytes, best.median_ms)};
}

nlohmann::json bandwidth_case(const std::string& name, const std::vector<int64_t>& shape, int64_t bytes,
                              const std::function<void()>& fn, const CopyReference& ref, const BenchConfig& cfg) {
  Timing t = time_ms(fn, cfg);
  double gbps = gb_per_s(static_cast<double>(bytes), t.median_ms);
  return {{"name", name},
          {"dtype", "f32"},
          {"shape", shape},
          {"gau", to_json(t)},
          {"bytes", bytes},
          {"gbps", gbps},
          {"reference", ref.name},
          {"reference_gbps", ref.gbps},
          {"fraction_of_reference", gbps / ref.gbps}};
}

}  // namespace

nlohmann::json run_ops_bench(const BenchConfig& cfg) {
  nlohmann::json results = nlohmann::json::array();
  for (int64_t n : pick_sizes(cfg, {512, 1024, 2048}, 128)) {
    if (cfg.device.is_cuda()) {
      results.push_back(matmul_gpu(n, DType::f32, cfg));
      results.push_back(matmul_gpu(n, DType::bf16, cfg));
    } else {
      results.push_back(matmul_cpu(n, cfg));
    }
  }

  // Bandwidth-bound ops on 64 MB f32 operands: large enough to leave every cache.
  const int64_t numel = (cfg.quick ? 4 : 64) * kMiB / 4;
  const int64_t cols = 4096, rows = numel / cols;
  Tensor x = ops::randn({rows, cols}, DType::f32, cfg.device);  // [rows, cols]
  Tensor y = ops::randn({rows, cols}, DType::f32, cfg.device);  // [rows, cols]
  Tensor copy_dst = ops::empty({rows, cols}, DType::f32, cfg.device);
  CopyReference ref = copy_reference(x, copy_dst, cfg);
  const int64_t size = static_cast<int64_t>(x.nbytes());
  results.push_back({{"name", ref.name},
                     {"dtype", "f32"},
                     {"shape", {rows, cols}},
                     {ref.name, to_json(ref.timing)},
                     {"bytes", 2 * size},
                     {"gbps", ref.gbps}});

  Tensor out;
  results.push_back(bandwidth_case(
      "add", {rows, cols}, 3 * size, [&] { out = ops::add(x, y); }, ref, cfg));
  results.push_back(bandwidth_case(
      "softmax_last_dim", {rows, cols}, 2 * size, [&] { out = ops::softmax(x, -1); }, ref, cfg));
  results.push_back(bandwidth_case(
      "sum_last_dim", {rows, cols}, size, [&] { out = ops::sum(x, {-1}); }, ref, cfg));

  // Layer ops on the same rows (d = 4096); bytes count x, d_y and the outputs, not the [rows]
  // statistics or the [d] parameters.
  Tensor w = ops::randn({cols}, DType::f32, cfg.device), b = ops::randn({cols}, DType::f32, cfg.device);
  Tensor g = ops::full({1}, 64.0, DType::f32, cfg.device);
  ops::NormOutput ln = ops::layer_norm(x, w, b, 1e-5), rms = ops::rms_norm(x, w, 1e-6);
  ops::NormGrads grads;
  results.push_back(bandwidth_case(
      "layer_norm", {rows, cols}, 2 * size, [&] { out = ops::layer_norm(x, w, b, 1e-5).y; }, ref, cfg));
  results.push_back(bandwidth_case(
      "layer_norm_backward", {rows, cols}, 3 * size,
      [&] { grads = ops::layer_norm_backward(y, x, w, b, ln.mean, ln.rstd, true); }, ref, cfg));
  results.push_back(bandwidth_case(
      "rms_norm", {rows, cols}, 2 * size, [&] { out = ops::rms_norm(x, w, 1e-6).y; }, ref, cfg));
  results.push_back(bandwidth_case(
      "rms_norm_backward", {rows, cols}, 3 * size, [&] { grads = ops::rms_norm_backward(y, x, w, rms.rstd, true); },
      ref, cfg));
  results.push_back(bandwidth_case(
      "scale_norm", {rows, cols}, 2 * size, [&] { out = ops::scale_norm(x, g, 1e-5).y; }, ref, cfg));
  results.push_back(bandwidth_case(
      "dropout", {rows, cols}, 2 * size, [&] { out = ops::dropout(x, 0.1, 7, 0); }, ref, cfg));
  // RoPE on x seen as [batch, n = 512, s = 128] queries, every feature rotated.
  const int64_t n = 512, s = 128;
  Tensor q = ops::reshape(x, {numel / (n * s), n, s});  // [batch, n, s]
  Tensor table = ops::rope_table(n, s, 10000, DType::f32, cfg.device);
  results.push_back(bandwidth_case(
      "rope", {numel / (n * s), n, s}, 2 * size, [&] { out = ops::rope(q, table); }, ref, cfg));
  return results;
}

}  // namespace gau::bench
