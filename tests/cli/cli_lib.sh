# What the mailcli test scripts share (sourced): results, running mailcli
# with an expected exit code, the scripted servers of badserver.py.
# The script sets M (mailcli), PY (python3), HERE (this directory), TMP
# (its scratch directory) and fail=0 before it uses these.
# The shared test servers' settings (tests/servers/servers.sh writes them);
# without them the test is skipped (77), unless servers are required.
load_servers_env() {
  local envf=${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}
  if [[ ! -r $envf ]]; then
    [[ ${MAIL_TEST_REQUIRE_SERVERS:-0} == 1 ]] && { echo "servers.env missing" >&2; exit 1; }
    exit 77
  fi
  . "$envf"
  export MAIL_TEST_RUNDIR
}

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; sed 's/^/  | /' "$TMP/out" "$TMP/err" | head -40; fail=1; }

# run CODE DESCRIPTION ARGS...: mailcli ARGS, stdout in $TMP/out, stderr in
# $TMP/err; the exit code must be CODE. Returns 0 when it was.
run() {
  local want=$1 what=$2
  shift 2
  "$M" "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [[ $got != "$want" ]]; then
    bad "$what: exit $got, expected $want"
    return 1
  fi
  ok "$what (exit $got)"
}
# expect DESCRIPTION COMMAND...: a further assertion about the last run.
expect() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# start_server MODE [LOGFILE]: a scripted server; sets PORT and server_pid.
start_server() {
  rm -f "$TMP/port"
  "$PY" "$HERE/badserver.py" "$1" "$TMP/port" ${2:+"$2"} &
  server_pid=$!
  # Wait while it lives (a loaded machine may take seconds to start
  # Python), 2 minutes at most.
  local i=0
  while [[ ! -s $TMP/port && $i -lt 2400 ]] && kill -0 "$server_pid" 2>/dev/null; do
    sleep 0.05
    i=$((i + 1))
  done
  PORT=$(cat "$TMP/port")
}
# The client has finished (and the server logged what it sent): stop it.
stop_server() {
  kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=
}
