#include "trainers/data/text_files.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "core/error.h"

namespace gau::data {

namespace fs = std::filesystem;

namespace {

// What trainers/run_dir.h creates: a run's config.yaml beside its checkpoints/. A corpus
// directory that a run was started in (runs/ under the working directory, data.path: .) would
// otherwise feed the run its own checkpoints and metrics, and a resumed run different data.
bool is_run_directory(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.yaml", ec) && fs::is_directory(dir / "checkpoints", ec);
}

}  // namespace

std::vector<std::string> list_files(const std::string& path, const std::string& suffix) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  GAU_CHECK(!ec && fs::exists(st), path, ": no such file or directory");
  // A pipe or a device would block the read, or never end.
  GAU_CHECK(fs::is_directory(st) || fs::is_regular_file(st), path, ": not a regular file or a directory");
  if (!fs::is_directory(st)) return {path};
  GAU_CHECK(!is_run_directory(path), path, ": is a gau run directory (config.yaml, checkpoints/), not data");
  std::vector<std::string> out;
  // Each directory once, by its real path: a symlink back up the tree (a cycle) is not followed.
  std::set<fs::path> visited = {fs::canonical(path, ec)};
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory()) {
      std::error_code real;
      if (!visited.insert(fs::canonical(it->path(), real)).second || real || is_run_directory(it->path()))
        it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    if (!suffix.empty() && !(name.size() >= suffix.size() && name.ends_with(suffix))) continue;
    out.push_back(it->path().string());
  }
  GAU_CHECK(!ec, path, ": cannot list directory: ", ec.message());
  GAU_CHECK(!out.empty(), path, ": no ", suffix.empty() ? "" : "'*" + suffix + "' ",
            "files in this directory (hidden names starting with '.' and gau run directories are skipped)");
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

bool is_gzip(const std::string& bytes, size_t at) {
  return bytes.size() >= at + 2 && static_cast<unsigned char>(bytes[at]) == 0x1f &&
         static_cast<unsigned char>(bytes[at + 1]) == 0x8b;
}

// Inflates every gzip member of `bytes` (gzip allows several, as `cat a.gz b.gz` makes). Zero
// padding after the last one (tape blocks) is skipped, as gzip(1) and Python's gzip do; any other
// bytes there are an error, where zlib's gzread would drop them without a word.
std::string inflate_gzip(const std::string& path, const std::string& bytes) {
  std::string text;
  size_t at = 0;
  char buf[1 << 16];
  while (at < bytes.size()) {
    if (!is_gzip(bytes, at)) {
      const bool zeros = std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end(),
                                     [](char c) { return c == 0; });
      GAU_CHECK(zeros, path, ": ", bytes.size() - at, " bytes after the end of the gzip data at byte ", at,
                " are not gzip (a damaged or appended file; `gzip -t` reports it too); `gzip -dc ", path,
                " > text.txt` keeps the text before them");
      break;
    }
    z_stream z{};
    GAU_CHECK(inflateInit2(&z, 15 + 16) == Z_OK, path, ": zlib could not start inflating");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + at));
    z.avail_in = static_cast<uInt>(std::min<size_t>(bytes.size() - at, 1u << 30));
    int rc = Z_OK;
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof(buf);
      rc = inflate(&z, Z_NO_FLUSH);
      text.append(buf, sizeof(buf) - z.avail_out);
      if (rc == Z_BUF_ERROR && z.avail_in == 0 && at + z.total_in < bytes.size()) {
        // Past 1 GiB of input in one member: hand zlib the next part.
        z.avail_in = static_cast<uInt>(std::min<size_t>(bytes.size() - at - z.total_in, 1u << 30));
        rc = Z_OK;
      }
    }
    const std::string why = z.msg ? z.msg : rc == Z_BUF_ERROR ? "the file ends inside the gzip data" : "";
    const size_t used = z.total_in;
    inflateEnd(&z);
    GAU_CHECK(rc == Z_STREAM_END, path, ": not valid gzip data after ", text.size(), " bytes of text: ",
              why.empty() ? "zlib error " + std::to_string(rc) : why);
    at += used;
  }
  return text;
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GAU_CHECK(in, path, ": cannot open: ", errno ? std::strerror(errno) : "unknown error");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  GAU_CHECK(!in.bad(), path, ": read failed after ", bytes.size(), " bytes: ", std::strerror(errno));
  if (is_gzip(bytes, 0)) return inflate_gzip(path, bytes);
  // A .gz name promises gzip, so text under that name is a mistake.
  GAU_CHECK(!path.ends_with(".gz") || bytes.empty(), path,
            ": named .gz but not gzip data (it does not start with the gzip magic 1f 8b); rename it without .gz "
            "to read it as text");
  return bytes;
}

std::vector<TextDocument> read_text_documents(const std::string& path) {
  std::vector<TextDocument> docs;
  for (const std::string& file : list_files(path)) docs.push_back({file, read_text_file(file)});
  return docs;
}

}  // namespace gau::data
