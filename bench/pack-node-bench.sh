#!/usr/bin/env bash
# Packs `npm run bench:node` for a machine that has a GPU but no Node.js or npm: one bundle of
# bench/node.ts, Dawn's linux-x64 binary and Node itself, into .gpu/ (ignored by git). Run there with
#   xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node && /tmp/node .gpu/bench-node.mjs --data /tmp --out "$OUT"
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
rm -rf "$out"
mkdir -p "$out/node_modules/webgpu/dist/linux-x64"
npx esbuild bench/node.ts --bundle --platform=node --format=esm --target=node20 --external:webgpu \
  --outfile="$out/bench-node.mjs" --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$out/node_modules/webgpu/dist/linux-x64/"
xz -T2 -c "$(command -v node)" > "$out/node.xz"
du -sh "$out"
