#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing and of
// checkpoint files. Table-driven, one byte at a time: it runs at a few hundred MB/s, which is far
// below disk speed for checkpoints of the sizes gau trains, so no hardware path is needed.
//
//   uint32_t c = crc32c(data, n);                  // whole buffer
//   uint32_t c = crc32c_update(crc32c(a, na), b, nb);  // == crc32c of a followed by b
#include <cstddef>
#include <cstdint>

namespace gau::trainers {

// Continues a CRC over `n` more bytes; start from crc32c_update(0, ...) (== crc32c).
uint32_t crc32c_update(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_update(0, data, n); }

// TFRecord's masked CRC: a CRC of data that itself holds CRCs is weak, so TensorFlow stores this.
inline uint32_t crc32c_masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace gau::trainers
