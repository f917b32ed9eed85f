#include "trainers/data/tokenizer.h"

#include "core/error.h"

namespace gau::data {

std::vector<int32_t> ByteTokenizer::encode(const std::string& text) const {
  std::vector<int32_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text(ids.size(), '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    GAU_CHECK(ids[i] >= 0 && ids[i] < 256, "byte tokenizer: id ", ids[i], " at position ", i,
              " is not a byte (expected 0..255)");
    text[i] = static_cast<char>(ids[i]);
  }
  return text;
}

YAML::Node ByteTokenizer::config() const {
  YAML::Node n;
  n["type"] = "byte";
  return n;
}

}  // namespace gau::data
