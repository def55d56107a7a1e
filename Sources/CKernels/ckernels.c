#include "ckernels.h"

#include <immintrin.h>

int sb_kernels_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

long sb_packed_count(int n, int k) { return (long)n * (long)k; }

void sb_pack_weights(const float *w, int n, int k, float *packed) {
    for (int p = 0; p < n / 32; p++) {
        float *panel = packed + (long)p * k * 32;
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < 32; j++) panel[kk * 32 + j] = w[(long)(p * 32 + j) * k + kk];
        }
    }
}

// One panel (32 outputs) for ROWS input rows starting at x: 2·ROWS accumulators, the panel's two vectors loaded once
// per input element and used ROWS times.
#define SB_PANEL(ROWS)                                                                                              \
    __attribute__((target("avx512f"))) static void panel_##ROWS(                                                    \
        const float *x, int k, const float *panel, float *out, int n) {                                             \
        __m512 acc[ROWS][2];                                                                                        \
        for (int i = 0; i < ROWS; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();                                 \
        for (int kk = 0; kk < k; kk++) {                                                                            \
            __m512 w0 = _mm512_loadu_ps(panel + kk * 32);                                                           \
            __m512 w1 = _mm512_loadu_ps(panel + kk * 32 + 16);                                                      \
            for (int i = 0; i < ROWS; i++) {                                                                        \
                __m512 b = _mm512_set1_ps(x[(long)i * k + kk]);                                                     \
                acc[i][0] = _mm512_fmadd_ps(b, w0, acc[i][0]);                                                      \
                acc[i][1] = _mm512_fmadd_ps(b, w1, acc[i][1]);                                                      \
            }                                                                                                       \
        }                                                                                                           \
        for (int i = 0; i < ROWS; i++) {                                                                            \
            _mm512_storeu_ps(out + (long)i * n, acc[i][0]);                                                         \
            _mm512_storeu_ps(out + (long)i * n + 16, acc[i][1]);                                                    \
        }                                                                                                           \
    }

SB_PANEL(1)
SB_PANEL(2)
SB_PANEL(3)
SB_PANEL(4)
SB_PANEL(5)
SB_PANEL(6)
SB_PANEL(7)
SB_PANEL(8)
SB_PANEL(9)
SB_PANEL(10)
SB_PANEL(11)
SB_PANEL(12)

typedef void (*panel_fn)(const float *, int, const float *, float *, int);
static const panel_fn panels[13] = {0, panel_1, panel_2, panel_3, panel_4, panel_5, panel_6,
                                    panel_7, panel_8, panel_9, panel_10, panel_11, panel_12};

void sb_linear(const float *x, int m, int k, const float *packed, int n, float *out) {
    for (int p = 0; p < n / 32; p++) {
        const float *panel = packed + (long)p * k * 32;
        for (int r = 0; r < m; r += 12) {
            int rows = m - r < 12 ? m - r : 12;
            panels[rows](x + (long)r * k, k, panel, out + (long)r * n + p * 32, n);
        }
    }
}
