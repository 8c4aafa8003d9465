// Runs one QEMU process with its serial console on a pipe: captures the
// console and stderr, optionally echoes them, enforces a timeout, and lets the
// caller watch the console as it arrives (to time a line, or to stop QEMU
// once it has seen what it needs). Wisp guests, the Linux baseline and the
// benchmarks all run QEMU through here.
import { type ChildProcess, spawn } from "node:child_process";

export interface QemuProcessOptions {
  args: string[];
  qemuBinary?: string;
  /** Kill QEMU after this many milliseconds (0 or absent: never). */
  timeoutMs?: number;
  /** Copy the console and stderr to this process's as they arrive. */
  echo?: boolean;
  /**
   * Called after each piece of console output with everything so far and
   * the milliseconds since QEMU started; returning true kills QEMU.
   */
  watch?: (output: string, elapsedMs: number) => boolean;
}

export interface QemuProcessResult {
  /** The serial console, CRLF folded to LF. */
  output: string;
  stderr: string;
  /** QEMU's exit code; null when it was killed. */
  code: number | null;
  timedOut: boolean;
  /** Killed because watch returned true. */
  stopped: boolean;
  /** QEMU start to exit. */
  wallMs: number;
}

export function runQemuProcess(options: QemuProcessOptions): Promise<QemuProcessResult> {
  const started = process.hrtime.bigint();
  const elapsedMs = (): number => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolve, reject) => {
    const qemu = spawn(options.qemuBinary ?? "qemu-system-x86_64", options.args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let stderr = "";
    let timedOut = false;
    let stopped = false;
    const timer =
      options.timeoutMs && options.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            qemu.kill("SIGKILL");
          }, options.timeoutMs)
        : undefined;
    qemu.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("latin1");
      if (options.echo) process.stdout.write(chunk);
      if (!stopped && options.watch?.(output, elapsedMs())) {
        stopped = true;
        qemu.kill("SIGKILL");
      }
    });
    qemu.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.echo) process.stderr.write(chunk);
    });
    qemu.on("error", (error) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot start QEMU: ${error.message}`));
    });
    qemu.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ output: output.replace(/\r\n/g, "\n"), stderr, code, timedOut, stopped, wallMs: elapsedMs() });
    });
  });
}

export interface RunningQemu {
  process: ChildProcess;
  /** The console and QEMU's stderr so far, as they arrived. */
  output(): string;
  /** Resolves once the output matches `text`; rejects with the output when QEMU exits first or `ms` pass. */
  waitFor(text: string | RegExp, ms: number): Promise<void>;
  /** Resolves with QEMU's exit code once it has exited, killing it after `ms` (then null). */
  waitExit(ms: number): Promise<number | null>;
  /** Kills QEMU if it still runs. */
  kill(): void;
}

/**
 * Starts a guest that runs beside the caller (a server for a test's
 * clients). `command` is the argv before QEMU's own arguments, e.g.
 * ["ip", "netns", "exec", NS, "qemu-system-x86_64"] to start it in a namespace.
 */
export function startQemu(args: string[], command: string[] = ["qemu-system-x86_64"]): RunningQemu {
  const child = spawn(command[0], [...command.slice(1), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const matches = (pattern: string | RegExp): boolean => (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text));
  return {
    process: child,
    output: () => text,
    waitFor: async (pattern, ms) => {
      const deadline = Date.now() + ms;
      while (!matches(pattern)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`QEMU ended (${child.exitCode ?? child.signalCode}) before "${pattern}":\n${text}`);
        if (Date.now() > deadline) throw new Error(`no "${pattern}" from the guest within ${ms} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    waitExit: async (ms) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (result !== "timeout") return result;
      child.kill("SIGKILL");
      await exited;
      return null;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
