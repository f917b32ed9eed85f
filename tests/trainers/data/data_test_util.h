#pragma once
// Helpers for the data tests: a scratch directory, files written byte by byte, and the token
// files nanoGPT and llm.c write.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "trainers/data/token_source.h"

namespace gau::data::test {

// A fresh directory under the system temp dir, removed with its contents at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() / ("gau_data_" + std::string(info->test_suite_name()) + "_" +
                                                      info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << "cannot write " << path;
}

template <typename T>
std::string as_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// nanoGPT's prepare.py: np.array(ids, dtype=np.uint16).tofile(path).
inline void write_nanogpt(const std::string& path, const std::vector<uint16_t>& tokens) {
  write_bytes(path, as_bytes(tokens));
}

// llm.c's write_datafile(): 256 int32 (magic, version, count, zeros), then the tokens.
template <typename T>
void write_llmc(const std::string& path, const std::vector<T>& tokens) {
  std::vector<int32_t> header(kLlmcHeaderInts, 0);
  header[0] = sizeof(T) == 2 ? kLlmcMagicU16 : kLlmcMagicU32;
  header[1] = sizeof(T) == 2 ? kLlmcVersionU16 : kLlmcVersionU32;
  header[2] = static_cast<int32_t>(tokens.size());
  write_bytes(path, as_bytes(header) + as_bytes(tokens));
}

// `text` gzipped by the gzip program (Debian's essential gzip package).
inline void write_gzip(const std::string& path, const std::string& text) {
  write_bytes(path + ".plain", text);
  const std::string cmd = "gzip -c -9 '" + path + ".plain' > '" + path + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::filesystem::remove(path + ".plain");
}

inline void expect_has(const std::string& msg, const std::string& want) {
  EXPECT_NE(msg.find(want), std::string::npos) << "missing '" << want << "' in:\n" << msg;
}

}  // namespace gau::data::test
