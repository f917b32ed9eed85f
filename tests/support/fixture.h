#pragma once
// Layer fixtures made by the PyTorch scripts in tests/reference/ (see fixture_lib.py there).
//
//   nlohmann::json fx = test::load_fixture("gau_seed002");
//   Tensor x = test::counter_uniform({2, 64, 512}, 11, -1, 1);   // the script's x, bit for bit
//   test::expect_matches(out, fx["out"], 1e-4, "GAU output");
//
// The scripts and these helpers draw the same values from a counter-based generator, so a
// fixture holds only what the reference computed, summarised: a strided sample of elements, the
// sum, the sum of squares and inner products with two generated probe tensors.
#include <nlohmann/json.hpp>
#include <string>

#include "core/tensor.h"

namespace gau::test {

// tests/reference/fixtures/<name>.json, parsed; a missing file is a test failure naming the
// script that makes it.
nlohmann::json load_fixture(const std::string& name);

// Element i (row-major) = low + (high - low) * u(seed, i), u in [0, 1) from splitmix64, computed
// in f64 and rounded to `dtype` (fixture_lib.counter_uniform).
Tensor counter_uniform(const Shape& shape, uint64_t seed, double low, double high, DType dtype = DType::f32);

// `got` (in the reference's layout) against a fixture summary: every sample, the sum, the sum of
// squares and both probes: each element within rtol of (its value + the tensor's RMS), each
// sum within rtol of the L1 mass of its terms. A failure names `what`, the quantity, got and expected.
void expect_matches(const Tensor& got, const nlohmann::json& summary, double rtol, const std::string& what);

}  // namespace gau::test
