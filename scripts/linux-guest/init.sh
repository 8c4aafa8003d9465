#!/bin/sh
# /init of the Linux baseline guest (busybox sh, PID 1).
#
# Kernel command line:
#   wisp.bench=<name>   run /bench/<name> (see scripts/linux-guest/benchmarks.ts)
#   wisp.bench=shell    an interactive shell on the console instead
#   -- <args>           everything after " -- " is passed to the benchmark
#
# Lines for tools to read, in this order:
#   linux: init started
#   linux: <n> cpus, clocksource <name>, uptime <s> s
#   linux: clocksource <name>, uptime <s> s   (once it left tsc-early)
#   ... the benchmark's own output ...
#   linux: exit status <n>
# then the guest powers off and QEMU exits.
echo "linux: init started"
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

cpus=$(grep -c '^processor' /proc/cpuinfo)
clocksource_file=/sys/devices/system/clocksource/clocksource0/current_clocksource
read -r clocksource < $clocksource_file
read -r uptime _ < /proc/uptime
echo "linux: $cpus cpus, clocksource $clocksource, uptime $uptime s"

# Linux starts on tsc-early and switches to tsc about a second after the
# clocksources register; wait for that (5 s at most) so that no benchmark
# times itself across the switch.
if [ "$clocksource" = tsc-early ]; then
  tries=0
  while [ "$clocksource" = tsc-early ] && [ $tries -lt 100 ]; do
    usleep 50000
    read -r clocksource < $clocksource_file
    tries=$((tries + 1))
  done
  read -r uptime _ < /proc/uptime
  echo "linux: clocksource $clocksource, uptime $uptime s"
fi

halt_guest() {
  poweroff -f
  # Only reached if the kernel cannot power off: a reset ends QEMU too
  # (the runner passes -no-reboot).
  reboot -f
  sleep 3600
}

# Kernel modules the build included, dependencies first.
if [ -f /lib/modules/load.list ]; then
  while read -r module; do
    if ! insmod "/lib/modules/$module"; then
      echo "linux: cannot load module $module"
      echo "linux: exit status 126"
      halt_guest
    fi
  done < /lib/modules/load.list
fi

# Split the command line on spaces without expanding '*' or '?'.
set -f
read -r cmdline < /proc/cmdline
bench=""
for word in $cmdline; do
  case "$word" in
    --) break ;;
    wisp.bench=*) bench=${word#wisp.bench=} ;;
  esac
done
args=""
case "$cmdline" in
  *" -- "*) args=${cmdline#* -- } ;;
esac

case "$bench" in
  "")
    echo "linux: no wisp.bench=<name> on the kernel command line"
    status=2
    ;;
  shell)
    setsid cttyhack sh -l
    status=$?
    ;;
  */* | .*)
    echo "linux: bad benchmark name '$bench'"
    status=2
    ;;
  *)
    if [ -x "/bench/$bench" ]; then
      # shellcheck disable=SC2086 # the arguments are split on spaces on purpose
      "/bench/$bench" $args
      status=$?
    else
      echo "linux: no benchmark '$bench' in this initramfs:" $(ls /bench)
      status=127
    fi
    ;;
esac

echo "linux: exit status $status"
halt_guest
