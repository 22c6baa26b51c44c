/* The loader check of the musl prebuild (scripts/musl/build.sh builds it with musl-gcc;
 * scripts/prebuild.js runs it in the build root under musl's dynamic linker):
 *   musl-load-check FILE.node
 * dlopen()s the addon with RTLD_NOW, so every symbol it needs is bound at once, and finds
 * its N-API entry point. The symbols a Node process gives an addon (napi_*, node_api_*,
 * uv_*) are defined by node-symbols.c, generated from the addon's own undefined symbols:
 * each one aborts if called, and nothing is called; every other symbol must come from musl's
 * libc, or dlopen fails and says which. This shows the .node loads with musl's libc alone;
 * it does not run kaio (there is no musl Node here). */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE.node\n", argv[0]);
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    printf("FAILED dlopen %s: %s\n", argv[1], dlerror());
    return 1;
  }
  void *init = dlsym(lib, "napi_register_module_v1");
  if (init == NULL) {
    printf("FAILED %s has no napi_register_module_v1: %s\n", argv[1], dlerror());
    return 1;
  }
  printf("ok %s loads under musl's dynamic linker with every symbol bound (RTLD_NOW); napi_register_module_v1 found\n", argv[1]);
  return 0;
}
