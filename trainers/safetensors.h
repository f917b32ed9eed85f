#pragma once
// The safetensors format, as Python's `safetensors` package writes and reads it:
//
//   [u64 little-endian N][N bytes of JSON header, padded with spaces to a multiple of 8][data]
//   header = {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [2, 3],
//                                                "data_offsets": [begin, end]}, ...}
//
// Offsets are relative to the data section, which the tensors cover exactly, back to back, in
// little-endian row-major order. The writer lays tensors out as the Python package does (by
// dtype, widest first: I64 F64 F32 I32 BF16 F16 BOOL, then by name) and writes the header in
// that order, so that gau and Python produce the same bytes for the same tensors.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "layers/module.h"

namespace gau::trainers {

using SafetensorsMetadata = std::map<std::string, std::string>;

// Size and CRC-32C of a whole file, as written or as read.
struct FileDigest {
  uint64_t bytes = 0;
  uint32_t crc32c = 0;
};

struct SafetensorsFile {
  layers::StateDict tensors;  // contiguous, on the CPU
  SafetensorsMetadata metadata;
  FileDigest digest;
};

// Writes `tensors` (any device and layout; CUDA tensors are copied to the host) to `path`
// through an AtomicFile: a temporary file, fsync'd and renamed. The name "__metadata__" is reserved.
FileDigest save_safetensors(const std::filesystem::path& path, const layers::StateDict& tensors,
                            const SafetensorsMetadata& metadata = {});

// Reads and validates a whole file: the header length against the file size, the JSON, every
// dtype name, shape and offset (in bounds, back to back, covering the data section, matching
// shape x dtype size). Any defect throws a gau::Error naming the file and what is wrong.
SafetensorsFile load_safetensors(const std::filesystem::path& path);

// "F32", "BF16", ...: the format's dtype names.
const char* safetensors_dtype_name(DType dtype);

}  // namespace gau::trainers
