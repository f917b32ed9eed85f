// Text corpora: files and directories (recursive, sorted, hidden names and run directories
// skipped), gzip read through zlib, corrupt gzip and missing paths named in the error, and the
// Jargon File that the default run trains on.
#include "trainers/data/text_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/support/checks.h"
#include "tests/trainers/data/data_test_util.h"

namespace gau::data {
namespace {

using gau::test::error_of;
using test::expect_has;
using test::ScratchDir;

TEST(TextFiles, ReadsGzipAndPlainFiles) {
  ScratchDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i) + " of a gzipped document\n";
  test::write_gzip(dir / "doc.txt.gz", text);
  ASSERT_LT(std::filesystem::file_size(dir / "doc.txt.gz"), text.size() / 4) << "the test file is compressed";
  EXPECT_EQ(read_text_file(dir / "doc.txt.gz"), text);
  test::write_bytes(dir / "plain.txt", "plain\ntext");
  EXPECT_EQ(read_text_file(dir / "plain.txt"), "plain\ntext");
  test::write_bytes(dir / "empty.txt", "");
  EXPECT_EQ(read_text_file(dir / "empty.txt"), "");
}

TEST(TextFiles, CorruptOrTruncatedGzipIsAnErrorNamingTheFile) {
  ScratchDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += std::to_string(i * 7919 % 1000) + " ";
  test::write_gzip(dir / "whole.gz", text);
  std::string bytes(std::filesystem::file_size(dir / "whole.gz"), '\0');
  {
    std::ifstream f(dir / "whole.gz", std::ios::binary);
    f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  test::write_bytes(dir / "truncated.gz", bytes.substr(0, bytes.size() / 2));
  std::string msg = error_of([&] { read_text_file(dir / "truncated.gz"); });
  expect_has(msg, dir / "truncated.gz");
  expect_has(msg, "the file ends inside the gzip data");
  std::string corrupt = bytes;
  for (size_t i = 20; i < 60; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  test::write_bytes(dir / "corrupt.gz", corrupt);
  expect_has(error_of([&] { read_text_file(dir / "corrupt.gz"); }), dir / "corrupt.gz");
  expect_has(error_of([&] { read_text_file(dir / "absent.txt"); }), "absent.txt: cannot open");
  // zlib would read a plain file named .gz as text; the name promised gzip.
  test::write_bytes(dir / "plain.gz", "just text\n");
  expect_has(error_of([&] { read_text_file(dir / "plain.gz"); }), "plain.gz: named .gz but not gzip data");
}

// The bytes of `path`.
std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(TextFiles, EveryGzipMemberIsReadAndTrailingBytesAreAnError) {
  ScratchDir dir;
  test::write_gzip(dir / "a.gz", "first part\n");
  test::write_gzip(dir / "b.gz", "second part\n");
  const std::string a = bytes_of(dir / "a.gz"), b = bytes_of(dir / "b.gz");
  // `cat a.gz b.gz > both.gz` is one valid gzip file of both texts.
  test::write_bytes(dir / "both.txt.gz", a + b);
  EXPECT_EQ(read_text_file(dir / "both.txt.gz"), "first part\nsecond part\n");
  // Zero padding after the end, as tape blocks leave, is skipped (as gzip and Python do).
  test::write_bytes(dir / "padded.txt.gz", a + std::string(512, '\0'));
  EXPECT_EQ(read_text_file(dir / "padded.txt.gz"), "first part\n");
  // Other bytes there are not text of the file: zlib's gzread would drop them silently.
  test::write_bytes(dir / "garbage.txt.gz", a + "garbage");
  const std::string msg = error_of([&] { read_text_file(dir / "garbage.txt.gz"); });
  expect_has(msg, dir / "garbage.txt.gz");
  expect_has(msg, "7 bytes after the end of the gzip data at byte " + std::to_string(a.size()) + " are not gzip");
}

TEST(TextFiles, DirectoriesAreReadRecursivelyInSortedOrder) {
  ScratchDir dir;
  test::write_bytes(dir / "corpus/b.txt", "B");
  test::write_bytes(dir / "corpus/a/z.txt", "AZ");
  test::write_gzip(dir / "corpus/a/y.txt.gz", "AY");
  test::write_bytes(dir / "corpus/c.bin", "C");
  test::write_bytes(dir / "corpus/.hidden", "H");
  test::write_bytes(dir / "corpus/.git/x.txt", "G");
  test::write_bytes(dir / "corpus/runs/r/config.yaml", "model: {}");  // a run started in the corpus
  test::write_bytes(dir / "corpus/runs/r/checkpoints/step_000001/model.safetensors", "R");
  test::write_bytes(dir / "corpus/d/config.yaml", "D");  // a config.yaml alone is text like any other
  const std::vector<TextDocument> docs = read_text_documents(dir / "corpus");
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_EQ(docs[0].path, dir / "corpus/a/y.txt.gz");
  EXPECT_EQ(docs[0].text, "AY");
  EXPECT_EQ(docs[1].text, "AZ");
  EXPECT_EQ(docs[2].text, "B");
  EXPECT_EQ(docs[3].text, "C");
  EXPECT_EQ(docs[4].text, "D");
  EXPECT_EQ(list_files(dir / "corpus", ".bin"), std::vector<std::string>{dir / "corpus/c.bin"});
  EXPECT_EQ(list_files(dir / "corpus/b.txt"), std::vector<std::string>{dir / "corpus/b.txt"});

  expect_has(error_of([&] { list_files(dir / "nowhere"); }), "nowhere: no such file or directory");
  std::filesystem::create_directories(dir / "void");
  expect_has(error_of([&] { list_files(dir / "void"); }), "void: no files in this directory");
  expect_has(error_of([&] { list_files(dir / "corpus", ".npy"); }), "no '*.npy' files");
  expect_has(error_of([&] { list_files(dir / "corpus/runs/r"); }), "r: is a gau run directory");
}

// A symlink to a directory is followed once, never round a cycle; a pipe named as the data is an
// error, not a read that blocks for ever (in a directory it is skipped, as any non-file).
TEST(TextFiles, SymlinkCyclesAreFollowedOnceAndPipesAreRefused) {
  ScratchDir dir;
  test::write_bytes(dir / "corpus/a.txt", "A");
  test::write_bytes(dir / "other/b.txt", "B");
  std::filesystem::create_directory_symlink(dir / "corpus", dir / "corpus/loop");   // back to itself
  std::filesystem::create_directory_symlink(dir / "other", dir / "corpus/linked");  // elsewhere: read
  ASSERT_EQ(mkfifo((dir / "corpus/pipe").c_str(), 0600), 0);
  EXPECT_EQ(list_files(dir / "corpus"), (std::vector<std::string>{dir / "corpus/a.txt", dir / "corpus/linked/b.txt"}));
  expect_has(error_of([&] { list_files(dir / "corpus/pipe"); }), "pipe: not a regular file or a directory");
}

TEST(TextFiles, ReadsTheJargonFile) {
  const std::string path = "/usr/share/doc/jargon-text/jargon.txt.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent: scripts/setup.sh installs jargon-text";
  const std::string text = read_text_file(path);
  EXPECT_GT(text.size(), 1500000u);
  EXPECT_NE(text.find("hacker"), std::string::npos);
}

}  // namespace
}  // namespace gau::data
