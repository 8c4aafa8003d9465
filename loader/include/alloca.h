#ifndef WISP_ALLOCA_H
#define WISP_ALLOCA_H
#define alloca(n) __builtin_alloca(n)
#endif
