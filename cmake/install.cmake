# `cmake --install` and `cpack -G DEB`: the library, its public headers, the gau command, the
# shipped configs, a CMake package (find_package(gau CONFIG) -> gau::gau) and a pkg-config file.
#
#   <prefix>/lib/libgau.so.0.1           the library (SONAME libgau.so.<major>.<minor>)
#   <prefix>/include/gau/gau.h            the umbrella header; include/gau/<folder>/... the rest
#   <prefix>/bin/gau                      the command
#   <prefix>/share/gau/configs/           configs/, as in the repository
#   <prefix>/lib/cmake/gau/               gauConfig.cmake, its version file and the targets
#   <prefix>/lib/pkgconfig/gau.pc
#
# Nothing installed refers to the source or build tree: the package is relocatable (the RUNPATHs
# are relative to the installed files, except the system's OpenBLAS-OpenMP folder).
include(CMakePackageConfigHelpers)

# ---- public headers ----
# Every header of the library's folders except the internal ones: backend kernels and their
# declarations, the collectives' transports, and helpers of the trainer's own plumbing. The
# install test (tests/install/check.sh) compiles every installed header on its own against the
# installed tree only, so a public header that includes an internal one fails CI.
set(GAU_INTERNAL_HEADERS_REGEX
    "^(core/ops/(cpu|cuda)/|core/ops/[a-z_]+_kernels\\.h$|core/ops/backend\\.h$|layers/attention/(cpu|cuda|cudnn)/|optim/(cpu|cuda)/|optim/(clip|loss_scaler)_kernels\\.h$|distributed/(mpi|nccl)/|trainers/(subprocess|crc32c)\\.h$)")
set(GAU_PUBLIC_HEADERS "")
foreach(component ${GAU_COMPONENTS})
  file(GLOB_RECURSE found RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} CONFIGURE_DEPENDS ${component}/*.h ${component}/*.cuh)
  foreach(header ${found})
    if(header MATCHES "${GAU_INTERNAL_HEADERS_REGEX}")
      continue()
    endif()
    # core/cuda/ (the current stream, error checks) includes the CUDA runtime's headers: public
    # only in a CUDA build.
    if(header MATCHES "(^|/)cuda/" AND NOT GAU_CUDA_ENABLED)
      continue()
    endif()
    list(APPEND GAU_PUBLIC_HEADERS ${header})
  endforeach()
endforeach()
foreach(header ${GAU_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gau/${dir} COMPONENT dev)
endforeach()
install(FILES gau.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gau COMPONENT dev)

# ---- the library and the command ----
# libgau finds the OpenBLAS-OpenMP build it was linked with (a non-default folder) and, in a CUDA
# build, the toolkit's libraries through the link path; the command finds libgau beside it.
set_target_properties(gau PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
install(TARGETS gau EXPORT gauTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
if(TARGET gau_cli)
  file(RELATIVE_PATH GAU_BIN_TO_LIB ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR} ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR})
  set_target_properties(gau_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${GAU_BIN_TO_LIB}" INSTALL_RPATH_USE_LINK_PATH TRUE)
  install(TARGETS gau_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()
install(DIRECTORY configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/gau/configs COMPONENT runtime)

# ---- the CMake package ----
set(GAU_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gau)
install(EXPORT gauTargets NAMESPACE gau:: DESTINATION ${GAU_CMAKE_DIR} COMPONENT dev)
set(gau_WITH_CUDA ${GAU_CUDA_ENABLED})
set(gau_WITH_CUDNN ${GAU_CUDNN_ENABLED})
set(gau_WITH_NCCL ${GAU_NCCL_ENABLED})
set(gau_WITH_MPI ${GAU_MPI_ENABLED})
configure_package_config_file(cmake/gauConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/gauConfig.cmake
                              INSTALL_DESTINATION ${GAU_CMAKE_DIR})
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/gauConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/gauConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/gauConfigVersion.cmake
        DESTINATION ${GAU_CMAKE_DIR} COMPONENT dev)

# ---- pkg-config ----
set(GAU_PC_CFLAGS "")
foreach(feature CUDA CUDNN NCCL MPI)
  if(GAU_${feature}_ENABLED)
    string(APPEND GAU_PC_CFLAGS " -DGAU_WITH_${feature}=1")
  endif()
endforeach()
set(GAU_PC_EXTRA_LIBS "")
if(GAU_CUDA_ENABLED)
  string(APPEND GAU_PC_CFLAGS " -I${CUDAToolkit_INCLUDE_DIRS}")
  set(GAU_PC_EXTRA_LIBS " -L${CUDAToolkit_LIBRARY_DIR} -lcudart")
endif()
file(RELATIVE_PATH GAU_PC_TO_PREFIX ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/gau.pc.in ${CMAKE_CURRENT_BINARY_DIR}/gau.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/gau.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# ---- CPack: one .deb with everything (the command, the library and the C++ SDK) ----
set(CPACK_PACKAGE_NAME gau)
set(CPACK_PACKAGE_VENDOR "gau")
set(CPACK_PACKAGE_CONTACT "gau developers <gau@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Train GAU, FLASH and Transformer++ language models from YAML, in C++")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# The shared libraries' packages come from dpkg-shlibdeps where the libraries are Debian's; the
# CUDA toolkit's are not (NVIDIA's installer), so a CUDA build lists them as a requirement in its
# description instead. The -dev packages are what find_package(gau) needs (yaml-cpp and
# nlohmann_json appear in gau's headers).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libyaml-cpp-dev, nlohmann-json3-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gnuplot-nox, jargon-text")
if(GAU_CUDA_ENABLED)
  # dpkg-shlibdeps cannot place libraries outside Debian's packages: let it ignore their folder.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CUDAToolkit_LIBRARY_DIR})
  string(APPEND CPACK_PACKAGE_DESCRIPTION_SUMMARY " (CUDA build: needs the CUDA ${CUDAToolkit_VERSION_MAJOR} runtime)")
endif()
include(CPack)
