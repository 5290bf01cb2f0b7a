"""One exception hierarchy for amx; the CLI turns each into a one-line message and an exit code."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit statuses, documented in the README."""

    OK = 0
    FAILURE = 1  # the command ran but the answer is "no" or something outside the user's input failed
    BAD_INPUT = 2  # bad arguments, malformed references or files
    NOT_CHECKED = 3  # `amx check`: no model failed, but some could not be checked (network, malformed files)
    INTERRUPTED = 130


class AmxError(Exception):
    """Base of every error amx reports to the user without a traceback.

    `message` is one line naming the problem; `hint` optionally says what to do about it.
    """

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class BadInputError(AmxError):
    """The user's input (arguments, reference, files they pointed at) is malformed."""

    exit_code = ExitCode.BAD_INPUT


class ManifestError(BadInputError):
    """An `amx check` manifest (amx.toml, [tool.amx]) that is malformed; the message names file, line and key."""

    def __init__(self, message: str, hint: str | None = None, file: str | None = None, line: int | None = None):
        super().__init__(message, hint)
        self.file = file
        self.line = line


class InvalidReferenceError(BadInputError):
    """A model reference that is neither a local model nor a well-formed Hub id."""


class ConfigError(BadInputError):
    """A config.json that cannot be read or does not describe a model."""


class ConfigTooLargeError(ConfigError):
    """A config describing a model larger than any real one: amx refuses to build it (size_guard.py)."""


class ModelNotFoundError(AmxError):
    """The repository, revision or file does not exist (or is not accessible)."""


class HubUnreachableError(AmxError):
    """The Hub endpoint could not be reached and nothing usable is cached."""


class UnsupportedModelError(AmxError):
    """The installed transformers does not know this model type, or the head does not fit it."""


class ModuleImportError(BadInputError):
    """A module named with --import (or `import = [...]` in a manifest) that cannot be imported.

    `module` is the name given, `detail` the exception as one line ("ValueError: ...").
    """

    def __init__(self, module: str, detail: str, hint: str | None = None) -> None:
        super().__init__(f"cannot import {module}: {detail}", hint)
        self.module = module
        self.detail = detail


class UnreadableSideError(BadInputError):
    """A model of `amx diff` that cannot be resolved or read: exit 2 whatever the cause, since exit 1 says
    the two models differ. The message names the side (A or B) and keeps the cause's."""


class TorchMissingError(BadInputError):
    """What only a model built on the meta device answers, asked where torch is not installed (torch is an
    extra: `pip install 'automodel_cli[torch]'`). Exit 2 when nothing else answers; otherwise a note."""

    def __init__(self, needed_for: str) -> None:
        super().__init__(f"{needed_for} needs torch (pip install 'automodel_cli[torch]')")
