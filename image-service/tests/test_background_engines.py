"""The inference engine is chosen for the CPU, reports what it really runs, and replicas share the cores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from image_service.background import engines
from image_service.settings import ImageSettings

REPO = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("MODELS_DIR") or REPO / "var" / "models") / "isnet-medium.onnx"
CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu sse2 avx2 fma {extra}
bugs\t\t: sysret_ss_attrs
"""


def settings(**values: object) -> ImageSettings:
    """Settings from ``values`` alone (no .env, no environment besides a secret)."""
    return ImageSettings(_env_file=None, session_secret_key="s" * 40, **values)


def test_the_engine_order_follows_the_cpus_bf16_support_and_the_setting() -> None:
    """bf16 OpenVINO only where the CPU has AVX-512 BF16 or AMX; onnxruntime is always the fallback."""
    plain = engines.cpu_flags(CPUINFO.format(extra="avx512f"))
    bf16 = engines.cpu_flags(CPUINFO.format(extra="avx512f avx512_bf16"))
    amx = engines.cpu_flags(CPUINFO.format(extra="amx_tile amx_bf16"))
    assert "avx2" in plain and "bugs" not in plain
    onnxruntime = engines.Choice("onnxruntime", "f32")
    assert engines.candidates("auto", plain) == [engines.Choice("openvino", "f32"), onnxruntime]
    assert engines.candidates("auto", bf16) == [engines.Choice("openvino", "bf16"), onnxruntime]
    assert engines.candidates("auto", amx)[0] == engines.Choice("openvino", "bf16")
    assert engines.candidates("onnxruntime", bf16) == [onnxruntime]
    assert engines.candidates("openvino", plain) == [engines.Choice("openvino", "f32")]
    assert engines.cpu_flags("no flags line") == frozenset()


def test_replicas_on_one_host_divide_its_cores() -> None:
    """N replicas together run as many inference threads as the host has CPUs, each within its limit."""
    assert engines.cpu_quota("200000 100000\n") == 2
    assert engines.cpu_quota("50000 100000") == 1  # half a CPU still gets one thread
    assert engines.cpu_quota("max 100000") is None
    assert engines.thread_share(2, 1, None) == 2
    assert engines.thread_share(2, 2, None) == 1
    assert engines.thread_share(2, 3, 2) == 1  # more replicas than cores: one thread each
    assert engines.thread_share(16, 3, 2) == 2  # docker-compose.yml: 3 replicas, `cpus: "2"` each
    assert engines.thread_share(16, 2, None) == 8
    one = settings(bg_replicas_per_host=1).bg_intra_op_threads
    two = settings(bg_replicas_per_host=2)
    assert two.bg_intra_op_threads == max(1, one // 2)
    pinned = settings(bg_replicas_per_host=2, bg_intra_op_threads=3)
    assert pinned.bg_intra_op_threads == 3


def test_openvino_asked_for_bf16_reports_the_precision_it_really_runs(tmp_path: Path) -> None:
    """On a CPU without bf16 OpenVINO quietly runs f32: /health must say f32, not what was asked.

    Only a CPU with AVX-512 BF16/AMX can show bf16 here; elsewhere this checks the detection and the
    honest fallback of that code path.
    """
    has_bf16 = bool(engines.host_flags() & engines.BF16_FLAGS)
    engine = engines.open_engine(MODEL, engines.Choice("openvino", "bf16"), 2, tmp_path / "cache")
    assert (engine.name, engine.precision) == ("openvino", "bf16" if has_bf16 else "f32")
    assert engine.input_size == (1024, 1024)
    assert any((tmp_path / "cache").iterdir())  # the compiled blob, for the next start


def test_a_model_no_engine_can_load_is_an_error_naming_the_last_engine(tmp_path: Path) -> None:
    """auto tries OpenVINO, then onnxruntime; a file neither can read fails with onnxruntime's reason."""
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(MODEL.read_bytes()[:100_000])
    with pytest.raises(Exception, match="INVALID_PROTOBUF"):
        engines.load(broken, "auto", 1, None, frozenset())
