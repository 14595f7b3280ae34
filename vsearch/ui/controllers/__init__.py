"""The window's behaviour, one controller per concern; each gets its widgets, the service and a task pool.

``messages`` (errors to the user and the log), ``library`` (folders, indexing, status),
``search`` (query box, filters, debounce, stale results), ``results`` (thumbnails, the player
following the current result, copying timestamps), ``export``, ``settings``. Controllers never
build widgets (that is :mod:`vsearch.ui.main_view`) and call the service only through
:class:`vsearch.ui.workers.TaskRunner` or the index worker, never on the GUI thread.
"""
