"""What the controllers that call the service share: the service, the pool its calls run on, messages."""

from __future__ import annotations

from PySide6.QtCore import QObject

from vsearch.ui.controllers.messages import Messages
from vsearch.ui.protocols import AppService
from vsearch.ui.workers import TaskRunner


class ServiceController(QObject):
    """A controller that calls the service off the GUI thread and reports problems.

    Args:
        service: the app's service (called only through *tasks* or a worker).
        tasks: the pool its service calls run on.
        messages: where problems are reported.
        parent: the Qt parent (usually the main window).
    """

    def __init__(
        self, service: AppService, tasks: TaskRunner, messages: Messages, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._messages = messages
