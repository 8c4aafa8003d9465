// Builds the Open POSIX Test Suite's conformance tests for the areas Wisp
// covers (threads, mutexes, condvars, semaphores, clocks, timers, mmap) as
// static binaries in build/posix/bin/<interface>/<N-M>, skipping those newer
// than their sources. Tests that start processes (fork, vfork, exec*, system,
// popen) are left out, as are shell-script and build-only tests; the reasons
// go to build/posix/exclusions.md and, with the built tests, to
// build/posix/manifest.json for run.ts.
//
//   tsx scripts/posix/build.ts [--jobs N]
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ensureSource } from "./source.ts";
import {
  areaOf, BINARY_DIR, EXCLUSIONS, MANIFEST, PACKAGE, VERSION,
  type Area, type BuiltTest, type Exclusion, type Manifest,
} from "./suite.ts";

const run = promisify(execFile);

const PROCESS_CALLS = /\b(fork|vfork|execl|execlp|execle|execv|execvp|execvpe|execve|system|popen)\s*\(/;
// Cancellation counts: glibc delivers it with a signal (SIGCANCEL).
const SIGNAL_USE = /\b(sigaction|signal|kill|pthread_kill|pthread_cancel|raise|alarm|sigwait|sigwaitinfo|sigtimedwait|sigsuspend|sigqueue|sigpause|sighold|sigrelse)\s*\(|\bSIGEV_SIGNAL\b/;
const THREAD_UNWIND = /\b(pthread_exit|pthread_cancel)\s*\(/;
const THREAD_JOIN = /\bpthread_join\s*\(/;

/** A thread unwinds (pthread_exit, cancellation) and main never joins it: see BuiltTest.exitRacesUnwind. */
function exitRacesUnwind(source: string): boolean {
  return THREAD_UNWIND.test(source) && !THREAD_JOIN.test(source);
}

function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
}

/** The test's source and the local files it includes (testfrmw.c and the like), comments removed. */
function sourceText(path: string, seen = new Set<string>()): string {
  if (seen.has(path) || !existsSync(path)) return "";
  seen.add(path);
  const text = withoutComments(readFileSync(path, "utf8"));
  let all = text;
  for (const match of text.matchAll(/#\s*include\s+"([^"]+)"/g)) {
    if (match[1] === "posixtest.h") continue;
    all += "\n" + sourceText(join(dirname(path), match[1]), seen);
  }
  return all;
}

interface Candidate {
  id: string;
  area: Area;
  source: string;
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

async function compile(root: string, candidate: Candidate, binary: string): Promise<string | null> {
  const directory = dirname(candidate.source);
  const newest = Math.max(...readdirSync(directory).map((name) => mtime(join(directory, name))));
  if (mtime(binary) > newest) return null;
  mkdirSync(dirname(binary), { recursive: true });
  const temporary = `${binary}.${process.pid}.tmp`;
  try {
    // The suite's own flags (Makefile CFLAGS, LDFLAGS) without -Werror, static.
    await run("gcc", [
      "-static", "-pthread", "-O2", "-std=gnu99", "-w", "-D_POSIX_C_SOURCE=200112L", "-D_GNU_SOURCE",
      "-I", join(root, "include"), "-o", temporary, candidate.source, "-lrt",
    ]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    const lines = stderr.split("\n");
    const first = lines.find((line) => /error:|undefined reference/.test(line) && !line.startsWith("collect2")) ?? lines[0];
    return `does not compile: ${first.replace(join(root, "conformance/interfaces") + "/", "").trim()}`;
  }
  renameSync(temporary, binary);
  return null;
}

export interface BuildOptions {
  jobs?: number;
  /** Build only these test ids (the manifest and exclusion list are then not rewritten). */
  ids?: string[];
  log?: (line: string) => void;
}

export async function buildSuite(options: BuildOptions = {}): Promise<Manifest> {
  const jobs = options.jobs ?? 2;
  const log = options.log ?? console.log;
  const only = options.ids === undefined ? null : new Set(options.ids);
  const root = ensureSource(log);
  const interfaces = join(root, "conformance", "interfaces");
  const candidates: Candidate[] = [];
  const excluded: Exclusion[] = [];
  for (const directory of readdirSync(interfaces).sort()) {
    const area = areaOf(directory);
    if (area === null) continue;
    for (const name of readdirSync(join(interfaces, directory)).sort()) {
      const id = `${directory}/${name.replace(/\.(c|sh)$/, "")}`;
      if (only !== null && !only.has(id)) continue;
      if (/^[0-9]+-[0-9]+\.sh$/.test(name)) {
        excluded.push({ id, area, reason: "shell-script test (needs a shell and processes)" });
      } else if (/^[0-9]+-buildonly\.c$/.test(name)) {
        excluded.push({ id, area, reason: "build-only test (nothing to run)" });
      } else if (/^[0-9]+-[0-9]+\.c$/.test(name)) {
        const source = join(interfaces, directory, name);
        const call = PROCESS_CALLS.exec(sourceText(source));
        if (call !== null) excluded.push({ id, area, reason: `starts processes (calls ${call[1]})` });
        else candidates.push({ id, area, source });
      }
    }
  }

  const tests: BuiltTest[] = [];
  let next = 0;
  let compiled = 0;
  const worker = async (): Promise<void> => {
    while (next < candidates.length) {
      const candidate = candidates[next++];
      const binary = join(BINARY_DIR, candidate.id);
      const failure = await compile(root, candidate, binary);
      compiled++;
      if (compiled % 100 === 0) log(`posix: ${compiled}/${candidates.length} built`);
      if (failure !== null) {
        excluded.push({ id: candidate.id, area: candidate.area, reason: failure });
      } else {
        const text = sourceText(candidate.source);
        tests.push({ id: candidate.id, area: candidate.area, binary, usesSignals: SIGNAL_USE.test(text), exitRacesUnwind: exitRacesUnwind(text) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  tests.sort((a, b) => a.id.localeCompare(b.id));
  excluded.sort((a, b) => a.id.localeCompare(b.id));

  const manifest: Manifest = { package: PACKAGE, version: VERSION, tests, excluded };
  if (only !== null) return manifest;
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + "\n");
  const lines = [
    `# Open POSIX Test Suite (${PACKAGE} ${VERSION}): tests not run`,
    "",
    `Generated by scripts/posix/build.ts. ${tests.length} tests built, ${excluded.length} left out.`,
    "",
    "| test | area | reason |",
    "|---|---|---|",
    ...excluded.map((e) => `| ${e.id} | ${e.area} | ${e.reason.replace(/\|/g, "\\|")} |`),
  ];
  writeFileSync(EXCLUSIONS, lines.join("\n") + "\n");
  log(`posix: ${tests.length} tests built in ${BINARY_DIR}, ${excluded.length} left out (${EXCLUSIONS})`);
  return manifest;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const jobsAt = process.argv.indexOf("--jobs");
  const jobs = jobsAt > 0 ? Number(process.argv[jobsAt + 1]) : 2;
  buildSuite({ jobs }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
