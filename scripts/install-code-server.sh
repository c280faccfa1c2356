#!/usr/bin/env bash
# Installs code-server (a real VS Code workbench served over HTTP) for the end-to-end test, offline, into a cache
# folder outside the repository. Idempotent: does nothing when the wanted version is already there.
# See ../shared/docs/E2E.md for why each step below is needed.
#   IL_CODE_SERVER_DIR   install folder (default /opt/instruction-lens-cache/code-server)
set -euo pipefail

VERSION=4.100.3
RIPGREP_PACKAGE_VERSION=1.15.11
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
DIR="${IL_CODE_SERVER_DIR:-/opt/instruction-lens-cache/code-server}"
BIN="$DIR/node_modules/.bin/code-server"

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null | head -n1 | cut -d' ' -f1)" = "$VERSION" ]; then
  echo "code-server $VERSION already installed in $DIR"
  exit 0
fi

# 1. System packages: gssapi headers for a native module, Debian's rg (trap 4), the browser the test drives.
missing=()
for pkg in libkrb5-dev ripgrep chromium; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-code-server: missing system packages ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi

# 4. @vscode/ripgrep would download rg from GitHub; it first looks for this tarball in its cache folder.
tmp="${TMPDIR:-/tmp}"
rg_cache="$tmp/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION"
if [ ! -s "$rg_cache/$RIPGREP_ASSET" ]; then
  mkdir -p "$rg_cache"
  staging="$(mktemp -d)"
  cp "$(command -v rg)" "$staging/rg"
  tar -czf "$rg_cache/$RIPGREP_ASSET.partial" -C "$staging" rg
  mv "$rg_cache/$RIPGREP_ASSET.partial" "$rg_cache/$RIPGREP_ASSET"
  rm -rf "$staging"
fi

# Install into a staging folder and swap it in at the end, so an interrupted install never looks complete.
mkdir -p "$(dirname "$DIR")"
staging_dir="$DIR.partial"
rm -rf "$staging_dir"
mkdir -p "$staging_dir"
echo '{"name":"instruction-lens-code-server","private":true}' > "$staging_dir/package.json"
# 2. postinstall refuses to run as root without unsafe-perm. 3. a postinstall runs `npx node-gyp` non-interactively.
(
  cd "$staging_dir"
  npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --no-audit --no-fund --no-package-lock --loglevel=error "code-server@$VERSION"
)
"$staging_dir/node_modules/.bin/code-server" --version >/dev/null
rm -rf "$DIR"
mv "$staging_dir" "$DIR"
echo "code-server $VERSION installed in $DIR"
