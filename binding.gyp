# node-gyp build of the same sources as CMakeLists.txt (cmake-js). Sources are listed explicitly;
# test/00.load checks this list against native/core and native/addon so the two builds cannot drift.
# `npm run test:gyp` builds it out of tree (build/gyp) and runs the memory suites against the result.
{
  "targets": [
    {
      "target_name": "engram",
      "sources": [
        "native/core/kernels_avx2.cc",
        "native/core/kernels_dispatch.cc",
        "native/core/kernels_neon.cc",
        "native/core/kernels_scalar.cc",
        "native/core/memory.cc",
        "native/core/pq.cc",
        "native/core/serialize.cc",
        "native/addon/addon.cc",
        "native/addon/memory_wrap.cc",
        "native/addon/pq_wrap.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-ffp-contract=off"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] } }
    }
  ]
}
