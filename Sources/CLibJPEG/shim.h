// libjpeg-turbo (Debian: libjpeg62-turbo-dev, pkg-config "libjpeg"). jpeglib.h needs stdio's FILE and size_t first.
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>
