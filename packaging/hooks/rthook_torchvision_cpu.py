"""Runtime hook: let torchvision's Python code import beside a CPU-only torch.

The bundle pairs the CPU torch wheel with PyPI's torchvision, whose compiled ops
(``_C_stable.so``) are linked against CUDA torch and so cannot load. torchvision then
still registers fake kernels for ``torchvision::nms``/``qnms`` on import and fails
because the operators were never defined. vsearch only uses torchvision's transforms
(through open_clip), so when the compiled ops are missing this hook defines the two
operator schemas (no kernels) just before ``torchvision._meta_registrations`` runs.
Calling ``torchvision.ops.nms`` would still fail, with torch's "no kernel" error.
"""

import importlib.abc
import sys

_LIBS = []


class _TorchvisionSchemaFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201
        if fullname != "torchvision._meta_registrations":
            return None
        sys.meta_path.remove(self)
        try:
            import torch
            import torchvision.extension

            if not torchvision.extension._has_ops():
                lib = torch.library.Library("torchvision", "DEF")
                lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
                lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
                _LIBS.append(lib)
        except Exception:  # never block the import itself; torchvision reports its own error
            pass
        return None


sys.meta_path.insert(0, _TorchvisionSchemaFinder())
