#!/bin/sh
# pip install of the package into a fresh venv with no network, as the
# README says, then an import from outside the tree.
# usage: test_install.sh PYTHON SRCDIR   (LIBMAIL_LIBRARY: the built library)
set -eu
py=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/libmail-py-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# a copy, so the build leaves nothing in the source tree
mkdir "$tmp/src"
cp -r "$src/pyproject.toml" "$src/README.md" "$src/libmail" "$src/_build" "$tmp/src/"
rm -rf "$tmp/src/libmail/__pycache__" "$tmp/src/libmail/"*.so*
"$py" -m venv "$tmp/v"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$tmp/v/bin/pip" install -q --no-index --no-build-isolation "$tmp/src"
cd "$tmp"
"$tmp/v/bin/python" - "$tmp/v" <<'PY'
import sys
import libmail
import libmail.aio
assert libmail.__file__.startswith(sys.argv[1]), libmail.__file__
print("installed", libmail.__version__, "over libmail", libmail.library_version,
      "from", libmail.library_path)
PY
