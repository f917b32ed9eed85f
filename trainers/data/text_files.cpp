#include "trainers/data/text_files.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace gau::data {

namespace fs = std::filesystem;

std::vector<std::string> list_files(const std::string& path, const std::string& suffix) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  GAU_CHECK(!ec && fs::exists(st), path, ": no such file or directory");
  if (!fs::is_directory(st)) return {path};
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    if (!suffix.empty() && !(name.size() >= suffix.size() && name.ends_with(suffix))) continue;
    out.push_back(it->path().string());
  }
  GAU_CHECK(!ec, path, ": cannot list directory: ", ec.message());
  GAU_CHECK(!out.empty(), path, ": no ", suffix.empty() ? "" : "'*" + suffix + "' ",
            "files in this directory (hidden names starting with '.' are skipped)");
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_text_file(const std::string& path) {
  // zlib reads a file that is not gzip as it is; a .gz name promises gzip, so that is a mistake.
  if (path.ends_with(".gz")) {
    std::ifstream in(path, std::ios::binary);
    char magic[2] = {0, 0};
    if (in.read(magic, 2) && !(static_cast<unsigned char>(magic[0]) == 0x1f && static_cast<unsigned char>(magic[1]) == 0x8b))
      GAU_FAIL(path, ": named .gz but not gzip data (it does not start with the gzip magic 1f 8b); rename it "
               "without .gz to read it as text");
  }
  gzFile f = gzopen(path.c_str(), "rb");
  GAU_CHECK(f != nullptr, path, ": cannot open: ", errno ? std::strerror(errno) : "out of memory");
  std::string text;
  char buf[1 << 16];
  int got = 0;
  while ((got = gzread(f, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(got));
  int err = Z_OK;
  const char* msg = gzerror(f, &err);
  const std::string why = err == Z_ERRNO ? std::strerror(errno) : (msg ? msg : "");
  gzclose(f);
  GAU_CHECK(got == 0 && (err == Z_OK || err == Z_STREAM_END), path, ": read failed after ", text.size(),
            " bytes: ", why);
  return text;
}

std::vector<TextDocument> read_text_documents(const std::string& path) {
  std::vector<TextDocument> docs;
  for (const std::string& file : list_files(path)) docs.push_back({file, read_text_file(file)});
  return docs;
}

}  // namespace gau::data
