#!/usr/bin/env bash
# Prepare, on a machine WITH network, the wheels benchmarks/gpu.sh installs on a CUDA machine
# WITHOUT network. That machine is expected to have Python with a CUDA build of torch and
# torchvision, numpy, opencv, timm, huggingface_hub, tokenizers, regex, tqdm, click, tabulate,
# python-dateutil and pluggy (a stock PyTorch/CUDA image); everything else vsearch's core needs
# is fetched here, for its Python version and x86-64 Linux.
#
# Usage: benchmarks/gpu_wheels.sh [DIR] [PYTHON_VERSION]     (defaults: .whl 3.12)
set -euo pipefail
dir=${1:-.whl}
py=${2:-3.12}
mkdir -p "$dir"
python3 -m pip download --no-deps --only-binary=:all: --python-version "$py" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$dir" \
    av==18.1.0 pybind11==2.13.6 open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.9.4 \
    sqlite-utils==4.2.1 click-default-group==1.2.4 sqlite-fts4==1.0.3 platformdirs==4.14.8
# hnswlib 0.8.0 is published as source only: gpu.sh builds it there (C++ compiler, pybind11 above)
python3 -m pip download --no-deps --no-binary=:all: -d "$dir" hnswlib==0.8.0
du -sh "$dir"
