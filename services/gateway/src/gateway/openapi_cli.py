"""``gateway-openapi``: prints the combined OpenAPI document, built from the running services.

``make openapi`` writes it to ``frontend/openapi.json``, which the SPA's types are generated
from. A service that does not answer is left out (with a warning on stderr).
"""

from __future__ import annotations

import asyncio
import json

from gateway.main import create_app
from gateway.settings import GatewaySettings
from orderhub_common.settings import load_settings


async def _print_combined_document() -> None:
    app = create_app(load_settings(GatewaySettings))
    edge = app.state.edge
    try:
        print(json.dumps(await edge.openapi.document(), indent=2, sort_keys=False))
    finally:
        for client in edge.upstreams.values():
            await client.close()


def main() -> None:
    asyncio.run(_print_combined_document())


if __name__ == "__main__":
    main()
