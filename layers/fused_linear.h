#pragma once
// FusedLinear: several projections of the same input in ONE GEMM, returned as named views.
//
//   FusedLinear w_in(d, {{"u", e}, {"v", e}, {"z", s}});       // GAU's d -> 2e + s projection
//   NamedViews p = w_in.forward_views(h);                      // h [..., d]
//   p["u"] [..., e], p["v"] [..., e], p["z"] [..., s]          // views of one [..., 2e + s] output
//
// The weight is ONE matrix [sum, in] (and the bias one vector [sum]): the sections' rows stacked
// in the order given, i.e. what torch.cat([W_u, W_v, W_z]) would be. One matrix is what one GEMM
// needs; the product is the same as separate projections (MODEL.md: W_q and W_k stay separate
// row blocks of it, never merged into one bilinear form). The views are strided slices of the
// output's last dim (row stride sum), not copies; the split records one node whose backward
// writes each view's gradient into its columns. Each section's rows are initialised as a Linear
// with the same fan-in would be, so one init over the whole matrix gives the same distribution.
//
// Config: {type: fused_linear, in: 64, outputs: {u: 128, v: 128, z: 32}, bias: true, init: uniform}
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/ops/elementwise.h"
#include "layers/linear.h"

namespace gau::layers {

struct NamedViews {
  std::vector<std::string> names;
  std::vector<Tensor> views;
  // The view called `name`; an unknown name is an error listing the names.
  const Tensor& operator[](const std::string& name) const;
};

class FusedLinear : public Module {
 public:
  FusedLinear(int64_t in, std::vector<std::pair<std::string, int64_t>> outputs, const LinearOptions& options = {});

  // x [..., in] -> [..., sum of the output widths], the sections side by side.
  Tensor forward(const Tensor& x) override;
  // x [..., in] -> one view [..., width] per section, in order.
  NamedViews forward_views(const Tensor& x);
  // The same with act applied to every section, fused into the bias pass: act(x Wᵀ + b) in one
  // pass over the output, instead of a bias pass and then one activation pass per section.
  NamedViews forward_views(const Tensor& x, ops::Activation act);

  const Tensor& weight() const { return weight_; }  // [sum, in]
  const Tensor& bias() const { return bias_; }      // [sum], undefined without bias
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return total_; }
  const std::vector<std::pair<std::string, int64_t>>& outputs() const { return outputs_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const FusedLinear& m, uint64_t seed);  // [2, 3, in]

 private:
  int64_t in_, total_ = 0;
  std::vector<std::pair<std::string, int64_t>> outputs_;
  Tensor weight_, bias_;
};

}  // namespace gau::layers
