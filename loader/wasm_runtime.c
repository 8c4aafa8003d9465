/* Freestanding implementation of the wasm2c runtime interface (wasm-rt.h)
 * for the kernel: the linear memory is the direct map of physical memory,
 * it never grows (memory comes from the page allocator), and a trap panics. */
#include "wisp.h"
#include "wasm-rt.h"

/* Largest window a u32 size can describe; every physical address below
 * 4 GiB is an AS pointer. */
#define LINEAR_MEMORY_BYTES 0xffffffffu

static const char *const trap_names[] = {
    "none", "out-of-bounds memory access", "integer overflow", "integer divide by zero",
    "invalid conversion", "unreachable executed", "invalid indirect call",
    "uncaught exception", "call stack exhausted",
};

void wasm_rt_trap(wasm_rt_trap_t trap) {
  wasm_kernel_on_wasm_trap((u32)trap); /* returns only before instantiation */
  const char *name = (unsigned)trap < sizeof trap_names / sizeof trap_names[0] ? trap_names[trap] : "unknown";
  early_puts("\nwisp: wasm trap: ");
  early_puts(name);
  early_puts("\n");
  early_fail("trap in the AS kernel");
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  return (unsigned)trap < sizeof trap_names / sizeof trap_names[0] ? trap_names[trap] : "unknown";
}

static bool runtime_initialized;
void wasm_rt_init(void) { runtime_initialized = true; }
bool wasm_rt_is_initialized(void) { return runtime_initialized; }
void wasm_rt_free(void) {}

/* Function types are compared by index only for call_indirect; interning by
 * signature is what the spec asks for. */
#define MAX_FUNC_TYPES 512
#define MAX_TYPE_ARITY 16
static struct {
  u32 params, results;
  u8 types[MAX_TYPE_ARITY];
} func_types[MAX_FUNC_TYPES];
static u32 func_type_count;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  u8 types[MAX_TYPE_ARITY];
  u32 n = params + results;
  if (n > MAX_TYPE_ARITY) early_fail("wasm function type with too many values");
  __builtin_va_list ap;
  __builtin_va_start(ap, results);
  for (u32 i = 0; i < n; i++) types[i] = (u8)__builtin_va_arg(ap, int);
  __builtin_va_end(ap);
  for (u32 t = 0; t < func_type_count; t++) {
    if (func_types[t].params != params || func_types[t].results != results) continue;
    bool same = true;
    for (u32 i = 0; i < n; i++) same = same && func_types[t].types[i] == types[i];
    if (same) return t;
  }
  if (func_type_count == MAX_FUNC_TYPES) early_fail("too many wasm function types");
  func_types[func_type_count].params = params;
  func_types[func_type_count].results = results;
  for (u32 i = 0; i < n; i++) func_types[func_type_count].types[i] = types[i];
  return func_type_count++;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
  (void)initial_pages;
  (void)max_pages;
  memory->data = (uint8_t *)DIRECT_MAP_BASE;
  memory->pages = 0x10000;
  memory->max_pages = 0x10000;
  memory->size = LINEAR_MEMORY_BYTES;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t pages) {
  (void)memory;
  (void)pages;
  return (uint32_t)-1; /* memory.grow is not how the kernel gets memory */
}

void wasm_rt_free_memory(wasm_rt_memory_t *memory) { (void)memory; }

/* The indirect-call table lives in the kernel's .bss. */
#define MAX_TABLE_ELEMENTS 8192
static wasm_rt_funcref_t funcref_table_storage[MAX_TABLE_ELEMENTS];

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *table, uint32_t elements, uint32_t max_elements) {
  if (elements > MAX_TABLE_ELEMENTS) early_fail("wasm table larger than the loader reserves");
  table->data = funcref_table_storage;
  table->size = elements;
  table->max_size = max_elements < MAX_TABLE_ELEMENTS ? max_elements : MAX_TABLE_ELEMENTS;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *table) { (void)table; }

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t *table, uint32_t delta, wasm_rt_funcref_t init) {
  (void)table;
  (void)delta;
  (void)init;
  return (uint32_t)-1;
}
