// Linux errno values (asm-generic/errno-base.h, errno.h). System calls
// return them negated.
export const EPERM: i64 = 1;
export const ENOENT: i64 = 2;
export const ESRCH: i64 = 3;
export const EINTR: i64 = 4;
export const EIO: i64 = 5;
export const E2BIG: i64 = 7;
export const ENOEXEC: i64 = 8;
export const EBADF: i64 = 9;
export const EAGAIN: i64 = 11;
export const ENOMEM: i64 = 12;
export const EACCES: i64 = 13;
export const EFAULT: i64 = 14;
export const EEXIST: i64 = 17;
export const ENODEV: i64 = 19;
export const ENOTDIR: i64 = 20;
export const EISDIR: i64 = 21;
export const EINVAL: i64 = 22;
export const ENOTTY: i64 = 25;
export const ESPIPE: i64 = 29;
export const ERANGE: i64 = 34;
export const ENAMETOOLONG: i64 = 36;
export const ENOSYS: i64 = 38;
export const ETIMEDOUT: i64 = 110;
export const ENOTSUP: i64 = 95;
