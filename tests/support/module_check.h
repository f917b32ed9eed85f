#pragma once
// gradcheck for a module's parameters as a GoogleTest assertion: layers::module_gradcheck
// (layers/module_gradcheck.h), its error message as the failure.
//
//   m.to(Device::cpu(), DType::f64);
//   EXPECT_TRUE(test::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x), r)); }));
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "autograd/gradcheck.h"
#include "core/tensor.h"
#include "layers/block.h"
#include "layers/module.h"

namespace gau::test {

// loss() builds a scalar from the module's current parameters (all f64, contiguous, on the CPU).
// The analytic gradient of every parameter (one backward) must match central differences within
// atol + rtol * |numeric|; a failure names the parameter and the element.
::testing::AssertionResult module_gradcheck(const layers::Module& m, const std::function<Tensor()>& loss,
                                            const GradcheckOptions& opt = {});

// The parameter or child module called `name` (as named_parameters / named_children list it); a
// test failure, and an undefined result, when there is none.
Tensor parameter(const layers::Module& m, const std::string& name);
std::shared_ptr<layers::Module> child(const layers::Module& m, const std::string& name);
// Copies `value` into the parameter called `name` (same shape), outside the tape.
void set_parameter(const layers::Module& m, const std::string& name, const Tensor& value);

// m's outputs for x [b, n, d] decoded `step` tokens at a time from a fresh cache of max_length
// positions, concatenated along n (to compare with m.forward(x) of a causal block); a test
// failure when the cache does not end at position n.
Tensor decode_in_steps(layers::SequenceBlock& m, const Tensor& x, int64_t step, int64_t max_length);

}  // namespace gau::test
