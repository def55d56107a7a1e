// OpenBLAS 0.3.21 (Debian 12, libopenblas-dev): cblas_sgemm for the embedded sentence model's matrix products,
// and openblas_set_num_threads to keep it on the calling thread. No additions.
#include <cblas.h>
