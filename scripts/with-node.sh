#!/usr/bin/env bash
# Runs a command with Node >= 22.12 first on PATH.
#
# wrangler (and so `npm start` / `npm test`) needs Node 22.12+. Machines that still have an
# older Node get Node 22 from the npm registry's `node@22` package (it ships the binary),
# installed once into a cache folder — never by hand, never from anywhere but the registry.
#
#   bash scripts/with-node.sh <command> [args...]   # run one command under Node 22
#   source scripts/with-node.sh                     # or: put Node 22 on this shell's PATH
TESSERA_NODE_CACHE="${TESSERA_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera/node22}"

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)'
}

if ! node_is_recent; then
  bin="$TESSERA_NODE_CACHE/node_modules/node/bin"
  if [ ! -x "$bin/node" ]; then
    echo "tessera: Node $(node --version 2>/dev/null || echo none) is older than 22.12; installing node@22 into $TESSERA_NODE_CACHE" >&2
    mkdir -p "$TESSERA_NODE_CACHE"
    # Install scripts must run: the node package's postinstall places the binary.
    npm install --prefix "$TESSERA_NODE_CACHE" --no-save --no-audit --no-fund --ignore-scripts=false \
      --loglevel=error node@22 >&2
  fi
  export PATH="$bin:$PATH"
  node_is_recent || { echo "tessera: could not provision Node 22 (got $(node --version))" >&2; exit 1; }
fi

# Sourced: leave the PATH in place. Executed: run the command.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
  exec "$@"
fi
