# CMake 3.25 does not know nvcc's C++20 dialect flag (CUDA_STANDARD 20); teach it. Loaded through
# CMAKE_USER_MAKE_RULES_OVERRIDE_CUDA before the CUDA language is enabled.
set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
