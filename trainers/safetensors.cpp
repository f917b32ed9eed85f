#include "trainers/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/ops/copy.h"
#include "trainers/atomic_file.h"
#include "trainers/crc32c.h"

namespace gau::trainers {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian, as this host must be");

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Python's safetensors refuses larger headers; so does gau, before allocating one.
constexpr uint64_t kMaxHeader = 100'000'000;

struct DTypeEntry {
  DType dtype;
  const char* name;
  int order;  // Python's layout order: higher first
};
constexpr DTypeEntry kDTypes[] = {
    {DType::i64, "I64", 7},   {DType::f64, "F64", 6}, {DType::f32, "F32", 5}, {DType::i32, "I32", 4},
    {DType::bf16, "BF16", 3}, {DType::f16, "F16", 2}, {DType::b8, "BOOL", 1},
};
// Names the format defines that gau has no dtype for, so the error can say "unsupported".
constexpr const char* kOtherFormatDTypes[] = {"U8",      "I8",      "U16",     "I16", "U32", "U64",
                                              "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4",  "C64"};

const DTypeEntry& entry_of(DType dtype) {
  for (const auto& e : kDTypes)
    if (e.dtype == dtype) return e;
  GAU_FAIL("safetensors: dtype ", dtype_name(dtype), " has no safetensors name");
}

std::string supported_names() {
  std::string s;
  for (const auto& e : kDTypes) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

// Everything in a read error message after "safetensors file <path>: ".
[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  GAU_FAIL("safetensors file ", path.string(), ": ", what);
}

class Reader {
 public:
  explicit Reader(const fs::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~Reader() { ::close(fd_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  uint64_t size() const { return size_; }
  uint32_t crc() const { return crc_; }
  void read(void* dst, uint64_t n) {
    char* p = static_cast<char*>(dst);
    while (n > 0) {
      ssize_t got = ::read(fd_, p, std::min<uint64_t>(n, size_t{1} << 30));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail(path_, std::string("read failed: ") + std::strerror(errno));
      if (got == 0) fail(path_, "the file ended early (truncated while being read?)");
      crc_ = crc32c_update(crc_, p, static_cast<size_t>(got));
      p += got;
      n -= static_cast<uint64_t>(got);
    }
  }

 private:
  fs::path path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint32_t crc_ = 0;
};

struct Parsed {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

DType parse_dtype(const fs::path& path, const std::string& name, const json& v) {
  if (!v.is_string()) fail(path, "tensor '" + name + "': \"dtype\" must be a string, got " + v.dump());
  const std::string s = v.get<std::string>();
  for (const auto& e : kDTypes)
    if (s == e.name) return e.dtype;
  for (const char* other : kOtherFormatDTypes)
    if (s == other)
      fail(path, "tensor '" + name + "' has dtype " + s + ", which gau does not support (it reads " +
                     supported_names() + ")");
  fail(path, "tensor '" + name + "' has unknown dtype \"" + s + "\" (expected one of " + supported_names() + ")");
}

Parsed parse_entry(const fs::path& path, const std::string& name, const json& v) {
  const std::string what = "tensor '" + name + "'";
  if (!v.is_object()) fail(path, what + ": expected an object with dtype, shape and data_offsets, got " + v.dump());
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) fail(path, what + " has no \"" + key + "\"");
  Parsed p{name, parse_dtype(path, name, v["dtype"]), {}, 0, 0};
  const json& shape = v["shape"];
  if (!shape.is_array()) fail(path, what + ": \"shape\" must be an array, got " + shape.dump());
  uint64_t numel = 1;
  for (const json& d : shape) {
    if (!d.is_number_unsigned()) fail(path, what + ": shape " + shape.dump() + " holds a non-negative integer only");
    uint64_t n = d.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        (n != 0 && numel > std::numeric_limits<uint64_t>::max() / n))
      fail(path, what + ": shape " + shape.dump() + " overflows");
    numel *= n;
    p.shape.push_back(static_cast<int64_t>(n));
  }
  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    fail(path, what + ": \"data_offsets\" must be [begin, end] (non-negative integers), got " + off.dump());
  p.begin = off[0].get<uint64_t>();
  p.end = off[1].get<uint64_t>();
  if (p.end < p.begin) fail(path, what + ": data_offsets " + off.dump() + " end before they begin");
  const uint64_t elem = dtype_size(p.dtype);
  if (numel > std::numeric_limits<uint64_t>::max() / elem || numel * elem != p.end - p.begin)
    fail(path, what + ": shape " + shape.dump() + " of " + entry_of(p.dtype).name + " needs " + std::to_string(numel) +
                   " x " + std::to_string(elem) + " bytes, but data_offsets " + off.dump() + " span " +
                   std::to_string(p.end - p.begin));
  return p;
}

std::string shape_json(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace

const char* safetensors_dtype_name(DType dtype) { return entry_of(dtype).name; }

FileDigest save_safetensors(const fs::path& path, const layers::StateDict& tensors,
                            const SafetensorsMetadata& metadata) {
  struct Item {
    const std::string* name;
    Tensor host;
    int order;
  };
  std::vector<Item> items;
  items.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    GAU_CHECK(name != "__metadata__", "save_safetensors ", path.string(),
              ": \"__metadata__\" is reserved by the format and cannot name a tensor");
    GAU_CHECK(t.defined(), "save_safetensors ", path.string(), ": tensor '", name, "' is undefined");
    items.push_back({&name, ops::contiguous(ops::to_device(t, Device::cpu())), entry_of(t.dtype()).order});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.order > b.order; });

  // Built by hand rather than with json::dump, whose objects sort their keys: the field order
  // (dtype, shape, data_offsets) and the tensor order are Python's. json::dump escapes the names.
  std::string header = "{";
  if (!metadata.empty()) header += "\"__metadata__\":" + json(metadata).dump() + ",";
  uint64_t offset = 0;
  for (const Item& it : items) {
    const uint64_t end = offset + it.host.nbytes();
    std::string name;
    try {
      name = json(*it.name).dump();
    } catch (const json::exception& e) {
      GAU_FAIL("save_safetensors ", path.string(), ": tensor name is not valid UTF-8: ", e.what());
    }
    header += name + ":{\"dtype\":\"" + safetensors_dtype_name(it.host.dtype()) +
              "\",\"shape\":" + shape_json(it.host.shape()) + ",\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(end) + "]},";
    offset = end;
  }
  if (header.size() > 1) header.pop_back();
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');

  AtomicFile file(path);
  uint64_t n = header.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  file.write(len, 8);
  file.write(header);
  for (const Item& it : items)
    if (it.host.nbytes() > 0) file.write(it.host.data_ptr(), it.host.nbytes());
  file.commit();
  return {file.size(), file.crc32c()};
}

SafetensorsFile load_safetensors(const fs::path& path) {
  Reader in(path);
  if (in.size() < 8)
    fail(path, "the file has " + std::to_string(in.size()) + " bytes, fewer than the 8 of the header length");
  unsigned char len[8];
  in.read(len, 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(len[i]) << (8 * i);
  if (n > in.size() - 8)
    fail(path, "the header length field says " + std::to_string(n) + " bytes, but only " +
                   std::to_string(in.size() - 8) + " follow it (truncated or not a safetensors file)");
  if (n > kMaxHeader) fail(path, "the header length " + std::to_string(n) + " exceeds the format's limit of 100 MB");
  std::string header(n, '\0');
  in.read(header.data(), n);
  if (header.empty() || header[0] != '{')
    fail(path, "the header does not start with '{' (not a safetensors file, or a corrupted header)");
  json doc;
  try {
    doc = json::parse(header);
  } catch (const json::exception& e) {
    fail(path, std::string("the header is not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) fail(path, "the header is JSON but not an object");

  SafetensorsFile out;
  std::vector<Parsed> entries;
  for (const auto& [key, value] : doc.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(path, "\"__metadata__\" must be an object of strings, got " + value.dump());
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) fail(path, "metadata \"" + mk + "\" must be a string, got " + mv.dump());
        out.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, key, value));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Parsed& a, const Parsed& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  const uint64_t data_size = in.size() - 8 - n;
  uint64_t at = 0;
  for (const Parsed& p : entries) {
    if (p.begin != at)
      fail(path, "tensor '" + p.name + "' starts at data offset " + std::to_string(p.begin) + ", expected " +
                     std::to_string(at) + (p.begin < at ? " (it overlaps the previous tensor)" : " (a gap before it)"));
    at = p.end;
  }
  if (at != data_size)
    fail(path, "the tensors cover " + std::to_string(at) + " bytes of data, but the file holds " +
                   std::to_string(data_size) + (at > data_size ? " (truncated file)" : " (trailing bytes)"));

  for (const Parsed& p : entries) {
    Tensor t = Tensor::empty(p.shape, p.dtype, Device::cpu());
    if (p.end > p.begin) in.read(t.data_ptr(), p.end - p.begin);
    out.tensors.emplace(p.name, std::move(t));
  }
  out.digest = {in.size(), in.crc()};
  return out;
}

}  // namespace gau::trainers
