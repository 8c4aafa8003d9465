// The socket system calls for AF_INET (TCP and UDP) on the kernel's socket
// files (kernel/net/socketFile.ts): socket, bind, listen, accept/accept4,
// connect, send/recv in every form (sendto, recvfrom, sendmsg, recvmsg,
// sendmmsg, recvmmsg), shutdown, getsockname, getpeername, setsockopt,
// getsockopt, socketpair (not for AF_INET, as on Linux). Argument checks
// and their order follow Linux, so errno matches for bad arguments.
import { fdGet, fdInstall, fdOpenCount } from "../kernel/vfs/fdtable";
import { File, filePut, IO_KERNEL, O_NONBLOCK } from "../kernel/vfs/file";
import { heapAlloc, heapFree, TAG_LIBC } from "../kernel/mm/heap";
import {
  KSock, ksockAccept, ksockConnect, ksockOf, ksockRecv, ksockSend, MSG_DONTWAIT, MSG_OOB, MSG_TRUNC, MSG_WAITALL,
  socketFileOpen,
} from "../kernel/net/socketFile";
import { netLock, netStack, netUnlock } from "../kernel/net/net";
import {
  sockBind, sockGetOption, sockListen, sockLocalName, sockPeerName, sockSetOption, sockShutdown,
} from "../net/index";
import { netNow } from "../kernel/net/net";
import { SOCK_DGRAM, SOCK_STREAM } from "../net/socket/socket";
import { descriptorLimit } from "./resource";
import { copyIn, copyOut, scratchBuffer, scratchWords } from "./uaccess";
import {
  EAFNOSUPPORT, EBADF, EDOM, EFAULT, EINVAL, EMFILE, EMSGSIZE, ENOMEM, ENOPROTOOPT, ENOTSOCK, EOPNOTSUPP,
  EPROTONOSUPPORT, ESOCKTNOSUPPORT,
} from "./errno";

const AF_UNSPEC: u64 = 0;
const AF_INET: u64 = 2;
const SOCK_TYPE_MASK: u64 = 0xf;
const SOCK_MAX: u64 = 11;
const SOCK_NONBLOCK: u64 = 0x800;
const SOCK_CLOEXEC: u64 = 0x80000;
const IPPROTO_IP: u64 = 0;
const IPPROTO_TCP: u64 = 6;
const IPPROTO_UDP: u64 = 17;
const SOCKADDR_IN_BYTES: u32 = 16;
/** struct sockaddr_storage: the most move_addr_to_kernel takes. */
const SOCKADDR_MAX: i64 = 128;
const MSGHDR_BYTES: usize = 56;
const MMSGHDR_BYTES: u64 = 64;
const IOV_MAX: u64 = 1024;
const MSG_WAITFORONE: u64 = 0x10000;
const UDP_MAX: u64 = 65507;

// Option names (asm-generic/socket.h, netinet/in.h, netinet/tcp.h).
const SOL_SOCKET: u64 = 1;
const SO_REUSEADDR: u64 = 2;
const SO_TYPE: u64 = 3;
const SO_ERROR: u64 = 4;
const SO_BROADCAST: u64 = 6;
const SO_SNDBUF: u64 = 7;
const SO_RCVBUF: u64 = 8;
const SO_KEEPALIVE: u64 = 9;
const SO_LINGER: u64 = 13;
const SO_REUSEPORT: u64 = 15;
const SO_RCVTIMEO_OLD: u64 = 20;
const SO_SNDTIMEO_OLD: u64 = 21;
const SO_ACCEPTCONN: u64 = 30;
const SO_PROTOCOL: u64 = 38;
const SO_DOMAIN: u64 = 39;
const SO_RCVTIMEO_NEW: u64 = 66;
const SO_SNDTIMEO_NEW: u64 = 67;
const IP_TOS: u64 = 1;
const TCP_NODELAY: u64 = 1;
const TCP_MAXSEG: u64 = 2;
const TCP_KEEPIDLE: u64 = 4;
const TCP_KEEPINTVL: u64 = 5;
const TCP_KEEPCNT: u64 = 6;

/** The socket File for `fd` with a reference (filePut it), as its address; or -EBADF or -ENOTSOCK. */
function socketFile(fd: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  if (ksockOf(file) === null) {
    filePut(file);
    return -ENOTSOCK;
  }
  return <i64>changetype<usize>(file);
}

function bswap16(v: u32): u32 {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}

/**
 * move_addr_to_kernel: copies a sockaddr of `length` bytes into `out`
 * (SOCKADDR_MAX bytes); 0, -EINVAL or -EFAULT.
 */
function addressIn(address: u64, length: u64, out: usize): i64 {
  let n = <i64><i32>length;
  if (n < 0 || n > SOCKADDR_MAX || (length >> 32) != 0) return -EINVAL;
  if (n == 0) return 0;
  return copyIn(out, address, <usize>n) < 0 ? -EFAULT : 0;
}

/** The AF_INET address copied by addressIn: stores (addr, port) in host order at `out`; 0 or -errno. */
function inetAddress(sa: usize, length: u64, out: usize): i64 {
  if (<i64><i32>length < <i64>SOCKADDR_IN_BYTES) return -EINVAL;
  if (<u64>load<u16>(sa) != AF_INET) return -EAFNOSUPPORT;
  store<u32>(out, bswap<u32>(load<u32>(sa, 4)));
  store<u32>(out, bswap16(<u32>load<u16>(sa, 2)), 4);
  return 0;
}

/** Reads a socklen_t at `lengthPointer`: its value (>= 0), -EFAULT or -EINVAL. */
function lengthIn(lengthPointer: u64): i64 {
  let word = scratchWords() + 32;
  if (copyIn(word, lengthPointer, 4) < 0) return -EFAULT;
  let n = load<i32>(word);
  return n < 0 ? -EINVAL : <i64>n;
}

/**
 * move_addr_to_user: a sockaddr_in for (addr, port) at `address` (at most
 * `room` bytes of it), and its full length at `lengthPointer`.
 */
function addressOut(address: u64, lengthPointer: u64, room: i64, addr: u32, port: u32): i64 {
  let sa = scratchWords();
  memory.fill(sa, 0, 16);
  store<u16>(sa, <u16>AF_INET);
  store<u16>(sa, <u16>bswap16(port), 2);
  store<u32>(sa, bswap<u32>(addr), 4);
  let n = room < <i64>SOCKADDR_IN_BYTES ? room : <i64>SOCKADDR_IN_BYTES;
  if (n > 0 && copyOut(address, sa, <usize>n) < 0) return -EFAULT;
  store<u32>(sa + 16, SOCKADDR_IN_BYTES);
  return copyOut(lengthPointer, sa + 16, 4) < 0 ? -EFAULT : 0;
}

/** Installs a new socket File as a descriptor; drops it on failure. */
function install(file: File, cloexec: bool): i64 {
  let fd = fdInstall(file, cloexec, 0, descriptorLimit());
  if (fd < 0) filePut(file);
  return fd;
}

export function sysSocket(domain: u64, type: u64, protocol: u64, a3: u64, a4: u64, a5: u64): i64 {
  let flags = type & ~SOCK_TYPE_MASK;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return -EINVAL;
  let kind = type & SOCK_TYPE_MASK;
  if (domain >= 46) return -EAFNOSUPPORT;
  if (kind >= SOCK_MAX) return -EINVAL;
  if (domain != AF_INET) return -EAFNOSUPPORT;
  let stackType: u32;
  if (kind == <u64>SOCK_STREAM) {
    if (protocol != 0 && protocol != IPPROTO_TCP) return -EPROTONOSUPPORT;
    stackType = SOCK_STREAM;
  } else if (kind == <u64>SOCK_DGRAM) {
    if (protocol != 0 && protocol != IPPROTO_UDP) return -EPROTONOSUPPORT;
    stackType = SOCK_DGRAM;
  } else {
    return -ESOCKTNOSUPPORT;
  }
  if (fdOpenCount() >= descriptorLimit()) return -EMFILE;
  let out = scratchWords();
  let r = socketFileOpen(stackType, (flags & SOCK_NONBLOCK) != 0 ? O_NONBLOCK : 0, out);
  if (r < 0) return r;
  return install(changetype<File>(load<usize>(out)), (flags & SOCK_CLOEXEC) != 0);
}

export function sysSocketpair(domain: u64, type: u64, protocol: u64, sv: u64, a4: u64, a5: u64): i64 {
  let flags = type & ~SOCK_TYPE_MASK;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return -EINVAL;
  if (domain >= 46) return -EAFNOSUPPORT;
  if ((type & SOCK_TYPE_MASK) >= SOCK_MAX) return -EINVAL;
  // AF_INET sockets have no pairs on Linux; AF_UNIX is not implemented here.
  return domain == AF_INET ? -EOPNOTSUPP : -EAFNOSUPPORT;
}

export function sysBind(fd: u64, address: u64, length: u64, a3: u64, a4: u64, a5: u64): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  let ks = changetype<KSock>(file.node);
  let sa = scratchBuffer();
  r = addressIn(address, length, sa);
  let at = scratchBuffer() + 256;
  if (r == 0) {
    if (<i64><i32>length < <i64>SOCKADDR_IN_BYTES) r = -EINVAL;
    else {
      let family = <u64>load<u16>(sa);
      // AF_UNSPEC is taken for INADDR_ANY, as Linux does for old programs.
      if (family != AF_INET && !(family == AF_UNSPEC && load<u32>(sa, 4) == 0)) r = -EAFNOSUPPORT;
      else {
        store<u32>(at, bswap<u32>(load<u32>(sa, 4)));
        store<u32>(at, bswap16(<u32>load<u16>(sa, 2)), 4);
      }
    }
  }
  if (r == 0) {
    netLock();
    r = sockBind(netStack(), ks.id, load<u32>(at), load<u32>(at, 4));
    netUnlock();
  }
  filePut(file);
  return r;
}

export function sysListen(fd: u64, backlog: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  let ks = changetype<KSock>(file.node);
  netLock();
  r = sockListen(netStack(), ks.id, <i32>backlog);
  netUnlock();
  if (r == 0) ks.listening = 1;
  filePut(file);
  return r;
}

export function sysAccept4(fd: u64, address: u64, lengthPointer: u64, flags: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return -EINVAL;
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  // The length is read before anything is accepted, so a bad pointer costs no connection.
  let room: i64 = 0;
  if (address != 0) {
    room = lengthIn(lengthPointer);
    if (room < 0) {
      filePut(file);
      return room;
    }
  }
  if (fdOpenCount() >= descriptorLimit()) {
    filePut(file);
    return -EMFILE;
  }
  let peer = scratchBuffer();
  let out = scratchBuffer() + 16;
  r = ksockAccept(file, (flags & SOCK_NONBLOCK) != 0 ? O_NONBLOCK : 0, peer, out);
  filePut(file);
  if (r < 0) return r;
  let child = changetype<File>(load<usize>(out));
  if (address != 0 && addressOut(address, lengthPointer, room, load<u32>(peer), load<u32>(peer, 4)) < 0) {
    // As Linux: the new connection is dropped and the caller sees -EFAULT.
    filePut(child);
    return -EFAULT;
  }
  return install(child, (flags & SOCK_CLOEXEC) != 0);
}

export function sysAccept(fd: u64, address: u64, lengthPointer: u64, a3: u64, a4: u64, a5: u64): i64 {
  return sysAccept4(fd, address, lengthPointer, 0, 0, 0);
}

export function sysConnect(fd: u64, address: u64, length: u64, a3: u64, a4: u64, a5: u64): i64 {
  let holder = scratchWords() + 48;
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let sa = scratchBuffer();
  let r = addressIn(address, length, sa);
  if (r == 0 && ksockOf(file) === null) r = -ENOTSOCK;
  if (r == 0) {
    if (<i64><i32>length < 2) r = -EINVAL;
    else if (<u64>load<u16>(sa) == AF_UNSPEC) r = -EOPNOTSUPP; // disconnecting is not implemented
    else r = inetAddress(sa, length, holder);
  }
  if (r == 0) {
    let addr = load<u32>(holder);
    // Connecting to INADDR_ANY means this host, as on Linux.
    if (addr == 0) addr = 0x7f000001;
    r = ksockConnect(file, addr, load<u32>(holder, 4));
  }
  filePut(file);
  return r;
}

export function sysShutdown(fd: u64, how: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  if (how > 2) r = -EINVAL;
  else {
    netLock();
    r = sockShutdown(netStack(), changetype<KSock>(file.node).id, <u32>how, netNow());
    netUnlock();
  }
  filePut(file);
  return r;
}

function name(fd: u64, address: u64, lengthPointer: u64, peer: bool): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  let room = lengthIn(lengthPointer);
  if (room < 0) {
    filePut(file);
    return room;
  }
  let at = scratchBuffer();
  netLock();
  let id = changetype<KSock>(file.node).id;
  r = peer ? sockPeerName(netStack(), id, at) : sockLocalName(netStack(), id, at);
  netUnlock();
  filePut(file);
  if (r < 0) return r;
  return addressOut(address, lengthPointer, room, load<u32>(at), load<u32>(at, 4));
}

export function sysGetsockname(fd: u64, address: u64, lengthPointer: u64, a3: u64, a4: u64, a5: u64): i64 {
  return name(fd, address, lengthPointer, false);
}

export function sysGetpeername(fd: u64, address: u64, lengthPointer: u64, a3: u64, a4: u64, a5: u64): i64 {
  return name(fd, address, lengthPointer, true);
}

// ---- sending and receiving ----

/**
 * One send: `destination` is 0 or an AS pointer to (addr, port) for
 * datagram sockets. Bytes sent or -errno.
 */
function sendOne(file: File, buffer: u64, length: u64, ioflags: u32, flags: u64, destination: usize): i64 {
  let ks = changetype<KSock>(file.node);
  if ((flags & <u64>MSG_OOB) != 0) return -EOPNOTSUPP;
  let hasTo = destination != 0 && ks.type == SOCK_DGRAM;
  let addr: u32 = hasTo ? load<u32>(destination) : 0;
  if (hasTo && addr == 0) addr = 0x7f000001;
  return ksockSend(file, buffer, length, ioflags, <u32>flags, hasTo, addr, hasTo ? load<u32>(destination, 4) : 0);
}

/** The destination of sendto/sendmsg into `out`: 1 if there is one, 0 if none, or -errno. */
function destinationIn(file: File, address: u64, length: u64, out: usize): i64 {
  if (address == 0 || length == 0) return 0;
  let sa = scratchBuffer();
  let r = addressIn(address, length, sa);
  if (r < 0) return r;
  if (changetype<KSock>(file.node).type == SOCK_STREAM) return 0; // ignored on a connected stream
  if (<i64><i32>length < <i64>SOCKADDR_IN_BYTES) return -EINVAL;
  let family = <u64>load<u16>(sa);
  if (family == AF_UNSPEC) return 0;
  r = inetAddress(sa, length, out);
  return r < 0 ? r : 1;
}

export function sysSendto(fd: u64, buffer: u64, length: u64, flags: u64, address: u64, addressLength: u64): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  let to = scratchWords() + 40;
  r = destinationIn(file, address, addressLength, to);
  if (r >= 0) {
    if (<i64>length < 0) r = -EINVAL;
    else r = sendOne(file, buffer, length > 0x7ffff000 ? 0x7ffff000 : length, 0, flags, r == 1 ? to : 0);
  }
  filePut(file);
  return r;
}

/** One receive; the sender's (addr, port) at AS pointer `from`. Stream: bytes; datagram: full length. */
function recvOne(file: File, buffer: u64, length: u64, ioflags: u32, flags: u64, from: usize): i64 {
  let ks = changetype<KSock>(file.node);
  if ((flags & <u64>MSG_OOB) != 0) return ks.type == SOCK_STREAM ? -EINVAL : -EOPNOTSUPP;
  return ksockRecv(file, buffer, length, ioflags, <u32>flags, from);
}

export function sysRecvfrom(fd: u64, buffer: u64, length: u64, flags: u64, address: u64, lengthPointer: u64): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  let stream = changetype<KSock>(file.node).type == SOCK_STREAM;
  let from = scratchWords() + 40;
  store<u64>(from, 0);
  if (<i64>length < 0) r = -EINVAL;
  else r = recvOne(file, buffer, length > 0x7ffff000 ? 0x7ffff000 : length, 0, flags, from);
  filePut(file);
  if (r < 0) return r;
  if (!stream && <u64>r > length && (flags & <u64>MSG_TRUNC) == 0) r = <i64>length;
  if (address != 0 && lengthPointer != 0) {
    if (stream) {
      // TCP gives no address: the length becomes 0.
      let word = scratchWords() + 32;
      store<u32>(word, 0);
      if (copyOut(lengthPointer, word, 4) < 0) return -EFAULT;
    } else {
      let room = lengthIn(lengthPointer);
      if (room < 0) return room;
      let fromAddr = load<u32>(scratchWords() + 40);
      let fromPort = load<u32>(scratchWords() + 44);
      if (addressOut(address, lengthPointer, room, fromAddr, fromPort) < 0) return -EFAULT;
    }
  }
  return r;
}

/** A msghdr's iovecs copied into a heap buffer (free with heapFree): its address, or -errno. */
function iovecsIn(pointer: u64, count: u64): i64 {
  if (count > IOV_MAX) return -EMSGSIZE;
  if (count == 0) return 0;
  let bytes = <usize>count * 16;
  let v = heapAlloc(bytes, TAG_LIBC);
  if (v == 0) return -ENOMEM;
  if (copyIn(v, pointer, bytes) < 0) {
    heapFree(v);
    return -EFAULT;
  }
  for (let i: usize = 0; i < <usize>count; i++) {
    if (<i64>load<u64>(v + i * 16 + 8) < 0) {
      heapFree(v);
      return -EINVAL;
    }
  }
  return <i64>v;
}

function iovTotal(v: usize, count: u64): u64 {
  let total: u64 = 0;
  for (let i: usize = 0; i < <usize>count; i++) total += load<u64>(v + i * 16 + 8);
  return total;
}

/** sendmsg of the msghdr at AS pointer `m` (copied in). */
function sendMessage(file: File, m: usize, flags: u64): i64 {
  let ks = changetype<KSock>(file.node);
  let to = scratchWords() + 40;
  let r = destinationIn(file, load<u64>(m), <u64>load<u32>(m, 8), to);
  if (r < 0) return r;
  let destination: usize = r == 1 ? to : 0;
  let count = load<u64>(m, 24);
  let vr = iovecsIn(load<u64>(m, 16), count);
  if (vr < 0) return vr;
  let v = <usize>vr;
  let total = iovTotal(v, count);
  let result: i64 = 0;
  if (ks.type != SOCK_STREAM) {
    // One datagram: gathered first.
    if (total > UDP_MAX) result = -EMSGSIZE;
    else {
      let data = heapAlloc(<usize>(total == 0 ? 1 : total), TAG_LIBC);
      if (data == 0) result = -ENOMEM;
      else {
        let at: u64 = 0;
        for (let i: usize = 0; i < <usize>count && result == 0; i++) {
          let len = load<u64>(v + i * 16 + 8);
          if (len != 0 && copyIn(<usize>(data + at), load<u64>(v + i * 16), <usize>len) < 0) result = -EFAULT;
          at += len;
        }
        if (result == 0) result = sendOne(file, data, total, IO_KERNEL, flags, destination);
        heapFree(data);
      }
    }
  } else {
    for (let i: usize = 0; i < <usize>count; i++) {
      let len = load<u64>(v + i * 16 + 8);
      if (len == 0) continue;
      let n = sendOne(file, load<u64>(v + i * 16), len, 0, flags, 0);
      if (n < 0) {
        if (result == 0) result = n;
        break;
      }
      result += n;
      if (<u64>n < len) break;
    }
  }
  if (v != 0) heapFree(v);
  return result;
}

/**
 * recvmsg into the msghdr at AS pointer `m` (copied in; `user` is its
 * application address for the fields written back).
 */
function receiveMessage(file: File, m: usize, user: u64, flags: u64): i64 {
  let ks = changetype<KSock>(file.node);
  let stream = ks.type == SOCK_STREAM;
  let count = load<u64>(m, 24);
  let vr = iovecsIn(load<u64>(m, 16), count);
  if (vr < 0) return vr;
  let v = <usize>vr;
  let total = iovTotal(v, count);
  let from = scratchWords() + 40;
  store<u64>(from, 0);
  let result: i64 = 0;
  let outFlags: u32 = 0;
  let peek = (flags & 2) != 0;
  if (!stream || peek) {
    // A datagram (or a peek): into one kernel buffer, then scattered.
    let room: u64 = total > 65536 ? 65536 : total;
    let data = heapAlloc(<usize>(room == 0 ? 1 : room), TAG_LIBC);
    if (data == 0) result = -ENOMEM;
    else {
      result = recvOne(file, data, room, IO_KERNEL, flags, from);
      if (result >= 0) {
        let got: u64 = <u64>result < room ? <u64>result : room;
        if (!stream && <u64>result > room) outFlags |= MSG_TRUNC;
        let at: u64 = 0;
        for (let i: usize = 0; i < <usize>count && at < got; i++) {
          let len = load<u64>(v + i * 16 + 8);
          let part = got - at < len ? got - at : len;
          if (part != 0 && copyOut(load<u64>(v + i * 16), <usize>(data + at), <usize>part) < 0) {
            result = -EFAULT;
            break;
          }
          at += part;
        }
        if (result >= 0 && (stream || (flags & <u64>MSG_TRUNC) == 0)) result = <i64>got;
      }
      heapFree(data);
    }
  } else {
    let f = flags;
    for (let i: usize = 0; i < <usize>count; i++) {
      let len = load<u64>(v + i * 16 + 8);
      if (len == 0) continue;
      let n = recvOne(file, load<u64>(v + i * 16), len, 0, f, 0);
      if (n < 0) {
        if (result == 0) result = n;
        break;
      }
      result += n;
      if (<u64>n < len) break;
      // Later iovecs take what is already there, unless MSG_WAITALL.
      if ((flags & <u64>MSG_WAITALL) == 0) f |= MSG_DONTWAIT;
    }
  }
  if (v != 0) heapFree(v);
  if (result < 0) return result;
  // Written back: msg_namelen, msg_controllen (no control data), msg_flags.
  let name = load<u64>(m);
  let nameRoom = <i64><i32>load<u32>(m, 8);
  let word = scratchWords() + 32;
  if (name != 0 && !stream) {
    if (nameRoom < 0) return -EINVAL;
    let sa = scratchBuffer();
    memory.fill(sa, 0, 16);
    store<u16>(sa, <u16>AF_INET);
    store<u16>(sa, <u16>bswap16(load<u32>(from, 4)), 2);
    store<u32>(sa, bswap<u32>(load<u32>(from)), 4);
    let n = nameRoom < <i64>SOCKADDR_IN_BYTES ? nameRoom : <i64>SOCKADDR_IN_BYTES;
    if (n > 0 && copyOut(name, sa, <usize>n) < 0) return -EFAULT;
    store<u32>(word, SOCKADDR_IN_BYTES);
  } else store<u32>(word, 0);
  if (copyOut(user + 8, word, 4) < 0) return -EFAULT;
  store<u64>(word, 0);
  if (copyOut(user + 40, word, 8) < 0) return -EFAULT;
  store<u32>(word, outFlags);
  if (copyOut(user + 48, word, 4) < 0) return -EFAULT;
  return result;
}

function messageCall(fd: u64, message: u64, flags: u64, send: bool): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  let m = scratchBuffer() + 512;
  if (copyIn(m, message, MSGHDR_BYTES) < 0) r = -EFAULT;
  else r = send ? sendMessage(file, m, flags) : receiveMessage(file, m, message, flags);
  filePut(file);
  return r;
}

export function sysSendmsg(fd: u64, message: u64, flags: u64, a3: u64, a4: u64, a5: u64): i64 {
  return messageCall(fd, message, flags, true);
}

export function sysRecvmsg(fd: u64, message: u64, flags: u64, a3: u64, a4: u64, a5: u64): i64 {
  return messageCall(fd, message, flags, false);
}

/**
 * sendmmsg / recvmmsg: one message after another, msg_len written to each;
 * the count done, or the first message's error. recvmmsg's timeout is not
 * applied (each message waits as recvmsg would); MSG_WAITFORONE makes the
 * messages after the first nonblocking.
 */
function multiMessage(fd: u64, vector: u64, count: u64, flags: u64, send: bool): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  if (count > IOV_MAX) count = IOV_MAX;
  let done: u64 = 0;
  let f = flags & ~MSG_WAITFORONE;
  let m = scratchBuffer() + 512;
  let result: i64 = 0;
  while (done < count) {
    let user = vector + done * MMSGHDR_BYTES;
    let n: i64;
    if (copyIn(m, user, MSGHDR_BYTES) < 0) n = -EFAULT;
    else n = send ? sendMessage(file, m, f) : receiveMessage(file, m, user, f);
    if (n < 0) {
      result = done > 0 ? <i64>done : n;
      break;
    }
    let word = scratchWords() + 32;
    store<u32>(word, <u32>n);
    if (copyOut(user + 56, word, 4) < 0) {
      result = done > 0 ? <i64>done : -EFAULT;
      break;
    }
    done++;
    result = <i64>done;
    if (!send && (flags & MSG_WAITFORONE) != 0) f |= MSG_DONTWAIT;
  }
  filePut(file);
  return result;
}

export function sysSendmmsg(fd: u64, vector: u64, count: u64, flags: u64, a4: u64, a5: u64): i64 {
  return multiMessage(fd, vector, count, flags, true);
}

export function sysRecvmmsg(fd: u64, vector: u64, count: u64, flags: u64, timeout: u64, a5: u64): i64 {
  return multiMessage(fd, vector, count, flags, false);
}

// ---- options ----

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/** A struct timeval from `value` into ns (0: forever); -EINVAL, -EFAULT or -EDOM. */
function timeoutIn(value: u64, length: u64): i64 {
  if (length < 16) return -EINVAL;
  let tv = scratchWords();
  if (copyIn(tv, value, 16) < 0) return -EFAULT;
  let seconds = load<i64>(tv);
  let micros = load<i64>(tv, 8);
  if (micros < 0 || micros >= 1000000) return -EDOM;
  if (seconds < 0) return 1; // already passed
  if (seconds == 0 && micros == 0) return 0;
  return seconds * <i64>NANOS_PER_SECOND + micros * 1000;
}

function setOption(file: File, level: u64, option: u64, value: u64, length: u64): i64 {
  let ks = changetype<KSock>(file.node);
  if (level == SOL_SOCKET && (option == SO_RCVTIMEO_OLD || option == SO_SNDTIMEO_OLD ||
      option == SO_RCVTIMEO_NEW || option == SO_SNDTIMEO_NEW)) {
    let t = timeoutIn(value, length);
    if (t < 0) return t;
    if (option == SO_RCVTIMEO_OLD || option == SO_RCVTIMEO_NEW) ks.rcvTimeout = <u64>t;
    else ks.sndTimeout = <u64>t;
    return 0;
  }
  if (<i64><i32>length < 4) return -EINVAL;
  let word = scratchWords();
  if (copyIn(word, value, 4) < 0) return -EFAULT;
  let v = load<i32>(word);
  let stackValue = v;
  if (level == SOL_SOCKET) {
    switch (option) {
      case SO_BROADCAST: ks.broadcast = v != 0 ? 1 : 0; return 0;
      case SO_LINGER: {
        if (<i64><i32>length < 8) return -EINVAL;
        if (copyIn(word, value, 8) < 0) return -EFAULT;
        let seconds = load<i32>(word, 4);
        stackValue = load<i32>(word) == 0 ? -1 : (seconds < 0 ? 0 : seconds);
        break;
      }
      case SO_REUSEADDR: case SO_REUSEPORT: case SO_KEEPALIVE: case SO_RCVBUF: case SO_SNDBUF:
        // SO_RCVBUF/SO_SNDBUF: Linux clamps a negative size to its minimum.
        if ((option == SO_RCVBUF || option == SO_SNDBUF) && v < 0) stackValue = 0;
        break;
      default:
        return -ENOPROTOOPT;
    }
  } else if (level == IPPROTO_IP) {
    if (option != IP_TOS) return -ENOPROTOOPT;
    ks.tos = <u32>v & 0xfc;
    return 0;
  } else if (level == IPPROTO_TCP) {
    if (ks.type != SOCK_STREAM) return -ENOPROTOOPT;
    if (option != TCP_NODELAY && option != TCP_KEEPIDLE && option != TCP_KEEPINTVL && option != TCP_KEEPCNT) {
      return -ENOPROTOOPT;
    }
  } else {
    return -ENOPROTOOPT;
  }
  netLock();
  let r = sockSetOption(netStack(), ks.id, <u32>level, <u32>option, stackValue);
  netUnlock();
  return r;
}

export function sysSetsockopt(fd: u64, level: u64, option: u64, value: u64, length: u64, a5: u64): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  r = setOption(file, level & 0xffffffff, option & 0xffffffff, value, length & 0xffffffff);
  filePut(file);
  return r;
}

/** The value of an option into `out` (up to 16 bytes); its size, or -errno. */
function getOption(file: File, level: u64, option: u64, out: usize): i64 {
  let ks = changetype<KSock>(file.node);
  let stream = ks.type == SOCK_STREAM;
  if (level == SOL_SOCKET) {
    switch (option) {
      case SO_RCVTIMEO_OLD: case SO_SNDTIMEO_OLD: case SO_RCVTIMEO_NEW: case SO_SNDTIMEO_NEW: {
        let t = option == SO_RCVTIMEO_OLD || option == SO_RCVTIMEO_NEW ? ks.rcvTimeout : ks.sndTimeout;
        store<u64>(out, t / NANOS_PER_SECOND);
        store<u64>(out, (t % NANOS_PER_SECOND) / 1000, 8);
        return 16;
      }
      case SO_BROADCAST: store<i32>(out, <i32>ks.broadcast); return 4;
      case SO_ACCEPTCONN: store<i32>(out, <i32>ks.listening); return 4;
      case SO_DOMAIN: store<i32>(out, <i32>AF_INET); return 4;
      case SO_PROTOCOL: store<i32>(out, stream ? <i32>IPPROTO_TCP : <i32>IPPROTO_UDP); return 4;
      case SO_LINGER: {
        netLock();
        let v = sockGetOption(netStack(), ks.id, <u32>level, <u32>option);
        netUnlock();
        store<i32>(out, v >= 0 ? 1 : 0);
        store<i32>(out, v >= 0 ? <i32>v : 0, 4);
        return 8;
      }
      case SO_REUSEADDR: case SO_REUSEPORT: case SO_KEEPALIVE: case SO_RCVBUF: case SO_SNDBUF: case SO_ERROR:
      case SO_TYPE:
        break;
      default:
        return -ENOPROTOOPT;
    }
  } else if (level == IPPROTO_IP) {
    if (option != IP_TOS) return -ENOPROTOOPT;
    store<i32>(out, <i32>ks.tos);
    return 4;
  } else if (level == IPPROTO_TCP) {
    if (!stream) return -ENOPROTOOPT;
    if (option != TCP_NODELAY && option != TCP_MAXSEG && option != TCP_KEEPIDLE && option != TCP_KEEPINTVL &&
        option != TCP_KEEPCNT) return -ENOPROTOOPT;
  } else {
    return -ENOPROTOOPT;
  }
  netLock();
  let v = sockGetOption(netStack(), ks.id, <u32>level, <u32>option);
  netUnlock();
  if (v < 0) return v;
  store<i32>(out, <i32>v);
  return 4;
}

export function sysGetsockopt(fd: u64, level: u64, option: u64, value: u64, lengthPointer: u64, a5: u64): i64 {
  let r = socketFile(fd);
  if (r < 0) return r;
  let file = changetype<File>(<usize>r);
  let room = lengthIn(lengthPointer);
  if (room < 0) {
    filePut(file);
    return room;
  }
  let out = scratchBuffer();
  r = getOption(file, level & 0xffffffff, option & 0xffffffff, out);
  filePut(file);
  if (r < 0) return r;
  let n = room < r ? room : r;
  if (n > 0 && copyOut(value, out, <usize>n) < 0) return -EFAULT;
  let word = scratchWords() + 32;
  store<u32>(word, <u32>n);
  return copyOut(lengthPointer, word, 4) < 0 ? -EFAULT : 0;
}
