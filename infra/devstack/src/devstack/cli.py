"""``devstack up|down|status|restart <component>``: the local stack behind ``make up``."""

from __future__ import annotations

import argparse

from devstack.stack import INFRA, SERVICES, Stack, local_profile
from devstack.steps import say


def _print_welcome(stack: Stack) -> None:
    env = stack.profile.environment
    say("")
    say("Order Hub is up.")
    say(f"  Admin app      {stack.url('gateway')}/")
    say(f"  API docs       {stack.url('gateway')}/docs")
    say(f"  Mock channels  {stack.url('mock_channels')}/docs")
    say(f"  PostgreSQL     {stack.postgres_url}  (orders query side)")
    admin = (env.get("BOOTSTRAP_ADMIN_EMAIL"), env.get("BOOTSTRAP_ADMIN_PASSWORD"))
    say(f"  Sign in        {admin[0]} / {admin[1]} (admin)")
    say(
        f"                 {env.get('BOOTSTRAP_VIEWER_EMAIL')} / "
        f"{env.get('BOOTSTRAP_VIEWER_PASSWORD')} (viewer)"
    )
    say(f"  Logs           {stack.logs_dir}/<component>.log    Stop: make down")


def main() -> None:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start everything in the background and wait until ready")
    sub.add_parser("down", help="stop everything gracefully; data stays in .data/")
    sub.add_parser("status", help="show each component's state")
    restart = sub.add_parser("restart", help="restart one component")
    restart.add_argument("component", choices=[*INFRA, *SERVICES])
    args = parser.parse_args()

    stack = Stack(local_profile())
    if args.command == "up":
        if stack.is_running():
            say("the stack is already running; making sure every component is up")
        stack.up()
        _print_welcome(stack)
    elif args.command == "down":
        stack.down()
    elif args.command == "status":
        print(stack.status())
    elif args.command == "restart":
        stack.stop(args.component)
        stack.start(args.component)


if __name__ == "__main__":
    main()
