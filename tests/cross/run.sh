#!/bin/bash
# Cross-build libmail and run its unit and transcript suites under qemu-user:
#
#   tests/cross/run.sh [--subset] [aarch64|arm]...   (default: both)
#
# Default: every unit and transcript test (what CI runs; about 2 minutes of
# tests per target). Two kinds are left out, each named in the output:
# - the unit programs that start threads (their test_<name>.c calls
#   pthread_create), when a probe (tests/cross/thread_probe.c) shows that
#   this qemu-user cannot run a thread: qemu 7.2 on a recent host kernel
#   hangs (aarch64) or crashes (armhf) in pthread_create() even for a
#   five-line program;
# - pop3_reply, whose 1 GiB streaming test, and loop, whose thousand
#   sessions, would take a large share of the cross run's time under
#   emulation; the native and sanitizer runs have them.
# --subset: build and run only the SMTP, POP3 and IMAP transcript drivers
# and the core, url, sasl and smtp unit programs (quicker).
#
# aarch64: tests/cross/aarch64-linux-gnu.ini, arm: arm-linux-gnueabihf.ini
# (armv7 hard-float, a 32-bit target: size_t and pointers of 4 bytes, time_t
# as the C library gives it). Each builds in <repo>/build-cross-<arch> (or
# $MAIL_CROSS_BUILD_DIR-<arch>) with TLS and zlib from the target's
# multiarch packages; SASLprep and IDNA are off (their libraries are not
# installed for the target). Meson runs every test program through the
# cross file's exe_wrapper (qemu-<arch> -L /usr/<triplet>).
#
# Needs (Debian, as root, see .ci/packages-cross.txt and tests/run-all
# --cross): dpkg --add-architecture arm64 armhf; apt-get update; the
# cross compilers, qemu-user and the :arm64/:armhf -dev packages.
#
# Environment: MAIL_JOBS (default 2), MAIL_CROSS_BUILD_DIR (prefix of
# the build directories, default <repo>/build-cross).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JOBS=${MAIL_JOBS:-2}
PREFIX=${MAIL_CROSS_BUILD_DIR:-$ROOT/build-cross}

say() { printf 'cross: %s\n' "$*"; }

subset=0 archs=()
for arg in "$@"; do
    case $arg in
        --subset) subset=1 ;;
        *) archs+=("$arg") ;;
    esac
done
((${#archs[@]})) || archs=(aarch64 arm)
targets=() tests=(--suite unit --suite transcript)
if ((subset)); then
    targets=(tests/unit/unit-core tests/unit/unit-url tests/unit/unit-sasl tests/unit/unit-smtp
        tests/transcript/smtp/test-transcript-smtp tests/transcript/pop3/test-transcript-pop3
        tests/transcript/imap/test-transcript-imap)
    tests=(core url sasl smtp pop3 imap) # 'smtp': the unit program and the transcripts
fi
# Check's fork mode stalls under qemu-user (a test of 0.3 s took over 20 s
# and then hit its timeout): every test program runs its tests in-process.
export CK_FORK=no

status=0
for arch in "${archs[@]}"; do
    case $arch in
        aarch64) triplet=aarch64-linux-gnu qemu=qemu-aarch64 ;;
        arm) triplet=arm-linux-gnueabihf qemu=qemu-arm ;;
        --subset) continue ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "cross: unknown target $arch (aarch64 or arm)" >&2; exit 2 ;;
    esac
    for tool in "$triplet-gcc" "$qemu"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "cross: $tool is missing (see --help for the packages)" >&2
            exit 1
        fi
    done
    dir=$PREFIX-$arch
    t0=$SECONDS
    if [[ ! -f $dir/build.ninja ]]; then
        meson setup "$dir" "$ROOT" --cross-file "$ROOT/tests/cross/$triplet.ini" \
            -Dwerror=true -Dtls=enabled -Dzlib=enabled -Dsaslprep=disabled -Didna=disabled \
            -Dtests=enabled -Dintegration=false -Dexamples=false -Dtools=false
    fi
    meson compile -C "$dir" -j "$JOBS" "${targets[@]}"
    # The programs really are the target's (a build that fell back to the
    # build machine's compiler would pass without testing anything).
    machine=$(readelf -h "$dir/tests/transcript/smtp/test-transcript-smtp" | sed -n 's/^ *Machine: *//p')
    case $arch:$machine in
        aarch64:AArch64|arm:ARM) ;;
        *) echo "cross: $arch build made a program for: $machine" >&2; exit 1 ;;
    esac
    built=$((SECONDS - t0))
    run_tests=("${tests[@]}")
    if ((!subset)); then
        # pop3_reply's 1 GiB stream and the loop's thousand sessions (see
        # the top of this file)
        skip=(pop3_reply loop)
        "$triplet-gcc" -O1 -pthread "$ROOT/tests/cross/thread_probe.c" -o "$dir/thread-probe"
        if ! timeout 20 "$qemu" -L "/usr/$triplet" "$dir/thread-probe" >/dev/null 2>&1; then
            for f in "$ROOT"/tests/unit/test_*.c; do
                grep -q 'pthread_create' "$f" && skip+=("$(basename "$f" .c | sed 's/^test_//')")
            done
            # tests/faults names its tests with hyphens (test_faults_tls.c: faults-tls)
            for f in "$ROOT"/tests/faults/test_*.c; do
                grep -q 'pthread_create' "$f" && skip+=("$(basename "$f" .c | sed 's/^test_//; s/_/-/g')")
            done
            say "$arch: $qemu cannot run a thread here (tests/cross/thread_probe.c)"
        fi
        say "$arch: not run under emulation: ${skip[*]}"
        run_tests=()
        while read -r name; do
            name=${name##* / }
            [[ " ${skip[*]} " == *" $name "* ]] || run_tests+=("$name")
        done < <(meson test -C "$dir" --no-rebuild --list --suite unit --suite transcript 2>/dev/null |
                 grep ' / ')
    fi
    set +e
    # Emulation is slower: Check's per-test timeouts are scaled up.
    meson test -C "$dir" --no-rebuild "${run_tests[@]}" --print-errorlogs \
        --num-processes "$JOBS" --timeout-multiplier 4
    rc=$?
    set -e
    say "$arch ($triplet under $qemu): unit + transcript exit $rc; build ${built} s, tests $((SECONDS - t0 - built)) s"
    ((status != 0)) || status=$rc
done
exit "$status"
