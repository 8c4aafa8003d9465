// Throughput micro-benchmark (printed, not asserted): bulk TCP through the
// loopback device within one stack, and between two stacks over a
// zero-latency test link at MTU 1500 and 9000. The sending and receiving
// loop runs in AssemblyScript (benchTransfer), so this measures the stack,
// not the JavaScript around it. Node's JIT on this machine, not the kernel.
import { beforeAll, describe, expect, it } from "vitest";
import { CONF, IP_B, MS, SOCK_STREAM, TCP, bench, ip, netModule } from "./harness.ts";

beforeAll(async () => {
  await netModule();
}, 120_000);

const BYTES = 256n << 20n;

describe("throughput", () => {
  it("prints MB/s", async () => {
    const lines: string[] = [];
    const report = (label: string, bytes: bigint, ms: number): void => {
      lines.push(`${label}: ${(Number(bytes) / 1e6 / (ms / 1000)).toFixed(0)} MB/s (${Number(bytes >> 20n)} MiB in ${ms.toFixed(0)} ms)`);
    };
    {
      const net = await bench();
      const s = net.stack(1);
      net.configure(s, CONF.RCVBUF, 1 << 20);
      net.configure(s, CONF.SNDBUF, 1 << 20);
      net.ex.testAddLoopback(s);
      const l = net.listen(s, 5001, 16, ip("127.0.0.1"));
      const c = net.ex.sockOpen(s, SOCK_STREAM);
      net.ex.sockConnect(s, c, ip("127.0.0.1"), 5001, net.now);
      net.run(10n * MS, s, 0);
      const srv = net.ex.sockAccept(s, l, 0);
      expect(net.ex.sockState(s, c)).toBe(TCP.ESTABLISHED);
      const t0 = performance.now();
      const got = net.ex.benchTransfer(s, c, s, srv, BYTES, net.buf, net.now, 10_000n);
      report("loopback, one stack, MTU 16384", got, performance.now() - t0);
      expect(got).toBe(BYTES);
    }
    for (const mtu of [1500, 9000]) {
      const net = (await bench()).pair({
        mtu, latency: 0n, slots: 4096,
        configure: (n, st) => {
          n.configure(st, CONF.RCVBUF, 1 << 20);
          n.configure(st, CONF.SNDBUF, 1 << 20);
        },
      });
      const l = net.listen(net.b, 5001);
      const [c, srv] = net.connect(l, 5001);
      void IP_B;
      const t0 = performance.now();
      const got = net.ex.benchTransfer(net.a, c, net.b, srv, BYTES, net.buf, net.now, 10_000n);
      report(`two stacks over a test link, MTU ${mtu}`, got, performance.now() - t0);
      expect(got).toBe(BYTES);
    }
    console.log(`\nnet throughput (Node):\n  ${lines.join("\n  ")}`);
  }, 120_000);
});
