#!/usr/bin/env bash
# Installs what building, booting and testing Wisp need, and nothing when it
# is all there: Debian packages (QEMU, qemu-img, wabt's wasm2c, the GNU
# toolchain) through apt-get, then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package providing it
declare -A PACKAGE_FOR=(
  [qemu-system-x86_64]=qemu-system-x86
  [qemu-img]=qemu-utils
  [wasm2c]=wabt
  [gcc]=gcc
  [make]=make
  [ld]=binutils
  [nm]=binutils
  [objcopy]=binutils
  [sha256sum]=coreutils
  # tests/drivers/net.test.ts: a tap device in a network namespace, probed with arping
  [ip]=iproute2
  [arping]=iputils-arping
  [cpio]=cpio
  [ping]=iputils-ping
  [curl]=curl
  [xz]=xz-utils
  # tests/busybox: Debian's static busybox, run on Wisp and on the host
  [busybox]=busybox-static
)

missing=()
for command in "${!PACKAGE_FOR[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGE_FOR[$command]}")
done
# wasm2c's runtime header, which the kernel build compiles against.
[ -f /usr/include/wasm-rt.h ] || missing+=(wabt)
# Static glibc, for the Linux test programs (gcc -static).
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)

if [ ${#missing[@]} -gt 0 ]; then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "setup: installing Debian packages: $packages"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup: need root (or sudo) to install: $packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $packages >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node 20 or newer is required (found $(node --version))" >&2
  exit 1
fi

# npm dependencies: install when missing or older than the lock file.
if [ ! -x node_modules/.bin/asc ] || [ ! -x node_modules/.bin/vitest ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
