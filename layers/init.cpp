#include "layers/init.h"

#include <cmath>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"

namespace gau::layers::init {

namespace {

void check_floating(const Tensor& t, const char* op) {
  GAU_CHECK(t.defined() && is_floating(t.dtype()), "init::", op, ": needs a floating tensor, got ",
            t.defined() ? describe(t) : std::string("an undefined tensor"));
}

// Initialisers write parameters in place: no tape, one version bump.
void assign(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  ops::copy_(t, values);
}

int64_t receptive_field(const Tensor& t) {
  int64_t r = 1;
  for (int64_t d = 2; d < t.dim(); ++d) r *= t.size(d);
  return r;
}

int64_t fan(const Tensor& t, FanMode mode, const char* op) {
  const int64_t f = mode == FanMode::fan_in ? fan_in(t) : fan_out(t);
  GAU_CHECK(f > 0, "init::", op, ": ", describe(t), " has a zero fan");
  return f;
}

// Standard normal number `word` (0..3) of Philox block (seed, lo, hi), Box-Muller in double as
// philox_normal: the redraws of truncated_normal_ use counter_hi = attempt, a counter space no
// other draw uses (every other stream has counter_hi = 0).
double normal_word(uint64_t seed, uint64_t lo, uint64_t hi, uint32_t word) {
  Philox4 block = philox4x32_10(seed, lo, hi);
  const uint32_t w = word & ~1u;
  const double u1 = static_cast<double>(uint_to_open_unit_float(block.v[w]));
  const double u2 = static_cast<double>(uint_to_unit_float(block.v[w + 1]));
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 6.283185307179586476925 * u2;
  return (word % 2 == 0) ? r * std::cos(theta) : r * std::sin(theta);
}

}  // namespace

double gain(Nonlinearity nonlinearity) { return nonlinearity == Nonlinearity::relu ? std::sqrt(2.0) : 1.0; }

int64_t fan_in(const Tensor& t) { return t.dim() < 2 ? t.numel() : t.size(1) * receptive_field(t); }
int64_t fan_out(const Tensor& t) { return t.dim() < 2 ? t.numel() : t.size(0) * receptive_field(t); }

void normal_(const Tensor& t, double mean, double stddev, Generator& gen) {
  check_floating(t, "normal_");
  GAU_CHECK(stddev >= 0, "init::normal_: stddev must be >= 0, got ", stddev);
  assign(t, ops::randn(t.shape(), t.dtype(), t.device(), mean, stddev, &gen));
}

void truncated_normal_(const Tensor& t, double stddev, double lo, double hi, double mean, Generator& gen) {
  check_floating(t, "truncated_normal_");
  GAU_CHECK(stddev > 0, "init::truncated_normal_: stddev must be > 0, got ", stddev);
  GAU_CHECK(lo < hi, "init::truncated_normal_: the bounds [", lo, ", ", hi, "] (in std) are empty");
  // Redrawing needs the interval to hold a fair share of the mass: at 1% a value fails 10,000
  // draws with probability e^-100.
  const double mass = 0.5 * (std::erf(hi / std::sqrt(2.0)) - std::erf(lo / std::sqrt(2.0)));
  GAU_CHECK(mass >= 0.01, "init::truncated_normal_: [", lo, ", ", hi, "] std holds ", mass,
            " of the normal's mass; redrawing needs at least 0.01");
  const int64_t n = t.numel();
  const uint64_t seed = gen.seed(), offset = gen.advance(static_cast<uint64_t>(n));
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t lo_counter = offset + static_cast<uint64_t>(i) / 4;
    const uint32_t word = static_cast<uint32_t>(i % 4);
    double z = philox_normal(seed, offset, static_cast<uint64_t>(i));
    for (uint64_t attempt = 1; z < lo || z > hi; ++attempt) {
      GAU_CHECK(attempt < 10000, "init::truncated_normal_: no value in [", lo, ", ", hi, "] after 10000 draws");
      z = normal_word(seed, lo_counter, attempt, word);
    }
    values[static_cast<size_t>(i)] = mean + stddev * z;
  }
  assign(t, ops::from_vector<double>(values, t.shape()));
}

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  check_floating(t, "uniform_");
  GAU_CHECK(low <= high, "init::uniform_: low ", low, " > high ", high);
  assign(t, ops::rand(t.shape(), t.dtype(), t.device(), low, high, &gen));
}

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  const double a = gain * std::sqrt(6.0 / static_cast<double>(fan(t, FanMode::fan_in, "xavier_uniform_") +
                                                              fan(t, FanMode::fan_out, "xavier_uniform_")));
  uniform_(t, -a, a, gen);
}

void xavier_normal_(const Tensor& t, double gain, Generator& gen) {
  const double stddev = gain * std::sqrt(2.0 / static_cast<double>(fan(t, FanMode::fan_in, "xavier_normal_") +
                                                                   fan(t, FanMode::fan_out, "xavier_normal_")));
  normal_(t, 0.0, stddev, gen);
}

void kaiming_uniform_(const Tensor& t, FanMode mode, Nonlinearity nonlinearity, Generator& gen) {
  const double a = gain(nonlinearity) * std::sqrt(3.0 / static_cast<double>(fan(t, mode, "kaiming_uniform_")));
  uniform_(t, -a, a, gen);
}

void kaiming_normal_(const Tensor& t, FanMode mode, Nonlinearity nonlinearity, Generator& gen) {
  normal_(t, 0.0, gain(nonlinearity) / std::sqrt(static_cast<double>(fan(t, mode, "kaiming_normal_"))), gen);
}

void constant_(const Tensor& t, double value) {
  check_floating(t, "constant_");
  NoGradGuard no_grad;
  ops::fill_(t, value);
}

void zeros_(const Tensor& t) { constant_(t, 0.0); }
void ones_(const Tensor& t) { constant_(t, 1.0); }

void gau_gamma_(const Tensor& t, Generator& gen) { normal_(t, 0.0, 0.02, gen); }
void gau_beta_(const Tensor& t) { zeros_(t); }

}  // namespace gau::layers::init
