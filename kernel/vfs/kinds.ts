// The kinds of generated VFS entries (Inode.special), apart so that every
// VFS file can name them without an import cycle.
export const SPECIAL_NONE: u32 = 0;
// Generated files (procfs.ts).
export const GEN_CPUINFO: u32 = 1;
export const GEN_MEMINFO: u32 = 2;
export const GEN_STAT: u32 = 3;
export const GEN_UPTIME: u32 = 4;
export const GEN_MOUNTS: u32 = 5;
export const GEN_MAPS: u32 = 6;
export const GEN_STATUS: u32 = 7;
export const GEN_CMDLINE: u32 = 8;
export const GEN_ENVIRON: u32 = 9;
export const GEN_CPU_RANGE: u32 = 10;
export const GEN_VERSION: u32 = 11;
export const GEN_LOADAVG: u32 = 12;
export const GEN_COMM: u32 = 13;
export const GEN_LAST: u32 = 13;
// Computed links.
export const LINK_EXE: u32 = 20;
export const LINK_CWD: u32 = 21;
export const LINK_FD: u32 = 22;
// Rebuilt directories.
export const DIR_FD: u32 = 30;
