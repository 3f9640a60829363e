#!/usr/bin/env bash
# Packs `npm run bench:node` for a machine that has a GPU but no Node.js or npm: one bundle of
# bench/node.ts, Dawn's linux-x64 binary, Node itself, and the shared libraries Dawn's Vulkan backend needs
# that a bare image may lack (the Vulkan loader, and the GL dispatch libraries NVIDIA's Vulkan driver
# libGLX_nvidia.so.0 loads), into .gpu/ (ignored by git). Run there with
#   xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node
#   LD_LIBRARY_PATH=$PWD/.gpu/lib /tmp/node .gpu/bench-node.mjs --data /tmp --out "$OUT"   # the load benchmark
#   LD_LIBRARY_PATH=$PWD/.gpu/lib /tmp/node .gpu/bench-node.mjs --data /tmp --out "$OUT" --decode-workers 1,2,4,8
#   LD_LIBRARY_PATH=$PWD/.gpu/lib /tmp/node .gpu/bench-node.mjs --queries --out "$OUT"     # the query benchmark
# and, where Vulkan finds no driver, VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
# (the driver's manifest, wherever the image keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
rm -rf "$out"
mkdir -p "$out/node_modules/webgpu/dist/linux-x64" "$out/lib"
npx esbuild bench/node.ts --bundle --platform=node --format=esm --target=node20 --external:webgpu \
  --outfile="$out/bench-node.mjs" --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
# The decode workers' entry (`--decode-workers`), beside the bench bundle that starts it.
npx esbuild workers/decode.node.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$out/decode-node.mjs" --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$out/node_modules/webgpu/dist/linux-x64/"
# The first copy found of each library: the system's, or Chromium's (which ships a Vulkan loader).
system=/usr/lib/x86_64-linux-gnu
chromium=$(dirname "$(realpath "${CHROME_PATH:-/usr/bin/chromium}")")
for lib in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1 libOpenGL.so.0; do
  found=""
  for dir in "$system" "$chromium" /usr/lib/chromium; do
    if [ -e "$dir/$lib" ]; then found="$dir/$lib"; break; fi
  done
  if [ -z "$found" ]; then
    echo "pack-node-bench: $lib not found in $system or Chromium's directory (apt-get install libvulkan1 libglvnd0 libglx0 libegl1 libopengl0)" >&2
    exit 1
  fi
  cp -L "$found" "$out/lib/$lib"
done
xz -T2 -c "$(command -v node)" > "$out/node.xz"
du -sh "$out"
