"""`trainsync clean [ACTOR]`: abort unfinished multipart uploads that will never be resumed."""

from __future__ import annotations

import argparse
import json
from typing import Any

from trainsync_tui.console import size, warn
from trainsync_tui.engine.config import load_settings
from trainsync_tui.engine.events import Event, Message
from trainsync_tui.engine.facade import Engine
from trainsync_tui.engine.run.report import plural


def add_clean_parser(sub: Any) -> argparse.ArgumentParser:
    clean = sub.add_parser(
        "clean",
        help="abort unfinished uploads that will never be resumed, and say what that frees",
    )
    clean.add_argument(
        "actor", nargs="*", metavar="[ACTOR_ID] ACTOR_NAME", help="only this actor (default: all)"
    )
    clean.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    clean.add_argument(
        "--wait", action="store_true", help="wait for a sync of the actor to finish first"
    )
    return clean  # type: ignore[no-any-return]


def run_clean_command(args: argparse.Namespace, flags: dict[str, Any]) -> int:
    engine = Engine(load_settings(flags), who="trainsync clean")
    try:
        if len(args.actor) > 2:
            from trainsync_tui.engine.errors import ConfigError

            raise ConfigError("give [ACTOR_ID] ACTOR_NAME, or nothing for every actor")
        if args.actor:
            actor_id = args.actor[0] if len(args.actor) == 2 else None
            layouts = [engine.actor(args.actor[-1], actor_id)]
            engine.require_actor(layouts[0])  # a typo must not read as "aborted 0 uploads"
        else:
            layouts = [engine.actor(n) for n in engine.actor_names(on_skip=warn)]
        out: dict[str, Any] = {}
        for layout in layouts:

            def sink(event: Event) -> None:
                if isinstance(event, Message) and event.level == "warning":
                    warn(f"{event.actor}: {event.text}")

            result = engine.clean_uploads(layout, sink, wait=args.wait)
            out[layout.name] = {
                "aborted": result.aborted,
                "freed_bytes": result.freed,
                "kept_for_resume": result.kept,
            }
            if not args.json:
                kept = f"; {plural(result.kept, 'upload')} kept to resume" if result.kept else ""
                print(
                    f"{layout.name}: aborted {plural(len(result.aborted), 'unfinished upload')}, "
                    f"freed {size(result.freed)}{kept}"
                )
        if args.json:
            print(json.dumps(out))
        return 0
    finally:
        engine.close()
