#!/bin/sh
# Smoke test of the real test servers (tests/servers/servers.sh) with
# Debian's Python, independent of libmail. Skips (77) when the servers are
# not up, unless MAIL_TEST_REQUIRE_SERVERS=1.
env_file=${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}
if [ ! -r "$env_file" ]; then
    if [ "${MAIL_TEST_REQUIRE_SERVERS:-0}" = 1 ]; then
        echo "servers env $env_file missing (run tests/servers/servers.sh start)" >&2
        exit 1
    fi
    echo "servers not running ($env_file missing): skipped"
    exit 77
fi
# Debian's interpreter: the one on PATH may be another Python.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$(dirname "$0")/servers_smoke.py" "$env_file"
