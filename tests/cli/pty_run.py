"""Run a command with its standard error on a pseudo-terminal (stdout to a
file), for the progress-bar tests: the bar is drawn only on a terminal.

usage: pty_run.py STDERR-COPY STDOUT-FILE -- COMMAND ARGS...
Writes what the command printed on stderr to STDERR-COPY and exits with
the command's exit status. Stdlib only (pty, os)."""
import os
import pty
import subprocess
import sys

err_copy, out_file = sys.argv[1], sys.argv[2]
cmd = sys.argv[sys.argv.index("--") + 1:]
master, slave = pty.openpty()
with open(out_file, "wb") as out:
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=slave)
os.close(slave)
captured = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: the child closed its end
        break
    if not chunk:
        break
    captured += chunk
os.close(master)
with open(err_copy, "wb") as f:
    f.write(captured)
sys.exit(child.wait())
