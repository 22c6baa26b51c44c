{
  "targets": [
    {
      "target_name": "kaio",
      "sources": [
        "native/core/uring_setup.cc",
        "native/core/uring_queue.cc",
        "native/core/uring_register.cc",
        "native/core/buffer_table.cc",
        "native/core/aio.cc",
        "native/core/pinned.cc",
        "native/core/sysinfo.cc",
        "native/core/poller.cc",
        "native/core/offload.cc",
        "native/core/digest.cc",
        "native/core/cached_read.cc",
        "native/core/bench_loop.cc",
        "native/core/result_memory.cc",
        "native/core/dir_unlink.cc",
        "native/core/copy_range.cc",
        "native/napi/addon.cc",
        "native/napi/js_errors.cc",
        "native/napi/js_ring.cc",
        "native/napi/js_probe.cc",
        "native/napi/js_pinned.cc",
        "native/napi/js_aio.cc",
        "native/napi/js_threadpool.cc",
        "native/napi/js_offload.cc",
        "native/napi/js_digest.cc",
        "native/napi/js_cached_read.cc",
        "native/napi/js_bench.cc",
        "native/napi/js_result_buffer.cc",
        "native/napi/js_dir_unlink.cc",
        "native/napi/js_copy_range.cc",
        "native/napi/js_blkdev.cc"
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
