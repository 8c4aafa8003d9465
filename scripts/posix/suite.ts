// What the Open POSIX Test Suite scripts share: where things live under
// build/posix/, which interface directories make up each area, the suite's
// exit-code convention, and the manifest build.ts writes for run.ts.
import { join } from "node:path";

export const POSIX_DIR = "build/posix";
/** The unpacked Debian source package (posixtestsuite). */
export const SOURCE_DIR = join(POSIX_DIR, "src");
export const BINARY_DIR = join(POSIX_DIR, "bin");
export const MANIFEST = join(POSIX_DIR, "manifest.json");
export const EXCLUSIONS = join(POSIX_DIR, "exclusions.md");
export const RESULTS_JSON = join(POSIX_DIR, "results.json");
export const RESULTS_MD = join(POSIX_DIR, "results.md");

export const PACKAGE = "posixtestsuite";
export const VERSION = "1.5.2-8";

export type Area = "threads" | "mutexes" | "condvars" | "semaphores" | "clocks" | "timers" | "mmap";
export const AREAS: readonly Area[] = ["threads", "mutexes", "condvars", "semaphores", "clocks", "timers", "mmap"];

/** The area of a conformance/interfaces/<directory>, or null when outside the selection. */
export function areaOf(directory: string): Area | null {
  if (/^pthread_mutex(attr)?_/.test(directory)) return "mutexes";
  if (/^pthread_cond(attr)?_/.test(directory)) return "condvars";
  if (directory.startsWith("pthread_")) return "threads";
  if (directory.startsWith("sem_")) return "semaphores";
  if (directory === "clock" || directory.startsWith("clock_")) return "clocks";
  if (directory.startsWith("timer_")) return "timers";
  if (["mmap", "munmap", "mprotect", "mlock", "mlockall", "munlock", "munlockall"].includes(directory)) return "mmap";
  return null;
}

/** The suite's exit codes (include/posixtest.h). */
export const PTS_PASS = 0;
export const PTS_FAIL = 1;
export const PTS_UNRESOLVED = 2;
export const PTS_UNSUPPORTED = 4;
export const PTS_UNTESTED = 5;

export interface BuiltTest {
  /** "<directory>/<N-M>", e.g. "pthread_mutex_lock/1-1". */
  id: string;
  area: Area;
  /** The static binary, relative to the repository. */
  binary: string;
  /** The source uses signals (handlers, kill, raise, SIGEV_SIGNAL, alarm): expected to fail on Wisp for now. */
  usesSignals: boolean;
  /**
   * A thread unwinds (pthread_exit, cancellation) while main may already be
   * in exit(), which deregisters the unwind tables: the thread's forced
   * unwind then aborts. A race in the test itself, rarely lost on Linux and
   * now and then on a slow emulated CPU: kept out of the regression list.
   */
  exitRacesUnwind: boolean;
}

export interface Exclusion {
  id: string;
  area: Area;
  reason: string;
}

export interface Manifest {
  package: string;
  version: string;
  tests: BuiltTest[];
  excluded: Exclusion[];
}

/** A test's id as a file name fit for `-- /<name>` on the kernel command line. */
export function guestName(id: string): string {
  return id.replace("/", "_");
}
