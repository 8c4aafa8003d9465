/** Where a CLI writes: injected so tests can run the CLIs in-process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
};

export function formatBytes(n: number): string {
  const units: [number, string][] = [
    [2 ** 30, "GiB"],
    [2 ** 20, "MiB"],
    [2 ** 10, "KiB"],
  ];
  for (const [size, name] of units) {
    if (n >= size) return `${Number((n / size).toFixed(1))} ${name}`;
  }
  return `${n} B`;
}
