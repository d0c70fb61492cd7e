// zlib ships with every Swift-on-Linux install (the toolchain itself depends on it).
#include <zlib.h>
