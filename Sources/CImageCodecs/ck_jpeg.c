// JPEG through libjpeg-turbo. libjpeg reports fatal errors by calling error_exit, which must not return:
// here it longjmps back into the function that started the work, so a corrupt file becomes an error
// message instead of exit(). Swift cannot call setjmp, hence this small C layer.
#include "ck_jpeg.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int truncated;
    char *err;
    size_t errlen;
} ck_error_mgr;

static void ck_error_exit(j_common_ptr cinfo) {
    ck_error_mgr *m = (ck_error_mgr *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    m->base.format_message(cinfo, buffer);
    if (m->err && m->errlen) snprintf(m->err, m->errlen, "%s", buffer);
    longjmp(m->jump, 1);
}

/// Warnings are not printed; the one that means missing data (JWRN_JPEG_EOF) is remembered.
static void ck_emit_message(j_common_ptr cinfo, int level) {
    ck_error_mgr *m = (ck_error_mgr *)cinfo->err;
    if (level < 0 && m->base.msg_code == JWRN_JPEG_EOF) m->truncated = 1;
    if (level < 0) m->base.num_warnings++;
}

static void ck_setup(struct jpeg_decompress_struct *cinfo, ck_error_mgr *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    cinfo->err = jpeg_std_error(&m->base);
    m->base.error_exit = ck_error_exit;
    m->base.emit_message = ck_emit_message;
    m->err = err;
    m->errlen = errlen;
}

/// Creates the decompressor over the bytes and reads the header (call after setjmp: it may longjmp).
static void ck_open(struct jpeg_decompress_struct *cinfo, const unsigned char *data, size_t size) {
    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    jpeg_read_header(cinfo, TRUE);
}

static int ck_space(J_COLOR_SPACE s, int components) {
    switch (s) {
    case JCS_GRAYSCALE: return 1;
    case JCS_CMYK: case JCS_YCCK: return 4;
    default: return components == 1 ? 1 : 3;
    }
}

int ck_jpeg_read_header(const unsigned char *data, size_t size, ck_jpeg_info *info, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    ck_error_mgr m;
    ck_setup(&cinfo, &m, err, errlen);
    if (setjmp(m.jump)) { jpeg_destroy_decompress(&cinfo); return -1; }
    ck_open(&cinfo, data, size);
    info->width = (int)cinfo.image_width;
    info->height = (int)cinfo.image_height;
    info->color_space = ck_space(cinfo.jpeg_color_space, cinfo.num_components);
    info->progressive = cinfo.progressive_mode ? 1 : 0;
    info->h_sampling = cinfo.comp_info ? cinfo.comp_info[0].h_samp_factor : 1;
    info->v_sampling = cinfo.comp_info ? cinfo.comp_info[0].v_samp_factor : 1;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int ck_jpeg_decode(const unsigned char *data, size_t size, unsigned char *out, size_t out_size, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    ck_error_mgr m;
    ck_setup(&cinfo, &m, err, errlen);
    if (setjmp(m.jump)) { jpeg_destroy_decompress(&cinfo); return -1; }
    ck_open(&cinfo, data, size);
    int space = ck_space(cinfo.jpeg_color_space, cinfo.num_components);
    cinfo.out_color_space = space == 1 ? JCS_GRAYSCALE : (space == 4 ? JCS_CMYK : JCS_RGB);
    cinfo.dct_method = JDCT_ISLOW;     // Pillow's default: the exact (slow) integer IDCT
    jpeg_start_decompress(&cinfo);
    const size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    if ((int)cinfo.output_components != space || stride * cinfo.output_height > out_size) {
        snprintf(err, errlen, "decoder produced %d components of %ux%u, expected %d", cinfo.output_components,
                 cinfo.output_width, cinfo.output_height, space);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (m.truncated) break;
    }
    if (m.truncated) {
        snprintf(err, errlen, "premature end of JPEG data at row %u of %u", cinfo.output_scanline, cinfo.output_height);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int ck_jpeg_encode(const unsigned char *pixels, int width, int height, int components, int quality, int progressive,
                   unsigned char **out, unsigned long *out_size, char *err, size_t errlen) {
    struct jpeg_compress_struct cinfo;
    ck_error_mgr m;
    memset(&m, 0, sizeof m);
    cinfo.err = jpeg_std_error(&m.base);
    m.base.error_exit = ck_error_exit;
    m.base.emit_message = ck_emit_message;
    m.err = err;
    m.errlen = errlen;
    *out = NULL;
    *out_size = 0;
    if (setjmp(m.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(*out);
        *out = NULL;
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, out, out_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (components == 3 && quality >= 90) {
        cinfo.comp_info[0].h_samp_factor = 1;
        cinfo.comp_info[0].v_samp_factor = 1;
    }
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    const size_t stride = (size_t)width * (size_t)components;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 0;
}

void ck_jpeg_free(void *p) { free(p); }
