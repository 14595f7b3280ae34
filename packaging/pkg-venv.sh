#!/bin/sh
# Make the build environment for the bundle: build/pkg-venv, a venv layered over the dev
# venv (.venv) whose only own packages are a CPU-only torch and PyInstaller. Everything
# else (open_clip, PySide6, PyAV, the starter model...) comes from .venv, so this costs one
# torch wheel, not a second full install. See docs/PACKAGING.md ("CPU or CUDA torch").
#   PKG_TORCH     torch requirement for the bundle (default torch==2.13.0, the CPU wheel;
#                 elsewhere add PKG_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu")
#   PKG_TORCH=none  use .venv's torch as is (a CUDA build when .venv has one: see the docs)
set -eu
DEV=${1:-.venv}
PKG=${2:-build/pkg-venv}
PKG_TORCH=${PKG_TORCH:-torch==2.13.0}
PKG_PIP_ARGS=${PKG_PIP_ARGS:-}
DEV_SITE=$("$DEV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
"$DEV/bin/python" -m venv --clear "$PKG"
PKG_SITE=$("$PKG/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
# Put the dev venv after this one on sys.path, processing its .pth files (the editable vsearch).
echo "import site; site.addsitedir('$(cd "$DEV_SITE" && pwd)')" > "$PKG_SITE/zz_dev_venv.pth"
if [ "$PKG_TORCH" != "none" ]; then
    # shellcheck disable=SC2086
    "$PKG/bin/python" -m pip install -q --no-deps $PKG_PIP_ARGS "$PKG_TORCH"
fi
"$PKG/bin/python" -m pip install -q "pyinstaller>=6" "pyinstaller-hooks-contrib>=2024.0"
"$PKG/bin/python" -c "import torch, PyInstaller; print('bundle build env: torch', torch.__version__, '/ PyInstaller', PyInstaller.__version__)"
