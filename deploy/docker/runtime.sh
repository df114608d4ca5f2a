#!/bin/sh
# runtime stage of the Dockerfile: the shared libraries ksml links and the
# image layout. ROOT (default /) prefixes every path, so the layout can be
# laid out and checked outside an image.
#
#   /opt/ksml/ksml                   the binary (copied in by the Dockerfile)
#   /opt/ksml/venv/lib/python3.11/site-packages
#                                    users' Python packages, on the embedded
#                                    interpreter's sys.path through a .pth file
#   /ksml                            runner configuration, definitions, schemas (working directory)
#   /ksml-store                      state directory (a volume)
#   /licenses/LICENSE.txt            as upstream's image
#
# The user ksml (uid 1024, group 0, as upstream's image) owns the writable
# places; group 0 gets the owner's rights, so an arbitrary uid in group 0
# (OpenShift) works too.
set -eu
ROOT=${ROOT:-}
apt-get update
# libpython3.11 brings libpython3.11-stdlib and -minimal: the standard library
# under /usr/lib/python3.11 that the embedded interpreter imports.
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpython3.11 ca-certificates tzdata
# Image layers drop the package lists; deploy/docker/test, which runs this on a
# machine, keeps them (KSML_KEEP_APT_LISTS=true).
[ "${KSML_KEEP_APT_LISTS:-}" = true ] || rm -rf /var/lib/apt/lists/*
site=/opt/ksml/venv/lib/python3.11/site-packages
mkdir -p "$ROOT/ksml" "$ROOT/ksml-store" "$ROOT$site" "$ROOT/licenses" "$ROOT/usr/local/lib/python3.11/dist-packages"
echo "$site" >"$ROOT/usr/local/lib/python3.11/dist-packages/ksml-venv.pth"
if [ -z "$ROOT" ]; then
	useradd -g 0 -u 1024 -d /home/ksml -m -s /bin/sh ksml
	chown -R 1024:0 /home/ksml
fi
chown -R 1024:0 "$ROOT/ksml" "$ROOT/ksml-store" "$ROOT/opt/ksml"
chmod -R g=u "$ROOT/ksml" "$ROOT/ksml-store" "$ROOT/opt/ksml"
