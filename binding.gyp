{
  "targets": [
    {
      "target_name": "kaio",
      "sources": [
        "native/addon.cc",
        "native/uring_setup.cc",
        "native/uring_queue.cc",
        "native/uring_register.cc",
        "native/buffer_table.cc",
        "native/poller.cc",
        "native/js_errors.cc",
        "native/js_ring.cc",
        "native/js_probe.cc",
        "native/js_pinned.cc",
        "native/pinned.cc",
        "native/sysinfo.cc",
        "native/js_aio.cc",
        "native/js_threadpool.cc",
        "native/aio.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2", "-fexceptions"]
    }
  ]
}
