#!/bin/sh
# Run the gpu.js headlessgl conformance suite under a virtual X display (headless-gl needs one).
# Needs the optional `gl` addon built (libxi-dev libglu1-mesa-dev libglew-dev pkg-config libx11-dev libxext-dev)
# and xvfb (Debian: xvfb). Usage, from anywhere: packages/gpu-kernels/test/run-headlessgl.sh
set -eu
cd "$(dirname "$0")/.."
exec xvfb-run -a npx vitest run test/gpujs-headlessgl.conformance.test.ts "$@"
