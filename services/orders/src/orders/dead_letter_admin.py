"""``orders-dead-letters``: inspect, replay and discard dead letters from a terminal.

The same implementation as the admin page (``dead_letters.DeadLetters``), so a replay or a
discard here is checked, published and audited exactly as there; the actor is recorded as
``cli:<login name>``.

    orders-dead-letters list [--state pending|replayed|discarded|all] [--page N]
    orders-dead-letters show ID
    orders-dead-letters replay ID [--payload-file FILE]
    orders-dead-letters discard ID --reason TEXT
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import timedelta
from pathlib import Path

import orjson

from orderhub_common.app import connect_with_retries
from orderhub_common.audit import AuditTrail
from orderhub_common.errors import DomainError
from orderhub_common.kafka import create_broker, topics_from
from orderhub_common.logging import configure_logging, utc_now
from orderhub_common.security import Principal, Role
from orderhub_common.settings import load_settings
from orders.dead_letters import DeadLetters
from orders.main import SERVICE, ingested_republisher, query_side_from
from orders.schemas import DeadLetterRead, DeadLetterState
from orders.settings import OrdersSettings


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="orders-dead-letters", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="dead letters, newest first")
    listing.add_argument(
        "--state", default="pending", choices=[*(s.value for s in DeadLetterState), "all"]
    )
    listing.add_argument("--page", type=int, default=1)
    listing.add_argument("--limit", type=int, default=20)
    show = commands.add_parser("show", help="one dead letter, with its payload")
    show.add_argument("id")
    replay = commands.add_parser("replay", help="publish it again (or a fixed payload)")
    replay.add_argument("id")
    replay.add_argument("--payload-file", type=Path, help="the fixed event, as JSON")
    discard = commands.add_parser("discard", help="close it without replaying")
    discard.add_argument("id")
    discard.add_argument("--reason", required=True)
    return root


def operator() -> Principal:
    return Principal(
        user_id=f"cli:{getpass.getuser()}",
        role=Role.ADMIN,
        jti="cli",
        expires_at=utc_now() + timedelta(hours=1),
    )


def _line(letter: DeadLetterRead) -> str:
    return (
        f"{letter.id:>12}  {letter.dead_lettered_at:%Y-%m-%d %H:%M:%S}  {letter.state:<9}  "
        f"{letter.error_type:<16}  {letter.error[:80]}"
    )


async def _run(settings: OrdersSettings, args: argparse.Namespace) -> int:
    query_side = query_side_from(settings)
    broker = create_broker(settings, client_id=f"{SERVICE}-dead-letters")
    topics = topics_from(settings)
    letters = DeadLetters(
        query_side,
        ingested_republisher(broker, topics.ingested),
        AuditTrail(broker, topics, service=SERVICE),
    )
    await connect_with_retries(query_side, settings.startup_timeout_s)
    try:
        if args.command in {"replay", "discard"}:
            await broker.start()
        return await _command(letters, args)
    except DomainError as error:
        print(f"{error.code}: {error}", file=sys.stderr)
        return 1
    finally:
        await broker.stop()
        await query_side.close()


async def _command(letters: DeadLetters, args: argparse.Namespace) -> int:
    if args.command == "list":
        state = None if args.state == "all" else DeadLetterState(args.state)
        found, total = await letters.page(state, args.page, args.limit)
        for letter in found:
            print(_line(letter))
        print(f"{len(found)} of {total} ({args.state})")
    elif args.command == "show":
        letter = await letters.get(args.id)
        print(orjson.dumps(letter.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())
    elif args.command == "replay":
        payload = args.payload_file.read_text() if args.payload_file else None
        letter = await letters.replay(args.id, actor=operator(), payload=payload)
        print(f"replayed {letter.id}")
    else:
        letter = await letters.discard(args.id, actor=operator(), reason=args.reason)
        print(f"discarded {letter.id}: {letter.reason}")
    return 0


def run(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = load_settings(OrdersSettings)
    configure_logging(SERVICE, settings.log_level)
    sys.exit(asyncio.run(_run(settings, args)))
