#pragma once
// A device is "cpu" or "cuda:N".
#include <ostream>
#include <string>

namespace gau {

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::cuda, i}; }
  // "cpu", "cuda" (or "gpu": the first GPU), "cuda:1"; throws on anything else.
  static Device parse(const std::string& s);

  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  std::string str() const;
  bool operator==(const Device&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Device& d);

// True when gau was built with CUDA and at least one GPU is visible.
bool cuda_available();
int cuda_device_count();

}  // namespace gau
