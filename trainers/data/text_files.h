#pragma once
// Reading text corpora: a file, or every file under a directory, each file one document.
// Files are read through zlib's gzread, which inflates gzip files (.gz, and any file starting
// with the gzip magic) and passes other files through unchanged.
#include <string>
#include <vector>

namespace gau::data {

struct TextDocument {
  std::string path;
  std::string text;
};

// `path` itself when it is a file; otherwise every regular file under it, recursively, skipping
// names that start with '.' and gau's run directories (config.yaml beside checkpoints/: a run
// started inside its corpus never reads its own checkpoints), in sorted path order so that every
// run sees the same order. Only names ending in `suffix` are kept when it is not empty. Throws
// when nothing is found, and when `path` is itself a run directory.
std::vector<std::string> list_files(const std::string& path, const std::string& suffix = "");

// One file's contents, inflated when gzipped (all of its members). A corrupt or truncated gzip
// stream, or bytes other than zero padding after its end, is an error naming the file and what
// is wrong.
std::string read_text_file(const std::string& path);

// list_files(path) read in order.
std::vector<TextDocument> read_text_documents(const std::string& path);

}  // namespace gau::data
