// 256 MiB through the kernel's TCP echo service (wisp.echo), sha256 of what
// was sent against sha256 of what came back, both computed while streaming
// (tests/net-guest/echoClient.ts runs inside the test namespace):
//  - over a clean tap;
//  - through 1% loss, 1 ms delay and 25% reordering in both directions
//    (impair.c between the tap and QEMU: this host's kernel has no netem).
// Two guests in two namespaces, both transfers at the same time, so the
// file costs the slower of the two. WISP_NET_MIB / WISP_NET_LOSSY_MIB
// change the sizes (default 256 each).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamResult } from "./echoClient.ts";
import { bootWisp, GUEST, tapTestsUsable, TestNet, type Impairment, type WispGuest } from "./testNet.ts";

const MIB = 1 << 20;
const CLEAN_BYTES = Number(process.env.WISP_NET_MIB ?? 256) * MIB;
const LOSSY_BYTES = Number(process.env.WISP_NET_LOSSY_MIB ?? 256) * MIB;
/** Bounds: the transfers under TCG on a loaded 2-core host (clean ~20-40 s, lossy ~2-3 min). */
const CLEAN_TIMEOUT_MS = 150_000;
const LOSSY_TIMEOUT_MS = 420_000;
const IMPAIRMENT: Impairment = { lossPercent: 1, delayUs: 1000, reorderPercent: 25, seed: 5 };

let clean: TestNet | null = null;
let lossy: TestNet | null = null;
let cleanGuest: WispGuest | null = null;
let lossyGuest: WispGuest | null = null;

function rate(r: StreamResult): string {
  return `${(r.received / MIB).toFixed(0)} MiB each way in ${(r.ms / 1000).toFixed(1)} s, ${(r.received / 1e6 / (r.ms / 1000)).toFixed(2)} MB/s per direction`;
}

describe.skipIf(!tapTestsUsable)("256 MiB through the TCP echo service over a tap (TCG)", () => {
  beforeAll(async () => {
    clean = new TestNet("clean");
    lossy = new TestNet("lossy");
    const seconds = Math.ceil(LOSSY_TIMEOUT_MS / 1000) + 60;
    [cleanGuest, lossyGuest] = await Promise.all([
      bootWisp(clean, "wisp.echo=7 wisp.http=80", seconds),
      bootWisp(lossy, "wisp.echo=7 wisp.http=80", seconds, { impairment: IMPAIRMENT }),
    ]);
    await clean.waitForPing(cleanGuest);
    await lossy.waitForPing(lossyGuest);
  }, 120_000);

  afterAll(() => {
    clean?.close();
    lossy?.close();
  });

  it(
    "echoes 256 MiB intact, clean and through loss/delay/reordering, at the same time",
    async () => {
      const [c, l] = await Promise.all([
        clean!.client<StreamResult>(["stream", GUEST, "7", String(CLEAN_BYTES), String(CLEAN_TIMEOUT_MS)], CLEAN_TIMEOUT_MS + 10_000, "clean"),
        lossy!.client<StreamResult>(["stream", GUEST, "7", String(LOSSY_BYTES), String(LOSSY_TIMEOUT_MS)], LOSSY_TIMEOUT_MS + 10_000, "lossy"),
      ]);
      const relay = await lossyGuest!.stopRelay();
      console.log(`tcp echo over a tap: ${rate(c)}`);
      console.log(`tcp echo through ${IMPAIRMENT.lossPercent}% loss, ${IMPAIRMENT.delayUs} us delay, ${IMPAIRMENT.reorderPercent}% reordering: ${rate(l)}; ${relay}`);
      for (const [r, bytes, guest] of [[c, CLEAN_BYTES, cleanGuest!], [l, LOSSY_BYTES, lossyGuest!]] as const) {
        if (r.error !== null || r.received !== bytes) console.log(`guest console:\n${guest.output().slice(-3000)}`);
        expect(r.error).toBeNull();
        expect(r.sent).toBe(bytes);
        expect(r.received).toBe(bytes);
        expect(r.receivedSha256).toBe(r.sentSha256);
      }
      // The relay really impaired the lossy transfer, both ways.
      const counts = /to-guest (\d+) frames (\d+) dropped (\d+) reordered \d+ overflow; to-host (\d+) frames (\d+) dropped (\d+) reordered/.exec(relay);
      expect(counts).not.toBeNull();
      const [, , guestDropped, guestReordered, , hostDropped, hostReordered] = counts!.map(Number);
      for (const n of [guestDropped, guestReordered, hostDropped, hostReordered]) expect(n).toBeGreaterThan(0);
    },
    LOSSY_TIMEOUT_MS + 30_000,
  );
});
