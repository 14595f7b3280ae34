"""A local Hugging Face hub for download tests, and the tiny open_clip model it serves.

``HubServer`` answers huggingface_hub's resolve URLs (``/{repo}/resolve/{revision}/{file}``) on
127.0.0.1 the way huggingface.co does for a git-lfs file: ``HEAD`` and ``GET`` carry
``X-Repo-Commit``, ``ETag`` (the content's sha256, quoted) and ``Content-Length``; ``GET`` honours
``Range: bytes=N-`` with ``206`` and ``Content-Range``; a missing file is ``404`` with
``X-Error-Code: EntryNotFound``. It can stall part-way (so a client can be killed mid-download)
and serve corrupted bytes under the right checksum.

``TAG`` is a pretrained tag for vsearch's tiny test architecture whose ``hf_hub`` entry points at
``REPO``; :func:`register_tag` adds it to open_clip's table in the calling process (open_clip has
no public call for that), so ``tiny_clip/hubtest`` can be downloaded like a preset.

Run as ``python -m tests.helpers.hub ARGS`` it is the ``vsearch`` command line with the tag
registered (and huggingface_hub's 10 MB read chunk made small, so a partial file reaches the disk
before the whole tiny model has arrived).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO = "vsearch-test/tiny-clip"
FILE = "open_clip_model.safetensors"
TAG = "hubtest"
NAME = f"tiny_clip/{TAG}"
COMMIT = "c0ffee" + "0" * 34


def register_tag() -> None:
    """Make ``tiny_clip/hubtest`` an open_clip pretrained tag served from ``REPO`` on the hub."""
    from open_clip import pretrained

    from vsearch.embed.arch import TINY_ARCH, ensure_bundled_configs

    ensure_bundled_configs()
    pretrained._PRETRAINED.setdefault(TINY_ARCH, {})[TAG] = pretrained._pcfg(hf_hub=f"{REPO}/")


def tiny_checkpoint(seed: int = 7) -> bytes:
    """A randomly initialised tiny open_clip model as a safetensors file (about 6 MB)."""
    import open_clip
    import torch
    from safetensors.torch import save

    from vsearch.embed.arch import TINY_ARCH, ensure_bundled_configs

    ensure_bundled_configs()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = open_clip.create_model(TINY_ARCH, pretrained=None)
    return save({k: v.contiguous() for k, v in model.state_dict().items()})


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    sent: int = 0


@dataclass
class HubState:
    files: dict[str, bytes]
    commit: str = COMMIT
    corrupt: bool = False
    stall_after: int | None = None  # a full GET stops after this many bytes until release()
    chunk: int = 64 << 10
    pace: float = 0.0  # seconds to wait after each chunk (a slow connection: speed and ETA show)
    requests: list[Request] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    stalled: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: HubState

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self._serve(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        st = self.state
        req = Request(self.command, self.path, self.headers.get("Range"))
        st.requests.append(req)
        m = re.fullmatch(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)", self.path)
        key = f"{m['repo']}/{m['file']}" if m else ""
        if key not in st.files:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("X-Error-Message", "Entry not found")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = st.files[key]
        etag = hashlib.sha256(data).hexdigest()
        if st.corrupt:  # same length, one byte flipped, the good checksum: what a bad proxy does
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
        start = 0
        rng = re.fullmatch(r"bytes=(\d+)-", req.range or "")
        if body and rng:
            start = int(rng[1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("X-Repo-Commit", st.commit)
        self.send_header("ETag", f'"{etag}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if not body:
            return
        pos = start
        try:
            while pos < len(data):
                if st.stall_after is not None and start == 0 and pos >= st.stall_after:
                    st.stalled.set()
                    st.released.wait(60)
                    return  # the client was killed meanwhile, or gives up on a short body
                end = min(len(data), pos + st.chunk)
                self.wfile.write(data[pos:end])
                self.wfile.flush()
                req.sent += end - pos
                pos = end
                if st.pace:
                    time.sleep(st.pace)
        except (BrokenPipeError, ConnectionResetError):
            return


class HubServer:
    """A hub on ``http://127.0.0.1:PORT`` serving *files* (``{repo}/{file}`` -> bytes) in a thread."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.state = HubState(files=files)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def gets(self) -> list[Request]:
        return [r for r in self.state.requests if r.method == "GET"]


def main(argv: list[str]) -> int:
    import huggingface_hub.constants

    from vsearch.cli import main as cli_main

    register_tag()
    huggingface_hub.constants.DOWNLOAD_CHUNK_SIZE = 64 << 10
    return cli_main(argv)


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
