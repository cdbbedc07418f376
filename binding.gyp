# node-gyp build of the same sources as CMakeLists.txt (cmake-js). Sources are listed explicitly;
# test/00.load checks this list against native/core, native/addon and native/image so the two builds cannot drift.
# The JPEG fast path (native/image) is built only when tools/jpeg-config.mjs finds libjpeg, as find_package(JPEG)
# decides it for cmake-js.
# `npm run test:gyp` builds it out of tree (build/gyp) and runs the memory suites against the result.
{
  "targets": [
    {
      "target_name": "engram",
      "variables": { "engram_jpeg%": "<!(node tools/jpeg-config.mjs available)" },
      "sources": [
        "native/core/kernels_avx2.cc",
        "native/core/kernels_dispatch.cc",
        "native/core/kernels_neon.cc",
        "native/core/kernels_scalar.cc",
        "native/core/memory.cc",
        "native/core/orient.cc",
        "native/core/pq.cc",
        "native/core/resample.cc",
        "native/core/serialize.cc",
        "native/core/sparse.cc",
        "native/core/whiten_fit.cc",
        "native/addon/addon.cc",
        "native/addon/jpeg_wrap.cc",
        "native/addon/memory_wrap.cc",
        "native/addon/pq_wrap.cc",
        "native/addon/resample_wrap.cc",
        "native/addon/sparse_wrap.cc",
        "native/addon/whiten_fit_wrap.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "ENGRAM_VERSION=<!(node -p \"require('./package.json').version\")"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-ffp-contract=off"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] } },
      "conditions": [
        ["engram_jpeg==1", {
          "sources": [
            "native/image/exif.cc",
            "native/image/jpeg.cc"
          ],
          "include_dirs": ["native/image", "<!@(node tools/jpeg-config.mjs include_dirs)"],
          "defines": ["ENGRAM_HAVE_JPEG"],
          "libraries": ["<!@(node tools/jpeg-config.mjs libraries)"]
        }]
      ]
    }
  ]
}
