// The network stack uses the kernel's errno values.
export * from "../kernel/errno";
