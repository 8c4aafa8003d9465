// pipe and pipe2: two descriptors on one pipe (kernel/ipc/pipe.ts), the read
// end first.
import { fdClose } from "../kernel/vfs/fdtable";
import { File, filePut, O_CLOEXEC, O_NONBLOCK } from "../kernel/vfs/file";
import { pipeOpen } from "../kernel/ipc/pipe";
import { installNewFile } from "./newfd";
import { copyOut, scratchWords } from "./uaccess";
import { EFAULT, EINVAL } from "./errno";

function makePipe(fds: u64, flags: u64): i64 {
  // O_DIRECT (packet mode) and O_NOTIFICATION_PIPE are not supported: -EINVAL.
  if ((flags & ~<u64>(O_CLOEXEC | O_NONBLOCK)) != 0) return -EINVAL;
  let words = scratchWords();
  let result = pipeOpen((flags & O_NONBLOCK) != 0, words);
  if (result < 0) return result;
  let cloexec = (flags & O_CLOEXEC) != 0;
  let reader = changetype<File>(load<usize>(words));
  let writer = changetype<File>(load<usize>(words, 8));
  let readFd = installNewFile(reader, cloexec);
  if (readFd < 0) {
    filePut(writer);
    return readFd;
  }
  let writeFd = installNewFile(writer, cloexec);
  if (writeFd < 0) {
    fdClose(<u64>readFd);
    return writeFd;
  }
  store<u32>(words, <u32>readFd);
  store<u32>(words, <u32>writeFd, 4);
  if (copyOut(fds, words, 8) < 0) {
    // Linux undoes the descriptors when the array cannot be written.
    fdClose(<u64>readFd);
    fdClose(<u64>writeFd);
    return -EFAULT;
  }
  return 0;
}

export function sysPipe(fds: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return makePipe(fds, 0);
}

export function sysPipe2(fds: u64, flags: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return makePipe(fds, flags);
}
