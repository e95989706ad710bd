#!/usr/bin/env bash
# Copies the rendered figures (output/*.png, from `make figures`) into docs/gallery/, the
# small committed copies the README shows. Refuses a PNG over 200 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/gallery
for name in fig1 smoothing-2d semiconcavity cole-hopf convergence ou-currents; do
  src="output/$name.png"
  [ -f "$src" ] || { echo "missing $src: run make figures first" >&2; exit 1; }
  size=$(( $(stat -c %s "$src") / 1024 ))
  [ "$size" -le 200 ] || { echo "$src is $size KB (> 200 KB)" >&2; exit 1; }
  cp "$src" "docs/gallery/$name.png"
  echo "docs/gallery/$name.png ($size KB)"
done
