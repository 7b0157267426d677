"""``devstack up|down|status|restart COMPONENT [--env K=V ...]|run COMMAND|backup|restore
FOLDER``: the stack behind ``make up``.

``restart COMPONENT --env K=V ...`` restarts one component with those variables on top of its
normal environment (they last until the stack stops); ``restart COMPONENT`` without ``--env``
restarts it with its normal environment again. ``run COMMAND ...`` runs a command the way the
services run, with the stack's addresses and generated store credentials: the orders commands
(``orders-rebuild-query-side``, ``orders-explain-queries``, ``orders-dead-letters``) against the
local stack. ``backup [--into FOLDER]`` writes a consistent copy of the stack's state and its
manifest into ``.data/backups/<UTC time>/`` (``devstack.backup``); ``restore FOLDER`` puts one
back (``devstack.restore``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devstack import credentials, postgres
from devstack.components import BY_NAME
from devstack.stack import Stack, local_profile
from devstack.steps import say


def _print_welcome(stack: Stack) -> None:
    env = stack.profile.environment
    say("")
    say("Order Hub is up.")
    say(f"  Admin app      {stack.url('gateway')}/")
    say(f"  API docs       {stack.url('gateway')}/docs")
    say(f"  Mock channels  {stack.url('mock_channels')}/docs")
    # Its password stays in the secrets file: a terminal's scrollback is no place for it.
    say(
        f"  PostgreSQL     postgresql://{postgres.ROLE}@127.0.0.1:{stack.port('postgres')}/"
        f"{postgres.DATABASE}  (orders query side; password: {postgres.PASSWORD_VARIABLE} in "
        f".data/secrets/{credentials.FILE_NAME})"
    )
    admin = (env.get("BOOTSTRAP_ADMIN_EMAIL"), env.get("BOOTSTRAP_ADMIN_PASSWORD"))
    say(f"  Sign in        {admin[0]} / {admin[1]} (admin)")
    say(
        f"                 {env.get('BOOTSTRAP_VIEWER_EMAIL')} / "
        f"{env.get('BOOTSTRAP_VIEWER_PASSWORD')} (viewer)"
    )
    for service in stack.profile.replicas:
        say(f"  Second {service:<8}{stack.url(service + '_2')}  (one of two replicas)")
    say(f"  Logs           {stack.logs_dir}/<component>.log    Stop: make down")


def _assignment(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected K=V, got {text!r}")
    return key, value


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="devstack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start everything in the background and wait until ready")
    sub.add_parser("down", help="stop everything gracefully; data stays in .data/")
    sub.add_parser("status", help="show each component's state")
    restart = sub.add_parser(
        "restart", help="restart one component, with extra environment variables or without"
    )
    restart.add_argument("component", choices=list(BY_NAME))
    restart.add_argument(
        "--env",
        metavar="K=V",
        type=_assignment,
        action="append",
        default=[],
        help="an extra variable for this component (repeatable); none restores its normal ones",
    )
    run = sub.add_parser(
        "run",
        help="run a command as the services run: with the stack's addresses and credentials "
        "(e.g. devstack run orders-rebuild-query-side)",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND ...")
    backup_parser = sub.add_parser(
        "backup", help="copy the stack's state (stores, cursors, secrets) with a manifest"
    )
    backup_parser.add_argument(
        "--into",
        metavar="FOLDER",
        type=Path,
        help="the folder that holds the backups (default .data/backups); each is <UTC time>/",
    )
    restore_parser = sub.add_parser(
        "restore", help="put a backup back (stops the services, replaces, rebuilds, restarts)"
    )
    restore_parser.add_argument("folder", type=Path, metavar="FOLDER")
    args = parser.parse_args()

    stack = Stack(local_profile())
    if args.command == "run":
        if not args.argv:
            parser.exit(2, "devstack run: name the command to run\n")
        # Replaces this process: the command's exit status and signals are its own.
        environment = {**os.environ, **stack.service_environment()}
        # The venv's commands, as the services find them, whether or not the venv is active.
        venv_bin = str(Path(sys.executable).parent)
        environment["PATH"] = os.pathsep.join([venv_bin, environment.get("PATH", "")])
        os.execvpe(args.argv[0], args.argv, environment)  # noqa: S606 - the developer's command
    if args.command == "up":
        if stack.is_running():
            say("the stack is already running; making sure every component is up")
        stack.up()
        _print_welcome(stack)
    elif args.command == "down":
        stack.down()
    elif args.command == "backup":
        # The stores' clients load only for the two commands that need them.
        from devstack.backup import backup, default_folder

        folder = default_folder(stack)
        backup(stack, args.into / folder.name if args.into else folder)
    elif args.command == "restore":
        from devstack.restore import restore

        restore(stack, args.folder)
    elif args.command == "status":
        print(stack.status())
    elif args.command == "restart":
        if not stack.is_running():
            parser.exit(1, "the stack is not running; start it with make up\n")
        try:
            stack.restart_with(args.component, dict(args.env))
        except ValueError as error:
            parser.exit(2, f"devstack restart: {error}\n")


if __name__ == "__main__":
    main()
