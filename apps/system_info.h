#pragma once
// What this gau binary is and what it runs on: version, backends compiled in, GPUs, BLAS and
// threads. `gau info` prints it; every benchmark report embeds it, so a figure carries its machine.
#include <nlohmann/json.hpp>

namespace gau::apps {

nlohmann::json system_info();

// The current UTC time as 2026-11-28T16:20:09Z.
std::string utc_timestamp();

}  // namespace gau::apps
