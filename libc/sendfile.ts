// sendfile: copies between any two open files through a kernel bounce
// buffer (the input read with IO_KERNEL, the output written from it), so it
// works for every file type, sockets included. With an offset pointer the
// input is read from *offset, which is updated, and the input's own offset
// is left alone; without, the input's offset advances. When the output
// takes fewer bytes than were read, the input position goes back by the
// difference, as Linux leaves it.
import { heapAlloc, heapFree, TAG_LIBC } from "../kernel/mm/heap";
import { fdGet } from "../kernel/vfs/fdtable";
import { File, fileCanRead, fileCanWrite, filePut, fileRead, fileWrite, IO_KERNEL, O_APPEND } from "../kernel/vfs/file";
import { MAX_RW_COUNT } from "./io";
import { getU64, putU64, scratchWords } from "./uaccess";
import { EBADF, EFAULT, EINVAL, ENOMEM } from "./errno";

const BOUNCE_BYTES: u64 = 65536;

export function sysSendfile(outFd: u64, inFd: u64, offset: u64, count: u64, a4: u64, a5: u64): i64 {
  let input = fdGet(inFd);
  if (input === null) return -EBADF;
  let output = fdGet(outFd);
  if (output === null) {
    filePut(input);
    return -EBADF;
  }
  let result = transfer(output, input, offset, count);
  filePut(output);
  filePut(input);
  return result;
}

function transfer(output: File, input: File, offset: u64, count: u64): i64 {
  if (!fileCanRead(input) || !fileCanWrite(output)) return -EBADF;
  if ((output.status & O_APPEND) != 0) return -EINVAL;
  let position: usize;
  if (offset != 0) {
    position = scratchWords();
    if (getU64(offset, position) < 0) return -EFAULT;
    if (<i64>load<u64>(position) < 0) return -EINVAL;
  } else {
    position = changetype<usize>(input) + offsetof<File>("offset");
  }
  if (<i64>count < 0) return -EINVAL;
  if (count > MAX_RW_COUNT) count = MAX_RW_COUNT;
  let bounce = heapAlloc(<usize>BOUNCE_BYTES, TAG_LIBC);
  if (bounce == 0) return -ENOMEM;
  let outPosition = changetype<usize>(output) + offsetof<File>("offset");
  let done: u64 = 0;
  let error: i64 = 0;
  while (done < count) {
    let want = count - done < BOUNCE_BYTES ? count - done : BOUNCE_BYTES;
    let got = fileRead(input, <u64>bounce, want, position, IO_KERNEL);
    if (got <= 0) {
      error = got;
      break;
    }
    let written: i64 = 0;
    while (written < got) {
      let n = fileWrite(output, <u64>(bounce + <usize>written), <u64>(got - written), outPosition, IO_KERNEL);
      if (n <= 0) {
        error = n;
        break;
      }
      written += n;
    }
    // Bytes read but not written go back to the input.
    if (written < got) store<u64>(position, load<u64>(position) - <u64>(got - written));
    done += <u64>written;
    if (written < got || got < <i64>want) break;
  }
  heapFree(bounce);
  if (offset != 0 && putU64(offset, load<u64>(position)) < 0 && done == 0) return -EFAULT;
  return done > 0 ? <i64>done : error;
}
