#!/bin/sh
# python stage of the Dockerfile: a virtual environment with the packages of a
# requirements file, for the embedded interpreter of the runtime image.
#
#   python-packages.sh VENV REQUIREMENTS [PIP_ARGS...]
#
# The venv is made by the same Debian python3.11 whose libpython the runtime
# stage installs, so compiled wheels match its ABI. Only VENV/lib/python3.11/
# site-packages is copied into the runtime image (it has no python3 program);
# pip and setuptools are removed from it afterwards. A requirements file with
# only comments and blank lines gives an empty site-packages.
set -eu
venv=$1 req=$2
shift 2
python3 -m venv "$venv"
if grep -qv '^[[:space:]]*\(#.*\)\{0,1\}$' "$req"; then
	"$venv/bin/pip" install --no-cache-dir --disable-pip-version-check -r "$req" "$@"
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
"$venv/bin/pip" uninstall -q -y --disable-pip-version-check pip setuptools
# pip removes site-packages when it becomes empty; the Dockerfile copies it.
mkdir -p "$site"
