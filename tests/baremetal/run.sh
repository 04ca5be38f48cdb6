#!/bin/bash
# The bare-metal build: core + SMTP + MIME with sockets compiled out and no
# threads library (-Dsockets=disabled), for arm-none-eabi with newlib
# (Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi), linked into the
# test image tests/baremetal/alert_image.c:
#
#   tests/baremetal/run.sh
#
#   1. <repo>/build-baremetal: Cortex-M4 (tests/cross/arm-none-eabi.ini),
#      newlib-nano and libnosys: libmail.a and the image, linked only; their
#      sizes (text/data/bss) are printed.
#   2. <repo>/build-baremetal-qemu: the same for a Cortex-A7 in Thumb-2 with
#      semihosting (plus tests/cross/arm-none-eabi-qemu.ini): the image runs
#      under qemu-arm as meson test 'alert-image' and must send its alert
#      through the stub transport.
#
# Environment: MAIL_JOBS (default 2), MAIL_BAREMETAL_BUILD_DIR (default
# <repo>/build-baremetal; the qemu one gets -qemu appended).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JOBS=${MAIL_JOBS:-2}
DIR=${MAIL_BAREMETAL_BUILD_DIR:-$ROOT/build-baremetal}
say() { printf 'baremetal: %s\n' "$*"; }

case ${1:-} in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
for tool in arm-none-eabi-gcc arm-none-eabi-size qemu-arm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "baremetal: $tool is missing (gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-user)" >&2
        exit 1
    fi
done

# What an alert sender keeps: SMTP and MIME over the core.
options=(-Dwerror=true -Dsockets=disabled -Dtls=disabled -Dzlib=disabled -Dsaslprep=disabled
    -Didna=disabled -Dpop3=disabled -Dimap=disabled -Dnntp=disabled -Dmaildir=disabled
    -Dsmtp=enabled -Dmime=enabled -Dtests=disabled -Dexamples=false -Dtools=false)
t0=$SECONDS
if [[ ! -f $DIR/build.ninja ]]; then
    meson setup "$DIR" "$ROOT" --cross-file "$ROOT/tests/cross/arm-none-eabi.ini" "${options[@]}"
fi
meson compile -C "$DIR" -j "$JOBS"
if [[ ! -f $DIR-qemu/build.ninja ]]; then
    meson setup "$DIR-qemu" "$ROOT" --cross-file "$ROOT/tests/cross/arm-none-eabi.ini" \
        --cross-file "$ROOT/tests/cross/arm-none-eabi-qemu.ini" "${options[@]}"
fi
meson compile -C "$DIR-qemu" -j "$JOBS"
set +e
meson test -C "$DIR-qemu" --no-rebuild --print-errorlogs
status=$?
set -e

# Sizes (Cortex-M4, -O2): the image, and libmail.a's objects before the
# linker drops what the image does not use (--gc-sections).
arm-none-eabi-size "$DIR/tests/baremetal/alert-image"
strip_a=$(mktemp)
arm-none-eabi-strip --strip-debug -o "$strip_a" "$DIR/lib/libmail.a"
arm-none-eabi-size -t "$strip_a" | tail -1 | awk '{printf "libmail.a (all objects): text %d, data %d, bss %d\n", $1, $2, $3}'
printf 'libmail.a without debug info: %d bytes\n' "$(stat -c %s "$strip_a")"
rm -f "$strip_a"
# What of the image is libmail's: the map file's input sections that came
# from libmail.a (a long section name puts address and size on the next line).
python3 - "$DIR/tests/baremetal/alert-image.map" <<'PY'
import re, sys
sums, pending = {"text": 0, "rodata": 0, "data": 0, "bss": 0}, None
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"^ \.(text|rodata|data|bss)(\S*)\s*$", line)
    if m:
        pending = m.group(1)
        continue
    m = re.match(r"^ \.(text|rodata|data|bss)\S*\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(\S+)", line)
    kind, size, src = (m.group(1), m.group(2), m.group(3)) if m else (None, None, None)
    if not m and pending:
        m = re.match(r"^\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(\S+)", line)
        if m:
            kind, size, src = pending, m.group(1), m.group(2)
    pending = None
    if kind and "libmail.a(" in src:
        sums[kind] += int(size, 16)
print("libmail in the image: text %d, rodata %d, data %d, bss %d (flash %d, RAM %d)" % (
    sums["text"], sums["rodata"], sums["data"], sums["bss"],
    sums["text"] + sums["rodata"] + sums["data"], sums["data"] + sums["bss"]))
PY
say "image run under qemu-arm: exit $status; $((SECONDS - t0)) s"
exit "$status"
