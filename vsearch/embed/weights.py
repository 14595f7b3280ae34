"""Model weights on disk: finding them in a hub cache, downloading them (resumable, verified), checkpoints.

Downloads follow the Hugging Face hub's protocol (``HEAD {endpoint}/{repo}/resolve/main/{file}``
answers with ``X-Repo-Commit``, ``ETag`` and ``Content-Length``; the body is fetched with
``Range`` requests) but keep their partial file under vsearch's own name in the hub cache's
``blobs/`` folder, so a download stopped by a quit, a kill or a dropped connection continues where
it stopped on the next try (huggingface_hub itself resumes only within one process). The finished
file is checked against its ETag (the sha256 of a git-lfs file, the git blob sha1 of a small one)
before it is laid out as ``snapshots/{commit}/{file}`` where open_clip and
``try_to_load_from_cache`` find it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from vsearch.embed.arch import hf_text_repo, model_config, pretrained_config
from vsearch.errors import Cancelled, EnvironmentProblem, UserError
from vsearch.log import models as log
from vsearch.types import CancelToken

#: Sub-folder of the models dir holding downloaded weights, in Hugging Face hub cache layout.
HF_SUBDIR = "hf"
#: The file names open_clip looks for in an ``hf_hub`` repo, safest first.
HF_WEIGHT_NAMES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
#: Files an ``hf_model_name`` text tower (XLM-RoBERTa) needs from the hub, beside the weights.
HF_TEXT_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model")
#: Suffix of a partial download inside ``blobs/`` (kept between runs, unlike the hub's own).
PART_SUFFIX = ".vsearch-part"
#: Free space kept beyond a download's size.
DISK_MARGIN = 64 << 20

ProgressFn = Callable[[int, int], None]

_DIGEST_CACHE: dict[tuple[str, int, int], str] = {}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


# -- digests -------------------------------------------------------------------------------


def file_digest(path: str | os.PathLike[str]) -> str:
    """Short sha256 (16 hex digits) of a checkpoint, computed once per (path, size, mtime)."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    digest = _DIGEST_CACHE.get(key)
    if digest is None:
        digest = _hash_file(p, hashlib.sha256())[:16]
        _DIGEST_CACHE[key] = digest
    return digest


def remember_digest(path: str | os.PathLike[str], digest: str, size: int) -> None:
    """Trust a digest recorded earlier (models.json) for *path* while its size still matches."""
    p = Path(path).resolve()
    st = p.stat()
    if st.st_size == size:
        _DIGEST_CACHE[(str(p), st.st_size, st.st_mtime_ns)] = digest


def _hash_file(path: Path, h: Any, prefix: bytes = b"") -> str:
    h.update(prefix)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return str(h.hexdigest())


# -- where weights are ---------------------------------------------------------------------


def hf_cache(models_dir: Path) -> Path:
    """Where downloaded weights live (Hugging Face hub cache layout)."""
    return Path(models_dir) / HF_SUBDIR


def hub_repo_cached(repo: str, models_dir: Path) -> bool:
    """Whether a hub cache on this machine holds a folder of *repo* (no open_clip, no network).

    Looks where :func:`find_pretrained_weights` does: the models folder's hub cache and the
    default one. False means the repo's weights are certainly absent; True means look closer.
    """
    from huggingface_hub import constants

    folder = "models--" + repo.replace("/", "--")
    return any((d / folder).is_dir() for d in (hf_cache(models_dir), Path(constants.HF_HUB_CACHE)))


def hf_weight_candidates(arch: str, tag: str) -> tuple[str, list[str]] | None:
    """(hf repo id, file names to try) for a pretrained tag, or None if it has no hf_hub entry."""
    hub = pretrained_config(arch, tag).get("hf_hub", "")
    if not hub:
        return None
    repo, fname = os.path.split(hub)
    if not fname:
        return repo, list(HF_WEIGHT_NAMES)
    names = [fname]
    if fname.endswith((".bin", ".pth")):
        names.insert(0, fname[:-4] + ".safetensors")
    return repo, names


def find_pretrained_weights(arch: str, tag: str, cache_dir: Path | None = None) -> str | None:
    """Local path of the weights for (arch, tag) if they are already on this machine, else None.

    Looks in *cache_dir* (a Hugging Face hub cache layout, where ``vsearch models download``
    puts them) and then in the default hub cache and ``~/.cache/clip`` where open_clip itself
    would have put them. Never touches the network.

    Raises:
        UserError: open_clip knows no such tag for *arch*.
    """
    from huggingface_hub import try_to_load_from_cache

    cfg = pretrained_config(arch, tag)
    dirs: list[Path | None] = [cache_dir, None] if cache_dir is not None else [None]
    hf = hf_weight_candidates(arch, tag)
    if hf is not None:
        repo, names = hf
        for d in dirs:
            for name in names:
                try:
                    found = try_to_load_from_cache(repo, name, cache_dir=d)
                except Exception:  # a malformed cache folder is the same as no cache
                    found = None
                if isinstance(found, str) and os.path.isfile(found):
                    return found
    url = cfg.get("url", "")
    if url:
        for folder in [cache_dir, Path("~/.cache/clip").expanduser()]:
            if folder is not None and (folder / os.path.basename(url)).is_file():
                return str(folder / os.path.basename(url))
    return None


def is_present(arch: str, tag: str, models_dir: Path) -> bool:
    """Whether (arch, tag) works offline here: its weights and any hub text tower files are cached."""
    from huggingface_hub import try_to_load_from_cache

    try:
        if find_pretrained_weights(arch, tag, hf_cache(models_dir)) is None:
            return False
        # open_clip builds HF text towers from the default hub cache (it passes no cache_dir)
        repo = hf_text_repo(arch)
        return repo is None or isinstance(try_to_load_from_cache(repo, "config.json"), str)
    except Exception:  # a broken cache is the same as an absent model
        return False


def partial_download(arch: str, tag: str, models_dir: Path) -> int:
    """Bytes of an unfinished download of (arch, tag) kept for resuming (0 when none)."""
    try:
        cand = hf_weight_candidates(arch, tag)
        if cand is None:
            return 0
        blobs = hf_cache(models_dir) / _repo_folder(cand[0]) / "blobs"
        return sum(p.stat().st_size for p in blobs.glob(f"*{PART_SUFFIX}"))
    except Exception:  # an unknown tag (older open_clip) or an unreadable folder: nothing to resume
        return 0


# -- downloads -----------------------------------------------------------------------------


#: Set (to "1") by the desktop app when it is the one that set HF_HUB_OFFLINE=1 (so nothing
#: it loads can reach the network by itself): an explicit download is then still the user's.
APP_OFFLINE_MARK = "VSEARCH_APP_SET_OFFLINE"


def offline() -> bool:
    """Whether the user turned downloads off (``HF_HUB_OFFLINE``; the app's own default does not count)."""
    if os.environ.get(APP_OFFLINE_MARK) == "1":
        return False
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


@contextlib.contextmanager
def _hub_online() -> Iterator[None]:
    """huggingface_hub's offline switch lifted for one explicit download that the app's default blocked."""
    from huggingface_hub import constants

    lift = os.environ.get(APP_OFFLINE_MARK) == "1" and bool(constants.HF_HUB_OFFLINE)
    if lift:
        constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        if lift:
            constants.HF_HUB_OFFLINE = True


def download(
    arch: str,
    tag: str,
    models_dir: Path,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Fetch the weights of (arch, tag) from the hub into ``models_dir/hf``; return their path.

    Only ever called on the user's explicit request. Already present: returns at once. Checks
    the free disk space before the first byte, resumes a partial file, verifies the finished
    file against the hub's checksum (a mismatch deletes it).

    Args:
        arch: open_clip architecture.
        tag: open_clip pretrained tag with an ``hf_hub`` entry.
        models_dir: the models folder.
        progress: called with (bytes done, bytes total) as the file arrives (resumed bytes count).
        cancel: ``cancel()`` stops the download; the partial file is kept for the next try.

    Raises:
        EnvironmentProblem: downloads disabled, no network, not enough disk space, a corrupt file.
        UserError: the weights are not on the hub (import them instead).
        Cancelled: *cancel* was cancelled.
    """
    model_config(arch)
    cache = hf_cache(Path(models_dir))
    found = find_pretrained_weights(arch, tag, cache)
    if found is not None:
        return Path(found)
    if offline():
        raise EnvironmentProblem("downloads are disabled (HF_HUB_OFFLINE=1)")
    cand = hf_weight_candidates(arch, tag)
    if cand is None:
        raise UserError(
            f"{arch}/{tag} is not on the Hugging Face hub; download it yourself and use `vsearch models import FILE --arch {arch}`"
        )
    repo, names = cand
    with _hub_online():
        text_repo = hf_text_repo(arch)
        if text_repo is not None:
            _download_text_tower(text_repo)
        last: str = "unknown error"
        for fname in names:
            meta = _metadata(repo, fname)
            if meta is None:
                last = f"{repo} has no {fname}"
                continue
            return _fetch(repo, fname, meta, cache, progress, cancel)
    raise EnvironmentProblem(f"download of {arch}/{tag} failed: {last}")


def _endpoint() -> str | None:
    """The hub to talk to: ``HF_ENDPOINT`` as it is now (huggingface_hub reads it at import)."""
    return os.environ.get("HF_ENDPOINT") or None


def _metadata(repo: str, fname: str) -> Any:
    """huggingface_hub's HfFileMetadata of *fname*, or None when the repo has no such file."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo, fname, revision="main", endpoint=_endpoint())
    try:
        meta = get_hf_file_metadata(url, endpoint=_endpoint(), retry_on_errors=True)
    except Exception as exc:
        response = getattr(exc, "response", None)
        if type(exc).__name__ in _NOT_FOUND or getattr(response, "status_code", 0) == 404:
            return None
        raise EnvironmentProblem(f"cannot reach the model hub for {repo}/{fname}: {first_line(exc)}") from exc
    if not meta.commit_hash or not meta.etag:
        raise EnvironmentProblem(
            f"the model hub's answer for {repo}/{fname} lacks its commit or checksum; not downloading"
        )
    return meta


def _fetch(
    repo: str,
    fname: str,
    meta: Any,
    cache: Path,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> Path:
    from huggingface_hub.file_download import http_get

    # public (its lazy __all__ lists it), but the stub-time re-export lacks "as", so strict mypy balks
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    root = cache / _repo_folder(repo)
    blobs = root / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    etag = str(meta.etag)
    blob = blobs / etag
    part = blobs / f"{etag}{PART_SUFFIX}"
    size = meta.size
    if not blob.is_file():
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have > size:  # not a prefix of this file: start again
            part.unlink()
            have = 0
        _check_disk_space(blobs, (size or 0) - have, fname)
        log.info("downloading %s/%s (%s bytes, %d already here)", repo, fname, size, have)
        try:
            with open(part, "ab") as fh:
                if size is None or have < size:
                    http_get(
                        meta.location,
                        fh,
                        resume_size=have,
                        headers=build_hf_headers(),
                        expected_size=size,
                        displayed_filename=fname,
                        tqdm_class=_progress_tqdm(progress, cancel),
                    )
                elif progress is not None:
                    progress(have, size)
        except Cancelled:
            log.info("download of %s/%s cancelled; %d bytes kept to resume", repo, fname, _size(part))
            raise
        except Exception as exc:
            raise EnvironmentProblem(
                f"download of {repo}/{fname} stopped ({first_line(exc)}); run it again to resume"
            ) from exc
        _verify(part, etag, size, f"{repo}/{fname}")
        os.replace(part, blob)
    snap = root / "snapshots" / str(meta.commit_hash) / fname
    snap.parent.mkdir(parents=True, exist_ok=True)
    if not snap.exists():
        try:
            snap.symlink_to(os.path.relpath(blob, snap.parent))
        except OSError:  # no symlinks here (Windows without developer mode): a copy
            shutil.copyfile(blob, snap)
    refs = root / "refs"
    refs.mkdir(exist_ok=True)
    (refs / "main").write_text(str(meta.commit_hash))
    return snap


def _verify(part: Path, etag: str, size: int | None, what: str) -> None:
    """Refuse (and delete) a finished download whose size or checksum is not the hub's."""
    got = _size(part)
    problem = ""
    if size is not None and got != size:
        problem = f"{got} bytes instead of {size}"
    elif _SHA256.match(etag):  # a git-lfs file: its ETag is the content's sha256
        digest = _hash_file(part, hashlib.sha256())
        problem = "" if digest == etag else f"sha256 {digest[:12]}... instead of {etag[:12]}..."
    elif _SHA1.match(etag):  # a small file in git: its ETag is the git blob sha1
        digest = _hash_file(part, hashlib.sha1(), f"blob {got}\0".encode())  # noqa: S324 - git's id, not security
        problem = "" if digest == etag else f"git sha1 {digest[:12]}... instead of {etag[:12]}..."
    else:
        log.warning("cannot verify %s: its ETag %r is not a checksum", what, etag)
    if problem:
        part.unlink(missing_ok=True)
        raise EnvironmentProblem(
            f"download of {what} is corrupt ({problem}); it was deleted, run the download again"
        )


def _check_disk_space(folder: Path, needed: int, fname: str) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if needed > 0 and free < needed + DISK_MARGIN:
        raise EnvironmentProblem(
            f"not enough disk space for {fname}: it needs {needed / 1e6:.0f} MB, "
            f"{folder} has {free / 1e6:.0f} MB free"
        )


def _download_text_tower(repo: str) -> None:
    """Tokenizer and config of a Hugging Face text tower, into the default hub cache (open_clip reads them there)."""
    from huggingface_hub import hf_hub_download

    for fname in HF_TEXT_FILES:
        try:
            hf_hub_download(repo, fname, endpoint=_endpoint())
        except Exception as exc:
            if type(exc).__name__ not in _NOT_FOUND:
                raise EnvironmentProblem(f"download of {repo}/{fname} failed: {first_line(exc)}") from exc


def _repo_folder(repo: str) -> str:
    return "models--" + repo.replace("/", "--")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


_NOT_FOUND = {"EntryNotFoundError", "RemoteEntryNotFoundError"}


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text (its type name when it has none), at most 200 characters."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _progress_tqdm(progress: ProgressFn | None, cancel: CancelToken | None = None) -> Any:
    """A tqdm subclass that forwards (done, total) to *progress* and stops on *cancel*."""
    from tqdm.auto import tqdm

    class _Forward(tqdm):  # type: ignore[misc]  # tqdm is untyped (Any)
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True  # no console bar; a disabled tqdm does not count, so we do
            super().__init__(*args, **kwargs)
            self._done = int(kwargs.get("initial", 0) or 0)

        def update(self, n: float | None = 1) -> bool | None:
            if cancel is not None and cancel.cancelled:
                raise Cancelled("download cancelled")
            self._done += int(n or 0)
            if progress is not None:
                with contextlib.suppress(Exception):
                    progress(self._done, int(self.total or 0))
            shown: bool | None = super().update(n)
            return shown

    return _Forward


# -- checkpoints ---------------------------------------------------------------------------


def check_checkpoint(path: Path, arch: str) -> None:
    """Make sure *path* is an open_clip checkpoint that loads into *arch*; nothing is kept.

    Raises:
        UserError: "not an open_clip checkpoint: ..." for a file torch / safetensors cannot
            read; "checkpoint ... does not load into ARCH: ..." for one that does not fit.
    """
    import open_clip
    import torch

    from vsearch.embed.arch import ensure_bundled_configs

    ensure_bundled_configs()
    try:
        state = read_state_dict(path)
    except Exception as exc:
        raise UserError(f"not an open_clip checkpoint: {path} ({_unreadable(exc)})") from None
    if not isinstance(state, dict) or not state:
        raise UserError(f"not an open_clip checkpoint: {path} (no state dict inside)")
    del state
    with torch.random.fork_rng(devices=[]):
        try:
            model = open_clip.create_model(arch, pretrained=None, device="cpu")
            open_clip.load_checkpoint(model, str(path))
        except Exception as exc:
            raise UserError(f"checkpoint {path} does not load into {arch}: {first_line(exc)}") from None
    del model


def _unreadable(exc: BaseException) -> str:
    """Why torch / safetensors could not read a file, in a few words."""
    import pickle

    if isinstance(exc, pickle.UnpicklingError):
        # torch's text goes on to suggest weights_only=False, which would run code from the file
        return "not a file of tensors torch.load can read safely; a state dict saved with torch.save is"
    return first_line(exc)


def read_state_dict(path: Path) -> Any:
    """The tensors of a ``.safetensors`` file or a torch pickle (safely: ``weights_only``)."""
    import torch

    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    return state


def install_checkpoint(src: Path, dest_dir: Path, stem: str) -> tuple[Path, str]:
    """Hard-link (else copy) *src* into *dest_dir* as ``{stem}-{digest}{suffix}``; (path, digest).

    The file appears atomically under its final name, so an interrupted import leaves nothing.
    """
    digest = file_digest(src)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{stem}-{digest}{src.suffix or '.pt'}"
    if not dest.exists():
        tmp = dest.with_name(f".{dest.name}.tmp")
        with contextlib.suppress(OSError):
            tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    return dest, digest
