"""The facade: the one API the CLI and the desktop app call. No Qt here."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vsearch import config, log, paths
from vsearch.embed.base import Embedder, query_templates
from vsearch.embed.health import probe_model
from vsearch.errors import EnvironmentProblem, UserError
from vsearch.query import bank
from vsearch.query.bank import QueryBank
from vsearch.query.engine import QueryEngine, VisualExpert
from vsearch.query.screen_text import ScreenTextSearcher
from vsearch.query.search import Searcher, SearchOptions
from vsearch.query.speech import SpeechSearcher
from vsearch.speech.fusion import ONLY_CHOICES
from vsearch.store.ann import AnnIndex
from vsearch.store.db import DB_NAME
from vsearch.store.library import Counts, Library, ModelRow, ModelState
from vsearch.store.library import LibraryDamaged as LibraryDamaged  # re-exported: the faces catch it
from vsearch.store.screen_text import OcrProgress
from vsearch.types import CancelToken, IndexStats, Moment, Progress

if TYPE_CHECKING:
    from vsearch.cluster.attach import SharedSearcher
    from vsearch.embed.registry import ModelStatus
    from vsearch.evaluate import GroundTruth, Prediction, Report
    from vsearch.speech.text import SentenceEncoder

SETTINGS_FILE = "settings.toml"
#: A search's sync that changed at most this fraction of a large ANN index does not save it:
#: hnswlib's save holds Python's lock (7 s at 1M vectors, the app stops responding), while adding
#: those vectors again at the next open costs less (3600 vectors in 0.5-0.7 s at 1M; break-even
#: near 4 %: docs/PERFORMANCE.md). The indexer saves on its own schedule and at its end.
RESAVE_FRACTION = 0.02
#: Below this many vectors a save takes well under a second: always saved after a change.
RESAVE_ALWAYS_BELOW = 50_000


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """A library folder with its videos' counts; *online* is False while its drive or share is away."""
    path: str
    videos: int
    indexed: int
    failed: int
    pending: int
    frames: int
    online: bool
    partial: int = 0  # of the pending: videos with frames stored (a run stopped inside them)


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be indexed (or read), and why, in one line."""
    path: str
    error: str


@dataclass(frozen=True, slots=True)
class LibraryStatus:
    """What ``vsearch status`` and the app's status line show: counts, folders, models, the schema."""
    library: str
    videos: int
    indexed: int
    failed: int
    pending: int
    frames: int
    model: str | None
    model_id: str | None
    folders: list[FolderStatus] = field(default_factory=list)
    models: list[ModelRow] = field(default_factory=list)
    schema_version: int = 0
    readonly: bool = False
    ocr: OcrProgress | None = None  # of the OCR model; None when on-screen text is off
    partial: int = 0  # of the pending: videos with frames stored (a run stopped inside them)
    skipped: int = 0  # files and folders the last scans could not take (not in ``videos``)
    missing: int = 0  # of ``videos``: files not found at the last scan (kept, not indexed)


class Service:
    """Everything a user can do with a library.

    Attributes:
        dirs: the folders in use (library, cache, config, logs, models).
        settings: the remembered settings.
        library: the open library.
    """

    def __init__(
        self,
        library: str | os.PathLike[str] | None = None,
        *,
        model: str | None = None,
        device: str | None = None,
        precision: str | None = None,
        readonly: bool = False,
        create: bool = True,
    ) -> None:
        """Open (with *create*, make) the library.

        Raises:
            UserError: *create* is False and there is no library yet.
        """
        # settings and logs live in the home; the settings may choose the library, which never
        # moves the home (it once moved settings.toml too, so later changes were lost on restart)
        home = paths.home()
        log.setup(home.logs)
        self.settings = config.load(home.config / SETTINGS_FILE)
        self.dirs = paths.resolve(library if library is not None else self.settings.library or None)
        self._model_override = model
        self.device = device or self.settings.device or "auto"
        self.precision = precision or self.settings.precision or "auto"
        db_file = self.dirs.library / DB_NAME
        self.readonly = (
            readonly
            or not _writable(self.dirs.library)
            or (db_file.exists() and not os.access(db_file, os.W_OK))
        )
        if not create and not db_file.exists():
            raise UserError(
                f"nothing is indexed yet (no library at {self.dirs.library}); run `vsearch index FOLDER` first"
            )
        self.library = Library(self.dirs.library, readonly=self.readonly)
        self._lock = threading.RLock()
        self._embedders: dict[str, Embedder] = {}
        self.models_built: list[str] = []  # embedders built by this Service, in order (none: no model load)
        self._searchers: dict[str, Searcher] = {}
        self._anns: dict[str, AnnIndex] = {}  # one per model, shared by searches and indexing
        self._sentence_encoder: SentenceEncoder | None = None
        self._shared: list[SharedSearcher] = []  # one per attached shared library
        self._shared_loaded = False  # remembered shared libraries attached (on the first search)

    def close(self) -> None:
        """Close the library (the database connection); the Service is not usable afterwards."""
        self.library.close()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings -------------------------------------------------------------------------
    def update_settings(self, **changes: object) -> config.Settings:
        """Change and save settings (Settings field names); a device or precision change reloads the models."""
        self.settings = self.settings.replace(**changes)
        config.save(self.dirs.config / SETTINGS_FILE, self.settings)
        if "device" in changes or "precision" in changes:
            self.device = str(changes.get("device", self.device)) or "auto"
            self.precision = str(changes.get("precision", self.precision)) or "auto"
            self._embedders.clear()
            self._searchers.clear()
        return self.settings

    # -- models ---------------------------------------------------------------------------
    def model_name(self) -> str:
        """The model that indexing uses: explicit, then settings, then the library's, then the default."""
        if self._model_override:
            return self._model_override
        if self.settings.model:
            return self.settings.model
        active = self.library.active_model()
        building = [m for m in self.library.models() if m.state == ModelState.BUILDING]
        if building and (active is None or building[-1].id > active.id):
            return building[-1].name  # resume an unfinished model switch
        if active is not None:
            return active.name
        models = self.library.models()
        if models:
            return models[-1].name
        from vsearch.embed.registry import default_model

        return default_model(self.dirs.models)

    def embedder(self, name: str) -> Embedder:
        """The embedder of model *name*, loaded once and shared by indexing and searching."""
        with self._lock:
            emb = self._embedders.get(name)
            if emb is None:
                from vsearch.embed.registry import load_embedder

                log.models.info("building embedder %s", name)
                emb = load_embedder(
                    name, models_dir=self.dirs.models, device=self.device, precision=self.precision
                )
                self._embedders[name] = emb
                self.models_built.append(name)
            return emb

    # Models live in the home, not in a library: these need no open library (static), so
    # `vsearch models` lists, downloads and imports without creating one.
    @staticmethod
    def models() -> list[ModelStatus]:
        """Every model a user can pick, with its size and whether it is on this machine."""
        from vsearch.embed.registry import list_models

        return list_models(paths.home().models)

    @staticmethod
    def download_model(
        name: str,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Fetch a preset's weights into the models folder (only on the user's request).

        Checks the free disk space first, resumes a partial download (after a quit, a kill or a
        dropped connection), verifies the checksum last. Searches and indexing with other models
        go on meanwhile: nothing of the library is touched.

        Args:
            name: a preset ("balanced", ...) or ``ARCH/TAG``.
            progress: called with (bytes done, bytes total), resumed bytes included.
            cancel: cancelling stops the download; the partial file is kept for the next try.

        Raises:
            EnvironmentProblem: downloads disabled, network, disk space, corrupt download.
            UserError: unknown name.
            Cancelled: *cancel* was cancelled.
        """
        from vsearch.embed.registry import download

        return download(name, paths.home().models, progress, cancel)

    @staticmethod
    def import_model(file: str | os.PathLike[str], arch: str, *, name: str | None = None) -> str:
        """Register a local open_clip checkpoint under *name* (default: its file stem); offline.

        The file is checked to load into *arch* before anything is copied or recorded. An
        embedder already loaded under that name (a re-import) keeps its weights until restart;
        its vectors stay consistent, as the model id names the weights' digest.

        Raises:
            UserError: missing file, unknown architecture, reserved name, not a checkpoint, or
                a checkpoint that does not fit *arch*.
        """
        from vsearch.embed.registry import import_checkpoint

        return import_checkpoint(Path(file), arch, paths.home().models, name=name)

    def search_model(self) -> ModelRow | None:
        """The model that answers searches: the explicitly chosen one if it has vectors, else the active one."""
        if self._model_override:
            row = self.library.model_by_name(self._model_override)
            if row is not None:
                return row
        active = self.library.active_model()
        if active is not None:
            return active
        models = [m for m in self.library.models() if m.generation > 0]
        return models[-1] if models else None

    # -- folders --------------------------------------------------------------------------
    def add_folder(self, path: str | os.PathLike[str]) -> str:
        """Add a folder to the library (indexed by the next index run); takes the writer lock.

        Raises:
            UserError: the folder does not exist.
            LibraryLocked: another process or thread is updating the library.
        """
        p = _norm(path)
        if not os.path.exists(p):
            raise UserError(f"no such folder: {p}")
        self._require_writable()
        with self.library.writer():
            self.library.add_root(p)
        return p

    def remove_folder(self, path: str | os.PathLike[str]) -> int:
        """Forget a folder (or a file or sub-folder under one) and its vectors; takes the writer lock.

        Returns how many videos were forgotten.

        Raises:
            UserError: nothing of the library lies there.
            LibraryLocked: another process (an index run) or thread is updating the library;
                forgetting never runs beside it, so an indexer never writes frames of a deleted video.
        """
        self._require_writable()
        p = _norm(path)
        with self.library.writer():
            known = {r.path for r in self.library.roots()}
            n = self.library.remove_root(p)
        if p not in known and n == 0:
            raise UserError(f"{p} is not in the library")
        with self._lock:
            self._searchers.clear()
        return n

    def folders(self) -> list[FolderStatus]:
        """The library folders with their counts, in the order they were added."""
        counts = self.library.root_counts()
        out = []
        for r in self.library.roots():
            c = counts.get(r.id, Counts())
            out.append(
                FolderStatus(
                    path=r.path,
                    videos=c.videos,
                    indexed=c.indexed,
                    failed=c.failed,
                    pending=c.pending,
                    frames=c.frames,
                    online=_online(r.path, has_videos=r.id in counts),
                    partial=c.partial,
                )
            )
        return out

    def failures(self, folder: str | None = None) -> list[FileError]:
        """Files that failed to index, then what the scans skipped (under *folder*, when given), and why.

        Skipped are names that are not valid UTF-8 (shown backslash-escaped) and unreadable folders:
        they are not videos of the library, so ``status().failed`` does not count them.
        """
        where = _norm(folder) if folder else None
        return [FileError(p, e) for p, e in [*self.library.failures(where), *self.library.scan_problems(where)]]

    # -- indexing -------------------------------------------------------------------------
    def index(
        self,
        paths_: Sequence[str | os.PathLike[str]] | None = None,
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
        model: str | None = None,
    ) -> IndexStats:
        """Bring the library up to date with its folders (or the given ones, added first)."""
        self._require_writable()
        with self.library.writer():  # before adding folders: a refused run changes nothing
            return self._index_locked(paths_, progress, cancel, model)

    def _index_locked(
        self,
        paths_: Sequence[str | os.PathLike[str]] | None,
        progress: Callable[[Progress], None] | None,
        cancel: CancelToken | None,
        model: str | None,
    ) -> IndexStats:
        if paths_:
            roots = []
            for p in paths_:
                roots.append(self.add_folder(p))
        else:
            roots = [r.path for r in self.library.roots()]
            if not roots:
                raise UserError("the library has no folders yet; add one (vsearch index FOLDER)")
        name = model or self.model_name()
        self._requeue_damaged()
        s = self.settings
        from vsearch.indexer import Indexer, IndexOptions  # decoders (PyAV): not a search's import

        indexer = Indexer(
            self.library,
            lambda: self.embedder(name),
            model_name=name,
            ann_folder=self.dirs.library / "ann",
            ann_for=self._ann,
            options=IndexOptions(
                sampling=s.sampling,
                interval=s.interval,
                batch=s.batch,
                skip_similar=s.skip_similar,
                hwaccel=s.hw_decode or None,
            ),
            health_check=probe_model,
        )
        stats = indexer.update(roots, progress, cancel)
        if s.speech and not stats.cancelled:
            self._speech_stage(stats, progress, cancel)
        if s.ocr and not stats.cancelled:
            self._ocr_stage(stats, progress, cancel)
        with self._lock:
            self._searchers.clear()
        return stats

    def _requeue_damaged(self) -> None:
        """Videos whose vectors were found damaged are indexed again by this run."""
        health = self.library.health(database=False)
        if not health.damaged:
            return
        for m in self.library.models():
            self.library.requeue(health.damaged, m.id)
        log.store.warning("re-indexing %d video(s) with damaged vectors", len(health.damaged))
        with self._lock:
            self._searchers.clear()

    def check(self) -> list[str]:
        """A check of the library (database and every vector): one line per problem, [] when sound."""
        health = self.library.health()
        out = [f"database: {line}" for line in health.database]
        if health.damaged:
            rows = self.library.videos(health.damaged)
            for vid, n in sorted(health.damaged.items()):
                row = rows.get(vid)
                where = row.path if row is not None else f"video id {vid}"
                out.append(f"{n} damaged vector(s) in {where}; `vsearch index` re-embeds it")
        return out

    def _speech_stage(
        self, stats: IndexStats, progress: Callable[[Progress], None] | None, cancel: CancelToken | None
    ) -> None:
        """Transcribe the audio of indexed videos that have none yet (its own stage, after frames)."""
        from vsearch.errors import ModelMissing
        from vsearch.speech import index as speech

        try:
            from vsearch.speech.transcribe import Transcriber

            tr = Transcriber(models_dir=self.dirs.models, device=self.device)
            if not speech.pending_videos(self.library, tr.model_id):
                return
            speech.transcribe_pending(self.library, tr, self.sentence_encoder, stats, progress, cancel)
        except ModelMissing as e:
            log.speech.warning("speech search is off: %s", e)

    def _ocr_stage(
        self, stats: IndexStats, progress: Callable[[Progress], None] | None, cancel: CancelToken | None
    ) -> None:
        """Read the on-screen text of indexed videos not yet read (its own stage, last)."""
        from vsearch.errors import ModelMissing
        from vsearch.ocr.engine import MODEL_ID
        store = self.library.screen_text
        if not store.pending(MODEL_ID):
            return
        try:
            from vsearch.ocr.engine import OcrEngine
            from vsearch.ocr.stage import read_pending

            read_pending(store, OcrEngine(), self.sentence_encoder, stats, progress, cancel)
        except ModelMissing as e:
            log.index.warning("on-screen text search is off: %s", e)

    def query_bank(self, emb: Embedder) -> QueryBank | None:
        """The model's query bank (querybank normalisation), None when ``settings.querybank`` is off.

        Shipped for the starter; embedded once per other model with its text tower and cached
        in the home's cache folder (vsearch.query.bank).
        """
        if not self.settings.querybank:
            return None
        return bank.for_model(emb.model_id, emb.embed_text, self.dirs.cache, query_templates(emb))

    def sentence_encoder(self) -> SentenceEncoder:
        """The MiniLM sentence encoder of speech and on-screen text (the starter's text tower when loaded), made once."""
        with self._lock:
            if self._sentence_encoder is None:
                from vsearch.speech.text import SentenceEncoder

                shared = self._embedders.get("starter")  # the starter's text tower is the same MiniLM
                self._sentence_encoder = SentenceEncoder(device="cpu", text_model=shared)
            return self._sentence_encoder

    def transcript(self, video_id: int) -> list[tuple[float, float, str]]:
        """(start, end, text) lines of a video's transcript (player subtitles)."""
        from vsearch.speech.index import transcript

        return transcript(self.library, video_id)

    def remove_model(self, name: str) -> int:
        """Delete a retired model's vectors and ANN cache; returns how many vectors went.

        The active model cannot be removed (searches need it); a model still being built can.
        """
        self._require_writable()
        with self.library.writer():
            row = self.library.model_by_name(name)
            if row is None:
                raise UserError(f"this library has no vectors of model {name!r}")
            if row.state == ModelState.ACTIVE:
                raise UserError(f"{name} is the active model; switch to another model before removing it")
            n = len(self.library.vector_ids(row.id))
            self.library.remove_model(row.id)
            with self._lock:
                self._anns.pop(row.model_id, None)
            AnnIndex(self.dirs.library / "ann", row.model_id, row.dim).delete_files()
        with self._lock:
            self._searchers.pop(row.model_id, None)
        return n

    def _ann(self, row: ModelRow) -> AnnIndex:
        """This model's vector index, loaded once per Service (not yet checked against SQLite: sync())."""
        with self._lock:
            ann = self._anns.get(row.model_id)
            if ann is None:
                ann = AnnIndex(self.dirs.library / "ann", row.model_id, row.dim)
                ann.load()
                self._anns[row.model_id] = ann
            return ann

    def rebuild_index(self) -> int:
        """Throw away the ANN caches and rebuild them from SQLite; returns the vectors indexed.

        Takes the writer lock (a read-only library is rebuilt in memory only), so the generation
        each cache is saved with cannot move while it is built.
        """
        with contextlib.nullcontext() if self.readonly else self.library.writer():
            return self._rebuild_index()

    def _rebuild_index(self) -> int:
        n = 0
        for m in self.library.models():
            ann = self._ann(m)
            ann.invalidate()
            ann.sync(self.library, m.id)
            if not self.readonly:
                ann.save(ann.generation)
            n += ann.count
        self._searchers.clear()
        return n

    # -- search ---------------------------------------------------------------------------
    def warm_up(self) -> bool:
        """Load what the first search needs ahead of it: the model's text tower and the vector index.

        The app runs it on its search thread at start, so a query typed meanwhile waits for it
        there rather than paying the load itself (a CLIP model's text tower takes seconds).

        Returns:
            False when nothing is indexed yet (there is nothing to load).
        """
        if self.searcher() is None:
            return False
        # one real search: besides the towers it reads the experts' tables and the per-video
        # vectors its hits need, which a first search otherwise paid (1.3 s against 0.6-0.7 s)
        self.search("a photo of people", k=20)
        return True

    def searcher(self) -> Searcher | None:
        """The visual expert of the search model, its ANN index synced; None while nothing is indexed."""
        row = self.search_model()
        if row is None:
            return None
        with self._lock:
            s = self._searchers.get(row.model_id)
            if s is not None:
                return s
            emb = self.embedder(row.name)
            if emb.model_id != row.model_id:
                raise UserError(
                    f"the library was indexed with {row.model_id}, but model '{row.name}' is now "
                    f"{emb.model_id}; run `vsearch index` to re-embed"
                )
            ann = self._ann(row)
            added, removed = ann.sync(self.library, row.id)
            worth = ann.count < RESAVE_ALWAYS_BELOW or added + removed > RESAVE_FRACTION * ann.count
            if (added or removed or ann.dirty) and worth and not self.readonly:
                try:
                    # the generation read before the sync read the vectors: an indexer writing
                    # meanwhile makes it older than the contents (rebuilt next time), never newer
                    ann.save(ann.generation)
                except OSError as e:
                    log.store.warning("could not save the rebuilt ANN index: %s", e)
            s = Searcher(self.library, row, ann, emb, bank=self.query_bank(emb))
            self._searchers[row.model_id] = s
            return s

    def search(
        self,
        text: str,
        *,
        k: int = 20,
        folder: str | None = None,
        min_score: float | None = None,
        per_video: int | None = None,
        min_duration: float | None = None,
        max_duration: float | None = None,
        only: str | None = None,
        group_similar: bool = False,
    ) -> list[Moment]:
        """Moments for *text*, best first; *only* restricts the experts (visual, speech or text)."""
        if not text or not text.strip():
            return []
        if only not in (None, *ONLY_CHOICES, "text"):
            raise UserError(f"--only takes 'visual', 'speech' or 'text', not {only!r}")
        opts = SearchOptions(
            k=k,
            folder=_norm(folder) if folder else None,
            min_score=min_score if min_score is not None else self.settings.min_score,
            per_video=per_video,
            min_duration=min_duration,
            max_duration=max_duration,
        )
        speech = SpeechSearcher(self.library.speech, self.sentence_encoder)
        local = self.searcher()
        visual: VisualExpert | None = local
        self._attach_remembered()
        if self._shared:  # facility mode: shared libraries' moments ranked with this one's
            from vsearch.cluster.attach import CombinedVisual

            visual = CombinedVisual(local, self._shared)
        text_expert = ScreenTextSearcher(self.library.screen_text, self.sentence_encoder)
        found = QueryEngine(self.library, visual, speech, text_expert).search(text, opts, only=only)
        # a file found gone stays in the results (an archivist wants to know the footage exists
        # and to locate it) but says so, so nobody is sent to play it
        missing = self.library.missing_ids()
        if missing:
            found = [replace(m, missing=True) if m.video_id in missing else m for m in found]
        return self._group_similar(found) if group_similar else found

    def watch_folders(self, limit: int = 4000) -> list[str]:
        """The folders the app watches for changes (off with the ``watch_folders`` setting).

        Each online library folder and its sub-folders, at most *limit* (inotify's default allows
        8192 per user); folders on network file systems are left out: their notifications are
        unreliable or costly, and a rescan still finds their changes. Slow on a big tree: call it
        off the GUI thread.
        """
        from vsearch.scan import is_network_path, watch_list

        if not self.settings.watch_folders:
            return []
        local = [f.path for f in self.folders() if f.online and os.path.isdir(f.path) and not is_network_path(f.path)]
        return watch_list(local, limit)

    def locate(self, video_id: int, new_path: str | os.PathLike[str]) -> None:
        """Point a missing video at its file's new place; its vectors, transcript and text stay.

        Raises:
            UserError: no such video, *new_path* is not a file inside a library folder, another
                video of the library is there, or its content is not the video's (fingerprint).
        """
        from vsearch.scan import fingerprint
        from vsearch.types import VideoFile

        row = self.library.video(video_id)
        if row is None:
            raise UserError(f"no video {video_id} in the library")
        p = _norm(new_path)
        try:
            st = os.stat(p)
        except OSError as e:
            raise UserError(f"cannot read {p}: {e.strerror or e}") from None
        if not os.path.isfile(p):
            raise UserError(f"{p} is not a file")
        root = next((r for r in self.library.roots() if p == r.path or p.startswith(r.path.rstrip(os.sep) + os.sep)), None)
        if root is None:
            raise UserError(f"{p} is not inside a library folder; add its folder first")
        other = self.library.video_by_path(p)
        if other is not None and other.id != row.id:
            raise UserError(f"{p} is already in the library (as another video)")
        fp = fingerprint(p, st.st_size)
        same = fp == row.fingerprint if row.fingerprint else st.st_size == row.size
        if not same:
            raise UserError(f"{p} is not the same file as {row.path} (its content differs)")
        with self.library.writer():
            self.library.move_video(row.id, VideoFile(p, st.st_size, st.st_mtime), root.id)
            if fp:
                self.library.set_fingerprints({row.id: fp})

    def _group_similar(self, moments: list[Moment]) -> list[Moment]:
        """Near-duplicates folded into one moment each (vsearch.query.dedup), from this library's data."""
        from vsearch.query.dedup import group_similar, mean_vector

        model = self.search_model()
        rows = self.library.videos({m.video_id for m in moments if m.video_id})

        def local(m: Moment) -> bool:  # a shared library's moment has another library's ids
            row = rows.get(m.video_id)
            return row is not None and row.path == m.path

        def mean_of(m: Moment) -> np.ndarray | None:
            if model is None or not local(m):
                return None
            # a sample stands for the footage up to the next one: the sample at the end is the next stretch's
            span = (m.start, max(m.start, m.end - 1e-3))
            _ids, _ts, vecs = self.library.video_vectors(m.video_id, model.id, model.dim, between=span)
            return mean_vector(vecs)

        def content_of(m: Moment) -> object | None:
            row = rows.get(m.video_id)
            if not local(m) or row is None:
                return None
            if row.fingerprint:  # the content's own fingerprint where the scan took one
                return row.fingerprint
            return (row.size, round(row.duration, 2)) if row.size and row.duration else None

        return group_similar(moments, mean_of, content_of)

    @staticmethod
    def strong_match(moments: Sequence[Moment]) -> bool:
        """Whether a search's results hold a strong match (calibrated scores; vsearch.query.calibrate).

        False means "no strong match": the library holds nothing that answers the query well.
        """
        from vsearch.query.calibrate import strong_match

        return strong_match(list(moments))

    # -- facility mode (vsearch.cluster, needs vsearch[cluster]; docs/CLUSTER.md) ----------
    def attach_shared(self, uri: str, path_map: Sequence[str] = (), *, remember: bool = False) -> bool:
        """Search a shared library (read-only) beside this one; False while it holds no vectors.

        With *remember*, every later Service (the app, `vsearch search`) searches it too.
        """
        from vsearch.cluster import attach

        sh = attach.open_shared(uri, self.embedder, attach.parse_map(path_map))
        if sh is not None:
            sh.bank = self.query_bank(sh.embedder)  # scores on the local library's scale
        if remember:
            attach.remember(self.dirs.config, uri, path_map)
        if sh is not None:
            self._shared = [x for x in self._shared if x.view.ds.uri != uri] + [sh]
        return sh is not None

    def detach_shared(self, uri: str) -> bool:
        """Stop searching a shared library (and forget it); False when it was not attached."""
        from vsearch.cluster import attach

        known = any(u == uri for u, _ in attach.remembered(self.dirs.config))
        attach.remember(self.dirs.config, uri, add=False)
        before = len(self._shared)
        self._shared = [x for x in self._shared if x.view.ds.uri != uri]
        return known or len(self._shared) < before

    def shared_libraries(self) -> list[tuple[str, list[str]]]:
        """The remembered shared libraries: (uri, path maps)."""
        from vsearch.cluster.attach import remembered

        return remembered(self.dirs.config)

    def _attach_remembered(self) -> None:
        """Attach the remembered shared libraries once; one that is offline is skipped, not fatal."""
        if self._shared_loaded:
            return
        self._shared_loaded = True
        from vsearch.cluster import REMEMBERED_FILE

        if not (self.dirs.config / REMEMBERED_FILE).exists():
            return  # the usual case: nothing to attach, nothing more imported
        from vsearch.cluster.attach import remembered

        attached = {x.view.ds.uri for x in self._shared}
        for uri, path_map in remembered(self.dirs.config):
            if uri in attached:
                continue
            try:
                self.attach_shared(uri, path_map)
            except (UserError, EnvironmentProblem) as e:
                log.query.warning("shared library %s not searched: %s", uri, e)

    def cluster_index(
        self,
        roots: Sequence[str],
        uri: str,
        *,
        address: str | None = None,
        progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
        **options: object,
    ) -> IndexStats:
        """Index *roots* on a Ray cluster into the shared library at *uri*, with this library's settings."""
        from vsearch.cluster.pipeline import ClusterOptions, index

        s = self.settings
        opts = ClusterOptions(
            model=self.model_name(),
            models_dir=str(self.dirs.models),
            sampling=s.sampling,
            interval=s.interval,
            skip_similar=s.skip_similar,
            batch=s.batch,
            precision=self.precision,
            **options,  # type: ignore[arg-type]  # ClusterOptions fields by name; the dataclass rejects unknown ones
        )
        stats = index(uri, roots, opts, address=address, progress=progress, cancel=cancel)
        if not stats.cancelled:
            self._store_shared_activation(uri)
        return stats

    def _store_shared_activation(self, uri: str) -> None:
        """After a cluster run: the query bank's activation stored in the shared dataset for desktops."""
        from vsearch.cluster.attach import store_activation
        from vsearch.store.shared import SharedDataset

        emb = self.embedder(self.model_name())
        qb = self.query_bank(emb)
        if qb is None:
            return
        ds = SharedDataset(uri, readonly=False)
        model = ds.model(emb.model_id)
        if model is None:
            return
        t0 = time.perf_counter()
        if store_activation(ds, model, emb, qb):
            log.store.info("shared library: query bank activation stored in %.1f s", time.perf_counter() - t0)

    def similarity_curve(self, text: str, video_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(times, scores in 0..1) of a query across one video, for the heat strip."""
        s = self.searcher()
        if self._shared and (s is None or self.library.video(video_id) is None):
            # a moment from a shared library: its video id is the shared one's
            s = next((sh for sh in self._shared if sh.view.video(video_id) is not None), s)
        if s is None or not text.strip():
            return np.zeros(0), np.zeros(0)
        q = s.query_vector(" ".join(text.split()))
        times, sims, _ = s.curve(video_id, q)
        if len(sims) == 0:
            return times, sims
        lo = float(np.percentile(sims, 10))
        hi = max(float(sims.max()), lo + 0.05)
        return times, np.clip((sims - lo) / (hi - lo), 0.0, 1.0)

    def thumbnail(self, path: str, time: float, size: int = 320) -> Path:
        """A JPEG of the frame of *path* near *time*, cached (slow the first time: call it off the GUI thread)."""
        from vsearch.thumbs import thumbnail

        paths.ensure_cache_tag(self.dirs.cache)
        return thumbnail(self.dirs.cache, path, time, size)

    # -- status ---------------------------------------------------------------------------
    def status(self) -> LibraryStatus:
        """The library's counts, folders, models and schema version (what ``vsearch status`` prints)."""
        c = self.library.counts()
        row = self.search_model()
        version = self.library.schema_version()
        return LibraryStatus(
            library=str(self.dirs.library),
            videos=c.videos,
            indexed=c.indexed,
            failed=c.failed,
            pending=c.pending,
            frames=c.frames,
            model=row.name if row else None,
            model_id=row.model_id if row else None,
            folders=self.folders(),
            models=self.library.models(),
            schema_version=version,
            readonly=self.readonly,
            ocr=self._ocr_progress(),
            partial=c.partial,
            skipped=len(self.library.scan_problems()),
            missing=c.gone,
        )

    def _ocr_progress(self) -> OcrProgress | None:
        if not self.settings.ocr:
            return None
        from vsearch.ocr.engine import MODEL_ID
        return self.library.screen_text.progress(MODEL_ID)

    def text_failures(self) -> list[FileError]:
        """Videos whose on-screen text could not be read, and why (their frames are indexed)."""
        return [FileError(p, e) for p, e in self.library.screen_text.failures()]

    def screen_text(self, video_id: int) -> list[tuple[float, float, str, tuple[float, float, float, float] | None]]:
        """(start, end, text, box) of a video's on-screen text spans (the player's text boxes)."""
        return [(r.start, r.end, r.text, r.box) for r in self.library.screen_text.video_spans(video_id)]

    # -- export (needs no library: static, so `vsearch export --from` opens none) ----------
    @staticmethod
    def export_formats() -> list[tuple[str, str]]:
        """(name, description) of every export format, in menu order."""
        from vsearch.export import EXPORTERS

        return [(name, e.description) for name, e in EXPORTERS.items()]

    @staticmethod
    def export_filename(query: str, fmt: str) -> str:
        """The file (or folder) name an export of *query* in *fmt* gets by default.

        Raises:
            UserError: unknown format (the message lists the known ones).
        """
        from vsearch.export import default_filename, get_exporter

        return default_filename(query, get_exporter(fmt))

    @staticmethod
    def read_results(path: str | os.PathLike[str]) -> tuple[str, list[Moment]]:
        """(query, moments) of a results file written by ``vsearch search --json``."""
        from vsearch.export import load_results_json

        return load_results_json(Path(path))

    @staticmethod
    def export(
        moments: Sequence[Moment], fmt: str, out: Path, *, query: str = "", **options: object
    ) -> list[Path]:
        """Write *moments* in format *fmt* to *out*; returns the files written."""
        from vsearch.export import export

        return export(list(moments), fmt, Path(out), query=query, options=None, **options)

    # -- evaluation -----------------------------------------------------------------------
    @staticmethod
    def load_ground_truth(path: str | os.PathLike[str]) -> GroundTruth:
        """A ground-truth JSON file (vsearch.evaluate); UserError when it cannot be read."""
        from vsearch import evaluate

        try:
            return evaluate.load_ground_truth(path)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read ground truth {os.fspath(path)}: {e}") from None

    def evaluate(
        self, gt: GroundTruth, folder: str | os.PathLike[str], *, only: str | None = None
    ) -> tuple[Report, dict[str, list[Prediction]]]:
        """(report, predictions) of the ground truth's queries, searched inside *folder* (top 10).

        *only* restricts the experts as in :meth:`search` (the per-expert rows of ``vsearch eval``).
        """
        from vsearch import evaluate

        where = _norm(folder)
        preds = evaluate.predict(gt, lambda q: self.search(q, k=10, folder=where, only=only))
        return evaluate.evaluate(gt, preds), preds

    @staticmethod
    def format_report(report: Report) -> str:
        """The evaluation report as the CLI prints it."""
        from vsearch import evaluate

        return evaluate.format_report(report)

    # -- odds and ends --------------------------------------------------------------------
    @staticmethod
    def setup_logging(*, verbose: bool = False) -> None:
        """Logging before (or without) a Service: DEBUG to stderr when verbose, else the home's log file."""
        import logging

        if verbose:
            log.setup(None, console_level=logging.DEBUG)
        else:
            log.setup(paths.home().logs)

    @staticmethod
    def resource(*parts: str) -> Path:
        """A bundled resource file (icons, styles), from source, wheel or frozen bundle."""
        return paths.resource(*parts)

    def _require_writable(self) -> None:
        if self.readonly:
            raise EnvironmentProblem(f"the library {self.dirs.library} is read-only; searching still works")


def _norm(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def _online(path: str, *, has_videos: bool) -> bool:
    """A folder is offline when it is gone, or empty although it held videos (an unmounted share)."""
    if os.path.isfile(path):
        return True
    if not os.path.isdir(path):
        return False
    if not has_videos:
        return True
    try:
        with os.scandir(path) as it:
            return any(True for _ in it)
    except OSError:
        return False


def _writable(folder: Path) -> bool:
    if folder.exists():
        return os.access(folder, os.W_OK)
    parent = folder
    while not parent.exists():
        parent = parent.parent
    return os.access(parent, os.W_OK)
