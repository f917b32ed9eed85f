#pragma once
// Config files for the config tests, written to a fresh directory that is removed afterwards,
// and the source tree's configs/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace gau::config::test {

class ConfigFiles {
 public:
  ConfigFiles() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("gau_config_" + std::string(info->test_suite_name()) + "_" +
                                                     info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~ConfigFiles() { std::filesystem::remove_all(dir_); }

  // Writes `text` to `name` (which may hold directories) and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

// Expects `want` within an error message, showing the whole message when it is missing.
inline void expect_has(const std::string& msg, const std::string& want) {
  EXPECT_NE(msg.find(want), std::string::npos) << "missing '" << want << "' in:\n" << msg;
}

// <source>/configs: GAU_TEST_FIXTURES is <source>/tests/reference/fixtures.
inline std::filesystem::path source_configs() {
  return std::filesystem::path(GAU_TEST_FIXTURES).parent_path().parent_path().parent_path() / "configs";
}

}  // namespace gau::config::test
