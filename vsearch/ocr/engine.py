"""PP-OCRv4 text detection and recognition (rapidocr-onnxruntime), offline, from the wheel's models."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from vsearch.errors import ModelMissing

RAPIDOCR_VERSION = "1.4.4"
MODEL_ID = f"rapidocr:{RAPIDOCR_VERSION}:ppocrv4-ch"

#: The detector sees frames at most this long on their longer side (no upscaling).
DETECT_SIDE = 960
#: The text/no-text gate runs the same detector at most this long on the longer side (640x360 ->
#: 384x224: 0.4 of the pixels, a quarter of the CPU time); text as small as 1/26 of the frame
#: height (the dev clips' corner badges) still lights its probability map up (docs/OCR.md).
GATE_SIDE = 384
#: A frame has text when some pixel of the gate's probability map reaches this (DB's own
#: binarisation threshold; text-free dev-set frames stay below 0.15, text reaches 0.9-1.0).
GATE_PROB = 0.3


class OcrEngine:
    """Text boxes and their strings in RGB frames.

    The text-direction classifier of rapidocr is not used: burned-in video text is upright, and
    it costs a third of the recognition time.

    Attributes:
        model_id: names the detector + recogniser (stored with every span).
    """

    model_id = MODEL_ID

    def __init__(self, threads: int = 0) -> None:
        """*threads*: onnxruntime intra-op threads (0: onnxruntime's default, all cores).

        The sessions are rebuilt without intra-op spinning: onnxruntime's threads otherwise
        busy-wait between the many small runs of a video (a third of the detector's CPU time on
        this 2-core machine, for no gain in wall time when other work shares the cores).

        Raises:
            ModelMissing: rapidocr-onnxruntime is not installed.
        """
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as e:
            raise ModelMissing(
                f"on-screen text needs rapidocr-onnxruntime ({e}); "
                "install it with: pip install --no-deps rapidocr-onnxruntime==1.4.4 pyclipper shapely six"
            ) from None
        kwargs: dict[str, Any] = {"det_limit_side_len": DETECT_SIDE, "det_limit_type": "max"}
        if threads > 0:
            kwargs["intra_op_num_threads"] = threads
        self._ocr = RapidOCR(**kwargs)
        _quiet_sessions(self._ocr, threads)
        det = self._ocr.text_det
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

        self._gate_pre = DetPreProcess(GATE_SIDE, "max", det.mean, det.std)
        self._lock = threading.Lock()

    def has_text(self, rgb: np.ndarray) -> bool:
        """Whether the frame may hold text: the detector's probability map at GATE_SIDE.

        About a quarter of a full detection's cost; frames it clears are not detected at full
        size. Frames no larger than GATE_SIDE are always passed on (the full run is as cheap).
        """
        if max(rgb.shape[0], rgb.shape[1]) <= GATE_SIDE:
            return True
        pre = self._gate_pre(np.ascontiguousarray(rgb[:, :, ::-1]))
        if pre is None:
            return True
        with self._lock:
            prob = self._ocr.text_det.infer(pre)[0]
        return bool(float(np.max(prob)) >= GATE_PROB)

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Quadrilaterals (float32 [4, 2], pixels, clockwise from top-left) of text lines, top to bottom."""
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._lock:
            boxes, _ = self._ocr.text_det(bgr)
        if boxes is None or len(boxes) == 0:
            return []
        return [np.asarray(b, dtype=np.float32) for b in self._ocr.sorted_boxes(boxes)]

    def recognise(self, rgb: np.ndarray, boxes: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, confidence in 0..1) of each box, in the same order."""
        if not boxes:
            return []
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._lock:
            crops = self._ocr.get_crop_img_list(bgr, [b.copy() for b in boxes])
            res, _ = self._ocr.text_rec(crops)
        return [(str(r[0]), float(r[1])) for r in res]


def _quiet_sessions(ocr: Any, threads: int) -> None:
    """Replace rapidocr's detector and recogniser sessions by the same models without spinning."""
    import os

    import onnxruntime as ort

    for holder in (ocr.text_det.infer, ocr.text_rec.session):
        old = holder.session
        path = getattr(old, "_model_path", None)
        if not path or not os.path.exists(path):
            continue  # keep rapidocr's session: it works, it only spins
        opts = ort.SessionOptions()
        opts.log_severity_level = 4
        opts.enable_cpu_mem_arena = False
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            opts.intra_op_num_threads = threads
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        holder.session = ort.InferenceSession(path, sess_options=opts, providers=old.get_providers())
