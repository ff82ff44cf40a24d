"""``make backup`` / ``make restore``: the development database, with the guide's pg_dump options.

    python -m imagetools_common.backup dump [--out FILE]     # default var/backups/imagetools-<time>.dump
    python -m imagetools_common.backup restore FILE          # stop ImageTools first

The database is DATABASE_URL when set (environment or .env), otherwise the embedded PostgreSQL
that ``make run`` keeps in ``var/postgres`` (started for the occasion if it is not running). The
programs are the PostgreSQL build pgserver ships, so nothing needs installing; the options are the
ones docs/DEPLOYMENT.md documents for production (tests/test_backup_restore.py checks they agree).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from dotenv import dotenv_values

from imagetools_common.embedded import EmbeddedPostgres, ensure_database

DUMP_OPTIONS = ("--format=custom",)
RESTORE_OPTIONS = ("--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error")
DATABASE = "imagetools"


def postgres_bin(program: str) -> str:
    import pgserver  # development only, like the embedded server itself

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / program)


def dump_command(database_url: str, out: Path) -> list[str]:
    return [postgres_bin("pg_dump"), *DUMP_OPTIONS, f"--file={out}", database_url]


def restore_command(database_url: str, dump: Path) -> list[str]:
    return [postgres_bin("pg_restore"), *RESTORE_OPTIONS, f"--dbname={database_url}", str(dump)]


async def run(command: str, path: Path, var_dir: Path) -> int:
    """``dump`` into or ``restore`` from ``path``; the program's exit status."""
    configured = os.environ.get("DATABASE_URL") or dotenv_values(".env").get("DATABASE_URL")
    embedded = None
    if configured:
        url = configured
    else:
        embedded = EmbeddedPostgres(var_dir / "postgres")
        url = await ensure_database(await embedded.start(), DATABASE)
    try:
        argv = dump_command(url, path) if command == "dump" else restore_command(url, path)
        process = await asyncio.create_subprocess_exec(*argv)
        return await process.wait()
    finally:
        if embedded is not None:
            await embedded.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Back up or restore ImageTools' database")
    parser.add_argument("--var-dir", type=Path, default=Path("var"), help="development state (default: var)")
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("dump", help="write a pg_dump custom-format file")
    dump.add_argument("--out", type=Path, help="default: VAR_DIR/backups/imagetools-<time>.dump")
    restore = commands.add_parser("restore", help="replace the database with a dump (stop ImageTools first)")
    restore.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        path = args.out or args.var_dir / "backups" / time.strftime("imagetools-%Y%m%d-%H%M%S.dump")
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        path = args.file
        if not path.is_file():
            raise SystemExit(f"no such dump: {path}")
    code = asyncio.run(run(args.command, path, args.var_dir.resolve()))
    if code == 0:
        print(f"{'wrote' if args.command == 'dump' else 'restored from'} {path}")
    raise SystemExit(code)


if __name__ == "__main__":
    main()
