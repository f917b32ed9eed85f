#pragma once
// Small RAII layer over cuDNN 9's backend API (cudnn.h; there are no frontend headers here): one
// owned descriptor per Desc, a GraphBuilder that creates tensors and operations the way
// cudnn-frontend lowers its nodes, and the plan (heuristics -> first engine config that finalises)
// with its workspace size. Every cudnnBackend* status is checked, and a failure throws gau::Error
// naming the descriptor (its label), the call and the attribute.
#include <cudnn.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace gau::attention::detail::cudnn_backend {

// Passes an attribute together with its spelled name, for error messages: set(GAU_CUDNN_ATTR(X), ...).
#define GAU_CUDNN_ATTR(name) name, #name

// Throws "attention (cuDNN): <call>(<label>, <attribute>) failed: <status> (<cuDNN's last message>)".
void check(cudnnStatus_t status, const char* call, const std::string& label, const char* attribute = nullptr);

// One backend descriptor, destroyed with its owner.
class Desc {
 public:
  Desc(cudnnBackendDescriptorType_t type, std::string label);
  ~Desc();
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;

  cudnnBackendDescriptor_t get() const { return d_; }
  const std::string& label() const { return label_; }

  template <typename V>
  Desc& set(cudnnBackendAttributeName_t attr, const char* attr_name, cudnnBackendAttributeType_t type,
            const V* values, int64_t count = 1) {
    check(cudnnBackendSetAttribute(d_, attr, type, count, values), "cudnnBackendSetAttribute", label_, attr_name);
    return *this;
  }
  Desc& set_desc(cudnnBackendAttributeName_t attr, const char* attr_name, const Desc& other) {
    cudnnBackendDescriptor_t o = other.get();
    return set(attr, attr_name, CUDNN_TYPE_BACKEND_DESCRIPTOR, &o);
  }
  void finalize() { check(cudnnBackendFinalize(d_), "cudnnBackendFinalize", label_); }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
  std::string label_;
};
using DescPtr = std::shared_ptr<Desc>;

// A finalised execution plan and the descriptors it was built from (kept alive with it).
struct Plan {
  std::vector<DescPtr> keep_alive;
  DescPtr plan;
  int64_t workspace = 0;  // bytes cuDNN needs besides the graph's own tensors
};

// Row-major (contiguous) strides of `dims`.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& dims);

// Builds an operation graph. Non-virtual tensors get the caller's unique ids (they are bound in
// the variant pack); virtual ones are numbered from kFirstVirtualUid.
class GraphBuilder {
 public:
  static constexpr int64_t kFirstVirtualUid = 1000;

  DescPtr tensor(const std::string& label, int64_t uid, cudnnDataType_t type, const std::vector<int64_t>& dims,
                 const std::vector<int64_t>& strides, bool is_virtual, bool by_value = false);
  // A by-value f32 scalar [1,1,1,1] bound in the variant pack by host pointer.
  DescPtr scalar(const std::string& label, int64_t uid);
  // A virtual tensor, contiguous unless strides are given.
  DescPtr virt(const std::string& label, cudnnDataType_t type, const std::vector<int64_t>& dims,
               std::vector<int64_t> strides = {});

  // y = mode(x [, b [, t]]) computed in `prec`; `axis` only for GEN_INDEX.
  void pointwise(const std::string& label, cudnnPointwiseMode_t mode, const DescPtr& x, const DescPtr& b,
                 const DescPtr& t, const DescPtr& y, cudnnDataType_t prec = CUDNN_DATA_FLOAT, int64_t axis = -1);
  // y = reduce(x) over the dims where y has extent 1, in f32.
  void reduction(const std::string& label, cudnnReduceTensorOp_t mode, const DescPtr& x, const DescPtr& y);
  // c = a @ b (batched over the leading dims), f32 accumulation.
  void matmul(const std::string& label, const DescPtr& a, const DescPtr& b, const DescPtr& c);
  // y views x's elements under y's dims/strides/type (how cudnn-frontend expresses a transpose
  // of a virtual tensor feeding a matmul).
  void reshape(const std::string& label, const DescPtr& x, const DescPtr& y);

  // Finalises the operation graph, asks heuristics mode A for engine configs and returns the
  // first one whose plan finalises. Throws naming `what` and cuDNN's last refusal otherwise.
  Plan build_plan(cudnnHandle_t handle, const std::string& what);

 private:
  DescPtr keep(cudnnBackendDescriptorType_t type, const std::string& label);
  std::vector<DescPtr> all_, ops_;
  int64_t next_uid_ = kFirstVirtualUid;
};

// One cuDNN handle per calling thread and device, created on first use and kept for the thread.
cudnnHandle_t handle_for(int device);

// The value masked scores are set to: -inf from cuDNN 9.10 on, the lowest finite float before
// (what cudnn-frontend feeds older versions, whose softmax kernels expect a finite mask).
float mask_value();

// Runs `plan` with the tensors bound by unique id (device pointers, or host pointers for by-value
// scalars) and `workspace` (at least plan.workspace bytes) on the handle's stream.
void execute(cudnnHandle_t handle, const Plan& plan, const std::vector<int64_t>& uids, const std::vector<void*>& ptrs,
             void* workspace, const std::string& what);

}  // namespace gau::attention::detail::cudnn_backend
