"""The committed OpenAPI document (docs/openapi.json) is the one the route table produces.

The web app's types are generated from that file, so an API change that is not regenerated with
``make api`` fails here (and in ``make lint``) instead of drifting silently. No stack is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import openapi_export

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_document_is_the_route_tables() -> None:
    """docs/openapi.json is what the route table and its models produce today."""
    assert openapi_export.stale(COMMITTED) is None, f"regenerate with: {openapi_export.REGENERATE}"


def test_a_changed_document_fails_the_check_naming_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A document edited by hand (or left behind by an API change) fails, and says to run make api."""
    edited = json.loads(COMMITTED.read_text(encoding="utf-8"))
    edited["components"]["schemas"]["ServiceHealth"]["properties"].pop("problems")
    path = tmp_path / "openapi.json"
    path.write_text(openapi_export.render(edited), encoding="utf-8")

    assert openapi_export.main(["--check", str(path)]) == 1
    assert "Regenerate it and the web app's types with: make api" in capsys.readouterr().err


def test_a_missing_document_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the file there is nothing to generate the web app's types from."""
    assert openapi_export.main(["--check", str(tmp_path / "openapi.json")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_writing_makes_the_check_pass(tmp_path: Path) -> None:
    """What the generator writes is exactly what the check expects."""
    path = tmp_path / "openapi.json"
    assert openapi_export.main([str(path)]) == 0
    assert openapi_export.main(["--check", str(path)]) == 0


def test_the_health_report_names_each_services_problems() -> None:
    """/health's 503 is its report, with `problems` per service and overall, so the banner can name them."""
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    unhealthy = document["paths"]["/health"]["get"]["responses"]["503"]["content"]["application/json"]
    assert unhealthy["schema"] == {"$ref": "#/components/schemas/HealthReport"}
    schemas = document["components"]["schemas"]
    assert "problems" in schemas["ServiceHealth"]["required"]
    assert "versions" in schemas["ServiceHealth"]["required"]
    assert {"missing", "problems"} <= set(schemas["HealthReport"]["required"])


def test_the_chat_stream_names_the_body_of_each_event() -> None:
    """The chat reply's delta, done and error events are in the document, so their types are generated too."""
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    answer = document["paths"]["/api/v1/images/{image_id}/chat"]["post"]["responses"]["200"]
    assert answer["x-events"] == {
        "delta": {"$ref": "#/components/schemas/ChatDelta"},
        "done": {"$ref": "#/components/schemas/ChatDone"},
        "error": {"$ref": "#/components/schemas/StreamError"},
    }
    assert "retry_after" in document["components"]["schemas"]["StreamErrorDetail"]["required"]
