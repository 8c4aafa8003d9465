// Fetches and unpacks the Debian source package of the Open POSIX Test Suite
// into build/posix/src. The binary package only ships a report log, so the
// sources come from the source package: apt-get source, with deb-src entries
// derived at run time from the system's own deb entries (same mirrors, same
// suites, same keys) in a private apt state under build/posix/apt, so the
// system's apt configuration is read but never changed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PACKAGE, POSIX_DIR, SOURCE_DIR, VERSION } from "./suite.ts";

const APT_DIR = join(POSIX_DIR, "apt");
const DOWNLOAD_DIR = join(POSIX_DIR, "download");

/** The directories apt reads its sources from, as the system configures them. */
function aptSourcePaths(): { list: string; parts: string } {
  const dump = execFileSync("apt-config", ["dump"], { encoding: "utf8" });
  const value = (key: string, fallback: string): string => {
    const match = new RegExp(`^${key} "([^"]*)";$`, "m").exec(dump);
    return match ? match[1] : fallback;
  };
  const etc = join(value("Dir", "/"), value("Dir::Etc", "etc/apt"));
  return { list: join(etc, value("Dir::Etc::sourcelist", "sources.list")), parts: join(etc, value("Dir::Etc::sourceparts", "sources.list.d")) };
}

/** deb-src counterparts of the system's deb entries, one-line and deb822 styles. */
export function sourceEntries(): { list: string; deb822: string } {
  const paths = aptSourcePaths();
  const oneLine: string[] = [];
  const stanzas: string[] = [];
  const lists = existsSync(paths.list) ? [paths.list] : [];
  const parts = existsSync(paths.parts) ? readdirSync(paths.parts).sort().map((name) => join(paths.parts, name)) : [];
  for (const file of [...lists, ...parts.filter((p) => p.endsWith(".list"))]) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (/^deb\s/.test(line)) oneLine.push(line.replace(/^deb\s/, "deb-src "));
    }
  }
  for (const file of parts.filter((p) => p.endsWith(".sources"))) {
    for (const stanza of readFileSync(file, "utf8").split(/\n\s*\n/)) {
      const types = /^Types:(.*)$/m.exec(stanza);
      const enabled = /^Enabled:\s*no\s*$/im.test(stanza) === false;
      if (types === null || !enabled || !types[1].split(/\s+/).includes("deb")) continue;
      stanzas.push(stanza.replace(/^Types:.*$/m, "Types: deb-src").trim());
    }
  }
  return { list: oneLine.join("\n") + "\n", deb822: stanzas.join("\n\n") + "\n" };
}

function aptOptions(): string[] {
  const root = resolve(APT_DIR);
  return [
    "-o", `Dir::Etc::SourceList=${join(root, "sources.list")}`,
    "-o", `Dir::Etc::SourceParts=${join(root, "sources.list.d")}`,
    "-o", `Dir::State::Lists=${join(root, "lists")}`,
    "-o", `Dir::Cache=${join(root, "cache")}`,
    "-o", "Debug::NoLocking=1",
  ];
}

/** The unpacked source tree, fetched the first time. */
export function ensureSource(log: (line: string) => void = console.log): string {
  if (existsSync(join(SOURCE_DIR, "include", "posixtest.h"))) return SOURCE_DIR;
  const entries = sourceEntries();
  mkdirSync(join(APT_DIR, "sources.list.d"), { recursive: true });
  mkdirSync(join(APT_DIR, "lists", "partial"), { recursive: true });
  mkdirSync(join(APT_DIR, "cache", "archives", "partial"), { recursive: true });
  writeFileSync(join(APT_DIR, "sources.list"), entries.list);
  writeFileSync(join(APT_DIR, "sources.list.d", "system-deb-src.sources"), entries.deb822);
  log(`posix: fetching the ${PACKAGE} ${VERSION} source package with apt-get source`);
  execFileSync("apt-get", [...aptOptions(), "-qq", "update"], { stdio: ["ignore", "ignore", "inherit"] });
  rmSync(DOWNLOAD_DIR, { recursive: true, force: true });
  mkdirSync(DOWNLOAD_DIR, { recursive: true });
  execFileSync("apt-get", [...aptOptions(), "-qq", "source", "--download-only", `${PACKAGE}=${VERSION}`], {
    cwd: DOWNLOAD_DIR,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const dsc = readdirSync(DOWNLOAD_DIR).find((name) => name.endsWith(".dsc"));
  if (dsc === undefined) throw new Error(`posix: apt-get source left no .dsc in ${DOWNLOAD_DIR}`);
  const unpacking = `${SOURCE_DIR}.tmp`;
  rmSync(unpacking, { recursive: true, force: true });
  // dpkg-source applies the Debian patches (build fixes, timeouts).
  execFileSync("dpkg-source", ["-x", join(DOWNLOAD_DIR, dsc), resolve(unpacking)], { stdio: ["ignore", "ignore", "inherit"] });
  rmSync(SOURCE_DIR, { recursive: true, force: true });
  execFileSync("mv", [unpacking, SOURCE_DIR]);
  // dpkg-source also copies the upstream tarball next to the tree it made.
  for (const name of readdirSync(POSIX_DIR)) if (name.includes(".orig.tar.")) rmSync(join(POSIX_DIR, name));
  return SOURCE_DIR;
}
