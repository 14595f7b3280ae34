"""The PySide6 desktop app: widgets that call vsearch.service.Service and nothing else of the core."""

from vsearch.ui.qtcompat import protect_singletons

# PySide6 6.12.0 on Python < 3.12 loses references to None/True at every call; see qtcompat.
protect_singletons()
