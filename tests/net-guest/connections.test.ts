// 5 rounds of 200 concurrent connections to the kernel's TCP echo service
// over a tap in a test namespace (each sends a short distinct message,
// half-closes and reads it back), then the guest's GET /stats
// (kernel/net/services.ts) must show no connection left: "connections"
// counts sockets that are neither listening, closed nor in TIME_WAIT, and
// leaves out the /stats request's own. The echo service closes second
// (the client's FIN comes first), so its sockets skip TIME_WAIT; the /stats
// requests, which the guest closes first, each leave one TIME_WAIT socket
// (2 MSL = 60 s), counted apart. The net heap returns to its baseline up to
// what those TIME_WAIT sockets hold.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManyResult } from "./echoClient.ts";
import { bootWisp, GUEST, tapTestsUsable, TestNet, type WispGuest } from "./testNet.ts";

const CONNECTIONS = 200;
const ROUNDS = 5;
const CONNECTION_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 20_000;

let net: TestNet | null = null;
let guest: WispGuest | null = null;

describe.skipIf(!tapTestsUsable)("200 concurrent connections, 5 rounds, no leak (tap, TCG)", () => {
  beforeAll(async () => {
    net = new TestNet("conns");
    guest = await bootWisp(net, "wisp.echo=7 wisp.http=80", 200);
    await net.waitForPing(guest);
  }, 120_000);

  afterAll(() => net?.close());

  it("serves every connection and the socket count returns to zero", async () => {
    let statsCalls = 0;
    const stats = (): ReturnType<TestNet["stats"]> => (statsCalls++, net!.stats());
    const before = await stats();
    expect(before.get("connections")).toBe(0);
    const started = Date.now();
    const result = await net!.client<ManyResult>(
      ["many", GUEST, "7", String(CONNECTIONS), String(ROUNDS), String(CONNECTION_TIMEOUT_MS)],
      ROUNDS * (CONNECTION_TIMEOUT_MS + 10_000),
    );
    console.log(`${ROUNDS} x ${CONNECTIONS} concurrent echo connections: ${result.succeeded}/${result.attempted} in ${Date.now() - started} ms (rounds: ${result.roundMs.join(", ")} ms)`);
    if (result.failures.length > 0) console.log(`failures: ${result.failures.join("; ")}\nguest console:\n${guest!.output().slice(-2000)}`);
    expect(result.attempted).toBe(CONNECTIONS * ROUNDS);
    expect(result.failures).toEqual([]);
    expect(result.succeeded).toBe(CONNECTIONS * ROUNDS);

    // The last connections may still be closing (LAST_ACK until the client's ACK): wait, bounded.
    let after = await stats();
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (after.get("connections") !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      after = await stats();
    }
    const line = (s: Map<string, number>): string =>
      ["sockets", "listening", "time_wait", "closed", "connections", "heap net"].map((k) => `${k} ${s.get(k)}`).join(", ");
    console.log(`guest /stats before: ${line(before)}; after: ${line(after)}`);
    expect(after.get("connections")).toBe(0);
    expect(after.get("listening")).toBe(2);
    // TIME_WAIT only from the earlier /stats requests: none from the echo connections.
    expect(after.get("time_wait")!).toBeLessThanOrEqual(statsCalls - 1);
    // Every socket accounted for: the listeners, TIME_WAIT, closed ones and this request's own.
    expect(after.get("sockets")).toBe(after.get("listening")! + after.get("time_wait")! + after.get("closed")! + 1);
    // No buffer kept: the net heap is back to its baseline, give or take the TIME_WAIT sockets' records.
    const perTimeWait = 2048;
    expect(after.get("heap net")!).toBeLessThanOrEqual(before.get("heap net")! + perTimeWait * after.get("time_wait")!);
  }, ROUNDS * (CONNECTION_TIMEOUT_MS + 10_000) + DRAIN_TIMEOUT_MS + 30_000);
});
