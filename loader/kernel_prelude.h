/* Included before the wasm2c-generated kernel.c (Makefile -include).
 *
 * asc gives a custom runtime a shadow stack: one global stack pointer that
 * every AS function moves on entry and exit, and writes GC roots below. With
 * threads on several CPUs a single global would drift and overflow, so the
 * build replaces it (scripts/build/postprocessKernelC.ts) with this per-thread
 * value: gs:4 on the running CPU, saved and restored by the context switch.
 * Nothing reads the roots back (there is no GC), so all threads may share
 * the one static region the pointer walks down; each keeps its own depth and
 * asc's overflow check still applies per thread. */
#define WISP_SHADOW_SP (*(volatile __seg_gs u32 *)4)
