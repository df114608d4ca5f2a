#!/usr/bin/env bash
# Builds the console's page bundle into internal/console/assets/console.js
# from the pinned npm packages (package-lock.json). OUT=<file> writes
# elsewhere (CI rebuilds and compares with the committed bundle).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/../../internal/console/assets/console.js}
cd "$here"
npm ci --no-audit --no-fund --loglevel=error >&2
./node_modules/.bin/esbuild src/main.js --bundle --minify --format=iife --target=es2020 \
  --legal-comments=none --charset=utf8 --outfile="$out" --log-level=warning \
  --banner:js='/*! ksml web console, built by web/console/build.sh. Includes @dagrejs/dagre and @dagrejs/graphlib, Copyright (c) 2012-2014 Chris Pettitt, MIT License: web/console/THIRD_PARTY_LICENSES */'
