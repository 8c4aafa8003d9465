/* wasm-rt.h names jmp_buf for exception handling, which the kernel does not
 * use (AS has no try/catch); the type only has to exist. */
#ifndef WISP_SETJMP_H
#define WISP_SETJMP_H
typedef unsigned long jmp_buf[8];
#endif
