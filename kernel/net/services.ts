// Built-in network services for tests and benchmarks, enabled from the
// command line: wisp.echo=<port> (TCP echo), wisp.udpecho=<port> (UDP echo),
// wisp.http=<port> (answers GET with a small fixed body, Connection: close;
// GET /stats with the stack's socket counts by state and the heap's bytes
// by tag, for tests that check nothing leaks).
//
// Each service is one kernel thread serving all its sockets: every socket's
// wake callback signals the service's event, and the thread runs one pass
// over its sockets under the stack lock until each would block, then waits
// for the event again. No polling: an idle service sleeps. With net
// channels on (channel.ts) each connection's TCP input is queued for the
// service and processed here, at the start of each pass.
import { BootInfo } from "../bootinfo";
import { parseDecimal } from "../cmdline";
import { Log } from "../log";
import { heapAlloc, heapBytesInUse, heapFree, heapTagName, TAG_COUNT, TAG_NET } from "../mm/heap";
import { Options } from "../options";
import { threadSpawn } from "../sched/scheduler";
import { CPU_ANY } from "../sched/thread";
import { Event, eventSignal, eventWait } from "../../drivers/event";
import {
  sockAccept, sockBind, sockClose, sockListen, sockOpen, sockRecv, sockRecvFrom, sockSend, sockSendTo,
  sockSetOption, sockSetWake, sockShutdown, sockState,
} from "../../net/index";
import { IPPROTO_TCP, SHUT_WR, SOL_SOCKET, SO_REUSEADDR, TCP_NODELAY } from "../../net/socket/api";
import { SOCK_DGRAM, SOCK_STREAM, TCP_CLOSED, TCP_LISTEN, TCP_TIME_WAIT } from "../../net/socket/socket";
import { EAGAIN } from "../../net/errno";
import { netLock, netNow, netStack, netUnlock } from "./net";
import { channelAttach, channelDetach, channelDrain } from "./channel";

const KIND_ECHO: u32 = 0;
const KIND_HTTP: u32 = 1;
const KIND_UDP_ECHO: u32 = 2;

const MAX_CONNS: u32 = 64;
const CONN_BUFFER: u32 = 16384;
const UDP_BUFFER: u32 = 65536;
/** Receive/send rounds per connection per pass, so one busy connection cannot hold the lock for long. */
const ROUNDS: u32 = 32;

// HTTP connection phases.
const HTTP_REQUEST: u32 = 0;
const HTTP_RESPONDING: u32 = 1;
const HTTP_DRAINING: u32 = 2;

// Conn.match bits besides the "\r\n\r\n" progress in the low byte.
const NOT_GET: u32 = 0x100;
const NOT_STATS: u32 = 0x200;
/** The request line's start that asks for the statistics. */
const STATS_REQUEST = "GET /stats ";
/** Where the statistics body is built in a connection's buffer before the header goes in front of it. */
const STATS_BODY_AT: u32 = 1024;

@unmanaged
class Conn {
  id: i32;
  phase: u32;
  /** Echo: bytes in buffer and how many were sent; HTTP: response offset. */
  len: u32;
  off: u32;
  /** HTTP: how much of "\r\n\r\n" matched so far, NOT_GET, NOT_STATS. */
  match: u32;
  /** HTTP: length of a response built in `buffer` (the statistics). */
  built: u32;
  eof: u32;
  buffer: usize;
}

@unmanaged
class Service {
  // The Event first, so the record is also the Event the wake callback signals.
  lock: u32;
  head: usize;
  tail: usize;
  pending: u32;
  kind: u32;
  port: u32;
  listener: i32;
  conns: usize;
  buffer: usize;
  accepted: u64;
  closed: u64;
}

export class Services {
  static running: u32 = 0;
  static response: usize = 0;
  static responseLength: u32 = 0;
  static refusal: usize = 0;
  static refusalLength: u32 = 0;
}

const BODY = "Hello from Wisp\n";

function conn(svc: Service, i: u32): Conn {
  return changetype<Conn>(svc.conns + <usize>i * offsetof<Conn>());
}

function event(svc: Service): Event {
  return changetype<Event>(changetype<usize>(svc));
}

// Runs under the stack lock: only wakes the service.
function onWake(arg: usize, id: i32, events: u32): void {
  eventSignal(changetype<Event>(arg));
}

function put(buffer: usize, at: u32, text: string): u32 {
  for (let i = 0; i < text.length; i++) store<u8>(buffer + at + <u32>i, <u8>text.charCodeAt(i));
  return at + <u32>text.length;
}

function putDecimal(buffer: usize, at: u32, value: u32): u32 {
  let digits: u32 = 1;
  for (let v = value; v >= 10; v /= 10) digits++;
  for (let i: u32 = 0, v = value; i < digits; i++, v /= 10) store<u8>(buffer + at + digits - 1 - i, <u8>(0x30 + v % 10));
  return at + digits;
}

function buildResponses(): bool {
  let r = heapAlloc(256, TAG_NET);
  let f = heapAlloc(256, TAG_NET);
  if (r == 0 || f == 0) return false;
  let n = put(r, 0, "HTTP/1.1 200 OK\r\nServer: wisp\r\nContent-Type: text/plain\r\nContent-Length: ");
  n = putDecimal(r, n, <u32>BODY.length);
  n = put(r, n, "\r\nConnection: close\r\n\r\n");
  n = put(r, n, BODY);
  Services.response = r;
  Services.responseLength = n;
  n = put(f, 0, "HTTP/1.1 405 Method Not Allowed\r\nServer: wisp\r\nAllow: GET\r\nContent-Length: 0\r\n");
  n = put(f, n, "Connection: close\r\n\r\n");
  Services.refusal = f;
  Services.refusalLength = n;
  return true;
}

// A channel of one of the service's connections went non-empty (stack lock held).
function onChannel(arg: usize): void {
  eventSignal(changetype<Event>(arg));
}

/**
 * The statistics response into c.buffer; its length. Sockets by state: the
 * asking connection itself is left out of "connections", so an idle stack
 * answers 0 there. Runs under the stack lock.
 */
function buildStats(c: Conn): u32 {
  let s = netStack();
  let total: u32 = 0;
  let listening: u32 = 0;
  let timeWait: u32 = 0;
  let closed: u32 = 0;
  let connections: u32 = 0;
  for (let id: i32 = 0; id < <i32>s.maxSockets; id++) {
    let state = sockState(s, id);
    if (state < 0) continue;
    total++;
    if (<u32>state == TCP_LISTEN) listening++;
    else if (<u32>state == TCP_TIME_WAIT) timeWait++;
    else if (<u32>state == TCP_CLOSED) closed++;
    else if (id != c.id) connections++;
  }
  let b = c.buffer + STATS_BODY_AT;
  let n = put(b, 0, "sockets ");
  n = putDecimal(b, n, total);
  n = put(b, n, "\nlistening ");
  n = putDecimal(b, n, listening);
  n = put(b, n, "\ntime_wait ");
  n = putDecimal(b, n, timeWait);
  n = put(b, n, "\nclosed ");
  n = putDecimal(b, n, closed);
  n = put(b, n, "\nconnections ");
  n = putDecimal(b, n, connections);
  n = put(b, n, "\n");
  for (let tag: u32 = 0; tag < TAG_COUNT; tag++) {
    n = put(b, n, "heap ");
    n = put(b, n, heapTagName(tag));
    n = put(b, n, " ");
    n = putDecimal(b, n, <u32>heapBytesInUse(tag));
    n = put(b, n, "\n");
  }
  let h = put(c.buffer, 0, "HTTP/1.1 200 OK\r\nServer: wisp\r\nContent-Type: text/plain\r\nContent-Length: ");
  h = putDecimal(c.buffer, h, n);
  h = put(c.buffer, h, "\r\nConnection: close\r\n\r\n");
  memory.copy(c.buffer + h, b, n);
  return h + n;
}

function closeConn(svc: Service, c: Conn, now: u64): void {
  channelDetach(netStack(), c.id, now);
  sockClose(netStack(), c.id, now);
  heapFree(c.buffer);
  c.id = -1;
  svc.closed++;
}

function acceptAll(svc: Service, now: u64): void {
  let s = netStack();
  for (let i: u32 = 0; i < MAX_CONNS; i++) {
    let c = conn(svc, i);
    if (c.id >= 0) continue;
    let buffer = heapAlloc(CONN_BUFFER, TAG_NET);
    if (buffer == 0) return;
    let id = sockAccept(s, svc.listener, 0);
    if (id < 0) {
      heapFree(buffer);
      return;
    }
    sockSetWake(s, id, changetype<usize>(onWake), changetype<usize>(svc));
    sockSetOption(s, id, IPPROTO_TCP, TCP_NODELAY, 1);
    // The same per-connection path as socket files: TCP input for this
    // connection runs here, in the service's thread, when channels are on.
    channelAttach(id, onChannel, changetype<usize>(svc));
    c.id = id;
    c.phase = HTTP_REQUEST;
    c.len = 0;
    c.off = 0;
    c.match = 0;
    c.built = 0;
    c.eof = 0;
    c.buffer = buffer;
    svc.accepted++;
  }
}

/** Echo what arrives until EOF; true if the connection may have more to do now. */
function stepEcho(svc: Service, c: Conn, now: u64): bool {
  let s = netStack();
  for (let round: u32 = 0; round < ROUNDS; round++) {
    if (c.off < c.len) {
      let n = sockSend(s, c.id, c.buffer + c.off, c.len - c.off, now);
      if (n == -EAGAIN) return false;
      if (n < 0) {
        closeConn(svc, c, now);
        return false;
      }
      c.off += <u32>n;
      if (c.off < c.len) return false; // the send buffer is full: wait for POLLOUT
      continue;
    }
    if (c.eof != 0) {
      closeConn(svc, c, now);
      return false;
    }
    let n = sockRecv(s, c.id, c.buffer, CONN_BUFFER, 0, now);
    if (n == -EAGAIN) return false;
    if (n < 0) {
      closeConn(svc, c, now);
      return false;
    }
    if (n == 0) c.eof = 1;
    c.len = <u32>n;
    c.off = 0;
  }
  return true;
}

function stepHttp(svc: Service, c: Conn, now: u64): bool {
  let s = netStack();
  for (let round: u32 = 0; round < ROUNDS; round++) {
    if (c.phase == HTTP_RESPONDING) {
      let text = (c.match & NOT_GET) != 0 ? Services.refusal : c.built != 0 ? c.buffer : Services.response;
      let length = (c.match & NOT_GET) != 0 ? Services.refusalLength : c.built != 0 ? c.built : Services.responseLength;
      let n = sockSend(s, c.id, text + c.off, length - c.off, now);
      if (n == -EAGAIN) return false;
      if (n < 0) {
        closeConn(svc, c, now);
        return false;
      }
      c.off += <u32>n;
      if (c.off < length) return false;
      sockShutdown(s, c.id, SHUT_WR, now);
      c.phase = HTTP_DRAINING;
      continue;
    }
    let n = sockRecv(s, c.id, c.buffer, CONN_BUFFER, 0, now);
    if (n == -EAGAIN) return false;
    if (n <= 0) {
      // EOF or error: done (a request cut short gets no answer).
      closeConn(svc, c, now);
      return false;
    }
    if (c.phase == HTTP_DRAINING) continue;
    for (let i: u32 = 0; i < <u32>n; i++) {
      let b = <u32>load<u8>(c.buffer + i);
      // The method: the first four bytes of the request must be "GET "; the
      // statistics are asked for by the first eleven.
      if (c.len < <u32>STATS_REQUEST.length) {
        let want = <u32>STATS_REQUEST.charCodeAt(<i32>c.len);
        if (b != want) c.match |= c.len < 4 ? NOT_GET | NOT_STATS : NOT_STATS;
        c.len++;
      }
      let m = c.match & 0xff;
      let expect: u32 = (m & 1) == 0 ? 0x0d : 0x0a;
      if (b == expect) m++;
      else m = b == 0x0d ? 1 : 0;
      c.match = (c.match & (NOT_GET | NOT_STATS)) | m;
      if (m == 4) {
        c.phase = HTTP_RESPONDING;
        c.off = 0;
        // A request shorter than the statistics line cannot be one.
        if ((c.match & NOT_STATS) == 0 && c.len == <u32>STATS_REQUEST.length) c.built = buildStats(c);
        break;
      }
    }
  }
  return true;
}

function stepUdpEcho(svc: Service, now: u64): bool {
  let s = netStack();
  let from = svc.buffer + UDP_BUFFER;
  for (let round: u32 = 0; round < ROUNDS; round++) {
    let n = sockRecvFrom(s, svc.listener, svc.buffer, UDP_BUFFER, 0, from, now);
    if (n < 0) return false;
    sockSendTo(s, svc.listener, svc.buffer, <u32>n, load<u32>(from), load<u32>(from, 4), now);
  }
  return true;
}

function serviceThread(arg: usize): void {
  let svc = changetype<Service>(arg);
  while (true) {
    netLock();
    let now = netNow();
    let more = false;
    if (svc.kind == KIND_UDP_ECHO) {
      more = stepUdpEcho(svc, now);
    } else {
      acceptAll(svc, now);
      let closed = svc.closed;
      for (let i: u32 = 0; i < MAX_CONNS; i++) {
        let c = conn(svc, i);
        if (c.id < 0) continue;
        channelDrain(netStack(), c.id, now);
        if (svc.kind == KIND_ECHO ? stepEcho(svc, c, now) : stepHttp(svc, c, now)) more = true;
      }
      // A slot came free: connections the listener's wake announced while
      // every slot was taken wait in the accept queue and wake no one again.
      if (svc.closed != closed) more = true;
    }
    netUnlock();
    if (!more) eventWait(event(svc), 0);
  }
}

function portOption(key: string): i32 {
  let found = Options.find(key);
  if (found < 0) return -1;
  let value = parseDecimal(BootInfo.cmdline, <u32>(found >>> 32), <u32>(found & 0xffffffff));
  if (value <= 0 || value > 65535) {
    Log.str("net: ignoring ");
    Log.str(key);
    Log.line(": not a port");
    return -1;
  }
  return <i32>value;
}

function start(kind: u32, port: u32, name: string): bool {
  let svc = changetype<Service>(heapAlloc(offsetof<Service>(), TAG_NET));
  if (changetype<usize>(svc) == 0) return false;
  memory.fill(changetype<usize>(svc), 0, offsetof<Service>());
  svc.kind = kind;
  svc.port = port;
  let s = netStack();
  netLock();
  let id = sockOpen(s, kind == KIND_UDP_ECHO ? SOCK_DGRAM : SOCK_STREAM);
  let r = id;
  if (id >= 0) {
    sockSetOption(s, id, SOL_SOCKET, SO_REUSEADDR, 1);
    r = sockBind(s, id, 0, port);
    if (r == 0 && kind != KIND_UDP_ECHO) r = sockListen(s, id, 128);
    if (r == 0) sockSetWake(s, id, changetype<usize>(onWake), changetype<usize>(svc));
  }
  netUnlock();
  if (r < 0) {
    Log.str("net: cannot start ");
    Log.str(name);
    Log.str(": error ");
    Log.dec(<u64>(-r));
    Log.newline();
    return false;
  }
  svc.listener = id;
  if (kind == KIND_UDP_ECHO) {
    svc.buffer = heapAlloc(UDP_BUFFER + 8, TAG_NET);
    if (svc.buffer == 0) return false;
  } else {
    svc.conns = heapAlloc(<usize>MAX_CONNS * offsetof<Conn>(), TAG_NET);
    if (svc.conns == 0) return false;
    for (let i: u32 = 0; i < MAX_CONNS; i++) conn(svc, i).id = -1;
  }
  if (threadSpawn(name, serviceThread, changetype<usize>(svc), CPU_ANY, true) === null) return false;
  Services.running++;
  Log.str("net: ");
  Log.str(name);
  Log.str(" on port ");
  Log.dec(port);
  Log.newline();
  return true;
}

/** Starts the services the command line asks for; how many run. */
export function servicesStart(): u32 {
  if (!buildResponses()) return 0;
  let port = portOption("wisp.echo");
  if (port > 0) start(KIND_ECHO, <u32>port, "tcp-echo");
  port = portOption("wisp.udpecho");
  if (port > 0) start(KIND_UDP_ECHO, <u32>port, "udp-echo");
  port = portOption("wisp.http");
  if (port > 0) start(KIND_HTTP, <u32>port, "http");
  return Services.running;
}
