// Test entry: the physical page allocator and the kernel heap compiled on
// their own for Node (AssemblyScript; excluded from the host type-check).
export * from "../../../kernel/mm/physical";
export * from "../../../kernel/mm/heap";
