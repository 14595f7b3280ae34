#!/usr/bin/env bash
# Issue 8's GPU measurement in one command, on a CUDA machine with no network.
#
#   1. benchmarks/gpu_wheels.sh            (beforehand, where there is network: fills .whl/)
#   2. benchmarks/gpu.sh [bench_gpu.py options]   (on the GPU machine, from the repo root)
#
# Installs the prepared wheels into a private folder (the machine's own torch, CUDA and
# numpy are used as they are), checks that vsearch's core imports and sees the GPU, then runs
# benchmarks/bench_gpu.py: encoder images/s for ViT-B-32 and ViT-L-14 in fp16, decode-only
# speed with one video per core (software and NVDEC), and end-to-end indexing speed in the
# default keyframe mode and exact 1 frame/s. Results: $OUT/gpu.json (or benchmarks/out/).
set -euo pipefail
cd "$(dirname "$0")/.."
wheels=${VSEARCH_WHEELS:-.whl}
site=${VSEARCH_SITE:-/tmp/vsearch-site}
out=${OUT:-benchmarks/out}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$wheels"/*.whl
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
# hnswlib from its source (no wheels on PyPI): needs a C++ compiler; pybind11 comes from the wheels
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir --target "$site" "$wheels"/hnswlib-*.tar.gz
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "cores: $(nproc)"
python3 -c "import torch, av, hnswlib, open_clip, sqlite_utils, platformdirs, vsearch.service; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'pyav', av.__version__, 'hnswlib', getattr(hnswlib, '__version__', '0.8'), 'open_clip', open_clip.__version__)"
mkdir -p "$out"
python3 benchmarks/bench_gpu.py --json "$out/gpu.json" "$@" 2>&1 | grep -v "Model initialized randomly" | tee "$out/gpu.log"
