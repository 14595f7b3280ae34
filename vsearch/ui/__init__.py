"""The PySide6 desktop app: widgets that call vsearch.service.Service and nothing else of the core."""
