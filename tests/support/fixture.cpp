#include "tests/support/fixture.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "tests/support/parity.h"

namespace gau::test {

nlohmann::json load_fixture(const std::string& name) {
  const std::string path = std::string(GAU_TEST_FIXTURES) + "/" + name + ".json";
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "fixture " << path << " is missing; make it with tests/reference/" << name << ".py";
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(in);
}

namespace {

uint64_t mix(uint64_t seed, uint64_t i) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull;
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ull;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z;
}

std::vector<double> counter_values(int64_t n, uint64_t seed, double low, double high) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(mix(seed, static_cast<uint64_t>(i)) >> 11) * (1.0 / 9007199254740992.0);
    v[static_cast<size_t>(i)] = low + (high - low) * u;
  }
  return v;
}

constexpr uint64_t kProbeSeeds[2] = {7001, 7002};  // fixture_lib.PROBE_SEEDS

}  // namespace

Tensor counter_uniform(const Shape& shape, uint64_t seed, double low, double high, DType dtype) {
  std::vector<double> v = counter_values(shape_numel(shape), seed, low, high);
  return ops::to_dtype(ops::from_vector<double>(v, shape), dtype);
}

void expect_matches(const Tensor& got, const nlohmann::json& summary, double rtol, const std::string& what) {
  ASSERT_TRUE(summary.is_object()) << what << ": no such entry in the fixture";
  const std::vector<int64_t> want_shape = summary["shape"].get<std::vector<int64_t>>();
  ASSERT_EQ(Shape(want_shape), got.shape()) << what << ": shape";
  const std::vector<double> g = values(got);
  const int64_t n = static_cast<int64_t>(g.size());
  const double sumsq_want = summary["sumsq"].get<double>();
  const double rms = std::sqrt(sumsq_want / static_cast<double>(std::max<int64_t>(n, 1)));
  const double elem_tol = rtol * (rms + 1e-30);

  const int64_t stride = summary["stride"].get<int64_t>();
  const std::vector<double> samples = summary["samples"].get<std::vector<double>>();
  int failures = 0;
  for (size_t j = 0; j < samples.size() && failures < 5; ++j) {
    const int64_t i = static_cast<int64_t>(j) * stride;
    const double err = std::abs(g[static_cast<size_t>(i)] - samples[j]);
    if (err > elem_tol + rtol * std::abs(samples[j])) {
      ADD_FAILURE() << what << ": element " << i << " is " << g[static_cast<size_t>(i)] << ", the reference has "
                    << samples[j] << " (tolerance " << elem_tol + rtol * std::abs(samples[j]) << ")";
      ++failures;
    }
  }
  // A sum of terms each within rtol of the reference is within rtol of the terms' L1 mass.
  double sum = 0, sumsq = 0, probe[2] = {0, 0}, mass = 0, probe_mass[2] = {0, 0};
  std::vector<double> p0 = counter_values(n, kProbeSeeds[0], -1, 1), p1 = counter_values(n, kProbeSeeds[1], -1, 1);
  for (int64_t i = 0; i < n; ++i) {
    sum += g[i];
    sumsq += g[i] * g[i];
    probe[0] += g[i] * p0[i];
    probe[1] += g[i] * p1[i];
    mass += std::abs(g[i]);
    probe_mass[0] += std::abs(g[i] * p0[i]);
    probe_mass[1] += std::abs(g[i] * p1[i]);
  }
  EXPECT_NEAR(sum, summary["sum"].get<double>(), rtol * mass + 1e-30) << what << ": sum";
  EXPECT_NEAR(sumsq, sumsq_want, 2 * rtol * sumsq_want + 1e-30) << what << ": sum of squares";
  EXPECT_NEAR(probe[0], summary["probes"][0].get<double>(), rtol * probe_mass[0] + 1e-30) << what << ": probe 0";
  EXPECT_NEAR(probe[1], summary["probes"][1].get<double>(), rtol * probe_mass[1] + 1e-30) << what << ": probe 1";
}

}  // namespace gau::test
