"""A burst of keys (SSH, a paste) in the app's inputs gives the text the user typed:
Textual 8.2's Input ran backspace (a binding) after the keys that followed it, so `004`
BSpace×3 `nordic` in one read showed `004nor` (docs/upstream/textual-input-burst.md)."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from datetime import datetime

from textual import events
from textual.app import App

from tests.app.burst_input_app import BurstInputApp
from tests.app.conftest import IN_SYNC, SYNC_ME, opened, wait_for
from tests.app.test_app_signals import ACTOR, Terminal, wait_for_line
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.screens.bandwidth import BandwidthScreen
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.app.widgets.ordered_input import OrderedInput
from trainsync_tui.engine.bwlimit import Rates

MiB = 1 << 20
BS = "backspace"


def burst(app: App[object], *keys: str) -> None:
    """Every key posted to the app before it handles the first, as the driver does with
    the keys of one read from the terminal."""
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)  # as the terminal driver does
        app.post_message(event)


async def test_a_burst_of_editing_keys_applies_in_the_order_typed() -> None:
    app = BurstInputApp()
    async with app.run_test() as pilot:
        field = app.query_one(OrderedInput)
        await wait_for(pilot, lambda: field.has_focus)
        burst(app, *"abc", BS, *"qw")
        await wait_for(pilot, lambda: len(field.value) >= 4)
        await pilot.pause()
        assert field.value == "abqw"
        # left, home, end, delete, ctrl+w: every one of Input's own keys, in order
        burst(app, "left", "left", BS, "X", "home", "delete", "end", "!", "ctrl+w", *"ok")
        await wait_for(pilot, lambda: field.value.endswith("ok"))
        await pilot.pause()
        assert field.value == "ok"  # "abqw" → "aXqw" → "Xqw" → "Xqw!" → "" → "ok"


async def test_the_filter_takes_a_burst_with_backspaces(app: TrainsyncApp) -> None:
    async with opened(app) as pilot:
        await pilot.press("slash")
        pane = app.query_one(ActorsPane)
        burst(app, *"004", BS, BS, BS, *"sync")
        await wait_for(pilot, lambda: pane.filter_text.endswith(("sync", "s")))
        await pilot.pause()
        assert pane.filter_text == "sync"  # was "004s"
        assert [o.id for o in pane.option_list.options] == [SYNC_ME, IN_SYNC]


async def test_slash_then_text_in_one_burst_goes_to_the_filter(app: TrainsyncApp) -> None:
    """Issue 25: `/nordic` in one read left the filter empty and the `n` turned dry run on:
    `/` moved the focus only after the keys behind it had gone to the tree."""
    async with opened(app) as pilot:
        pane = app.query_one(ActorsPane)
        slash_key(app)
        burst(app, *"sync_me")  # s, n and c are keys of the main screen too
        await wait_for(pilot, lambda: pane.filter_text.endswith("e"), timeout=10)
        await pilot.pause()
        assert pane.filter_text == "sync_me"
        assert [o.id for o in pane.option_list.options] == [SYNC_ME]
        assert not app.main.dry_run and app.tasks.idle
        slash_key(app)  # in the filter `/` is a character like any other
        await wait_for(pilot, lambda: pane.filter_text.endswith("/"), timeout=10)
        assert isinstance(app.focused, OrderedInput)


async def test_a_dialogs_field_keeps_the_slash(app: TrainsyncApp) -> None:
    """`/` has priority on the main screen only: over it, a dialog's field types it."""
    async with opened(app, size=(100, 30)) as pilot:
        await pilot.press("b")
        assert isinstance(app.screen, BandwidthScreen)
        slash_key(app)
        burst(app, "1")
        field = app.screen.query_one(OrderedInput)
        await wait_for(pilot, lambda: field.value.endswith("1"), timeout=10)
        assert field.value == "/1" and isinstance(app.screen, BandwidthScreen)
        assert not app.query_one("#actor-filter").display


def slash_key(app: App[object]) -> None:
    slash = events.Key("slash", "/")  # as the terminal driver names it
    slash.set_sender(app)
    app.post_message(slash)


async def test_the_bandwidth_dialog_takes_a_burst_with_backspaces(app: TrainsyncApp) -> None:
    async with opened(app, size=(100, 30)) as pilot:
        await pilot.press("b")
        assert isinstance(app.screen, BandwidthScreen)
        burst(app, *"10M", BS, BS, BS, *"50M", "enter")
        header = app.query_one(ActorHeader)
        await wait_for(pilot, lambda: "bandwidth limit" in header.message)
        await pilot.pause()  # the log line posted with it
        limit = app.engine.throttle.limit
        assert limit is not None and limit.rates_at(datetime.now()) == Rates(50 * MiB, 50 * MiB)


def _typed_under_a_pty(keys: bytes, *args: str) -> str:
    """What the bare app's input submits when `keys` (ending in enter) arrive in ONE write."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm", NO_COLOR="1")
    env.pop("TEXTUAL_DRIVER", None)
    app = subprocess.Popen(
        [sys.executable, "-m", "tests.app.burst_input_app", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    output = bytearray()

    def read_until(text: bytes) -> None:
        deadline = time.monotonic() + 60
        while text not in output:
            assert time.monotonic() < deadline, f"{text!r} never drawn: {bytes(output[-300:])!r}"
            if select.select([master], [], [], 0.1)[0]:
                try:
                    output.extend(os.read(master, 65536))
                except OSError:  # EIO: the app has gone and its output with it
                    return

    try:
        read_until(b"type")  # the placeholder: the input is drawn and has the focus
        os.write(master, keys)
        read_until(b"value=")
        read_until(b"'\r\n")
        assert app.wait(30) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        os.close(master)
    return output[output.rindex(b"value=") :].split(b"\r\n")[0].decode()


def test_one_burst_through_a_real_terminal_gives_what_was_typed() -> None:
    assert _typed_under_a_pty(b"004\x7f\x7f\x7fnordic\r") == "value='nordic'"
    assert _typed_under_a_pty(b"abc\x7fqw\r") == "value='abqw'"


def test_textual_input_alone_still_loses_the_order() -> None:
    """Textual's own Input, same burst: when this fails, upstream fixed it and
    OrderedInput can go (see docs/upstream/textual-input-burst.md)."""
    assert _typed_under_a_pty(b"abc\x7fqw\r", "plain") == "value='abcq'"


def test_the_app_s_bandwidth_dialog_takes_one_burst_through_a_real_terminal(
    world: World,
) -> None:
    world.put_s3(ACTOR, "a.bin", b"a")
    term = Terminal(world)
    term.wait_for_text(ACTOR.encode())
    term.send(b"b")
    term.wait_for_text(b"Bandwidth limit")
    term.send(b"10M\x7f\x7f\x7f50M\r")  # one write: the keys of one read
    log = world.settings.state_dir / "logs" / "app.log"
    wait_for_line(log, "bandwidth limit: ", 30)
    term.send(b"q")
    code, _ = term.wait_exit()
    assert code == 0
    assert "bandwidth limit: 50M" in log.read_text()  # was 10M
