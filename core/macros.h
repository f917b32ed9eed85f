#pragma once
// Host/device annotations so that small math helpers (dtype conversions, Philox) are shared
// verbatim between the CPU backend and CUDA kernels.
#if defined(__CUDACC__)
#define GAU_HD __host__ __device__ __forceinline__
#else
#define GAU_HD inline
#endif
