"""What the app needs from the core: exactly the :class:`vsearch.service.Service` members the UI uses.

Widgets and controllers are typed against :class:`AppService`, never against the Service class,
so the whole surface the app depends on is listed here (tests/ui/test_protocols.py checks that
Service satisfies it and that ``vsearch/ui`` calls nothing else on the service). Every method
may block (the library serialises access behind one lock that indexing holds for a batch at a
time), so the app calls them only from a worker thread; ``settings`` and ``dirs`` are plain
attributes, safe to read anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # only for annotations: importing the service pulls in the store
    import numpy as np

    from vsearch.config import Settings
    from vsearch.paths import Dirs
    from vsearch.service import FileError, FolderStatus, LibraryStatus
    from vsearch.types import CancelToken, IndexStats, Moment, Progress


@runtime_checkable
class AppService(Protocol):
    """The Service as the app sees it.

    Attributes:
        settings: the remembered settings (read by the settings dialog).
        dirs: the folders in use (``library`` shown in settings, ``logs`` named in bug messages).
    """

    settings: Settings
    dirs: Dirs

    # library
    def folders(self) -> list[FolderStatus]: ...
    def failures(self, folder: str | None = None) -> list[FileError]: ...
    def status(self) -> LibraryStatus: ...
    def remove_folder(self, path: str) -> int: ...
    def watch_folders(self, limit: int = 4000) -> list[str]: ...
    def locate(self, video_id: int, new_path: str) -> None: ...
    def attach_shared(self, uri: str, path_map: Sequence[str] = (), *, remember: bool = False) -> bool: ...
    def detach_shared(self, uri: str) -> bool: ...
    def shared_libraries(self) -> list[tuple[str, list[str]]]: ...
    def index(
        self,
        paths: Sequence[str] | None = None,
        /,
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> IndexStats: ...

    # search and what the results show
    def warm_up(self) -> bool: ...
    def search(self, text: str, **params: Any) -> list[Moment]: ...
    def strong_match(self, moments: Sequence[Moment]) -> bool: ...
    def similarity_curve(self, text: str, video_id: int) -> tuple[np.ndarray, np.ndarray]: ...
    def thumbnail(self, path: str, time: float, size: int = 320) -> Path: ...
    def transcript(self, video_id: int) -> list[tuple[float, float, str]]: ...

    # export
    def export_formats(self) -> list[tuple[str, str]]: ...
    def export_filename(self, query: str, fmt: str) -> str: ...
    def export(
        self, moments: Sequence[Moment], fmt: str, out: Path, *, query: str = "", **options: Any
    ) -> list[Path]: ...

    # settings and models
    def models(self) -> list[Any]: ...
    def download_model(
        self,
        name: str,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Path: ...
    def import_model(self, file: str, arch: str, *, name: str | None = None) -> str: ...
    def update_settings(self, **changes: Any) -> Settings: ...

    def close(self) -> None: ...
