"""The OpenAPI document tells the truth: schemathesis drives every operation against the real stack.

Each operation gets about 25 generated requests (valid ones, then invalid ones: wrong types,
out-of-range values, missing fields), sent as the web app sends them: with a real session
cookie, ``X-Requested-With: ImageTools`` and a same-origin ``Origin``. Operations on an image
get a real image's id for part of their cases, so they reach image-service and not only the 404.
Every answer must be documented (status, content type, body schema) and none may be a 5xx.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.cookies import COOKIE_NAME
from imagetools_common.testing import media

Client = TestClient[Any, Any]
CSRF = {"X-Requested-With": "ImageTools"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
# Run after every other operation, in this order: they delete what the others work on. Ending
# the session goes last of all, since every other case is sent with its cookie.
LAST = ("DELETE /api/v1/images/{image_id}", "DELETE /api/v1/images", "DELETE /api/v1/session")


@dataclass
class Report:
    cases: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Visitor:
    """How every case is sent: as the web app on this origin, with its session."""

    base_url: str
    cookie: str
    image_id: str
    http: requests.Session = field(default_factory=requests.Session, compare=False)

    def __reduce__(self) -> tuple[type[Visitor], tuple[str, str, str]]:
        return Visitor, (self.base_url, self.cookie, self.image_id)  # a fresh HTTP session there

    @property
    def headers(self) -> dict[str, str]:
        return {**CSRF, "Origin": self.base_url.rstrip("/")}


def _strategy(operation: APIOperation, mode: GenerationMode, visitor: Visitor) -> st.SearchStrategy[Case]:
    generated = operation.as_strategy(mode)
    if "{image_id}" not in operation.path:
        return generated
    return st.one_of(generated, operation.as_strategy(mode, path_parameters={"image_id": visitor.image_id}))


def _probe(operation: APIOperation, mode: GenerationMode, visitor: Visitor, report: Report) -> None:
    """Send EXAMPLES[mode] generated cases of ``operation``; every failed check goes in ``report``."""

    @settings(
        max_examples=EXAMPLES[mode],
        database=None,
        deadline=None,
        derandomize=True,  # the same cases on every run: a failure here is reproducible
        phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, mode, visitor))
    def run(case: Case) -> None:
        report.cases += 1
        response = case.call(
            base_url=visitor.base_url,
            session=visitor.http,
            headers=visitor.headers,
            cookies={COOKIE_NAME: visitor.cookie},
            allow_redirects=False,  # the OAuth return's 303 is the documented answer
        )
        try:
            case.validate_response(response, checks=CHECKS, headers=visitor.headers)
        except schemathesis.errors.FailureGroup as group:
            for failure in group.exceptions:
                report.failures.append(
                    f"{operation.label} ({mode}): {failure.title} — {case.method} {response.request.url} "
                    f"→ {response.status_code} {response.text[:300]}"
                )

    try:
        run()
    except Unsatisfiable:
        # Nothing in the operation can be made invalid (no parameters, no body): nothing to send.
        assert mode is GenerationMode.NEGATIVE, operation.label


def _operations(doc: dict[str, Any]) -> list[APIOperation]:
    """Every operation of the document, those in LAST at the end."""
    operations = []
    for result in schemathesis.openapi.from_dict(doc).get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken
        operations.append(result.ok())
    return sorted(operations, key=lambda op: LAST.index(op.label) + 1 if op.label in LAST else 0)


def _conformance(doc: dict[str, Any], visitor: Visitor) -> Report:
    report = Report()
    for operation in _operations(doc):
        for mode in EXAMPLES:
            _probe(operation, mode, visitor, report)
    return report


@pytest.mark.timeout(600)  # some 700 requests, besides starting every service
async def test_every_answer_is_documented_and_none_is_a_server_error(client: Client) -> None:
    """Valid and invalid requests to every operation get only answers the OpenAPI document lists."""
    stored = await client.put("/api/v1/settings/ui.conformance", json={"value": 1}, headers=CSRF)
    assert stored.status == 200, await stored.text()
    cookie = stored.cookies[COOKIE_NAME].value
    form = FormData()
    form.add_field("file", io.BytesIO(media.jpeg(media.photo(64, 48))), filename="photo.jpg")
    uploaded = await client.post("/api/v1/images", data=form, headers=CSRF)
    assert uploaded.status == 201, await uploaded.text()
    visitor = Visitor(
        base_url=str(client.make_url("/")), cookie=cookie, image_id=(await uploaded.json())["images"][0]["id"]
    )
    doc = await (await client.get("/api/v1/openapi.json")).json()

    # In a process of its own: generating cases is CPU work that must not hold this process's
    # GIL while its event loop serves the requests.
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        report = await asyncio.get_running_loop().run_in_executor(pool, _conformance, doc, visitor)
    finally:
        await asyncio.to_thread(pool.shutdown)  # the child takes a while to exit: not on the loop

    operations = sum(len(methods) for methods in doc["paths"].values())
    print(f"schemathesis: {report.cases} cases over {operations} operations, {len(report.failures)} failed")
    assert report.cases >= operations * EXAMPLES[GenerationMode.POSITIVE] // 2
    assert not report.failures, f"{len(report.failures)} of {report.cases} cases:\n" + "\n".join(
        report.failures
    )
