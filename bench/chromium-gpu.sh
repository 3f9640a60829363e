#!/usr/bin/env bash
# `npm run bench` in Chromium on a real GPU, on a Linux machine that has the GPU's driver but no Node.js,
# npm, browser or display (the lent NVIDIA machine). Three steps:
#
#   bash bench/chromium-gpu.sh pack     # here: writes .cgpu/1 to .cgpu/4 (ignored by git)
#   bash bench/chromium-gpu.sh unpack   # there, once per part, each part sent by one call in turn
#   bash bench/chromium-gpu.sh run --inputs … --reps 5 --out NAME   # there: npm run bench's flags
#
# What travels: Debian's Chromium with the shared libraries it links and its resources, Xvfb (Chromium
# reaches a real GPU's Vulkan only through a window system: headless, it asks the driver for
# VK_EXT_headless_surface, which NVIDIA's lacks, and WebGPU then falls back to SwiftShader), Node itself,
# the node_modules the benchmark loads, and dist/ (name it in the fourth call's carry, which can run the
# benchmark too). Each call carries the working tree as well, so every part stays under about 55 MB:
# Chromium is split over the first, second and fourth parts. Each part unpacks into /tmp/cgpu,
# which lasts while the machine is held. `run` starts Xvfb and runs the benchmark with
# BENCH_CHROMIUM_ARGS (ANGLE and WebGPU on Vulkan, presented through X11), and copies the results to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${CGPU_DIR:-/tmp/cgpu}

pack() {
  local chrome=/usr/lib/chromium work
  # CHROME_PATH's folder where it holds the browser itself (Debian's /usr/bin/chromium is a script).
  if [ -n "${CHROME_PATH:-}" ] && [ -e "$(dirname "$(realpath "$CHROME_PATH")")/icudtl.dat" ]; then
    chrome=$(dirname "$(realpath "$CHROME_PATH")")
  fi
  work=$(mktemp -d)
  rm -rf .cgpu && mkdir -p .cgpu/1 .cgpu/2 .cgpu/3 .cgpu/4 "$work/aux/lib" "$work/aux/chromium" "$work/x"
  xz -T0 -6 -c "$chrome/chromium" | split -b 18000000 -d - .cgpu/1/chromium.xz.
  # Three pieces travel alone, the fourth with the second part's files, the rest with dist/. `unpack`
  # joins them once all have come (their number is in chromium.parts).
  find .cgpu/1 -name 'chromium.xz.*' | wc -l >.cgpu/1/chromium.parts
  for part in .cgpu/1/chromium.xz.*; do
    case ${part##*.} in 00 | 01 | 02) ;; 03) mv "$part" .cgpu/2/ ;; *) mv "$part" .cgpu/4/ ;; esac
  done
  # The libraries Chromium links, less glibc's own (the machine's loader must match its libc), and NSS's
  # modules, which it opens at run time.
  ldd "$chrome/chromium" | awk '$3 ~ /^\// {print $3}' | grep -Ev '/(libc|libm|libpthread|libdl|librt|libresolv)\.so' |
    xargs -I{} cp -L {} "$work/aux/lib/"
  cp -L /usr/lib/x86_64-linux-gnu/lib{freebl3,freeblpriv3,softokn3,nssckbi}.so "$work/aux/lib/"
  (cd "$chrome" && cp -r ./*.pak icudtl.dat libEGL.so libGLESv2.so libvulkan.so.1 locales snapshot_blob.bin \
    v8_context_snapshot.bin "$work/aux/chromium/")
  tar -C "$work/aux" -cJf .cgpu/2/aux.tar.xz .
  # The GL dispatch libraries NVIDIA's Vulkan driver (libGLX_nvidia.so.0) loads: without them it offers no
  # window-system extensions, and ANGLE fails on Vulkan.
  mkdir -p .cgpu/2/lib
  for lib in libEGL.so.1 libOpenGL.so.0 libGLX.so.0 libGLdispatch.so.0; do
    cp -L "/usr/lib/x86_64-linux-gnu/$lib" .cgpu/2/lib/
  done
  (cd "$work" && apt-get download -qq xvfb libxfont2 libfontenc1 libxkbfile1 libunwind8 libxshmfence1 \
    libxcvt0 x11-xkb-utils xkb-data libgl1 libglx0 libglvnd0 libaudit1 libcap-ng0 libpixman-1-0)
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
  # In the third part: the second, with its Chromium piece, is as much as one call carries beside the tree.
  tar -C "$work/x" -cJf .cgpu/3/x.tar.xz .
  xz -T0 -6 -c "$(command -v node)" >.cgpu/3/node.xz
  node_modules_for vite @playwright/test tsx vitest apache-arrow comlink fzstd @uwdata/flechette |
    tar -cJf .cgpu/3/node_modules.tar.xz -T -
  rm -rf "$work"
  du -sh .cgpu/*
}

# The folders of these packages and of everything they depend on, as installed (flat).
node_modules_for() {
  node -e '
    const { existsSync, readFileSync } = require("node:fs");
    const seen = new Set(), todo = process.argv.slice(1);
    while (todo.length) {
      const name = todo.pop(), pkg = `node_modules/${name}/package.json`;
      if (seen.has(name) || !existsSync(pkg)) continue;
      seen.add(name);
      const p = JSON.parse(readFileSync(pkg, "utf8"));
      todo.push(...Object.keys({ ...p.dependencies, ...p.optionalDependencies }));
    }
    console.log([...seen].map((n) => `node_modules/${n}`).join("\n"));
  ' "$@"
}

unpack() {
  mkdir -p "$dest/x"
  for part in .cgpu/*/; do
    for f in "$part"chromium.xz.* "$part"chromium.parts; do if [ -e "$f" ]; then cp "$f" "$dest/"; fi; done
    if [ -e "$part/aux.tar.xz" ]; then tar -xJf "$part/aux.tar.xz" -C "$dest"; fi
    if [ -d "$part/lib" ]; then cp "$part"/lib/* "$dest/lib/"; fi
    if [ -e "$part/x.tar.xz" ]; then tar -xJf "$part/x.tar.xz" -C "$dest/x"; fi
    if [ -e "$part/node.xz" ]; then xz -dc "$part/node.xz" >"$dest/node" && chmod +x "$dest/node"; fi
    if [ -e "$part/node_modules.tar.xz" ]; then tar -xJf "$part/node_modules.tar.xz"; fi
  done
  local parts
  parts=$(find "$dest" -maxdepth 1 -name 'chromium.xz.*' | wc -l)
  if [ -e "$dest/chromium.parts" ] && [ "$parts" -eq "$(cat "$dest/chromium.parts")" ] && [ -d "$dest/chromium" ]; then
    cat "$dest"/chromium.xz.* | xz -T0 -dc >"$dest/chromium/chromium"
    chmod +x "$dest/chromium/chromium" && rm "$dest"/chromium.xz.* "$dest/chromium.parts"
  fi
  ls "$dest" "$dest/chromium" 2>/dev/null | tr "\n" " " && echo || true
}

run() {
  # Xvfb runs xkbcomp from where Debian puts it.
  [ -e /usr/bin/xkbcomp ] || ln -s "$dest/x/usr/bin/xkbcomp" /usr/bin/xkbcomp
  if ! pgrep -x Xvfb >/dev/null; then
    LD_LIBRARY_PATH="$dest/x/usr/lib/x86_64-linux-gnu:$dest/lib" setsid "$dest/x/usr/bin/Xvfb" :77 -nolisten tcp \
      -screen 0 1280x1024x24 -xkbdir "$dest/x/usr/share/X11/xkb" >"$dest/xvfb.log" 2>&1 &
    sleep 2
  fi
  # Node starts Chromium with its own environment: the libraries' folder is on Node's path too (it runs
  # with them, Debian 12's, as it runs on Debian 12).
  export DISPLAY=:77 LD_LIBRARY_PATH="$dest/lib" CHROME_PATH="$dest/chromium/chromium"
  export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
  export BENCH_CHROMIUM_ARGS="--no-sandbox --ozone-platform=x11 --enable-unsafe-webgpu --ignore-gpu-blocklist
    --enable-gpu --enable-features=Vulkan,DefaultANGLEVulkan,VulkanFromANGLE --use-angle=vulkan
    --disable-vulkan-surface --disable-background-networking --disable-component-update --disable-sync
    --no-first-run"
  local status=0 name=latest prev=""
  for arg in "$@"; do
    if [ "$prev" = --out ]; then name=$arg; fi
    case $arg in --out=*) name=${arg#--out=} ;; esac
    prev=$arg
  done
  "$dest/node" node_modules/tsx/dist/cli.mjs bench/run.ts "$@" || status=$?
  if [ -n "${OUT:-}" ]; then cp "bench/results/$name.json" "bench/results/$name".md "bench/results/$name"-*.md "$OUT/" 2>/dev/null || true; fi
  return $status
}

"$@"
