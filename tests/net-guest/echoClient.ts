// The host-side client of the network acceptance tests, run where the guest
// is reachable (inside a test namespace: `ip netns exec NS node --import tsx
// tests/net-guest/echoClient.ts ...`). Prints one JSON line with its result.
//
//   stream HOST PORT BYTES TIMEOUT_MS
//       one connection to an echo service: sends BYTES of random data (made
//       and hashed chunk by chunk, never held whole), half-closes, hashes
//       what comes back until the guest closes. Result: sent/received byte
//       counts, both sha256 digests, milliseconds.
//   many HOST PORT CONNECTIONS ROUNDS TIMEOUT_MS
//       ROUNDS times: CONNECTIONS concurrent connections, each sends a short
//       distinct message, half-closes and must read exactly that message
//       back before the guest closes. Result: connections that succeeded,
//       the failures' messages (at most 10), milliseconds per round.
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";

const CHUNK = 64 * 1024;

export interface StreamResult {
  sent: number;
  received: number;
  sentSha256: string;
  receivedSha256: string;
  ms: number;
  error: string | null;
}

export interface ManyResult {
  succeeded: number;
  attempted: number;
  failures: string[];
  roundMs: number[];
}

function stream(host: string, port: number, bytes: number, timeoutMs: number): Promise<StreamResult> {
  return new Promise((resolve) => {
    const sentHash = createHash("sha256");
    const receivedHash = createHash("sha256");
    const started = process.hrtime.bigint();
    let sent = 0;
    let received = 0;
    let error: string | null = null;
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
    // Progress on stderr, for whoever watches a slow transfer (a stall shows as repeated figures).
    const progress = setInterval(() => console.error(`echoClient: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(0)} s: ${sent} sent, ${received} received`), 5000);
    const pump = (): void => {
      while (sent < bytes) {
        const chunk = randomBytes(Math.min(CHUNK, bytes - sent));
        sentHash.update(chunk);
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once("drain", pump);
          return;
        }
      }
      socket.end();
    };
    socket.on("connect", pump);
    socket.on("data", (chunk: Buffer) => {
      receivedHash.update(chunk);
      received += chunk.length;
    });
    socket.on("error", (e) => (error = e.message));
    socket.on("close", () => {
      clearTimeout(timer);
      clearInterval(progress);
      resolve({
        sent,
        received,
        sentSha256: sentHash.digest("hex"),
        receivedSha256: receivedHash.digest("hex"),
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        error,
      });
    });
  });
}

/** One short exchange: the message back, or why not. */
function exchange(host: string, port: number, message: Buffer, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let failure: string | null = null;
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error("timeout")), timeoutMs);
    socket.on("connect", () => socket.end(message));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (e) => (failure = e.message));
    socket.on("close", () => {
      clearTimeout(timer);
      const back = Buffer.concat(chunks);
      if (failure === null && !back.equals(message)) failure = `got ${back.length} bytes back instead of ${message.length}`;
      resolve(failure === null ? null : `${message.toString().trim()}: ${failure}`);
    });
  });
}

async function many(host: string, port: number, connections: number, rounds: number, timeoutMs: number): Promise<ManyResult> {
  const result: ManyResult = { succeeded: 0, attempted: 0, failures: [], roundMs: [] };
  for (let round = 0; round < rounds; round++) {
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: connections }, (_, i) => exchange(host, port, Buffer.from(`round ${round} connection ${i}\n`), timeoutMs)),
    );
    result.roundMs.push(Date.now() - started);
    for (const failure of outcomes) {
      result.attempted++;
      if (failure === null) result.succeeded++;
      else if (result.failures.length < 10) result.failures.push(failure);
    }
  }
  return result;
}

function number(text: string | undefined, what: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`bad ${what}: ${text}`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const [mode, host, port, a, b, c] = argv;
  if (mode === "stream") {
    console.log(JSON.stringify(await stream(host, number(port, "port"), number(a, "byte count"), number(b, "timeout"))));
  } else if (mode === "many") {
    console.log(JSON.stringify(await many(host, number(port, "port"), number(a, "connection count"), number(b, "round count"), number(c, "timeout"))));
  } else {
    console.error("usage: echoClient.ts stream HOST PORT BYTES TIMEOUT_MS | many HOST PORT CONNECTIONS ROUNDS TIMEOUT_MS");
    process.exit(2);
  }
}

await main(process.argv.slice(2));
