// Turns on AVX2 + FMA code generation for the rest of a translation unit.
// Include it after every other header: functions defined before it (the
// standard library's templates among them) stay baseline x86-64, so no AVX2
// copy of a shared inline function can leak to CPUs without it.
#pragma GCC target("avx2,fma,f16c")
