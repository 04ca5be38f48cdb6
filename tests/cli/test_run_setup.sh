#!/bin/bash
# ./run's setup, on a copy of it with a package list of our own: a missing
# package gives the one apt-get line (not root) or an error (run from the
# tests: never apt-get), and with nothing missing `./run test ARGS` is
# tests/run-all ARGS. Needs no servers and installs nothing.
# usage: test_run_setup.sh PATH-TO-RUN
set -u
RUN=${1:?usage: test_run_setup.sh RUN}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP"
mkdir -p "$TMP/.ci" "$TMP/tests"
cp "$RUN" "$TMP/run"
printf '#!/bin/sh\necho "run-all called: $*"\n' >"$TMP/tests/run-all"
chmod 755 "$TMP/run" "$TMP/tests/run-all"
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; sed 's/^/  | /' "$TMP/out"; fail=1; }

# As someone who is not root (root drops to nobody for this).
as_user() {
  if [[ $(id -u) -eq 0 ]]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/ "$@"
  else
    "$@"
  fi
}

printf '# test list\nbash\nlibmail-test-no-such-package\n' >"$TMP/.ci/packages.txt"
for cmd in test demo; do
  as_user "$TMP/run" $cmd >"$TMP/out" 2>&1
  rc=$?
  if [[ $rc == 1 ]] && grep -qx '  apt-get install -y --no-install-recommends libmail-test-no-such-package' "$TMP/out" &&
     ! grep -q "run-all called" "$TMP/out"; then
    ok "./run $cmd, not root, a package missing: the one apt-get line, nothing else done"
  else
    bad "./run $cmd, not root: exit $rc"
  fi
done
MAIL_RUN_NO_INSTALL=1 "$TMP/run" test >"$TMP/out" 2>&1
rc=$?
if [[ $rc == 1 ]] && grep -q "missing packages: libmail-test-no-such-package (not installing" "$TMP/out"; then
  ok "./run test from the tests, a package missing: an error, no apt-get"
else
  bad "./run test from the tests: exit $rc"
fi
printf 'bash\n' >"$TMP/.ci/packages.txt"
as_user "$TMP/run" test --sanitize-only >"$TMP/out" 2>&1
rc=$?
if [[ $rc == 0 ]] && grep -qx "run-all called: --sanitize-only" "$TMP/out"; then
  ok "./run test with nothing missing: tests/run-all with the same arguments"
else
  bad "./run test with nothing missing: exit $rc"
fi
exit $fail
