"""The project's exception hierarchy; every message is one line meant for the user."""

from __future__ import annotations


class TrainsyncError(Exception):
    """Base error; `exit_code` is what the CLI exits with when it ends a run."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(TrainsyncError):
    """Bad usage or configuration: missing bucket, bad credentials, unreachable endpoint."""

    exit_code = 2


class ActorNameError(ConfigError):
    """An actor name or id that is not a plain folder name, or that does not match."""


class ManifestError(TrainsyncError):
    """A manifest that is not valid JSON or not the v1 schema; it is never overwritten."""


class LockBusyError(TrainsyncError):
    """Another sync of the same actor holds its lock."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class DeleteGuardError(TrainsyncError):
    """A sync would delete more than the allowed share of an actor's files."""


class CancelledSync(TrainsyncError):
    """The run was cancelled; what finished is recorded, nothing partial is left."""

    exit_code = 130

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


class PathError(TrainsyncError):
    """A problem with a single path; it is reported and the rest of the sync goes on."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.cause = message
