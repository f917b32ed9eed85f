// CRC-32C against the standard check values (RFC 3720 B.4 and the "123456789" check), and the
// incremental form against the one-shot one.
#include "trainers/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gau::trainers {
namespace {

TEST(Crc32c, StandardCheckValues) {
  const std::string digits = "123456789";
  EXPECT_EQ(crc32c(digits.data(), digits.size()), 0xE3069283u);
  std::vector<unsigned char> zeros(32, 0), ones(32, 0xff), up(32);
  for (int i = 0; i < 32; ++i) up[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(up.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
}

TEST(Crc32c, IncrementalEqualsOneShot) {
  const std::string s = "the quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= s.size(); ++cut)
    EXPECT_EQ(crc32c_update(crc32c(s.data(), cut), s.data() + cut, s.size() - cut), crc32c(s.data(), s.size()));
}

TEST(Crc32c, MaskIsTensorFlows) {
  // TensorFlow's masked_crc32c: rotate right by 15, add 0xa282ead8.
  EXPECT_EQ(crc32c_masked(0), 0xa282ead8u);
  EXPECT_EQ(crc32c_masked(0x00008000u), 0xa282ead9u);
  EXPECT_EQ(crc32c_masked(1), 0xa282ead8u + 0x20000u);
}

}  // namespace
}  // namespace gau::trainers
