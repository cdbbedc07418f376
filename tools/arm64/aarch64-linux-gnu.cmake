# CMake toolchain for cross-building engram for 64-bit Arm Linux (Raspberry Pi OS 64-bit, JetPack) on an
# x86_64 Debian host with g++-aarch64-linux-gnu. Used by tools/arm64/run.mjs for both the addon (root
# CMakeLists.txt) and the C++ core test binary (native/CMakeLists.txt), so their flags cannot drift from the
# native builds.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Search headers and libraries only in the target's trees; programs (node, for node-addon-api's path) come
# from the host. Two trees: the cross C library in /usr/aarch64-linux-gnu, and the host's own /usr, where
# Debian multiarch puts arm64 development packages (libjpeg62-turbo-dev:arm64: jpeglib.h in /usr/include,
# libjpeg.so in /usr/lib/aarch64-linux-gnu). Libraries are looked up under the aarch64-linux-gnu triplet
# there, so the host's x86_64 libjpeg in /usr/lib/x86_64-linux-gnu is never picked.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
