#!/bin/sh
# Regenerates models/engram-glyph.{onnx,json,calib.f32,codepoints.txt} and models/engram-glyph-fp32.onnx from scratch.
# Needs: apt-get install python3-torch python3-onnx python3-numpy python3-pil python3-fonttools \
#        fonts-noto-core fonts-noto-extra fonts-dejavu-core fonts-dejavu-extra
# and node_modules (onnxruntime-node) from npm install. Usage: tools/train-backbone/build.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-"$root/build/train-backbone"}
seed=${SEED:-1}
steps=${STEPS:-1500}
# Debian's torch lives in the system python; a pyenv or venv python on PATH would not see it.
py=${PYTHON:-/usr/bin/python3}
mkdir -p "$build"
export OMP_NUM_THREADS=1
start=$(date +%s)
cd "$here"
nice -n 10 "$py" render.py "$build/glyphs.npz" --seed "$seed" --codepoints "$root/models/engram-glyph.codepoints.txt"
nice -n 10 "$py" train.py "$build/glyphs.npz" "$build/checkpoint.pt" --seed "$seed" --steps "$steps"
nice -n 10 "$py" export.py "$build/glyphs.npz" "$build/checkpoint.pt" "$build" --name engram-glyph
cp "$build/engram-glyph-fp32.onnx" "$root/models/engram-glyph-fp32.onnx"
node "$here/finish.mjs" "$build" "$root/models" --name engram-glyph
echo "train-backbone: done in $(( $(date +%s) - start )) s; build files in $build"
