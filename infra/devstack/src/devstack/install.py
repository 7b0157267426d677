"""First-time installs of the infrastructure binaries, cached under ``.cache/`` (ignored by git).

Kafka's jars come from Maven Central through ``infra/kafka/pom.xml``; FerretDB is built from the
Go module proxy (its module zip lacks the release's version file, which FerretDB refuses to run
without, so the source is copied and stamped before ``go build``, and patched with
``infra/ferretdb/patches``); Redis and PostgreSQL 15
come from Debian packages.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from devstack.steps import step

REPO = Path(__file__).resolve().parents[4]
CACHE = REPO / ".cache"
KAFKA_LIBS = CACHE / "kafka" / "libs"
KAFKA_CLASSPATH = f"{KAFKA_LIBS}/*"
FERRETDB_VERSION = "v1.24.2"
FERRETDB_PATCHES = sorted((REPO / "infra" / "ferretdb" / "patches").glob("*.patch"))
# The patches are part of the binary's name, so a changed set of patches builds a new one.
_PATCHES_DIGEST = hashlib.sha256(b"".join(p.read_bytes() for p in FERRETDB_PATCHES)).hexdigest()
FERRETDB_BIN = CACHE / "bin" / f"ferretdb-{FERRETDB_VERSION}-{_PATCHES_DIGEST[:8]}"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def run_checked(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def kafka_classpath() -> str:
    marker = KAFKA_LIBS / ".complete"
    if not marker.exists():
        with step("resolving Apache Kafka jars from Maven Central (first run only)"):
            shutil.rmtree(KAFKA_LIBS, ignore_errors=True)
            run_checked(
                "mvn",
                "-q",
                "-B",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={KAFKA_LIBS}",
                "-DincludeScope=runtime",
                cwd=REPO / "infra" / "kafka",
            )
            marker.touch()
    return KAFKA_CLASSPATH


def ferretdb_binary() -> Path:
    if FERRETDB_BIN.exists():
        return FERRETDB_BIN
    with step(f"building FerretDB {FERRETDB_VERSION} with Go (first run only, about a minute)"):
        tool_module = REPO / "infra" / "ferretdb"
        info = json.loads(
            run_checked(
                "go",
                "mod",
                "download",
                "-json",
                f"github.com/FerretDB/FerretDB@{FERRETDB_VERSION}",
                cwd=tool_module,
            )
        )
        source = CACHE / "ferretdb-src"
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(info["Dir"], source)
        for path in source.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        (source / "build" / "version" / "version.txt").write_text(f"{FERRETDB_VERSION}\n")
        # infra/ferretdb/patches says what each fixes (an _id lookup that never used its index).
        for patch in FERRETDB_PATCHES:
            run_checked("git", "apply", str(patch), cwd=source)
        FERRETDB_BIN.parent.mkdir(parents=True, exist_ok=True)
        run_checked("go", "build", "-trimpath", "-o", FERRETDB_BIN, "./cmd/ferretdb", cwd=source)
        shutil.rmtree(source, ignore_errors=True)
    return FERRETDB_BIN


def redis_server() -> str:
    found = shutil.which("redis-server")
    if not found:
        _apt_install("redis-server")
        found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server is still missing after apt-get install")
    return found


def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL 15 programs (initdb, postgres, pg_isready, psql); pg_trgm included."""
    if not (POSTGRES_BIN / "postgres").exists():
        _apt_install("postgresql", "postgresql-contrib")
    if not (POSTGRES_BIN / "postgres").exists():
        raise RuntimeError(f"{POSTGRES_BIN / 'postgres'} is still missing after apt-get install")
    return POSTGRES_BIN


def _apt_install(*packages: str) -> None:
    with step(f"installing {' '.join(packages)} from Debian packages (first run only)"):
        apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "apt-get"]
        run_checked(*apt, "update", "-qq")
        run_checked(
            *apt,
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            *packages,
            env={"DEBIAN_FRONTEND": "noninteractive"},
        )
