// safetensors: bitwise round trips, the exact bytes Python's package writes (a committed golden
// file), interop through tests/reference/safetensors_check.py, and clear errors for damaged files.
#include "trainers/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "core/ops/copy.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/files.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The tensors of safetensors_check.py's REFERENCE, defined by their raw bytes as there.
struct Ref {
  const char* name;
  DType dtype;
  Shape shape;
  uint64_t seed;
};
const Ref kReference[] = {
    {"w.f32", DType::f32, {2, 3}, 1}, {"b.bf16", DType::bf16, {5}, 2},  {"steps.i64", DType::i64, {2, 2}, 3},
    {"d.f64", DType::f64, {3}, 4},    {"h.f16", DType::f16, {1, 3}, 5}, {"n.i32", DType::i32, {4}, 6},
    {"mask", DType::b8, {3}, 7},      {"scalar", DType::f32, {}, 8},    {"empty", DType::f32, {0, 4}, 9},
};
const SafetensorsMetadata kMetadata = {{"format", "pt"}};

Tensor reference_tensor(const Ref& r) {
  Tensor t = Tensor::empty(r.shape, r.dtype);
  auto* p = static_cast<unsigned char*>(t.data_ptr());
  for (uint64_t j = 0; j < t.nbytes(); ++j)
    p[j] = r.dtype == DType::b8 ? ((j * 7 + r.seed) % 3 == 0)
                                : static_cast<unsigned char>(j * 37 + r.seed * 11 + (j >> 3));
  return t;
}

layers::StateDict reference() {
  layers::StateDict d;
  for (const Ref& r : kReference) d[r.name] = reference_tensor(r);
  return d;
}

std::string bytes_of(const Tensor& t) {
  Tensor c = ops::contiguous(t);
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

void expect_same(const layers::StateDict& got, const layers::StateDict& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    ASSERT_TRUE(got.count(name)) << name;
    const Tensor& g = got.at(name);
    EXPECT_EQ(g.dtype(), w.dtype()) << name;
    EXPECT_EQ(g.shape(), w.shape()) << name;
    EXPECT_EQ(bytes_of(g), bytes_of(w)) << name << ": bits differ";
  }
}

TEST(Safetensors, RoundTripIsBitwiseForEveryDType) {
  test::TempDir dir;
  layers::StateDict d = reference();
  // A transposed view is written in its logical (row-major) order.
  Tensor base = reference_tensor({"t", DType::f32, {3, 4}, 11});
  d["transposed"] = ops::transpose(base, 0, 1);
  const fs::path path = dir.path() / "x.safetensors";
  FileDigest written = save_safetensors(path, d, {{"k", "v"}, {"note", "quote \" and \\ and \n"}});
  SafetensorsFile f = load_safetensors(path);
  d["transposed"] = ops::contiguous(d["transposed"]);
  expect_same(f.tensors, d);
  EXPECT_EQ(f.metadata.at("note"), "quote \" and \\ and \n");
  EXPECT_EQ(f.metadata.at("k"), "v");
  EXPECT_EQ(f.digest.bytes, fs::file_size(path));
  EXPECT_EQ(f.digest.bytes, written.bytes);
  EXPECT_EQ(f.digest.crc32c, written.crc32c);
  // Nothing is left beside the file: the temporary was renamed.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(Safetensors, WritesTheBytesPythonWrites) {
  test::TempDir dir;
  const fs::path path = dir.path() / "gau.safetensors";
  save_safetensors(path, reference(), kMetadata);
  const fs::path golden = test::reference_path("fixtures/safetensors_golden.safetensors");
  EXPECT_EQ(test::read_bytes(path), test::read_bytes(golden))
      << "gau's file differs from the one Python's safetensors wrote (tests/reference/safetensors_check.py)";
}

TEST(Safetensors, ReadsTheFilePythonWrote) {
  SafetensorsFile f = load_safetensors(test::reference_path("fixtures/safetensors_golden.safetensors"));
  expect_same(f.tensors, reference());
  EXPECT_EQ(f.metadata, kMetadata);
}

TEST(Safetensors, PythonReadsGauAndGauReadsPython) {
  auto py = test::python_with({"safetensors", "torch", "numpy"});
  if (!py) GTEST_SKIP() << "no Python with safetensors and torch (set GAU_TEST_PYTHON)";
  test::TempDir dir;
  const std::string script = test::reference_path("safetensors_check.py").string();
  const fs::path ours = dir.path() / "gau.safetensors", theirs = dir.path() / "py.safetensors";
  save_safetensors(ours, reference(), kMetadata);
  auto [rc, out] = test::run_command(*py + " " + script + " check " + ours.string());
  EXPECT_EQ(rc, 0) << out;
  auto [rc2, out2] = test::run_command(*py + " " + script + " write " + theirs.string());
  ASSERT_EQ(rc2, 0) << out2;
  expect_same(load_safetensors(theirs).tensors, reference());
}

class DamagedSafetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() / "model.safetensors";
    save_safetensors(path_, reference(), kMetadata);
    good_ = test::read_bytes(path_);
    header_len_ = 0;
    for (int i = 0; i < 8; ++i) header_len_ |= static_cast<uint64_t>(static_cast<unsigned char>(good_[i])) << (8 * i);
  }
  // The load error of `bytes` written in place of the file; "" when it loads.
  std::string error_with(const std::string& bytes) {
    test::write_bytes(path_, bytes);
    return test::error_of([&] { load_safetensors(path_); });
  }
  // The file with `from` in its header replaced by `to` (same length, so offsets stay).
  std::string edited(const std::string& from, const std::string& to) {
    std::string b = good_;
    size_t at = b.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    EXPECT_EQ(from.size(), to.size());
    return at == std::string::npos ? b : b.replace(at, from.size(), to);
  }

  test::TempDir dir_;
  fs::path path_;
  std::string good_;
  uint64_t header_len_ = 0;
};

TEST_F(DamagedSafetensors, TruncatedFilesNameTheFileAndTheDefect) {
  EXPECT_THAT(error_with(good_.substr(0, 5)), HasSubstr("has 5 bytes, fewer than the 8 of the header length"));
  std::string in_header = error_with(good_.substr(0, 40));
  EXPECT_THAT(in_header, HasSubstr(path_.string()));
  EXPECT_THAT(in_header, HasSubstr("only 32 follow it (truncated"));
  std::string in_data = error_with(good_.substr(0, good_.size() - 3));
  EXPECT_THAT(in_data, HasSubstr(path_.string()));
  EXPECT_THAT(in_data, HasSubstr("cover 119 bytes of data, but the file holds 116 (truncated file)"));
  EXPECT_THAT(error_with(good_ + "xyz"), HasSubstr("(trailing bytes)"));
  EXPECT_THAT(error_with(""), HasSubstr("has 0 bytes"));
}

TEST_F(DamagedSafetensors, CorruptedHeadersNameTheFileAndTheDefect) {
  std::string b = good_;
  b[8 + 17] = '\x01';  // inside "__metadata__": a control character breaks the JSON
  std::string json_error = error_with(b);
  EXPECT_THAT(json_error, HasSubstr(path_.string()));
  EXPECT_THAT(json_error, HasSubstr("the header is not valid JSON"));
  b = good_;
  b[8] = '[';
  EXPECT_THAT(error_with(b), HasSubstr("does not start with '{'"));
  EXPECT_THAT(error_with(edited("\"F64\"", "\"Q64\"")), HasSubstr("tensor 'd.f64' has unknown dtype \"Q64\""));
  EXPECT_THAT(error_with(edited("\"F16\"", "\"I16\"")), HasSubstr("has dtype I16, which gau does not support"));
  EXPECT_THAT(error_with(edited("[2,2],", "[2,3],")),
              HasSubstr("tensor 'steps.i64': shape [2,3] of I64 needs 6 x 8 bytes, but data_offsets [0,32] span 32"));
  EXPECT_THAT(error_with(edited("[32,56]", "[31,56]")), HasSubstr("span 25"));
  EXPECT_THAT(error_with(edited("[0,32]", "[1,33]")),
              HasSubstr("tensor 'steps.i64' starts at data offset 1, expected 0"));
  EXPECT_THAT(error_with(edited("\"shape\":[4]", "\"shape\":{4}")), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_with(edited("\"shape\":[3]", "\"shape\":\"3\"")), HasSubstr("\"shape\" must be an array"));
  EXPECT_THAT(error_with(edited("data_offsets\":[56,60]", "data_offset_\":[56,60]")),
              HasSubstr("tensor 'scalar' has no \"data_offsets\""));
  std::string huge = good_;
  huge[7] = '\x7f';
  EXPECT_THAT(error_with(huge), HasSubstr("the header length field says"));
  EXPECT_THAT(error_with(std::string("\x08\0\0\0\0\0\0\0{\"a\":1} ", 16)),
              HasSubstr("tensor 'a': expected an object with dtype, shape and data_offsets, got 1"));
}

// Whatever single byte of the header is damaged, or wherever the file is cut, loading either
// succeeds (a padding space becoming another whitespace byte) or throws gau::Error: it never
// crashes. Every cut near either end, and every 7th in between, keeps the test quick.
TEST_F(DamagedSafetensors, NoDamageCrashes) {
  int errors = 0;
  for (size_t i = 0; i < 8 + header_len_; ++i) {
    std::string b = good_;
    b[i] = static_cast<char>(b[i] ^ 0x5a);
    test::write_bytes(path_, b);
    try {
      load_safetensors(path_);
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, static_cast<int>(header_len_) / 2);
  for (size_t n = 0; n < good_.size(); n += n < 16 || n + 16 > good_.size() ? 1 : 7) {
    test::write_bytes(path_, good_.substr(0, n));
    EXPECT_THROW(load_safetensors(path_), Error) << "cut at " << n;
  }
}

TEST(Safetensors, WriteErrors) {
  test::TempDir dir;
  layers::StateDict d = {{"__metadata__", Tensor::empty({1})}};
  EXPECT_THAT(test::error_of([&] { save_safetensors(dir.path() / "a", d); }), HasSubstr("is reserved"));
  EXPECT_THAT(test::error_of([&] { save_safetensors(dir.path() / "no/such/dir/a", reference()); }),
              HasSubstr("cannot create"));
  EXPECT_THAT(test::error_of([&] { load_safetensors(dir.path() / "missing"); }),
              HasSubstr("missing: cannot open: No such file"));
}

}  // namespace
}  // namespace gau::trainers
