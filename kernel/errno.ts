// Linux errno values (asm-generic/errno-base.h and errno.h). Kernel
// functions return them negated (-EAGAIN), and the syscall layer hands them
// to applications unchanged.

export const EPERM: i32 = 1;
export const ENOENT: i32 = 2;
export const ESRCH: i32 = 3;
export const EINTR: i32 = 4;
export const EIO: i32 = 5;
export const EBADF: i32 = 9;
export const EAGAIN: i32 = 11;
export const ENOMEM: i32 = 12;
export const EFAULT: i32 = 14;
export const EBUSY: i32 = 16;
export const EEXIST: i32 = 17;
export const ENODEV: i32 = 19;
export const EINVAL: i32 = 22;
export const EMFILE: i32 = 24;
export const ENOSPC: i32 = 28;
export const EROFS: i32 = 30;
export const EPIPE: i32 = 32;
export const ENOSYS: i32 = 38;
export const EBADMSG: i32 = 74;
export const ENOTSOCK: i32 = 88;
export const EDESTADDRREQ: i32 = 89;
export const EMSGSIZE: i32 = 90;
export const EPROTOTYPE: i32 = 91;
export const ENOPROTOOPT: i32 = 92;
export const EPROTONOSUPPORT: i32 = 93;
export const EOPNOTSUPP: i32 = 95;
export const EAFNOSUPPORT: i32 = 97;
export const EADDRINUSE: i32 = 98;
export const EADDRNOTAVAIL: i32 = 99;
export const ENETDOWN: i32 = 100;
export const ENETUNREACH: i32 = 101;
export const ECONNABORTED: i32 = 103;
export const ECONNRESET: i32 = 104;
export const ENOBUFS: i32 = 105;
export const EISCONN: i32 = 106;
export const ENOTCONN: i32 = 107;
export const ETIMEDOUT: i32 = 110;
export const ECONNREFUSED: i32 = 111;
export const EHOSTUNREACH: i32 = 113;
export const EALREADY: i32 = 114;
export const EINPROGRESS: i32 = 115;
