#pragma once
// Parameter initialisers, in place on any dtype and device. The random ones draw from a Philox
// Generator (core/rng.h; default_generator() when none is given), so the same seed gives the same
// values on every device and every run.
//
// Fans, as PyTorch computes them, for a tensor [out, in, k...] (a Linear weight is [out, in]):
//   fan_in = in * prod(k),  fan_out = out * prod(k);  a 1-D tensor has fan_in = fan_out = its size.
//
//   normal_:           N(mean, std)
//   truncated_normal_: N(mean, std) restricted to [mean + lo*std, mean + hi*std] (±2σ by default);
//                      values outside are redrawn, not clamped, so the density is the truncated one
//   uniform_:          U(low, high)
//   xavier_uniform_:   U(±gain·sqrt(6 / (fan_in + fan_out)))     (Glorot & Bengio 2010)
//   xavier_normal_:    N(0, gain·sqrt(2 / (fan_in + fan_out)))
//   kaiming_uniform_:  U(±gain·sqrt(3 / fan))                    (He et al. 2015)
//   kaiming_normal_:   N(0, gain / sqrt(fan))
//   gain:              1 for linear, sqrt(2) for relu
//   gau_gamma_:        N(0, 0.02), the scale of GAU's per-dimension scale-offset (MODEL.md)
//   gau_beta_:         0, its offset
#include "core/rng.h"
#include "core/tensor.h"

namespace gau::layers::init {

enum class FanMode { fan_in, fan_out };
enum class Nonlinearity { linear, relu };

double gain(Nonlinearity nonlinearity);
int64_t fan_in(const Tensor& t);
int64_t fan_out(const Tensor& t);

void normal_(const Tensor& t, double mean, double stddev, Generator& gen = default_generator());
// lo and hi are in units of std around the mean.
void truncated_normal_(const Tensor& t, double stddev, double lo = -2.0, double hi = 2.0, double mean = 0.0,
                       Generator& gen = default_generator());
void uniform_(const Tensor& t, double low, double high, Generator& gen = default_generator());
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void kaiming_uniform_(const Tensor& t, FanMode mode = FanMode::fan_in, Nonlinearity nonlinearity = Nonlinearity::relu,
                      Generator& gen = default_generator());
void kaiming_normal_(const Tensor& t, FanMode mode = FanMode::fan_in, Nonlinearity nonlinearity = Nonlinearity::relu,
                     Generator& gen = default_generator());
void zeros_(const Tensor& t);
void ones_(const Tensor& t);
void constant_(const Tensor& t, double value);
void gau_gamma_(const Tensor& t, Generator& gen = default_generator());
void gau_beta_(const Tensor& t);

}  // namespace gau::layers::init
