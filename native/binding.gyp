{
  "targets": [
    {
      "target_name": "vislens_native",
      "sources": [
        "src/addon.cc",
        "src/search.cc",
        "src/mapped.cc",
        "src/kernel_scalar.cc",
        "src/kernel_avx2.cc",
        "src/kernel_avx512.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags": ["-O3", "-fexceptions", "-ffp-contract=off", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-maybe-uninitialized"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-ffp-contract=off"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-ffp-contract=off"]
      }
    }
  ]
}
