// Force-included (-include) in every translation unit of the musl prebuild only
// (scripts/prebuild.js). The C++ headers there are Debian's libstdc++ headers, which were
// configured for glibc; with musl's C headers in front, these two names are all they miss.
#ifndef KAIO_MUSL_COMPAT_H_
#define KAIO_MUSL_COMPAT_H_
// libstdc++'s os_defines.h asks for a glibc version: musl is no glibc.
#define __GLIBC_PREREQ(maj, min) 0
// libstdc++'s "gnu" locale model names glibc's type; musl's is the same POSIX locale_t.
#include <locale.h>
typedef locale_t __locale_t;
#endif
