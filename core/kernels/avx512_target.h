// Turns on AVX-512 code generation for the rest of a translation unit. Include
// it after every other header: functions defined before it (the standard
// library's templates among them) stay baseline x86-64, so no AVX-512 copy of
// a shared inline function can leak to CPUs without it.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma,avx2,f16c")
// GCC 12's own _mm512_reduce_* helpers start from _mm512_undefined_ps(), which
// -Wmaybe-uninitialized (or -Wuninitialized) reports at every use; the warning
// is about the header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
