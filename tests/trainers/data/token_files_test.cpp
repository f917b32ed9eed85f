// Memory-mapped token files: the nanoGPT and llm.c layouts read back, and every malformed file
// (size, header, token ids) rejected with the file and the offset in the message.
#include "trainers/data/token_source.h"

#include <gtest/gtest.h>

#include "tests/support/checks.h"
#include "tests/trainers/data/data_test_util.h"
#include "trainers/data/dataset.h"

namespace gau::data {
namespace {

using gau::test::error_of;
using test::expect_has;
using test::ScratchDir;

std::vector<int32_t> read_all(const TokenSource& s) {
  std::vector<int32_t> out(static_cast<size_t>(s.size()));
  s.read(0, s.size(), out.data());
  return out;
}

TEST(TokenFiles, NanoGptLayoutReadsBack) {
  ScratchDir dir;
  const std::vector<uint16_t> tokens = {0, 1, 50256, 65535, 42, 7};
  test::write_nanogpt(dir / "train.bin", tokens);
  MappedTokenFile f(dir / "train.bin", TokenFileFormat::nanogpt, 65536);
  EXPECT_EQ(f.size(), 6);
  EXPECT_EQ(f.token_width(), 2);
  EXPECT_EQ(f.data_offset(), 0);
  EXPECT_EQ(read_all(f), (std::vector<int32_t>{0, 1, 50256, 65535, 42, 7}));
  std::vector<int32_t> mid(2);
  f.read(2, 2, mid.data());
  EXPECT_EQ(mid, (std::vector<int32_t>{50256, 65535}));
}

TEST(TokenFiles, LlmcLayoutReadsBack) {
  ScratchDir dir;
  test::write_llmc<uint16_t>(dir / "gpt2.bin", {50256, 464, 2068, 7586});
  MappedTokenFile a(dir / "gpt2.bin", TokenFileFormat::llmc, 50257);
  EXPECT_EQ(a.token_width(), 2);
  EXPECT_EQ(a.data_offset(), 1024);
  EXPECT_EQ(read_all(a), (std::vector<int32_t>{50256, 464, 2068, 7586}));
  test::write_llmc<uint32_t>(dir / "llama3.bin", {128000, 9906, 1917});
  MappedTokenFile b(dir / "llama3.bin", TokenFileFormat::llmc, 128256);
  EXPECT_EQ(b.token_width(), 4);
  EXPECT_EQ(read_all(b), (std::vector<int32_t>{128000, 9906, 1917}));
  test::write_llmc<uint16_t>(dir / "none.bin", {});
  EXPECT_EQ(MappedTokenFile(dir / "none.bin", TokenFileFormat::llmc, 10).size(), 0);
}

TEST(TokenFiles, SizeNotAMultipleOfTheTokenWidthIsRejected) {
  ScratchDir dir;
  test::write_bytes(dir / "odd.bin", std::string(7, '\1'));
  std::string msg = error_of([&] { MappedTokenFile(dir / "odd.bin", TokenFileFormat::nanogpt, 65536); });
  expect_has(msg, dir / "odd.bin");
  expect_has(msg, "size must be a multiple of 2 bytes; it is 7 bytes");

  std::vector<int32_t> header(kLlmcHeaderInts, 0);
  header[0] = kLlmcMagicU32, header[1] = kLlmcVersionU32, header[2] = 1;
  test::write_bytes(dir / "ragged.bin", test::as_bytes(header) + std::string(6, '\0'));
  msg = error_of([&] { MappedTokenFile(dir / "ragged.bin", TokenFileFormat::llmc, 10); });
  expect_has(msg, "llm.c tokens are 4 bytes wide, but the 6 bytes after the header are not a multiple of 4");
  expect_has(error_of([&] { MappedTokenFile(dir / "empty.bin", TokenFileFormat::nanogpt, 10); }), "cannot open");
  test::write_bytes(dir / "zero.bin", "");
  expect_has(error_of([&] { MappedTokenFile(dir / "zero.bin", TokenFileFormat::nanogpt, 10); }),
             "empty nanoGPT token file (0 bytes)");
}

TEST(TokenFiles, BadLlmcHeaderIsRejected) {
  ScratchDir dir;
  std::vector<int32_t> header(kLlmcHeaderInts, 0);
  header[0] = 12345, header[1] = 1, header[2] = 2;
  test::write_bytes(dir / "magic.bin", test::as_bytes(header) + std::string(4, '\0'));
  expect_has(error_of([&] { MappedTokenFile(dir / "magic.bin", TokenFileFormat::llmc, 10); }),
             "magic.bin: bad llm.c magic 12345 at byte 0; expected 20240520 (uint16 tokens) or 20240801");
  header[0] = kLlmcMagicU16, header[1] = 2;
  test::write_bytes(dir / "version.bin", test::as_bytes(header) + std::string(4, '\0'));
  expect_has(error_of([&] { MappedTokenFile(dir / "version.bin", TokenFileFormat::llmc, 10); }),
             "version.bin: llm.c header (byte 4): version 2 with magic 20240520; expected version 1");
  header[1] = 1, header[2] = 3;
  test::write_bytes(dir / "count.bin", test::as_bytes(header) + std::string(4, '\0'));
  expect_has(error_of([&] { MappedTokenFile(dir / "count.bin", TokenFileFormat::llmc, 10); }),
             "count.bin: llm.c header (byte 8) says 3 tokens, but the file holds 2");
  test::write_bytes(dir / "short.bin", std::string(100, '\0'));
  expect_has(error_of([&] { MappedTokenFile(dir / "short.bin", TokenFileFormat::llmc, 10); }),
             "starts with a 1024-byte header (256 int32); the file is only 100 bytes");
}

TEST(TokenFiles, TokenAtOrAboveTheVocabularyIsRejectedNamingFileAndOffset) {
  ScratchDir dir;
  test::write_nanogpt(dir / "a.bin", {1, 2, 3, 50257, 4});
  std::string msg = error_of([&] { MappedTokenFile(dir / "a.bin", TokenFileFormat::nanogpt, 50257); });
  expect_has(msg, dir / "a.bin" + ": token 3 (byte offset 6) is 50257, not below the vocabulary size 50257");
  test::write_llmc<uint16_t>(dir / "b.bin", {1, 99});
  msg = error_of([&] { MappedTokenFile(dir / "b.bin", TokenFileFormat::llmc, 99); });
  expect_has(msg, dir / "b.bin" + ": token 1 (byte offset 1026) is 99");
  test::write_llmc<uint32_t>(dir / "c.bin", {0xffffffffu});
  expect_has(error_of([&] { MappedTokenFile(dir / "c.bin", TokenFileFormat::llmc, 1000); }),
             "token 0 (byte offset 1024) is 4294967295");
  // At the limit it is fine.
  EXPECT_EQ(MappedTokenFile(dir / "a.bin", TokenFileFormat::nanogpt, 50258).size(), 5);
  // An llm.c file read as nanoGPT's raw uint16 would train on its header: refused, whatever the
  // vocabulary (65536 takes every uint16, the header's halves included).
  for (const int64_t vocab : {50257, 65536})
    expect_has(error_of([&] { MappedTokenFile(dir / "b.bin", TokenFileFormat::nanogpt, vocab); }),
               "b.bin: the file starts with llm.c's header (magic 20240520, version 1), which data.format: nanogpt "
               "would read as tokens; set data.format: llmc");
  expect_has(error_of([&] { MappedTokenFile(dir / "c.bin", TokenFileFormat::nanogpt, 65536); }),
             "(magic 20240801, version 7)");
  // A header with no tokens after it names the file.
  test::write_llmc<uint16_t>(dir / "h.bin", {});
  expect_has(error_of([&] { read_token_files({dir / "h.bin"}, TokenFileFormat::llmc, 100, -1); }),
             "h.bin: no tokens (an llm.c header with a count of 0)");
}

TEST(TokenFiles, FilesAndSeparatorsMakeDocuments) {
  ScratchDir dir;
  test::write_nanogpt(dir / "d/1.bin", {5, 6, 9, 7, 9});
  test::write_nanogpt(dir / "d/2.bin", {8, 9, 4});
  Corpus files = read_token_files(list_files(dir / "d", ".bin"), TokenFileFormat::nanogpt, 10, -1);
  EXPECT_EQ(files.tokens(0, files.size()), (std::vector<int32_t>{5, 6, 9, 7, 9, 8, 9, 4}));
  EXPECT_EQ(files.document_starts(), (std::vector<int64_t>{0, 5}));
  // With eos 9 a document ends after each 9 (and a file's end is always one).
  Corpus docs = read_token_files(list_files(dir / "d", ".bin"), TokenFileFormat::nanogpt, 10, 9);
  EXPECT_EQ(docs.document_starts(), (std::vector<int64_t>{0, 3, 5, 7}));
  EXPECT_EQ(docs.describe(), dir / "d/1.bin" + " and 1 more");
}

}  // namespace
}  // namespace gau::data
