// Box kernels for detection: the IoU matrix (vectorized per ISA) and greedy non-max suppression over a
// spatial grid of kept boxes.
//
// Arithmetic follows torchvision exactly (box_iou and the CPU nms kernel), so that results agree bit for
// bit: area = (x2 − x1)·(y2 − y1), inter = max(0, min(x2) − max(x1))·max(0, min(y2) − max(y1)),
// IoU = inter / ((area_a + area_b) − inter), all in float; contraction into FMA is off so that the
// subtraction rounds as it does there.
#include "ck_internal.h"
#include <math.h>
#include <stdint.h>

#pragma clang fp contract(off)

static inline __attribute__((always_inline)) float iou_pair(float ax1, float ay1, float ax2, float ay2, float aa,
                                                            float bx1, float by1, float bx2, float by2, float ba) {
    float xx1 = ax1 > bx1 ? ax1 : bx1, yy1 = ay1 > by1 ? ay1 : by1;
    float xx2 = ax2 < bx2 ? ax2 : bx2, yy2 = ay2 < by2 ? ay2 : by2;
    float w = xx2 - xx1, h = yy2 - yy1;
    w = w > 0 ? w : 0;
    h = h > 0 ? h : 0;
    float inter = w * h;
    return inter / ((aa + ba) - inter);
}

/// Rows r0..<r1 of the IoU matrix of a (xyxy, [n,4]) against b given as planes (x1, y1, x2, y2, area) of m.
static inline __attribute__((always_inline)) void iou_rows(const float *a, int r0, int r1, const float *bx1,
                                                           const float *by1, const float *bx2, const float *by2,
                                                           const float *barea, int m, float *out) {
    for (int i = r0; i < r1; i++) {
        const float ax1 = a[4 * i], ay1 = a[4 * i + 1], ax2 = a[4 * i + 2], ay2 = a[4 * i + 3];
        const float aa = (ax2 - ax1) * (ay2 - ay1);
        float *o = out + (size_t)i * m;
        for (int j = 0; j < m; j++) o[j] = iou_pair(ax1, ay1, ax2, ay2, aa, bx1[j], by1[j], bx2[j], by2[j], barea[j]);
    }
}

#define CK_IOU_VARIANT(sfx, attr)                                                                                   \
    attr static void iou_rows_##sfx(const float *a, int r0, int r1, const float *bx1, const float *by1,              \
                                    const float *bx2, const float *by2, const float *barea, int m, float *out) {     \
        iou_rows(a, r0, r1, bx1, by1, bx2, by2, barea, m, out);                                                      \
    }
CK_INSTANTIATE(CK_IOU_VARIANT)

void ck_box_iou_rows(const float *a, int r0, int r1, const float *bx1, const float *by1, const float *bx2,
                     const float *by2, const float *barea, int m, float *out) {
    CK_PICK(iou_rows, a, r0, r1, bx1, by1, bx2, by2, barea, m, out)
}

/// Greedy NMS by definition: box i (in the given order) is kept unless a kept box before it overlaps it
/// with IoU > threshold. O(n²); used for thresholds < 0 and non-finite coordinates, where the grid's
/// "only intersecting boxes can suppress" does not hold.
static void nms_naive(const float *x1, const float *y1, const float *x2, const float *y2, const float *area, int n,
                      double thr, uint8_t *keep) {
    for (int i = 0; i < n; i++) keep[i] = 1;
    for (int i = 0; i < n; i++) {
        if (!keep[i]) continue;
        for (int j = i + 1; j < n; j++) {
            if (!keep[j]) continue;
            float o = iou_pair(x1[i], y1[i], x2[i], y2[i], area[i], x1[j], y1[j], x2[j], y2[j], area[j]);
            if ((double)o > thr) keep[j] = 0;
        }
    }
}

int ck_nms_sorted(const float *x1, const float *y1, const float *x2, const float *y2, const float *area, int n,
                  double thr, uint8_t *keep) {
    if (n <= 0) return 0;
    float minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    double sumw = 0, sumh = 0;
    int finite = 1;
    for (int i = 0; i < n; i++) {
        if (!(isfinite(x1[i]) && isfinite(y1[i]) && isfinite(x2[i]) && isfinite(y2[i]))) { finite = 0; break; }
        float lx = x1[i] < x2[i] ? x1[i] : x2[i], hx = x1[i] < x2[i] ? x2[i] : x1[i];
        float ly = y1[i] < y2[i] ? y1[i] : y2[i], hy = y1[i] < y2[i] ? y2[i] : y1[i];
        if (lx < minx) minx = lx;
        if (hx > maxx) maxx = hx;
        if (ly < miny) miny = ly;
        if (hy > maxy) maxy = hy;
        sumw += hx - lx;
        sumh += hy - ly;
    }
    if (!finite || thr < 0 || n < 32) { nms_naive(x1, y1, x2, y2, area, n, thr, keep); return 0; }
    // Cells about the mean box size, at most ~n cells: a box then covers a few cells and each cell lists a few
    // kept boxes. Only boxes that intersect can have IoU > thr ≥ 0, and intersecting boxes share a cell.
    double spanx = (double)maxx - minx, spany = (double)maxy - miny;
    double cell = fmax(fmax(sumw / n, sumh / n), 1e-6 * fmax(fmax(spanx, spany), 1e-30));
    long gw, gh;
    for (;;) {
        gw = (long)(spanx / cell) + 1;
        gh = (long)(spany / cell) + 1;
        if (gw * gh <= 2L * n + 16) break;
        cell *= 1.5;
    }
    int *head = (int *)malloc(sizeof(int) * (size_t)(gw * gh));
    size_t cap = (size_t)n * 4 + 64, used = 0;
    int *entry = (int *)malloc(sizeof(int) * cap), *next = (int *)malloc(sizeof(int) * cap);
    if (!head || !entry || !next) { free(head); free(entry); free(next); return -1; }
    for (long c = 0; c < gw * gh; c++) head[c] = -1;
    const double inv = 1.0 / cell;
    for (int i = 0; i < n; i++) {
        float lx = x1[i] < x2[i] ? x1[i] : x2[i], hx = x1[i] < x2[i] ? x2[i] : x1[i];
        float ly = y1[i] < y2[i] ? y1[i] : y2[i], hy = y1[i] < y2[i] ? y2[i] : y1[i];
        long cx0 = (long)((lx - minx) * inv), cx1 = (long)((hx - minx) * inv);
        long cy0 = (long)((ly - miny) * inv), cy1 = (long)((hy - miny) * inv);
        if (cx1 >= gw) cx1 = gw - 1;
        if (cy1 >= gh) cy1 = gh - 1;
        if (cx0 > cx1) cx0 = cx1;
        if (cy0 > cy1) cy0 = cy1;
        int suppressed = 0;
        for (long cy = cy0; cy <= cy1 && !suppressed; cy++)
            for (long cx = cx0; cx <= cx1 && !suppressed; cx++)
                for (int e = head[cy * gw + cx]; e >= 0; e = next[e]) {
                    int k = entry[e];
                    float o = iou_pair(x1[k], y1[k], x2[k], y2[k], area[k], x1[i], y1[i], x2[i], y2[i], area[i]);
                    if ((double)o > thr) { suppressed = 1; break; }
                }
        keep[i] = (uint8_t)!suppressed;
        if (suppressed) continue;
        size_t need = used + (size_t)((cx1 - cx0 + 1) * (cy1 - cy0 + 1));
        if (need > cap) {
            while (cap < need) cap *= 2;
            int *ne = (int *)realloc(entry, sizeof(int) * cap), *nn = ne ? (int *)realloc(next, sizeof(int) * cap) : NULL;
            if (!ne || !nn) { free(head); free(ne ? ne : entry); free(next); return -1; }
            entry = ne;
            next = nn;
        }
        for (long cy = cy0; cy <= cy1; cy++)
            for (long cx = cx0; cx <= cx1; cx++) {
                entry[used] = i;
                next[used] = head[cy * gw + cx];
                head[cy * gw + cx] = (int)used++;
            }
    }
    free(head);
    free(entry);
    free(next);
    return 0;
}
