#pragma once
// Parameter counts per module, for the summary a model prints when it is built:
//
//   blocks.0  GAU     1,050,624
//   blocks.1  GAU     1,050,624
//   total             2,101,248
#include <cstdint>
#include <string>
#include <vector>

#include "layers/module.h"

namespace gau::layers {

struct ModuleCount {
  std::string name;        // hierarchical name under the root ("blocks.3"); "" for the root itself
  std::string type_name;   // "GAU"
  int64_t parameters = 0;  // elements of the parameters under it (a tied tensor counts once, where it is first met)
};

// The root's descendants down to `depth` levels (1: its children), depth first. Parameters
// registered on a module itself are counted in its own row; the rows of one level add up to
// what the level above holds minus its own parameters.
std::vector<ModuleCount> parameter_counts(const Module& root, int depth = 1);

// A table of parameter_counts(root, depth) and the total, one row per line.
std::string parameter_summary(const Module& root, int depth = 1);

}  // namespace gau::layers
