#pragma once
// gradcheck for a module's own parameters. gau::gradcheck (autograd/gradcheck.h) differentiates
// with respect to the inputs it is given, copied to new leaves, which a layer holding its
// parameters never sees; this perturbs each parameter element in place instead.
//
//   m.to(Device::cpu(), DType::f64);
//   Tensor r = ops::randn({...}, DType::f64);                   // a fixed random projection
//   module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x), r)); });
//
// loss() must build a scalar from the module's current parameters, all f64, contiguous and on the
// CPU. One backward gives every parameter's analytic gradient; each element is then moved by
// ±eps and the central difference must agree within atol + rtol · |numeric|.
#include <functional>

#include "autograd/gradcheck.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace gau::layers {

// Returns true; throws gau::Error naming the parameter, the element and both gradients at the
// first mismatch (or a parameter that is not f64 on the CPU).
bool module_gradcheck(const Module& m, const std::function<Tensor()>& loss, const GradcheckOptions& opt = {});

}  // namespace gau::layers
