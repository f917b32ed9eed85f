// The routing rules of backend cudnn (layers/attention/cudnn_route.h), checked without a GPU: which
// cuDNN versions are refused, and which calls run on gau's kernels instead of the cuDNN graphs.
#include "layers/attention/cudnn_route.h"

#include <gtest/gtest.h>

#include <string>

namespace gau::attention::detail {
namespace {

CudnnCall call(size_t version, SdpaPass pass, int64_t n_q, int64_t n_k, DType dtype = DType::bf16) {
  CudnnCall c;
  c.version = version;
  c.pass = pass;
  c.dtype = dtype;
  c.n_q = n_q;
  c.n_k = n_k;
  return c;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CudnnRoute, VersionNames) {
  EXPECT_EQ(cudnn_version_name(91001), "9.10.1");
  EXPECT_EQ(cudnn_version_name(91500), "9.15.0");
  EXPECT_EQ(cudnn_version_name(90600), "9.6.0");
}

TEST(CudnnRoute, Cudnn910And9101AreRefusedForHalfTypes) {
  for (size_t version : {91000u, 91001u}) {
    for (DType dtype : {DType::bf16, DType::f16}) {
      const std::string defect = cudnn_version_defect(version, dtype);
      EXPECT_TRUE(contains(defect, "cuDNN " + cudnn_version_name(version))) << defect;
      EXPECT_TRUE(contains(defect, "9.10.2")) << defect;  // what to upgrade to
    }
  }
  for (size_t version : {90900u, 91002u, 91100u, 91500u, 91900u})
    EXPECT_EQ(cudnn_version_defect(version, DType::bf16), "") << version;
}

TEST(CudnnRoute, Cudnn910RoutesBothPassesAway) {
  for (SdpaPass pass : {SdpaPass::forward, SdpaPass::backward}) {
    for (DType dtype : {DType::bf16, DType::f16}) {
      for (size_t version : {91000u, 91001u}) {
        const CudnnRoute r = route_cudnn(call(version, pass, 256, 256, dtype));
        EXPECT_FALSE(r.cudnn) << version;
        EXPECT_TRUE(contains(r.reason, cudnn_version_name(version))) << r.reason;
      }
      EXPECT_TRUE(route_cudnn(call(91002, pass, 256, 256, dtype)).cudnn);
    }
  }
}

TEST(CudnnRoute, BackwardWithKeysNotAMultipleOf128NeedsCudnn9151) {
  // Up to and including 9.15.0 the backward of n_k % 128 != 0 runs on gau's kernels.
  for (size_t version : {90800u, 91200u, 91500u}) {
    for (int64_t n_k : {1, 64, 100, 129, 320}) {
      const CudnnRoute r = route_cudnn(call(version, SdpaPass::backward, 128, n_k));
      EXPECT_FALSE(r.cudnn) << version << " n_k=" << n_k;
      EXPECT_TRUE(contains(r.reason, "n_k = " + std::to_string(n_k))) << r.reason;
      EXPECT_TRUE(contains(r.reason, cudnn_version_name(version))) << r.reason;
      // The forward is not affected.
      EXPECT_TRUE(route_cudnn(call(version, SdpaPass::forward, 128, n_k)).cudnn) << version << " n_k=" << n_k;
    }
    for (int64_t n_k : {128, 256, 1024})
      EXPECT_TRUE(route_cudnn(call(version, SdpaPass::backward, 128, n_k)).cudnn) << version << " n_k=" << n_k;
  }
  for (size_t version : {91501u, 91600u, 91900u})
    EXPECT_TRUE(route_cudnn(call(version, SdpaPass::backward, 128, 100)).cudnn) << version;
}

TEST(CudnnRoute, ShapeRulesOnAFixedVersion) {
  CudnnCall c = call(91900, SdpaPass::forward, 64, 128);
  EXPECT_TRUE(route_cudnn(c).cudnn);
  c.causal = true;  // causal n_q != n_k: the graph's mask is top-left aligned, gau's bottom-right
  for (SdpaPass pass : {SdpaPass::forward, SdpaPass::backward}) {
    c.pass = pass;
    const CudnnRoute r = route_cudnn(c);
    EXPECT_FALSE(r.cudnn);
    EXPECT_TRUE(contains(r.reason, "causal")) << r.reason;
  }
  c.n_q = c.n_k;
  EXPECT_TRUE(route_cudnn(c).cudnn);
  c.aligned = false;
  EXPECT_FALSE(route_cudnn(c).cudnn);
  EXPECT_TRUE(contains(route_cudnn(c).reason, "aligned"));

  // A single query against a single key: the forward runs on cuDNN, the backward does not.
  EXPECT_TRUE(route_cudnn(call(91900, SdpaPass::forward, 1, 1)).cudnn);
  EXPECT_FALSE(route_cudnn(call(91900, SdpaPass::backward, 1, 1)).cudnn);
}

}  // namespace
}  // namespace gau::attention::detail
