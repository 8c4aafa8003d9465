// The network guest with an echo server, for the echo benchmarks that Wisp
// runs against its in-kernel echo service (wisp.echo): netGuest.ts's
// initramfs followed by one more archive (the kernel unpacks it over the
// others) with
//
//   bin/tcp_echo     tcp_echo.c, static: the echo server (one process per
//                    connection, 64 KiB reads)
//   bench/net        netGuest.ts's script with `tcp_echo server 7 &` added
//                    before it says it is ready
//
// Output goes to build/net-echo/ (not build/linux-guest/, which may be a
// shared read-only copy): initramfs-echo.cpio.gz, and tcp_echo for the
// host's client.
//
//   npx tsx scripts/linux-guest/echoGuest.ts     (the bench harness calls buildEchoGuest)
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { REPO_ROOT, upToDate } from "./build.ts";
import { CpioWriter } from "./cpio.ts";
import { buildNetGuest, NET_READY_LINE, netBenchScript, type NetGuest } from "./netGuest.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

/** The guest's echo port: the same as Wisp's benchmark guests use for wisp.echo. */
export const ECHO_PORT = 7;

export interface EchoGuest extends NetGuest {
  /** Static tcp_echo, for the host's client. */
  tcpEcho: string;
}

/** netGuest.ts's bench/net with the echo server started before the ready line. */
export function echoBenchScript(): string {
  const script = netBenchScript();
  const ready = `echo "${NET_READY_LINE}"`;
  if (!script.includes(ready)) throw new Error("netBenchScript() no longer prints the ready line");
  return script.replace(ready, `tcp_echo server ${ECHO_PORT} >/dev/null &\n${ready}`);
}

export function buildEchoGuest(options: { log?: (line: string) => void; root?: string } = {}): EchoGuest {
  const log = options.log ?? ((line: string) => console.log(`echo-guest: ${line}`));
  const net = buildNetGuest({ log });
  const root = options.root ?? join(REPO_ROOT, "build/net-echo");
  mkdirSync(root, { recursive: true });
  const tcpEcho = join(root, "tcp_echo");
  const source = join(HERE, "tcp_echo.c");
  if (!upToDate(tcpEcho, [source, join(HERE, "netTool.h")])) {
    const r = spawnSync("gcc", ["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", `${tcpEcho}.tmp`, source], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`gcc tcp_echo.c failed: ${r.error?.message ?? r.stderr}`);
    renameSync(`${tcpEcho}.tmp`, tcpEcho);
    log("tcp_echo: gcc -static -O2");
  }
  const out = join(root, "initramfs-echo.cpio.gz");
  if (!upToDate(out, [net.initramfs, tcpEcho, fileURLToPath(import.meta.url), join(HERE, "netGuest.ts")])) {
    const cpio = new CpioWriter();
    cpio.file("bin/tcp_echo", readFileSync(tcpEcho), 0o755);
    cpio.file("bench/net", echoBenchScript(), 0o755);
    const first = readFileSync(net.initramfs);
    // Each archive of a concatenated initramfs starts 4-byte aligned.
    const padding = Buffer.alloc((4 - (first.length % 4)) % 4);
    writeFileSync(`${out}.tmp`, Buffer.concat([first, padding, gzipSync(cpio.toBuffer(), { level: 9 })]));
    renameSync(`${out}.tmp`, out);
    log(`initramfs-echo.cpio.gz: the network guest + tcp_echo (${(statSync(out).size / 1e6).toFixed(2)} MB)`);
  }
  return { ...net, initramfs: out, tcpEcho };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    console.log(`echo-guest: ${buildEchoGuest().initramfs} ready`);
  } catch (error) {
    console.error(`echo-guest: ${(error as Error).message}`);
    process.exit(1);
  }
}
