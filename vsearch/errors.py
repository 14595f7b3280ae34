"""The exception hierarchy: what is the user's input, what is the environment, what is a bug."""


class VSearchError(Exception):
    """Base of every error vsearch raises on purpose."""


class UserError(VSearchError):
    """Bad input from the user: a missing path, an unknown model, a bad argument.

    Shown as one line; the CLI exits with status 2.
    """


class EnvironmentProblem(VSearchError):
    """The environment's fault: disk full, library locked or read-only, a newer schema, no GPU.

    Shown as one line; the CLI exits with status 3.
    """


class LibraryLocked(EnvironmentProblem):
    """Another process is writing to this library."""


class ModelMissing(UserError):
    """A model's weights are not on this machine; the message says how to get them."""


class WeightsMissing(ModelMissing):
    """The open_clip weights (arch, tag) are not on this machine.

    Raised by the backend, which knows no presets; the catalogue (``vsearch.embed.registry``)
    adds the hint that names the download or import command.

    Attributes:
        arch: open_clip architecture.
        tag: open_clip pretrained tag.
        hint: what to do about it ("" when no one has worded it yet).
    """

    def __init__(self, arch: str, tag: str, hint: str = "") -> None:
        self.arch, self.tag, self.hint = arch, tag, hint
        text = f"model {arch}/{tag} is not on this machine"
        super().__init__(f"{text}; {hint}" if hint else text)


class Cancelled(VSearchError):
    """The user stopped a long operation (a download); whatever it finished is kept."""


class MediaError(VSearchError):
    """One video could not be read. Recorded against the file, never aborts a run."""


class ProbeError(MediaError):
    """The container or stream could not be opened or understood."""


class DecodeError(MediaError):
    """Frames could not be decoded."""
