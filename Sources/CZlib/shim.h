// The operating system's zlib (zlib1g), for permessage-deflate (RFC 7692). zlib.h's
// deflateInit2/inflateInit2 are function-like macros, which Swift cannot import: these
// wrappers pass the header's version and struct size as the macros do.
#ifndef BUS_CZLIB_SHIM_H
#define BUS_CZLIB_SHIM_H
#include <zlib.h>

static inline int bus_deflateInit2(z_streamp stream, int level, int windowBits, int memLevel) {
    return deflateInit2_(stream, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY,
                         ZLIB_VERSION, (int)sizeof(z_stream));
}

static inline int bus_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2_(stream, windowBits, ZLIB_VERSION, (int)sizeof(z_stream));
}
#endif
