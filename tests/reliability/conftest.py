"""Every reliability test runs with distinctive credentials, so a leak is a substring match."""

from __future__ import annotations

import pytest

from tests.reliability.rig import SECRET_KEY, SESSION_TOKEN


@pytest.fixture(autouse=True)
def distinctive_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
