"""Reliability under load: many users' mixed operations, then the faults a deployment meets.

Starts the real topology as processes (its own NATS and PostgreSQL, image-service as several
replicas, rate limits raised: every user comes from 127.0.0.1), then

1. steady load: USERS sessions each doing upload, rotate, resize, compress, undo, redo, get and
   download in a seeded mix for SECONDS; requests, statuses, p50/p95 latency;
2. under the same load, one fault at a time: an image-service replica SIGKILLed (then replaced),
   nats-server restarted, PostgreSQL restarted (pg_ctl restart -m fast). For each: 5xx answers,
   operations lost and duplicated (every user's model of its images, built from the 2xx answers,
   against every stored version), requests the gateway resent, time to recover (from the fault
   until every request it caught was answered and nothing failed any more), and how long the
   requests in flight at the fault took to be answered after it.

Every change carries an Idempotency-Key and a user re-sends it with the same key after a 5xx
(as the web app's retry would), so "lost" and "duplicated" are exact. Run with
``make bench-reliability`` (``BENCH_ARGS="--seconds 20"`` for a quick run).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from imagetools_common.embedded import find_project_file, free_port
from imagetools_common.logs import configure_logging
from imagetools_common.stack import Stack
from imagetools_common.testing.load import GENEROUS_LIMITS, Tally, User, drive


@dataclass
class FaultResult:
    name: str
    tally: Tally
    lost: int
    duplicated: int
    checked: int
    in_flight: list[float]  # for each request in flight at the fault: seconds from the fault to its answer
    last_failure: float  # seconds from the fault to the end of the last failed answer (0: none failed)
    retries: int  # requests the gateway resent to a service (after a lost responder or a 503)

    @property
    def recover(self) -> float:
        """From the fault until every request it caught was answered and nothing failed any more."""
        return max([self.last_failure, *self.in_flight])


async def run_users(
    stack: Stack, users: int, seed: int, until: asyncio.Event
) -> tuple[Tally, tuple[int, int, int]]:
    """``users`` working until ``until`` is set; their tally and (checked, lost, duplicated)."""
    tally = Tally()
    people = [User(stack.gateway_url, seed + i, tally) for i in range(users)]
    try:
        await drive(people, until)
        checked = lost = duplicated = 0
        for person in people:
            c, lo, du = await person.verify()
            checked, lost, duplicated = checked + c, lost + lo, duplicated + du
    finally:
        for person in people:
            await person.close()
    return tally, (checked, lost, duplicated)


async def steady(stack: Stack, users: int, seconds: float) -> tuple[Tally, tuple[int, int, int], float]:
    until = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, until.set)
    started = time.perf_counter()
    tally, verified = await run_users(stack, users, 0, until)
    return tally, verified, time.perf_counter() - started


async def under_fault(
    stack: Stack,
    name: str,
    fault: Callable[[], Awaitable[None]],
    users: int,
    seed: int,
    warm: float,
    after: float,
) -> FaultResult:
    """Load for ``warm`` seconds, the fault, then ``after`` more seconds of load."""
    until = asyncio.Event()
    fault_at = 0.0

    async def inject() -> None:
        nonlocal fault_at
        await asyncio.sleep(warm)
        fault_at = time.perf_counter()
        await fault()
        await asyncio.sleep(after)
        until.set()

    retries_before = gateway_retries(stack)
    injecting = asyncio.create_task(inject())
    tally, (checked, lost, duplicated) = await run_users(stack, users, seed, until)
    await injecting
    failed_ends = [end for start, end, status in tally.finished if end >= fault_at and not 0 < status < 500]
    in_flight = [end - fault_at for start, end, _ in tally.finished if start <= fault_at <= end]
    last_failure = max(failed_ends, default=fault_at) - fault_at
    retries = gateway_retries(stack) - retries_before
    return FaultResult(name, tally, lost, duplicated, checked, in_flight, last_failure, retries)


def gateway_retries(stack: Stack) -> int:
    assert stack.log_dir is not None
    return (stack.log_dir / "gateway.log").read_text().count('"rpc retry"')


def statuses(tally: Tally) -> str:
    return ", ".join(f"{status or 'conn'}: {n}" for status, n in sorted(tally.by_status.items()))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=120.0, help="steady load duration")
    parser.add_argument("--replicas", type=int, default=3, help="image-service replicas")
    parser.add_argument("--warm", type=float, default=10.0, help="load before each fault (s)")
    parser.add_argument("--after", type=float, default=20.0, help="load after each fault (s)")
    args = parser.parse_args()
    configure_logging("bench-reliability", "INFO", "console")  # progress on stderr, the tables on stdout

    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as root:
        stack = Stack(
            var_dir=Path(root) / "var",
            log_dir=Path(root) / "logs",
            replicas={"image-service": args.replicas},
            env={
                "SERVER_PORT": str(free_port()),
                "WEB_DIST_DIR": str(find_project_file("web/dist")),
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "INFO",
                **GENEROUS_LIMITS,
            },
        )
        print(f"starting the stack ({args.replicas} image-service replicas)...", file=sys.stderr, flush=True)
        try:
            await stack.start()
            print(f"steady load: {args.users} users for {args.seconds:g} s...", file=sys.stderr, flush=True)
            tally, (checked, lost, duplicated), took = await steady(stack, args.users, args.seconds)

            async def kill_replica() -> None:
                victim = next(p for p in stack.processes if p.module == "image_service" and p.running)
                await stack.stop_service(victim, kill=True)

            async def restart_nats() -> None:
                assert stack.nats is not None
                await stack.nats.restart()

            async def restart_postgres() -> None:
                assert stack.postgres is not None
                await stack.postgres.restart()

            faults: list[FaultResult] = []
            for seed, (name, fault) in enumerate(
                (
                    ("image-service replica SIGKILL", kill_replica),
                    ("NATS server restart", restart_nats),
                    ("PostgreSQL restart (pg_ctl -m fast)", restart_postgres),
                ),
                start=1,
            ):
                print(f"fault under load: {name}...", file=sys.stderr, flush=True)
                faults.append(
                    await under_fault(stack, name, fault, args.users, seed * 1000, args.warm, args.after)
                )
                if fault is kill_replica:  # back to full strength for the next fault
                    await stack.start_service("image-service")
                    await stack.wait_for_services({"image-service": args.replicas})
        finally:
            await stack.stop()

    print(f"\n### Load: {args.users} sessions x mixed operations x {took:.0f} s, "
          f"{args.replicas} image-service replicas\n")  # fmt: skip
    print("| requests | per second | statuses | 5xx | p50 | p95 | lost | duplicated | versions checked |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    print(f"| {tally.answered} | {tally.answered / took:.1f} | {statuses(tally)} | {tally.server_errors()} "
          f"| {tally.percentile(0.5) * 1000:.0f} ms | {tally.percentile(0.95) * 1000:.0f} ms "
          f"| {lost} | {duplicated} | {checked} |")  # fmt: skip
    print(f"\n### Faults under the same load ({args.warm:g} s before, {args.after:g} s after each)\n")
    print(
        "| fault | requests | 5xx (of which 503) | lost | duplicated | gateway retries | time to recover "
        "| in flight at the fault: answered after (max / median) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for f in faults:
        flight = sorted(f.in_flight)
        spread = (
            f"{flight[-1]:.2f} s / {flight[len(flight) // 2]:.2f} s ({len(flight)} requests)"
            if flight
            else "none"
        )
        errors = f"{f.tally.server_errors()} ({f.tally.by_status.get(503, 0)})"
        print(f"| {f.name} | {f.tally.answered} | {errors} | {f.lost} | {f.duplicated} | {f.retries} "
              f"| {f.recover:.2f} s "
              f"| {spread} |")  # fmt: skip
    ok = all(f.lost == f.duplicated == 0 for f in faults) and lost == duplicated == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
