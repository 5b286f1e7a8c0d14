#!/usr/bin/env bash
# Sets a fresh machine up for formers: pnpm itself, the workspace's packages, and (as root on Debian) the system
# packages the browser and headless-gl backends need. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../.."
PNPM_VERSION=10.34.9

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  # corepack's signature check fails against some registries; a global npm install works everywhere.
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || { COREPACK_INTEGRITY_KEYS=0 corepack enable && corepack prepare "pnpm@$PNPM_VERSION" --activate; }
fi

# Optional system packages: Chromium + Vulkan (SwiftShader) for the webgl2/webgpu backends, the X/GL headers
# headless-gl builds against, and xvfb to run it. Skipped when not root or not on apt.
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  need=""
  for p in chromium libvulkan1 xvfb libxi-dev libglu1-mesa-dev libglew-dev pkg-config libx11-dev libxext-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
  done
  if [ -n "$need" ]; then
    echo "setup: apt-get install$need"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null) \
      || echo "setup: apt-get failed; browser/headless-gl backends will report themselves unavailable"
  fi
fi

# onnxruntime-node's postinstall downloads CUDA binaries (unreachable here); its CPU binaries ship in the tarball.
export ONNXRUNTIME_NODE_INSTALL=skip
pnpm install --frozen-lockfile
