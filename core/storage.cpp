#include "core/storage.h"

#include "core/allocator.h"

namespace gau {

Storage::Storage(size_t bytes, Device device)
    : bytes_(bytes), device_(device), stream_(current_stream(device)) {
  data_ = allocator_for(device).allocate(bytes, stream_);
}

Storage::Storage(void* external, size_t bytes, Device device)
    : data_(external), bytes_(bytes), device_(device), owned_(false) {}

Storage::~Storage() {
  if (owned_ && data_) allocator_for(device_).deallocate(data_, bytes_, stream_);
}

void Storage::record_stream(Stream stream) {
  if (owned_ && data_) allocator_for(device_).record_stream(data_, stream);
}

}  // namespace gau
