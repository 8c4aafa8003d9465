/* The kernel has no floating point (-mgeneral-regs-only): the generated code
 * only declares float helpers it never calls. */
#ifndef WISP_MATH_H
#define WISP_MATH_H
double floor(double); float floorf(float);
double ceil(double); float ceilf(float);
double trunc(double); float truncf(float);
double nearbyint(double); float nearbyintf(float);
double fabs(double); float fabsf(float);
double sqrt(double); float sqrtf(float);
int signbit_d(double);
#define signbit(x) __builtin_signbit(x)
#define isnan(x) __builtin_isnan(x)
#endif
