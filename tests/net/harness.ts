// The network stack (tests/net/entries/netEntry.ts) compiled with the
// kernel's compiler and run in Node, with the arch imports the kernel heap
// needs mocked (one CPU, atomics on the wasm memory). The wasm is cached in
// build/test-wasm by a hash of its sources, so the test files share one
// compile. Helpers: addresses, memory access, two stacks over a test link,
// driving them through simulated time, TCP transfers.
import { AbortError, compileAssemblyScript, readString } from "../support/asc.ts";
import { atomicImports, newArchState } from "../support/archMock.ts";
export { AbortError, readString } from "../support/asc.ts";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const MEMORY_PAGES = 4096; // 256 MiB of wasm memory
const ENTRY = "tests/net/entries/netEntry.ts";
const SOURCES = ["net", "tests/net/entries", "kernel/mm/heap.ts", "kernel/mm/physical.ts", "kernel/sync/spinlock.ts",
  "arch/x86_64/atomic.ts", "arch/x86_64/cpu.ts"];


/* eslint-disable @typescript-eslint/no-explicit-any */
/** The entry's exports (numbers for u32/i32/pointers, bigint for u64). */
export type NetExports = Record<string, (...args: any[]) => any> & { memory: WebAssembly.Memory };

function listFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => listFiles(join(path, name)));
}

function sourceHash(): string {
  const h = createHash("sha256");
  const ascVersion = JSON.parse(readFileSync("node_modules/assemblyscript/package.json", "utf8")).version as string;
  h.update(ascVersion);
  for (const file of SOURCES.flatMap(listFiles)) {
    h.update(file);
    h.update(readFileSync(file));
  }
  return h.digest("hex").slice(0, 16);
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** The stack's wasm module: from the cache, else compiled (about 10 s) and cached. */
export function netModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const dir = "build/test-wasm";
    mkdirSync(dir, { recursive: true });
    const cached = join(dir, `net-${sourceHash()}.wasm`);
    if (existsSync(cached)) return WebAssembly.compile(readFileSync(cached));
    const binary = await compileAssemblyScript(ENTRY, { initialPages: MEMORY_PAGES });
    const temp = `${cached}.${process.pid}.tmp`;
    writeFileSync(temp, binary);
    renameSync(temp, cached);
    return WebAssembly.compile(binary);
  })();
  return compiled;
}


/** A fresh instance with the page allocator set up over its memory. */
export async function instantiate(): Promise<NetExports> {
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      abort(message: number, file: number, line: number, column: number): never {
        const text = readString(memory!, message);
        const where = file !== 0 ? ` (${readString(memory!, file)}:${line}:${column})` : "";
        throw new AbortError(text + where);
      },
    },
    arch: atomicImports(() => memory!, newArchState()),
  };
  const instance = await WebAssembly.instantiate(await netModule(), imports);
  const ex = instance.exports as unknown as NetExports;
  memory = ex.memory;
  ex.netTestInit();
  return ex;
}

// ---- values ----

export function ip(text: string): number {
  const parts = text.split(".").map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function ipText(value: number): string {
  const v = value >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** A MAC as the stack's u64 (wire bytes in memory order). */
export function mac(text: string): bigint {
  const bytes = text.split(":").map((b) => BigInt(parseInt(b, 16)));
  return bytes.reduce((v, b, i) => v | (b << BigInt(8 * i)), 0n);
}

export function macBytes(value: bigint): Buffer {
  const out = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** A seeded PRNG (mulberry32). */
export function prng(seed: number): (bound: number) => number {
  let state = seed >>> 0;
  return (bound: number): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % bound) >>> 0;
  };
}

export function randomBytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export const MS = 1_000_000n;
export const SEC = 1_000_000_000n;

// Constants mirrored from net/ (checked by the tests that use them).
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_ICMP = 3;
export const EAGAIN = -11;
export const EINPROGRESS = -115;
export const TCP = {
  CLOSED: 0, LISTEN: 1, SYN_SENT: 2, SYN_RECEIVED: 3, ESTABLISHED: 4, FIN_WAIT_1: 5, FIN_WAIT_2: 6,
  CLOSE_WAIT: 7, CLOSING: 8, LAST_ACK: 9, TIME_WAIT: 10,
} as const;
export const POLLIN = 1;
export const POLLOUT = 4;
export const POLLERR = 8;
export const POLLHUP = 0x10;
export const POLLRDHUP = 0x2000;
export const CONF = {
  MAX_HALF_OPEN: 1, SYN_BACKLOG: 2, TCP_FEATURES: 3, RCVBUF: 4, SNDBUF: 5, MSL: 6, DELAYED_ACK: 7, MIN_RTO: 8,
  MAX_RTO: 9, INITIAL_RTO: 10, SYN_RETRIES: 11, SYNACK_RETRIES: 12, DATA_RETRIES: 13, KEEPIDLE: 14, KEEPINTVL: 15,
  KEEPCNT: 16, FIN_TIMEOUT: 17, ARP_REACHABLE: 18, ARP_RETRY: 19, ARP_RETRIES: 20, FRAG_TIMEOUT: 21,
  FRAG_BUFFERS: 22, TTL: 23, MAX_BUF: 24, UDP_RCVBUF: 25,
} as const;
export const STAT = {
  RX_FRAMES: 0, RX_DROPPED: 1, RX_MALFORMED: 2, TX_FRAMES: 3, TX_DROPPED: 4, ARP_REQUESTS: 5, ARP_REPLIES: 6,
  IP_FRAGMENTS: 7, IP_REASSEMBLED: 8, IP_REASSEMBLY_FAILED: 9, ICMP_ECHO_REPLIES: 10, ICMP_UNREACHABLE_SENT: 11,
  UDP_NO_PORT: 12, UDP_QUEUE_FULL: 13, TCP_SEGMENTS_IN: 14, TCP_SEGMENTS_OUT: 15, TCP_RETRANSMITS: 16,
  TCP_RST_SENT: 17, TCP_SYN_DROPPED: 18, TCP_CHALLENGE_ACKS: 19, TCP_FAST_RECOVERIES: 20, TCP_TIMEOUTS: 21,
  TCP_OOO_DROPPED: 22, TCP_PAWS_DROPPED: 23, TCP_ACCEPT_OVERFLOW: 24, TCP_SACK_RETRANSMITS: 25,
  TCP_ZERO_WINDOW_PROBES: 26, TCP_KEEPALIVE_PROBES: 27,
} as const;
export const SOL_SOCKET = 1;
export const SO = { REUSEADDR: 2, ERROR: 4, SNDBUF: 7, RCVBUF: 8, KEEPALIVE: 9, LINGER: 13, REUSEPORT: 15 } as const;
export const IPPROTO_TCP = 6;
export const TCPO = { NODELAY: 1, MAXSEG: 2, KEEPIDLE: 4, KEEPINTVL: 5, KEEPCNT: 6 } as const;

// ---- a test bench: stacks, devices, simulated time ----

export interface PairOptions {
  seed?: number;
  mtu?: number;
  /** One-way latency of the link. */
  latency?: bigint;
  slots?: number;
  /** Bytes per second (0: unlimited). */
  rate?: bigint;
  /** Wrap each end's device in a fault injector. */
  faults?: boolean;
  /** Record each end in a pcap buffer of this many bytes. */
  pcapBytes?: number;
  maxSockets?: number;
  configure?: (net: Bench, stack: number) => void;
}

export const IP_A = ip("10.0.0.1");
export const IP_B = ip("10.0.0.2");
export const MAC_A = mac("02:00:00:00:00:0a");
export const MAC_B = mac("02:00:00:00:00:0b");
export const MASK_24 = ip("255.255.255.0");

export class Bench {
  now = 1n * SEC;
  readonly buf: number;
  readonly bufSize = 1 << 20;
  stacks: number[] = [];
  /** Pair set-up. */
  a = 0;
  b = 0;
  link = 0;
  faultA = 0;
  faultB = 0;
  pcapA = 0;
  pcapB = 0;
  maxSteps = 2_000_000;

  constructor(readonly ex: NetExports) {
    this.buf = ex.testAlloc(this.bufSize);
  }

  get memory(): WebAssembly.Memory {
    return this.ex.memory;
  }

  write(ptr: number, data: Uint8Array): void {
    new Uint8Array(this.memory.buffer, ptr, data.length).set(data);
  }

  read(ptr: number, length: number): Buffer {
    return Buffer.from(new Uint8Array(this.memory.buffer, ptr, length));
  }

  u32(ptr: number, index: number): number {
    return new DataView(this.memory.buffer).getUint32(ptr + index * 4, true);
  }

  setU32(ptr: number, index: number, value: number): void {
    new DataView(this.memory.buffer).setUint32(ptr + index * 4, value >>> 0, true);
  }

  stack(seed: number, maxSockets = 0): number {
    const s = this.ex.stackCreate(0, 0, BigInt(seed), maxSockets);
    if (s === 0) throw new Error("stackCreate failed");
    this.stacks.push(s);
    return s;
  }

  configure(stack: number, key: number, value: bigint | number): void {
    const r = this.ex.stackConfigure(stack, key, BigInt(value));
    if (r !== 0) throw new Error(`stackConfigure(${key}) = ${r}`);
  }

  /** Two stacks on a link: a = 10.0.0.1, b = 10.0.0.2. */
  pair(o: PairOptions = {}): this {
    const seed = o.seed ?? 1;
    this.a = this.stack(seed, o.maxSockets ?? 0);
    this.b = this.stack(seed + 1000, o.maxSockets ?? 0);
    o.configure?.(this, this.a);
    o.configure?.(this, this.b);
    this.link = this.ex.testLinkCreate(o.mtu ?? 1500, MAC_A, MAC_B, o.slots ?? 1024, o.latency ?? 1n * MS, o.rate ?? 0n);
    let devA = this.ex.testLinkEnd(this.link, false);
    let devB = this.ex.testLinkEnd(this.link, true);
    if (o.faults) {
      this.faultA = this.ex.testFaultCreate(devA, BigInt(seed * 7 + 1));
      this.faultB = this.ex.testFaultCreate(devB, BigInt(seed * 7 + 2));
      devA = this.faultA;
      devB = this.faultB;
    }
    if (o.pcapBytes) {
      this.pcapA = this.ex.pcapCreate(o.pcapBytes);
      this.pcapB = this.ex.pcapCreate(o.pcapBytes);
      devA = this.ex.pcapDeviceCreate(devA, this.pcapA);
      devB = this.ex.pcapDeviceCreate(devB, this.pcapB);
    }
    if (this.ex.testAddDevice(this.a, devA, IP_A, MASK_24) < 0) throw new Error("add device a");
    if (this.ex.testAddDevice(this.b, devB, IP_B, MASK_24) < 0) throw new Error("add device b");
    return this;
  }

  /** Runs both stacks of the pair (or `a` alone) for `delta` ns of simulated time. */
  run(delta: bigint, a = this.a, b = this.b): void {
    this.now = this.ex.runStacks(a, b, this.now, this.now + delta, this.maxSteps);
    if (this.ex.runStalled(this.maxSteps)) throw new Error(`stacks livelocked at t=${this.now}`);
  }

  /** Runs until `done` holds (checked every `step`), at most `limit` of simulated time. */
  runUntil(done: () => boolean, limit: bigint, step = 10n * MS, a = this.a, b = this.b): boolean {
    const end = this.now + limit;
    while (!done()) {
      if (this.now >= end) return false;
      this.run(step, a, b);
    }
    return true;
  }

  stat(stack: number, index: number): number {
    return Number(this.ex.stackStat(stack, index));
  }

  /** Saves a pcap buffer to build/net-pcap/<name>.pcap (for tshark/wireshark); returns the path. */
  savePcap(writer: number, name: string): string {
    mkdirSync("build/net-pcap", { recursive: true });
    const path = `build/net-pcap/${name}.pcap`;
    writeFileSync(path, this.read(this.ex.testPcapData(writer), this.ex.testPcapLength(writer)));
    return path;
  }

  // ---- TCP helpers ----

  listen(stack: number, port: number, backlog = 128, addr = 0): number {
    const l = this.ex.sockOpen(stack, SOCK_STREAM);
    if (l < 0) throw new Error(`sockOpen ${l}`);
    let r = this.ex.sockBind(stack, l, addr, port);
    if (r !== 0) throw new Error(`sockBind ${r}`);
    r = this.ex.sockListen(stack, l, backlog);
    if (r !== 0) throw new Error(`sockListen ${r}`);
    return l;
  }

  /** Connects a -> b:port (b listening on `listener`), returns [client id, server id]. */
  connect(listener: number, port: number, a = this.a, b = this.b, dst = IP_B): [number, number] {
    const c = this.ex.sockOpen(a, SOCK_STREAM);
    const r = this.ex.sockConnect(a, c, dst, port, this.now);
    if (r !== EINPROGRESS) throw new Error(`sockConnect ${r}`);
    let server = -1;
    const ok = this.runUntil(() => {
      if (server < 0) server = this.ex.sockAccept(b, listener, 0);
      return server >= 0 && this.ex.sockState(a, c) === TCP.ESTABLISHED;
    }, 30n * SEC, 1n * MS, a, b);
    if (!ok) throw new Error(`connect did not complete: client state ${this.ex.sockState(a, c)}`);
    return [c, server];
  }

  /** Sends as much of data[offset..] as fits; returns the new offset. */
  sendSome(stack: number, sock: number, data: Buffer, offset: number): number {
    while (offset < data.length) {
      const n = Math.min(this.bufSize, data.length - offset);
      this.write(this.buf, data.subarray(offset, offset + n));
      const r = this.ex.sockSend(stack, sock, this.buf, n, this.now);
      if (r === EAGAIN) break;
      if (r < 0) throw new Error(`sockSend ${r}`);
      offset += r;
      if (r < n) break;
    }
    return offset;
  }

  /** Receives what is there into `chunks`; returns bytes read, or -1 at end of stream. */
  recvSome(stack: number, sock: number, chunks: Buffer[]): number {
    let total = 0;
    for (;;) {
      const r = this.ex.sockRecv(stack, sock, this.buf, this.bufSize, 0, this.now);
      if (r === EAGAIN) return total;
      if (r === 0) return total === 0 ? -1 : total;
      if (r < 0) throw new Error(`sockRecv ${r}`);
      chunks.push(this.read(this.buf, r));
      total += r;
    }
  }

  /**
   * Sends `ab` from a to b and `ba` from b to a at once, then both shut down
   * their sending side; returns what each end received (to its FIN).
   */
  exchange(sa: number, sb: number, ab: Buffer, ba: Buffer, limit = 600n * SEC, step = 5n * MS): [Buffer, Buffer] {
    let offA = 0;
    let offB = 0;
    const gotB: Buffer[] = [];
    const gotA: Buffer[] = [];
    let eofA = false;
    let eofB = false;
    let shutA = false;
    let shutB = false;
    const end = this.now + limit;
    while (!(eofA && eofB)) {
      if (this.now > end) {
        throw new Error(`exchange timed out: a sent ${offA}/${ab.length}, b sent ${offB}/${ba.length}, ` +
          `b got ${gotB.reduce((n, c) => n + c.length, 0)}, a got ${gotA.reduce((n, c) => n + c.length, 0)}, ` +
          `states ${this.ex.sockState(this.a, sa)}/${this.ex.sockState(this.b, sb)}`);
      }
      offA = this.sendSome(this.a, sa, ab, offA);
      offB = this.sendSome(this.b, sb, ba, offB);
      if (offA === ab.length && !shutA) {
        shutA = true;
        this.ex.sockShutdown(this.a, sa, 1, this.now);
      }
      if (offB === ba.length && !shutB) {
        shutB = true;
        this.ex.sockShutdown(this.b, sb, 1, this.now);
      }
      this.run(step);
      if (!eofB && this.recvSome(this.b, sb, gotB) < 0) eofB = true;
      if (!eofA && this.recvSome(this.a, sa, gotA) < 0) eofA = true;
    }
    return [Buffer.concat(gotB), Buffer.concat(gotA)];
  }

  /** Closes and lets time pass until both stacks have no sockets left (TIME_WAIT included). */
  drain(limit = 300n * SEC): boolean {
    return this.runUntil(() => this.ex.sockCount(this.a) === 0 && (this.b === 0 || this.ex.sockCount(this.b) === 0),
      limit, 1n * SEC);
  }
}

export async function bench(): Promise<Bench> {
  return new Bench(await instantiate());
}

// ---- an echo transfer (the kernel's echo service against a client) ----

export interface EchoResult {
  sent: number;
  received: number;
  /** False when no byte moved for `stallLimit` of simulated time. */
  completed: boolean;
  /** Simulated time the transfer took (or ran until it stalled). */
  elapsed: bigint;
  /** Why it stopped, with both ends' TCP variables, when it stalled. */
  detail: string;
}

/**
 * Client `c` on stack a sends `data` and reads the echo at the same time;
 * server `s` on stack b echoes like kernel/net/services.ts stepEcho: read up
 * to `chunk` bytes into its own buffer, write them back, and read again only
 * once all were sent (so its receive window closes while its send buffer is
 * full). Both sides act every `step` of simulated time. Stops when all came
 * back (checked byte for byte) or when nothing moved for `stallLimit`.
 */
export function echoTransfer(net: Bench, c: number, s: number, data: Buffer, chunk = 16384, step = 1n * MS,
  stallLimit = 120n * SEC): EchoResult {
  const ex = net.ex;
  const echoBuf = ex.testAlloc(chunk);
  let echoLen = 0;
  let echoOff = 0;
  let sent = 0;
  let received = 0;
  const start = net.now;
  let lastProgress = net.now;
  const fields = (stack: number, sock: number): string => {
    const names = ["cwnd", "ssthresh", "rto", "mss", "sndWscale", "rcvWscale", "flags", "retransmits", "sndWnd", "srtt",
      "rxCap", "txCap", "rcvNxt", "sndNxt", "sndUna", "port", "maxSndWnd", "sndMax", "rcvAdv", "rxLen", "sndWl1",
      "txLen"];
    return names.map((n, i) => `${n}=${(ex.testSocketField(stack, sock, i) >>> 0).toString(i === 6 ? 16 : 10)}`)
      .join(" ");
  };
  while (received < data.length) {
    let moved = false;
    // The client: send what fits, read what came back.
    const off = net.sendSome(net.a, c, data, sent);
    if (off !== sent) moved = true;
    sent = off;
    for (;;) {
      const r = ex.sockRecv(net.a, c, net.buf, net.bufSize, 0, net.now);
      if (r === EAGAIN) break;
      if (r <= 0) throw new Error(`client sockRecv ${r} at ${received}`);
      const got = net.read(net.buf, r);
      if (!got.equals(data.subarray(received, received + r))) throw new Error(`echo differs at ${received}`);
      received += r;
      moved = true;
    }
    // The echo side.
    for (let round = 0; round < 32; round++) {
      if (echoOff < echoLen) {
        const n = ex.sockSend(net.b, s, echoBuf + echoOff, echoLen - echoOff, net.now);
        if (n === EAGAIN) break;
        if (n < 0) throw new Error(`echo sockSend ${n}`);
        echoOff += n;
        if (n > 0) moved = true;
        if (echoOff < echoLen) break;
        continue;
      }
      const n = ex.sockRecv(net.b, s, echoBuf, chunk, 0, net.now);
      if (n === EAGAIN) break;
      if (n <= 0) throw new Error(`echo sockRecv ${n}`);
      echoLen = n;
      echoOff = 0;
      moved = true;
    }
    if (moved) lastProgress = net.now;
    else if (net.now - lastProgress > stallLimit) {
      return {
        sent, received, completed: false, elapsed: net.now - start,
        detail: `stalled at t=${net.now}: client sent ${sent} received ${received}, echo holds ${echoLen - echoOff}\n` +
          `  client: ${fields(net.a, c)}\n  server: ${fields(net.b, s)}`,
      };
    }
    net.run(step);
  }
  return { sent, received, completed: true, elapsed: net.now - start, detail: "" };
}
