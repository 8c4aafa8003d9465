// The arch imports (arch/x86_64/atomic.ts) every Node test of kernel code
// needs, mocked on the wasm memory for one JS thread: atomics are plain
// loads and stores, interrupt state is counted, the CPU index is what the
// test sets, and spinning on a held lock is a deadlock (nobody else runs).

/** What the mocks observe; `cpu` is what cpuIndex() returns. */
export interface ArchState {
  cpu: number;
  /** Addresses of spinlocks currently held (a 0 -> nonzero exchange takes, a 0 store releases). */
  held: Set<number>;
  /** interruptsSave calls not yet matched by interruptsRestore. */
  interruptDepth: number;
}

export function newArchState(): ArchState {
  return { cpu: 0, held: new Set(), interruptDepth: 0 };
}

type Imports = Record<string, (...args: never[]) => unknown>;

/** The atomic, interrupt and CPU imports over the memory `memory()` returns (set after instantiation). */
export function atomicImports(memory: () => WebAssembly.Memory, arch: ArchState): Imports {
  let view = new DataView(new ArrayBuffer(0));
  const dv = (): DataView => {
    if (view.buffer !== memory().buffer) view = new DataView(memory().buffer);
    return view;
  };
  let spins = 0;
  return {
    atomicExchange32(address: number, value: number): number {
      const old = dv().getUint32(address, true);
      dv().setUint32(address, value, true);
      if (value !== 0 && old === 0) arch.held.add(address);
      return old;
    },
    atomicCompareExchange32(address: number, expected: number, desired: number): number {
      const old = dv().getUint32(address, true);
      if (old === expected >>> 0) dv().setUint32(address, desired, true);
      return old;
    },
    atomicCompareExchange64(address: number, expected: bigint, desired: bigint): bigint {
      const old = dv().getBigUint64(address, true);
      if (old === BigInt.asUintN(64, expected)) dv().setBigUint64(address, BigInt.asUintN(64, desired), true);
      return old;
    },
    atomicAdd32(address: number, delta: number): number {
      const old = dv().getUint32(address, true);
      dv().setUint32(address, (old + delta) >>> 0, true);
      return old;
    },
    atomicAdd64(address: number, delta: bigint): bigint {
      const old = dv().getBigUint64(address, true);
      dv().setBigUint64(address, BigInt.asUintN(64, old + delta), true);
      return old;
    },
    atomicLoad32: (address: number): number => dv().getUint32(address, true),
    atomicLoad64: (address: number): bigint => dv().getBigUint64(address, true),
    atomicStore32(address: number, value: number): void {
      dv().setUint32(address, value, true);
      if (value === 0) arch.held.delete(address);
    },
    atomicStore64: (address: number, value: bigint): void => dv().setBigUint64(address, BigInt.asUintN(64, value), true),
    memoryFence(): void {},
    interruptsSave(): bigint {
      arch.interruptDepth++;
      return 0n;
    },
    interruptsRestore(): void {
      arch.interruptDepth--;
    },
    cpuIndex: (): number => arch.cpu,
    pause(): void {
      if (++spins > 1000) throw new Error("deadlock: spinning on a lock nobody will release");
    },
  };
}
