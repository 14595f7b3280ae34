"""Frozen entry point of the ``vsearch-gui`` desktop app (PyInstaller bundle).

With ``VSEARCH_GUI_SMOKE=1`` the app builds its main window, shows it, and quits from the
event loop shortly after (exit status 0 when the window was visible); the packaging smoke
test uses this to prove the frozen GUI starts, with ``QT_QPA_PLATFORM=offscreen``.
"""

import multiprocessing
import os
import sys


def _smoke() -> int:
    from PySide6.QtCore import QTimer

    from vsearch.ui.app import build, check_system_libraries, install_excepthooks

    if check_system_libraries():  # the same one line and status as the app (main() checks too)
        return 3
    install_excepthooks()
    app, window = build(sys.argv[1:])
    window.show()
    seen: list[bool] = []

    def check_and_quit() -> None:
        seen.append(window.isVisible())
        window.close()
        app.quit()

    QTimer.singleShot(int(os.environ.get("VSEARCH_GUI_SMOKE_MS", "500")), check_and_quit)
    status = int(app.exec())
    ok = status == 0 and seen == [True]
    print(f"vsearch-gui smoke: window shown={seen}, exit={status}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    multiprocessing.freeze_support()
    if os.environ.get("VSEARCH_GUI_SMOKE") == "1":
        sys.exit(_smoke())
    from vsearch.ui.app import main

    sys.exit(main())
