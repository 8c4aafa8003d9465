// Host-side clients for the socket tests: free ports on 127.0.0.1, an echo
// round trip (send everything, half-close, collect until the guest closes),
// sha256, medians.
import { createHash } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.on("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      const port = socket.address().port;
      socket.close(() => resolve(port));
    });
  });
}

export interface EchoResult {
  back: Buffer;
  ms: number;
}

/** Sends `data` to host:port, half-closes, and collects what comes back until the peer closes. */
export function echo(port: number, data: Buffer, timeoutMs = 60_000, host = "127.0.0.1"): Promise<EchoResult> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const chunks: Buffer[] = [];
    let received = 0;
    const start = process.hrtime.bigint();
    socket.setNoDelay(true);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timeout after ${received} of ${data.length} bytes`)));
    socket.on("connect", () => socket.end(data));
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    socket.on("error", reject);
    socket.on("close", () =>
      resolve({ back: Buffer.concat(chunks), ms: Number(process.hrtime.bigint() - start) / 1e6 }));
  });
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Sends datagrams to host:port and waits for each one's echo (matched by content); resends lost ones. */
export async function udpEchoAll(port: number, payloads: Buffer[], timeoutMs = 15_000, host = "127.0.0.1"): Promise<number> {
  const socket = dgram.createSocket("udp4");
  const waiting = new Map(payloads.map((p) => [sha256(p), p]));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        for (const p of waiting.values()) socket.send(p, port, host);
      }, 500);
      const deadline = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`${waiting.size} datagrams never came back`));
      }, timeoutMs);
      socket.on("message", (message) => {
        waiting.delete(sha256(message));
        if (waiting.size === 0) {
          clearInterval(timer);
          clearTimeout(deadline);
          resolve();
        }
      });
      socket.on("error", reject);
      for (const p of payloads) socket.send(p, port, host);
    });
  } finally {
    socket.close();
  }
  return payloads.length - waiting.size;
}

/**
 * Echo over `inputs.length` connections open at the same time. QEMU's user
 * networking listens with a backlog of 1 and resets connections that
 * arrive together, so the connections open one after another (each sends
 * its first KiB and waits for its echo), then all send the rest at once.
 */
export async function echoConcurrent(port: number, inputs: Buffer[], timeoutMs = 120_000, host = "127.0.0.1"):
  Promise<Buffer[]> {
  const sockets: net.Socket[] = [];
  const collected: Buffer[][] = inputs.map(() => []);
  const closed: Promise<void>[] = [];
  try {
    for (let i = 0; i < inputs.length; i++) {
      const socket = net.connect(port, host);
      sockets.push(socket);
      socket.setNoDelay(true);
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`client ${i}: timeout`)));
      const first = inputs[i].subarray(0, 1024);
      let received = 0;
      const echoedFirst = new Promise<void>((resolve, reject) => {
        socket.on("error", reject);
        socket.on("data", (chunk: Buffer) => {
          collected[i].push(chunk);
          received += chunk.length;
          if (received >= first.length) resolve();
        });
      });
      const done = new Promise<void>((resolve, reject) => {
        socket.on("error", reject);
        socket.on("close", () => resolve());
      });
      // Awaited below with the others; until then a failure must not be an unhandled rejection.
      done.catch(() => {});
      closed.push(done);
      socket.write(first);
      await echoedFirst;
    }
    for (let i = 0; i < inputs.length; i++) sockets[i].end(inputs[i].subarray(1024));
    await Promise.all(closed);
  } finally {
    for (const s of sockets) s.destroy();
  }
  return collected.map((chunks) => Buffer.concat(chunks));
}
