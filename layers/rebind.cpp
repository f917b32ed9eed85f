#include "layers/rebind.h"

namespace gau::layers {

void rebind(const Tensor& t, const Tensor& source) {
  GAU_CHECK(t.shape() == source.shape(), "rebind: the new data ", describe(source), " does not have the shape of ",
            describe(t));
  TensorImpl& impl = t.impl();
  const TensorImpl& src = source.impl();
  if (impl.storage == src.storage && impl.offset == src.offset && impl.strides == src.strides &&
      impl.dtype == src.dtype)
    return;
  const uint64_t old_version = impl.storage ? impl.storage->version() : 0;
  while (src.storage->version() <= old_version) src.storage->bump_version();
  impl.storage = src.storage;
  impl.offset = src.offset;
  impl.strides = src.strides;
  impl.dtype = src.dtype;
}

}  // namespace gau::layers
