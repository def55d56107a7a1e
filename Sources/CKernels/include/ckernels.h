// Small dense kernels for the embedded model, for inputs of a few dozen tokens: the weights are packed once at load,
// so a product streams them once instead of copying them on every call (what OpenBLAS's sgemm does).
#ifndef SB_CKERNELS_H
#define SB_CKERNELS_H

/// 1 when this CPU runs the AVX-512 kernels below, else 0 (callers fall back to BLAS).
int sb_kernels_available(void);

/// Floats `sb_pack_weights` writes for an [n][k] matrix (n a multiple of 32).
long sb_packed_count(int n, int k);

/// Packs PyTorch's [n][k] (out, in) weights into panels of 32 outputs: panel p holds, for each input kk, the 32
/// weights W[32p … 32p+31][kk], contiguous.
void sb_pack_weights(const float *w, int n, int k, float *packed);

/// out[m][n] = x[m][k] · Wᵀ, with W packed by `sb_pack_weights`. Needs `sb_kernels_available()`.
void sb_linear(const float *x, int m, int k, const float *packed, int n, float *out);

#endif
