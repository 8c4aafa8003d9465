// Shared pieces of the driver tests: the AS unit module, the disk pattern
// the guest writes (wisp.test=blk), and the kernel path.
import { compileAssemblyScript } from "../support/asc.ts";
import { createHash } from "node:crypto";

export const KERNEL = "build/kernel.elf";

/** drivers/selftest.ts PATTERN_SEED. */
export const PATTERN_SEED = 0x2545f491;

/** The xorshift32 stream the guest writes across the disk, as little-endian u32s. */
export function pattern(bytes: number, seed = PATTERN_SEED): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0;
  for (let offset = 0; offset + 4 <= bytes; offset += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, offset);
  }
  return out;
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** tests/drivers/entries/driversEntry.ts compiled once per test file. */
export function driversModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const binary = await compileAssemblyScript("tests/drivers/entries/driversEntry.ts");
    return WebAssembly.compile(binary);
  })();
  return compiled;
}

export interface DriversExports {
  memory: WebAssembly.Memory;
  scratch(): number;
  vringNeedEvent(event: number, newIdx: number, oldIdx: number): number;
  ringDistance(from: number, to: number): number;
  chooseQueueSize(deviceMax: number, cap: number): number;
  queueSizeValid(size: number): number;
  descTableBytes(size: number): number;
  availRingBytes(size: number): number;
  usedRingBytes(size: number): number;
  negotiateFeatures(offered: bigint, wanted: bigint): bigint;
  netFeatureDependencies(accepted: bigint): bigint;
  pciNextCapability(config: number, offset: number): number;
  pciFindCapability(config: number, id: number): number;
  virtioFindCapability(config: number, type: number): number;
  virtioCapBar(config: number, cap: number): number;
  virtioCapOffset(config: number, cap: number): number;
  virtioCapLength(config: number, cap: number): number;
  virtioCapNotifyMultiplier(config: number, cap: number): number;
  msixTableSize(config: number, cap: number): number;
  msixTableBar(config: number, cap: number): number;
  msixTableOffset(config: number, cap: number): number;
  barSizeFromMask(mask: bigint, io: number): bigint;
  barIs64(value: number): number;
  barIsIo(value: number): number;
  virtioPciDeviceType(vendor: number, device: number, subsystem: number): number;
  arpParse(frame: number, length: number): number;
  arpBuildReply(out: number, request: number, mac: number, ip: number): number;
  arpBuildRequest(out: number, mac: number, ip: number, target: number): number;
  arpSenderIp(frame: number): number;
  arpTargetIp(frame: number): number;
  parseIpv4(text: number, offset: number, count: number): bigint;
  parseMmioCommandLine(line: number, length: number, out: number, max: number): number;
  parseMmioDsdt(table: number, length: number, out: number, max: number): number;
  chacha20Block(key: number, counter: number, nonce: number, out: number): void;
}

export async function drivers(): Promise<DriversExports> {
  let memory: WebAssembly.Memory | undefined;
  const instance = await WebAssembly.instantiate(await driversModule(), {
    env: {
      abort(_message: number, _file: number, line: number, column: number): never {
        throw new Error(`AS abort at ${line}:${column}`);
      },
    },
  });
  const exports = instance.exports as unknown as DriversExports;
  memory = exports.memory;
  void memory;
  return exports;
}
