"""The project's exception hierarchy; every message is one line meant for the user."""

from __future__ import annotations

import os
import re

# What a signed request carries that must never be shown: a server that echoes the request
# in its error message (some S3-compatible ones do) would otherwise put these in our logs.
_SIGNED_PARTS = re.compile(
    r"(Signature|X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|Credential)"
    r"(\s*[=:]\s*)[^\s&;,\"'<>]+",
    re.IGNORECASE,
)
_SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def redact(text: str) -> str:
    """`text` with credentials and request signatures replaced by ***."""
    for name in _SECRET_VARIABLES:
        value = os.environ.get(name, "")
        if len(value) >= 8 and value in text:
            text = text.replace(value, "***")
    return _SIGNED_PARTS.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class TransferError(Exception):
    """A transfer of one path failed; the message is the one-line cause."""


class TrainsyncError(Exception):
    """Base error; `exit_code` is what the CLI exits with when it ends a run."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(TrainsyncError):
    """Bad usage or configuration: missing bucket, bad credentials, unreachable endpoint."""

    exit_code = 2


class ActorNameError(ConfigError):
    """An actor name or id that is not a plain folder name, or that does not match."""


class UnknownActorError(ConfigError):
    """No local folder and nothing under the S3 prefix: most often a typo in a name or --root."""


class ManifestError(TrainsyncError):
    """A manifest that is not valid JSON or not the v1 schema; it is never overwritten."""


class LockBusyError(TrainsyncError):
    """Another sync of the same actor holds its lock."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class LeaseLostError(TrainsyncError):
    """Another server took over an actor's S3 lease while this run held it; the run stopped."""


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
