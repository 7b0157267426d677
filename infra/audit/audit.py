"""The offline dependency audit (``make audit``): every locked Python package against the one
advisory database this machine can have without the advisory services, the snapshot the PyPI
package ``safety-db`` ships, checked by ``safety`` 2.3 (the last release that reads a local
database without calling home). Exit 0: no locked version is named by an advisory of the
snapshot; 64 (safety's): some is (they are listed); 2: the audit could not run.

What it cannot check, and why, is in docs/THREAT_MODEL.md ("Dependency audits"): advisories
newer than the snapshot, the SPA's npm packages, the Go-built tools.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path


def main() -> int:
    requirements = Path(sys.argv[1])
    # Found, not imported: the package's __init__ reads its data by a path relative to the cwd.
    spec = find_spec("safety_db")
    if spec is None or not spec.submodule_search_locations:
        print("==> audit: safety-db is not installed", file=sys.stderr)
        return 2
    database = Path(next(iter(spec.submodule_search_locations)))
    meta = json.loads((database / "insecure_full.json").read_text())["$meta"]
    taken = datetime.fromtimestamp(meta["timestamp"], UTC).date()
    locked = sum(1 for line in requirements.read_text().splitlines() if "==" in line)
    print(
        f"==> audit: {locked} locked Python packages against safety-db {version('safety-db')} "
        f"(PyUp's free advisory database as of {taken}), offline"
    )
    # First a pin the snapshot names (jinja2 2.10, CVE-2020-28493) must be flagged: an audit
    # that found nothing because it read no advisories would otherwise pass.
    canary = requirements.with_name("audit-canary.txt")
    canary.write_text(f"{CANARY}\n")
    flagged = _safety(database, canary, quiet=True)
    if flagged.returncode != VULNERABILITIES_FOUND or "jinja2" not in flagged.stdout:
        print(f"==> audit: the database did not flag {CANARY}: it is not read", file=sys.stderr)
        return 2
    result = _safety(database, requirements, quiet=False).returncode
    print(
        "==> audit: the SPA's npm packages are not audited (npm audit's service refuses this "
        "machine; no registry package ships an npm advisory snapshot)"
    )
    return result


CANARY = "jinja2==2.10"
# safety's exit code when it found a vulnerable version.
VULNERABILITIES_FOUND = 64


def _safety(database: Path, requirements: Path, *, quiet: bool) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "safety", "check", "--db", str(database)]
    command += ["-r", str(requirements)]
    command += ["--output", "bare"] if quiet else ["--full-report", "--output", "text"]
    # Our own interpreter and arguments, no shell.
    return subprocess.run(command, check=False, capture_output=quiet, text=True)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
