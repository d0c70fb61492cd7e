#ifndef CK_JPEG_H
#define CK_JPEG_H
#include <stddef.h>

/// What a JPEG header says. `color_space`: 1 gray, 3 RGB (from YCbCr or RGB), 4 CMYK (from CMYK or YCCK).
typedef struct {
    int width, height;
    int color_space;
    int progressive;
    /// Sampling factors of the first component (2×2 for 4:2:0, 2×1 for 4:2:2, 1×1 for 4:4:4).
    int h_sampling, v_sampling;
} ck_jpeg_info;

/// Reads the header only. Returns 0, or -1 with a message in `err`.
int ck_jpeg_read_header(const unsigned char *data, size_t size, ck_jpeg_info *info, char *err, size_t errlen);

/// Decodes into `out`, which must hold width·height·color_space bytes (interleaved; gray, RGB or CMYK as
/// libjpeg returns it — CMYK values as stored). Premature end of data is an error, not gray fill.
/// Returns 0, or -1 with a message in `err`.
int ck_jpeg_decode(const unsigned char *data, size_t size, unsigned char *out, size_t out_size, char *err, size_t errlen);

/// Encodes interleaved 8-bit pixels (1 or 3 components) at `quality` 1…100 (4:2:0 for colour below 90, 4:4:4
/// from 90 up, like Pillow's default). On success *out is a buffer the caller frees with ck_jpeg_free.
int ck_jpeg_encode(const unsigned char *pixels, int width, int height, int components, int quality, int progressive,
                   unsigned char **out, unsigned long *out_size, char *err, size_t errlen);

void ck_jpeg_free(void *p);

#endif
