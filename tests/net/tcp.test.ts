// TCP between two stack instances over the test link, in simulated time:
// handshakes (simultaneous too), transfers under loss, reordering and
// duplication, zero windows, window scaling, SACK, keepalive, RST rules,
// TIME_WAIT, backlog and SYN-flood bounds, resource accounting.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Bench, CONF, EAGAIN, EINPROGRESS, IPPROTO_TCP, IP_A, IP_B, MAC_A, MAC_B, MS, POLLERR, POLLHUP, POLLIN, POLLOUT, SEC,
  SOCK_STREAM, SOL_SOCKET, SO, STAT, TCP, TCPO, bench, echoTransfer, ip, netModule, prng, randomBytes, sha256,
} from "./harness.ts";
import { checksum, ethernet, ipv4 } from "./frames.ts";

beforeAll(async () => {
  await netModule();
}, 120_000);

const TCPF_WSCALE = 1;
const TCPF_TIMESTAMPS = 2;
const TCPF_SACK = 4;
const ECONNREFUSED = 111;
const ECONNRESET = 104;
const ETIMEDOUT = 110;

function expectSame(got: Buffer, sent: Buffer): void {
  expect(got.length).toBe(sent.length);
  expect(sha256(got)).toBe(sha256(sent));
}

/** A connected pair (a = client, b = server on port 80). */
async function connected(o: Parameters<Bench["pair"]>[0] = {}): Promise<{ net: Bench; c: number; s: number; l: number }> {
  const net = (await bench()).pair(o);
  const l = net.listen(net.b, 80);
  const [c, s] = net.connect(l, 80);
  return { net, c, s, l };
}

function field(net: Bench, stack: number, sock: number, f: number): number {
  return net.ex.testSocketField(stack, sock, f) >>> 0;
}

describe("connections", () => {
  it("handshake, then 4 MiB each way at once, sha256 equal", async () => {
    const { net, c, s } = await connected();
    expect(net.ex.sockState(net.b, s)).toBe(TCP.ESTABLISHED);
    const peer = net.ex.testAlloc(8);
    expect(net.ex.sockPeerName(net.b, s, peer)).toBe(0);
    expect(net.u32(peer, 0)).toBe(IP_A);
    expect(net.u32(peer, 1)).toBe(field(net, net.a, c, 15));
    const ab = randomBytes(1, 4 << 20);
    const ba = randomBytes(2, 4 << 20);
    const [gotB, gotA] = net.exchange(c, s, ab, ba);
    expectSame(gotB, ab);
    expectSame(gotA, ba);
    expect(net.stat(net.a, STAT.TCP_RETRANSMITS)).toBe(0);
  });

  it("simultaneous open: crossing SYNs both reach ESTABLISHED and carry data", async () => {
    const net = (await bench()).pair();
    const x = net.ex.sockOpen(net.a, SOCK_STREAM);
    const y = net.ex.sockOpen(net.b, SOCK_STREAM);
    expect(net.ex.sockBind(net.a, x, 0, 5000)).toBe(0);
    expect(net.ex.sockBind(net.b, y, 0, 6000)).toBe(0);
    expect(net.ex.sockConnect(net.a, x, IP_B, 6000, net.now)).toBe(EINPROGRESS);
    expect(net.ex.sockConnect(net.b, y, IP_A, 5000, net.now)).toBe(EINPROGRESS);
    expect(net.runUntil(() => net.ex.sockState(net.a, x) === TCP.ESTABLISHED &&
      net.ex.sockState(net.b, y) === TCP.ESTABLISHED, 10n * SEC, 1n * MS)).toBe(true);
    const [gotB, gotA] = net.exchange(x, y, randomBytes(3, 100_000), randomBytes(4, 70_000));
    expectSame(gotB, randomBytes(3, 100_000));
    expectSame(gotA, randomBytes(4, 70_000));
  });

  it("simultaneous close goes through CLOSING to TIME_WAIT on both sides, which expires after 2 MSL", async () => {
    const { net, c, s } = await connected({ configure: (n, st) => n.configure(st, CONF.MSL, 1n * SEC) });
    net.ex.sockShutdown(net.a, c, 1, net.now);
    net.ex.sockShutdown(net.b, s, 1, net.now);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.FIN_WAIT_1);
    net.run(500n * MS);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.TIME_WAIT);
    expect(net.ex.sockState(net.b, s)).toBe(TCP.TIME_WAIT);
    net.ex.sockClose(net.a, c, net.now);
    net.ex.sockClose(net.b, s, net.now);
    expect(net.ex.sockCount(net.a)).toBe(1);
    net.run(1400n * MS);
    expect(net.ex.sockCount(net.a)).toBe(1); // 1.9 s: still in TIME_WAIT
    net.run(200n * MS);
    expect(net.ex.sockCount(net.a)).toBe(0);
    expect(net.ex.sockCount(net.b)).toBe(1); // the listener
  });

  it("orderly close: the active closer waits in TIME_WAIT, the passive side reads EOF", async () => {
    const { net, c, s } = await connected({ configure: (n, st) => n.configure(st, CONF.MSL, 2n * SEC) });
    net.sendSome(net.a, c, Buffer.from("bye"), 0);
    net.ex.sockClose(net.a, c, net.now);
    net.run(100n * MS);
    const got: Buffer[] = [];
    expect(net.recvSome(net.b, s, got)).toBe(3);
    expect(net.recvSome(net.b, s, got)).toBe(-1);
    expect(net.ex.sockPoll(net.b, s) & POLLIN).toBeTruthy();
    expect(net.ex.sockState(net.b, s)).toBe(TCP.CLOSE_WAIT);
    net.ex.sockClose(net.b, s, net.now);
    net.run(100n * MS);
    expect(net.ex.sockCount(net.b)).toBe(1);
    expect(net.ex.sockCount(net.a)).toBe(1);
    net.run(4100n * MS);
    expect(net.ex.sockCount(net.a)).toBe(0);
  });

  it("a SYN to a closed port gets an RST: connect fails with ECONNREFUSED", async () => {
    const net = (await bench()).pair();
    const c = net.ex.sockOpen(net.a, SOCK_STREAM);
    expect(net.ex.sockConnect(net.a, c, IP_B, 81, net.now)).toBe(EINPROGRESS);
    net.run(100n * MS);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.CLOSED);
    expect(net.ex.sockPoll(net.a, c) & (POLLERR | POLLHUP)).toBe(POLLERR | POLLHUP);
    expect(Number(net.ex.sockGetOption(net.a, c, SOL_SOCKET, SO.ERROR))).toBe(ECONNREFUSED);
    expect(net.stat(net.b, STAT.TCP_RST_SENT)).toBe(1);
    // An ACK for no connection gets an RST too, a RST gets nothing.
    expect(net.ex.sockSend(net.a, c, net.buf, 1, net.now)).toBe(-107); // ENOTCONN
  });

  it("an orphaned FIN_WAIT_2 is freed after the FIN timeout; closing a listener resets its queue", async () => {
    const { net, c, s, l } = await connected({ configure: (n, st) => n.configure(st, CONF.FIN_TIMEOUT, 10n * SEC) });
    net.ex.sockClose(net.a, c, net.now);
    net.run(100n * MS);
    expect(net.ex.sockState(net.b, s)).toBe(TCP.CLOSE_WAIT); // b never closes
    expect(net.ex.sockCount(net.a)).toBe(1);
    net.run(9n * SEC);
    expect(net.ex.sockCount(net.a)).toBe(1);
    net.run(2n * SEC);
    expect(net.ex.sockCount(net.a)).toBe(0);
    // Two connections wait in the accept queue; closing the listener resets them.
    const x = net.ex.sockOpen(net.a, SOCK_STREAM);
    const y = net.ex.sockOpen(net.a, SOCK_STREAM);
    net.ex.sockConnect(net.a, x, IP_B, 80, net.now);
    net.ex.sockConnect(net.a, y, IP_B, 80, net.now);
    net.run(100n * MS);
    expect(net.ex.sockCount(net.b)).toBe(4);
    net.ex.sockClose(net.b, l, net.now);
    expect(net.ex.sockCount(net.b)).toBe(1); // only s, the accepted one
    net.run(100n * MS);
    expect(net.ex.sockRecv(net.a, x, net.buf, 1, 0, net.now)).toBe(-ECONNRESET);
    expect(net.ex.sockRecv(net.a, y, net.buf, 1, 0, net.now)).toBe(-ECONNRESET);
  });

  it("close with unread data, or SO_LINGER 0, resets the connection", async () => {
    const { net, c, s } = await connected();
    net.sendSome(net.a, c, Buffer.from("unread"), 0);
    net.run(50n * MS);
    net.ex.sockClose(net.b, s, net.now);
    net.run(50n * MS);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.CLOSED);
    expect(net.ex.sockRecv(net.a, c, net.buf, 10, 0, net.now)).toBe(-ECONNRESET);
    const l2 = net.listen(net.b, 81);
    const [c2, s2] = net.connect(l2, 81);
    expect(net.ex.sockSetOption(net.a, c2, SOL_SOCKET, SO.LINGER, 0)).toBe(0);
    net.ex.sockClose(net.a, c2, net.now);
    expect(net.ex.sockCount(net.a)).toBe(1); // freed at once, no TIME_WAIT
    net.run(50n * MS);
    expect(net.ex.sockRecv(net.b, s2, net.buf, 10, 0, net.now)).toBe(-ECONNRESET);
  });
});

describe("loss, reordering, duplication", () => {
  for (const [label, ppm, size] of [["1%", 10_000, 4 << 20], ["10%", 100_000, 1 << 20]] as const) {
    it(`${label} loss both ways: ${size >> 20} MiB each way arrives intact`, async () => {
      const { net, c, s } = await connected({ faults: true, seed: 11 });
      net.ex.testFaultSet(net.faultA, ppm, 0, 0, 0, 0n, 0n);
      net.ex.testFaultSet(net.faultB, ppm, 0, 0, 0, 0n, 0n);
      const ab = randomBytes(5, size);
      const ba = randomBytes(6, size);
      const [gotB, gotA] = net.exchange(c, s, ab, ba, 3600n * SEC);
      expectSame(gotB, ab);
      expectSame(gotA, ba);
      expect(Number(net.ex.testFaultCount(net.faultA, 0))).toBeGreaterThan(0);
      expect(net.stat(net.a, STAT.TCP_RETRANSMITS)).toBeGreaterThan(0);
    });
  }

  it("reordering, duplication and corruption: 2 MiB each way intact", async () => {
    const { net, c, s } = await connected({ faults: true, seed: 12 });
    for (const f of [net.faultA, net.faultB]) net.ex.testFaultSet(f, 0, 20_000, 5_000, 50_000, 0n, 3n * MS);
    const ab = randomBytes(7, 2 << 20);
    const ba = randomBytes(8, 2 << 20);
    const [gotB, gotA] = net.exchange(c, s, ab, ba);
    expectSame(gotB, ab);
    expectSame(gotA, ba);
    expect(Number(net.ex.testFaultCount(net.faultA, 1))).toBeGreaterThan(0);
    expect(Number(net.ex.testFaultCount(net.faultA, 2))).toBeGreaterThan(0);
    expect(Number(net.ex.testFaultCount(net.faultA, 3))).toBeGreaterThan(0);
    expect(net.stat(net.b, STAT.RX_MALFORMED) + net.stat(net.a, STAT.RX_MALFORMED)).toBeGreaterThan(0);
  });

  // The 256 MiB QEMU echo (tests/net-guest/echo256.test.ts) froze both ways
  // under these faults: a window taken from a segment whose ACK was older
  // than SND.UNA (a late segment of higher SEQ, or the new ACK of a
  // retransmission refused as old by SND.WL1) put SND.UNA + SND.WND past the
  // peer's right edge; the sender sent beyond it, and its pure ACKs, whose
  // SEQ is SND.MAX, were then outside the peer's zero window and dropped
  // unread, so the peer's SND.UNA never moved and its echo never drained.
  // Before the fix 10 of these 16 seeds stalled (and seed 16 still does with
  // only the retransmission half fixed).
  it("an echo under 1% loss, 1 ms delay and 25% reordering both ways never stalls (16 seeds, 32 MiB each)", async () => {
    const data = randomBytes(99, 32 << 20);
    const stalls: string[] = [];
    for (let seed = 1; seed <= 16; seed++) {
      const { net, c, s } = await connected({ faults: true, seed, latency: 100n * 1000n });
      for (const f of [net.faultA, net.faultB]) net.ex.testFaultSet(f, 10_000, 0, 0, 250_000, 1n * MS, 1n * MS);
      const r = echoTransfer(net, c, s, data, 16384, 1n * MS, 120n * SEC);
      if (!r.completed) stalls.push(`seed ${seed}: ${r.detail}`);
      else expect(r.elapsed).toBeLessThan(60n * SEC);
      expect(Number(net.ex.testFaultCount(net.faultA, 0))).toBeGreaterThan(0);
      expect(Number(net.ex.testFaultCount(net.faultB, 3))).toBeGreaterThan(0);
    }
    expect(stalls).toEqual([]);
  }, 120_000);

  it("SACK recovery retransmits the holes; NewReno without SACK recovers too", async () => {
    for (const sack of [true, false]) {
      const features = TCPF_WSCALE | TCPF_TIMESTAMPS | (sack ? TCPF_SACK : 0);
      const { net, c, s } = await connected({
        faults: true, seed: 13, latency: 5n * MS,
        configure: (n, st) => n.configure(st, CONF.TCP_FEATURES, features),
      });
      expect((field(net, net.a, c, 6) & (1 << 15)) !== 0).toBe(sack);
      net.ex.testFaultSet(net.faultA, 20_000, 0, 0, 0, 0n, 0n);
      const ab = randomBytes(9, 2 << 20);
      const [gotB] = net.exchange(c, s, ab, Buffer.alloc(0));
      expectSame(gotB, ab);
      expect(net.stat(net.a, STAT.TCP_FAST_RECOVERIES)).toBeGreaterThan(0);
      if (sack) expect(net.stat(net.a, STAT.TCP_SACK_RETRANSMITS)).toBeGreaterThan(0);
      else expect(net.stat(net.a, STAT.TCP_SACK_RETRANSMITS)).toBe(0);
    }
  });

  it("without timestamps, window scaling or SACK the transfer still works", async () => {
    const { net, c, s } = await connected({
      faults: true, seed: 14, configure: (n, st) => n.configure(st, CONF.TCP_FEATURES, 0),
    });
    expect(field(net, net.a, c, 4)).toBe(0);
    net.ex.testFaultSet(net.faultB, 10_000, 0, 0, 0, 0n, 0n);
    const ab = randomBytes(10, 1 << 20);
    const [gotB] = net.exchange(c, s, ab, Buffer.alloc(0));
    expectSame(gotB, ab);
  });

  it("retransmission timeouts back off exponentially (Karn), then the connection times out", async () => {
    const { net, c } = await connected({
      faults: true, configure: (n, st) => n.configure(st, CONF.DATA_RETRIES, 5),
    });
    net.ex.testFaultBlackhole(net.faultA, true);
    const start = net.now;
    net.sendSome(net.a, c, Buffer.from("lost"), 0);
    expect(net.runUntil(() => net.ex.sockState(net.a, c) === TCP.CLOSED, 120n * SEC, 100n * MS)).toBe(true);
    const elapsed = Number(net.now - start) / 1e9;
    // 6 timeouts at RTO 0.2 s doubling: 0.2 + 0.4 + ... + 6.4 = 12.6 s.
    expect(elapsed).toBeGreaterThan(12);
    expect(elapsed).toBeLessThan(13.5);
    expect(net.stat(net.a, STAT.TCP_TIMEOUTS)).toBe(6);
    expect(net.ex.sockRecv(net.a, c, net.buf, 1, 0, net.now)).toBe(-ETIMEDOUT);
  });
});

describe("windows", () => {
  it("a zero window is probed until the reader makes room", async () => {
    const { net, c, s } = await connected({
      configure: (n, st) => n.configure(st, CONF.RCVBUF, 16384),
    });
    const data = randomBytes(15, 200_000);
    let off = net.sendSome(net.a, c, data, 0);
    net.run(3n * SEC);
    off = net.sendSome(net.a, c, data, off);
    expect(field(net, net.a, c, 8)).toBe(0); // the peer's window
    expect(net.stat(net.a, STAT.TCP_ZERO_WINDOW_PROBES)).toBeGreaterThan(2);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.ESTABLISHED);
    const got: Buffer[] = [];
    let shut = false;
    const ok = net.runUntil(() => {
      off = net.sendSome(net.a, c, data, off);
      if (off === data.length && !shut) {
        shut = true;
        net.ex.sockShutdown(net.a, c, 1, net.now);
      }
      return net.recvSome(net.b, s, got) < 0;
    }, 60n * SEC, 5n * MS);
    expect(ok).toBe(true);
    expectSame(Buffer.concat(got), data);
  });

  it("with its window zero, a socket still takes the ACK of a pure ACK whose SEQ is past the window", async () => {
    const { net, c, s } = await connected({ faults: true, configure: (n, st) => n.configure(st, CONF.RCVBUF, 16384) });
    // b fills a's receive buffer, which nobody reads: a's window is zero.
    const fill = randomBytes(16, 16384);
    let off = 0;
    expect(net.runUntil(() => (off = net.sendSome(net.b, s, fill, off)) === fill.length &&
      field(net, net.a, c, 19) === field(net, net.a, c, 10), 10n * SEC)).toBe(true);
    // a sends; b's ACKs are lost.
    net.ex.testFaultBlackhole(net.faultB, true);
    expect(net.sendSome(net.a, c, Buffer.alloc(1000, 7), 0)).toBe(1000);
    net.run(20n * MS);
    const una = field(net, net.a, c, 14);
    const max = field(net, net.a, c, 17);
    expect((max - una) >>> 0).toBe(1000);
    // A pure ACK from b whose SEQ is 1 past a's zero window (b's SND.MAX went beyond it).
    const rcvNxt = field(net, net.a, c, 12);
    const fields = net.ex.testAlloc(128);
    const frame = net.ex.testAlloc(256);
    const f = [80, field(net, net.a, c, 15), (rcvNxt + 1) >>> 0, max, 0x10, 1000, 0, 0, 0xff, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0];
    f.forEach((v, i) => net.setU32(fields, i, v));
    const len = net.ex.testTcpFrame(MAC_A, MAC_B, IP_B, IP_A, fields, 0, 0, frame);
    net.ex.stackInput(net.a, 0, frame, len, 0, net.now);
    expect(field(net, net.a, c, 14)).toBe(max); // the ACK counted
    expect(field(net, net.a, c, 12)).toBe(rcvNxt); // nothing was received
  });

  it("window scaling with 4 MiB buffers fills a long path", async () => {
    const { net, c, s } = await connected({
      latency: 10n * MS, slots: 4096,
      configure: (n, st) => {
        n.configure(st, CONF.RCVBUF, 4 << 20);
        n.configure(st, CONF.SNDBUF, 4 << 20);
      },
    });
    expect(field(net, net.a, c, 4)).toBeGreaterThan(0);
    expect(field(net, net.b, s, 5)).toBe(field(net, net.a, c, 4));
    const data = randomBytes(16, 16 << 20);
    const start = net.now;
    const [got] = net.exchange(c, s, data, Buffer.alloc(0));
    expectSame(got, data);
    const seconds = Number(net.now - start) / 1e9;
    expect(field(net, net.a, c, 16)).toBeGreaterThan(1 << 20);
    // A 64 KiB window would need 16 MiB / 64 KiB x 20 ms = 5.1 s.
    expect(seconds).toBeLessThan(2);
  });

  it("Nagle holds a second small write until the ACK; TCP_NODELAY sends it at once", async () => {
    for (const nodelay of [false, true]) {
      const { net, c } = await connected({ latency: 5n * MS });
      if (nodelay) expect(net.ex.sockSetOption(net.a, c, IPPROTO_TCP, TCPO.NODELAY, 1)).toBe(0);
      const before = net.stat(net.a, STAT.TCP_SEGMENTS_OUT);
      net.sendSome(net.a, c, Buffer.from("first"), 0);
      net.sendSome(net.a, c, Buffer.from("second"), 0);
      expect(net.stat(net.a, STAT.TCP_SEGMENTS_OUT) - before).toBe(nodelay ? 2 : 1);
    }
  });

  it("a lone segment is acknowledged after the delayed-ACK time", async () => {
    const { net, c } = await connected({ latency: 1n * MS });
    net.sendSome(net.a, c, Buffer.from("x"), 0);
    net.run(20n * MS);
    expect(net.ex.sockUnsent(net.a, c)).toBe(1);
    net.run(30n * MS);
    expect(net.ex.sockUnsent(net.a, c)).toBe(0);
  });
});

describe("keepalive and RST rules", () => {
  it("keepalive probes keep an idle connection; unanswered probes end it with ETIMEDOUT", async () => {
    const { net, c } = await connected({ faults: true });
    expect(net.ex.sockSetOption(net.a, c, IPPROTO_TCP, TCPO.KEEPIDLE, 10)).toBe(0);
    expect(net.ex.sockSetOption(net.a, c, IPPROTO_TCP, TCPO.KEEPINTVL, 1)).toBe(0);
    expect(net.ex.sockSetOption(net.a, c, IPPROTO_TCP, TCPO.KEEPCNT, 3)).toBe(0);
    expect(net.ex.sockSetOption(net.a, c, SOL_SOCKET, SO.KEEPALIVE, 1)).toBe(0);
    net.run(35n * SEC);
    expect(net.stat(net.a, STAT.TCP_KEEPALIVE_PROBES)).toBe(3);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.ESTABLISHED);
    net.ex.testFaultBlackhole(net.faultB, true);
    net.run(16n * SEC);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.CLOSED);
    expect(Number(net.ex.sockGetOption(net.a, c, SOL_SOCKET, SO.ERROR))).toBe(ETIMEDOUT);
  });

  it("RFC 5961: an in-window RST or a SYN gets a challenge ACK; an exact RST resets", async () => {
    const { net, c, s } = await connected();
    const fields = net.ex.testAlloc(128);
    const frame = net.ex.testAlloc(256);
    const inject = (flags: number, seqDelta: number): void => {
      const f = [80, field(net, net.a, c, 15), (field(net, net.a, c, 12) + seqDelta) >>> 0, field(net, net.a, c, 13),
        flags, 1000, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
      f.forEach((v, i) => net.setU32(fields, i, v));
      const len = net.ex.testTcpFrame(MAC_A, MAC_B, IP_B, IP_A, fields, 0, 0, frame);
      net.ex.stackInput(net.a, 0, frame, len, 0, net.now);
    };
    inject(0x04, 100);
    expect(net.stat(net.a, STAT.TCP_CHALLENGE_ACKS)).toBe(1);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.ESTABLISHED);
    inject(0x04, 1 << 30); // outside the window: ignored
    expect(net.stat(net.a, STAT.TCP_CHALLENGE_ACKS)).toBe(1);
    inject(0x02, 0);
    expect(net.stat(net.a, STAT.TCP_CHALLENGE_ACKS)).toBe(2);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.ESTABLISHED);
    net.run(10n * MS);
    expect(net.ex.sockState(net.b, s)).toBe(TCP.ESTABLISHED); // the challenge ACKs did no harm
    inject(0x04, 0);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.CLOSED);
    expect(net.ex.sockRecv(net.a, c, net.buf, 1, 0, net.now)).toBe(-ECONNRESET);
  });
});

describe("ICMP for TCP", () => {
  it("fragmentation needed lowers the MSS (path MTU) and the transfer goes on", async () => {
    const { net, c, s } = await connected({ configure: (n, st) => n.configure(st, CONF.TCP_FEATURES, 0) });
    expect(field(net, net.a, c, 3)).toBe(1460);
    const quote = Buffer.alloc(28);
    ipv4(IP_A, IP_B, 6, Buffer.alloc(8)).copy(quote, 0, 0, 20);
    quote.writeUInt16BE(field(net, net.a, c, 15), 20);
    quote.writeUInt16BE(80, 22);
    quote.writeUInt32BE(field(net, net.a, c, 14), 24);
    const icmp = Buffer.concat([Buffer.from([3, 4, 0, 0, 0, 0, 0x03, 0xe8]), quote]); // MTU 1000
    icmp.writeUInt16BE(checksum(icmp), 2);
    const router = ip("10.0.0.254");
    const frame = ethernet(MAC_A, MAC_B, 0x0800, ipv4(router, IP_A, 1, icmp));
    net.write(net.buf, frame);
    net.ex.stackInput(net.a, 0, net.buf, frame.length, 0, net.now);
    expect(field(net, net.a, c, 3)).toBe(960);
    const data = randomBytes(20, 100_000);
    const [got] = net.exchange(c, s, data, Buffer.alloc(0));
    expectSame(got, data);
  });
});

describe("listeners and resources", () => {
  it("the accept queue holds `backlog` connections; the others complete once it drains", async () => {
    const net = (await bench()).pair();
    const l = net.listen(net.b, 80, 2);
    const clients = [0, 1, 2, 3].map(() => {
      const c = net.ex.sockOpen(net.a, SOCK_STREAM);
      expect(net.ex.sockConnect(net.a, c, IP_B, 80, net.now)).toBe(EINPROGRESS);
      return c;
    });
    net.run(500n * MS);
    // As on Linux: every SYN found the queue empty and got a SYN-ACK; the ACKs
    // beyond the backlog are dropped, those connections wait in SYN_RECEIVED.
    expect(clients.every((c) => net.ex.sockState(net.a, c) === TCP.ESTABLISHED)).toBe(true);
    expect(net.ex.sockCount(net.b)).toBe(5);
    expect(net.stat(net.b, STAT.TCP_ACCEPT_OVERFLOW)).toBeGreaterThan(0);
    expect(net.ex.sockPoll(net.b, l) & POLLIN).toBe(POLLIN);
    // A fifth SYN finds the accept queue full and is dropped: that client stays in SYN_SENT.
    const late = net.ex.sockOpen(net.a, SOCK_STREAM);
    net.ex.sockConnect(net.a, late, IP_B, 80, net.now);
    net.run(100n * MS);
    expect(net.ex.sockState(net.a, late)).toBe(TCP.SYN_SENT);
    const accepted: number[] = [];
    for (let id = net.ex.sockAccept(net.b, l, 0); id >= 0; id = net.ex.sockAccept(net.b, l, 0)) accepted.push(id);
    expect(accepted.length).toBe(2);
    const ok = net.runUntil(() => {
      for (let id = net.ex.sockAccept(net.b, l, 0); id >= 0; id = net.ex.sockAccept(net.b, l, 0)) accepted.push(id);
      return accepted.length === 5;
    }, 20n * SEC, 50n * MS);
    expect(ok).toBe(true);
    expect(net.ex.sockState(net.a, late)).toBe(TCP.ESTABLISHED);
    expect(net.ex.sockAccept(net.b, l, 0)).toBe(EAGAIN);
    // Every accepted connection carries data.
    [...clients, late].forEach((c) => net.sendSome(net.a, c, Buffer.from("hi"), 0));
    net.run(100n * MS);
    for (const id of accepted) expect(net.recvSome(net.b, id, [])).toBe(2);
  });

  it("a SYN flood is held to the half-open bound, memory stays bounded and everything is freed", async () => {
    const net = (await bench()).pair({
      configure: (n, st) => n.configure(st, CONF.MAX_HALF_OPEN, 64),
    });
    const l = net.listen(net.b, 80, 1024);
    const base = net.ex.netHeapBytes();
    const fields = net.ex.testAlloc(128);
    const frame = net.ex.testAlloc(256);
    const rand = prng(99);
    let peak = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = [1024 + rand(60000), 80, rand(0x7fffffff), 0, 0x02, 65535, 0, 1460, 7, 1, 1, rand(1 << 30), 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0];
      f.forEach((v, k) => net.setU32(fields, k, v));
      const src = ip(`10.0.0.${3 + rand(250)}`);
      const len = net.ex.testTcpFrame(MAC_B, MAC_A, src, IP_B, fields, 0, 0, frame);
      net.ex.stackInput(net.b, 0, frame, len, 0, net.now);
      if (i % 100 === 0) {
        net.run(10n * MS);
        peak = Math.max(peak, net.ex.netHeapBytes() - base);
      }
    }
    expect(net.ex.sockCount(net.b)).toBeLessThanOrEqual(1 + 64);
    expect(net.stat(net.b, STAT.TCP_SYN_DROPPED)).toBeGreaterThan(9000);
    expect(peak).toBeLessThan(64 * 1024); // half-open connections hold no buffers
    net.run(120n * SEC); // SYN-ACK retries run out
    expect(net.ex.sockCount(net.b)).toBe(1);
    expect(net.ex.netHeapBytes()).toBe(base);
    net.connect(l, 80);
  });

  it("200 connections opened and closed, twice: sockets and heap bytes return to where they were", async () => {
    const net = (await bench()).pair({
      maxSockets: 1024,
      configure: (n, st) => n.configure(st, CONF.MSL, 5n * SEC),
    });
    const l = net.listen(net.b, 80, 256);
    const baseA = net.ex.netHeapBytes();
    for (let round = 0; round < 2; round++) {
      const pairs: [number, number][] = [];
      for (let i = 0; i < 200; i++) {
        const c = net.ex.sockOpen(net.a, SOCK_STREAM);
        expect(net.ex.sockConnect(net.a, c, IP_B, 80, net.now)).toBe(EINPROGRESS);
        pairs.push([c, -1]);
      }
      let accepted = 0;
      expect(net.runUntil(() => {
        for (let id = net.ex.sockAccept(net.b, l, 0); id >= 0; id = net.ex.sockAccept(net.b, l, 0)) {
          pairs[accepted++]![1] = id;
        }
        return accepted === 200;
      }, 10n * SEC, 5n * MS)).toBe(true);
      for (const [c, s] of pairs) {
        net.sendSome(net.a, c, Buffer.from(`hello ${c}`), 0);
        net.sendSome(net.b, s, Buffer.from(`world ${s}`), 0);
      }
      net.run(200n * MS);
      for (const [c, s] of pairs) {
        const got: Buffer[] = [];
        net.recvSome(net.b, s, got);
        net.recvSome(net.a, c, got);
        expect(got.length).toBe(2);
        net.ex.sockClose(net.a, c, net.now);
      }
      net.run(200n * MS);
      for (const [, s] of pairs) net.ex.sockClose(net.b, s, net.now);
      expect(net.runUntil(() => net.ex.sockCount(net.a) === 0 && net.ex.sockCount(net.b) === 1, 30n * SEC, 1n * SEC))
        .toBe(true);
    }
    expect(net.ex.netHeapBytes()).toBe(baseA);
    net.ex.sockClose(net.b, l, net.now);
    expect(net.ex.sockCount(net.b)).toBe(0);
    // Everything the stacks own goes with them; then the link and its devices.
    net.ex.stackDestroy(net.a);
    net.ex.stackDestroy(net.b);
    net.ex.testLinkDestroy(net.link);
    expect(net.ex.netHeapBytes()).toBe(0);
  });

  it("SO_REUSEADDR and SO_REUSEPORT decide who may bind", async () => {
    const { net, c, s, l } = await connected();
    void c;
    void s;
    const x = net.ex.sockOpen(net.b, SOCK_STREAM);
    expect(net.ex.sockBind(net.b, x, 0, 80)).toBe(-98); // EADDRINUSE: a listener has it
    net.ex.sockClose(net.b, l, net.now);
    expect(net.ex.sockBind(net.b, x, 0, 80)).toBe(-98); // an accepted connection still has it
    expect(net.ex.sockSetOption(net.b, x, SOL_SOCKET, SO.REUSEADDR, 1)).toBe(0);
    expect(net.ex.sockBind(net.b, x, 0, 80)).toBe(0);
    const p = [0, 1].map(() => {
      const id = net.ex.sockOpen(net.b, SOCK_STREAM);
      expect(net.ex.sockSetOption(net.b, id, SOL_SOCKET, SO.REUSEPORT, 1)).toBe(0);
      expect(net.ex.sockBind(net.b, id, 0, 8080)).toBe(0);
      expect(net.ex.sockListen(net.b, id, 16)).toBe(0);
      return id;
    });
    // Connections spread over both listeners.
    const hits = [0, 0];
    for (let i = 0; i < 16; i++) {
      const cc = net.ex.sockOpen(net.a, SOCK_STREAM);
      net.ex.sockConnect(net.a, cc, IP_B, 8080, net.now);
    }
    net.run(100n * MS);
    p.forEach((id, k) => {
      while (net.ex.sockAccept(net.b, id, 0) >= 0) hits[k]!++;
    });
    expect(hits[0]! + hits[1]!).toBe(16);
    expect(hits[0]).toBeGreaterThan(0);
    expect(hits[1]).toBeGreaterThan(0);
  });

  it("readiness: POLLOUT once connected, POLLIN with data, POLLHUP after both shutdowns; wake callbacks fire", async () => {
    const { net, c, s } = await connected();
    expect(net.ex.sockPoll(net.a, c) & (POLLOUT | POLLIN)).toBe(POLLOUT);
    expect(net.ex.testInstallWake(net.b, s)).toBe(0);
    const calls = net.ex.testWakeCount(0);
    net.sendSome(net.a, c, Buffer.from("ping"), 0);
    net.run(10n * MS);
    expect(net.ex.sockPoll(net.b, s) & POLLIN).toBe(POLLIN);
    expect(net.ex.testWakeCount(0)).toBeGreaterThan(calls);
    expect(net.ex.testWakeCount(1) & POLLIN).toBe(POLLIN);
    expect(net.ex.testWakeCount(2)).toBe(s);
    net.ex.sockShutdown(net.a, c, 2, net.now);
    net.run(10n * MS);
    expect(net.ex.sockPoll(net.a, c) & POLLHUP).toBe(POLLHUP);
    expect(net.ex.sockPoll(net.b, s) & (POLLIN | 0x2000)).toBe(POLLIN | 0x2000);
  });

  it("SO_RCVBUF and SO_SNDBUF size the rings of a connection (and of the children of a listener)", async () => {
    const net = (await bench()).pair();
    const l = net.ex.sockOpen(net.b, SOCK_STREAM);
    expect(net.ex.sockSetOption(net.b, l, SOL_SOCKET, SO.RCVBUF, 300_000)).toBe(0);
    expect(net.ex.sockBind(net.b, l, 0, 80)).toBe(0);
    expect(net.ex.sockListen(net.b, l, 8)).toBe(0);
    const c = net.ex.sockOpen(net.a, SOCK_STREAM);
    expect(net.ex.sockSetOption(net.a, c, SOL_SOCKET, SO.SNDBUF, 10_000)).toBe(0);
    expect(Number(net.ex.sockGetOption(net.a, c, SOL_SOCKET, SO.SNDBUF))).toBe(10_000);
    net.ex.sockConnect(net.a, c, IP_B, 80, net.now);
    net.run(50n * MS);
    const s = net.ex.sockAccept(net.b, l, 0);
    expect(field(net, net.a, c, 11)).toBe(10_000);
    expect(field(net, net.b, s, 10)).toBe(300_000);
    expect(field(net, net.b, s, 5)).toBe(3); // 300000 >> 3 fits in 16 bits
    expect(net.ex.sockSend(net.a, c, net.buf, 50_000, net.now)).toBe(10_000);
    expect(net.ex.sockSend(net.a, c, net.buf, 1, net.now)).toBe(EAGAIN);
    expect(net.ex.sockPoll(net.a, c) & POLLOUT).toBe(0);
  });

  it("net channels: frames classified to their connection and processed through the per-connection path", async () => {
    // Stacks on pipe devices; the test carries frames, routing b's received
    // segments of the established connection through tcpClassify + tcpChannelInput.
    const net = await bench();
    const a = net.stack(1);
    const b = net.stack(2);
    const pa = net.ex.testPipeCreate(1500, 0, MAC_A, 1 << 20);
    const pb = net.ex.testPipeCreate(1500, 0, MAC_B, 1 << 20);
    net.ex.testAddDevice(a, pa, IP_A, ip("255.255.255.0"));
    net.ex.testAddDevice(b, pb, IP_B, ip("255.255.255.0"));
    const ctx = net.ex.ctxCreate();
    const frame = net.ex.testAlloc(2048);
    let channelled = 0;
    const carry = (): void => {
      for (let n = net.ex.testPipeTake(pa, frame, 2048); n > 0; n = net.ex.testPipeTake(pa, frame, 2048)) {
        const id = net.ex.tcpClassify(b, frame, n);
        if (id >= 0 && net.ex.tcpChannelInput(b, ctx, net.ex.socketPointer(b, id), frame, n, 0, net.now)) channelled++;
        else net.ex.stackInput(b, 0, frame, n, 0, net.now);
      }
      for (let n = net.ex.testPipeTake(pb, frame, 2048); n > 0; n = net.ex.testPipeTake(pb, frame, 2048)) {
        net.ex.stackInput(a, 0, frame, n, 0, net.now);
      }
    };
    const l = net.listen(b, 80);
    const c = net.ex.sockOpen(a, SOCK_STREAM);
    net.ex.sockConnect(a, c, IP_B, 80, net.now);
    for (let i = 0; i < 4; i++) carry();
    const s = net.ex.sockAccept(b, l, 0);
    expect(s).toBeGreaterThanOrEqual(0);
    const data = randomBytes(17, 512 << 10);
    let off = 0;
    const got: Buffer[] = [];
    for (let round = 0; round < 10_000 && got.reduce((n, x) => n + x.length, 0) < data.length; round++) {
      off = net.sendSome(a, c, data, off);
      carry();
      net.recvSome(b, s, got);
      net.now += 1n * MS;
      net.ex.stackPoll(a, net.now);
      net.ex.stackPoll(b, net.now);
    }
    expectSame(Buffer.concat(got), data);
    expect(channelled).toBeGreaterThan(300);
    net.ex.ctxDestroy(ctx);
  });
});
