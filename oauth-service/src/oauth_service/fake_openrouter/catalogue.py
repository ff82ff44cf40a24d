"""The models the fake answers as: ``GET /api/v1/models`` and its filters, in OpenRouter's shape."""

from __future__ import annotations

from typing import Any


def _model(
    model_id: str, name: str, inputs: list[str], outputs: list[str], prompt: str, completion: str
) -> dict[str, Any]:
    """One catalogue entry in the shape of ``GET /api/v1/models``; prices are USD per token, as strings."""
    return {
        "id": model_id,
        "canonical_slug": model_id,
        "hugging_face_id": "",
        "name": name,
        "created": 1750000000,
        "description": f"{name}, as served by the fake OpenRouter.",
        "context_length": 131072,
        "architecture": {
            "modality": f"{'+'.join(inputs)}->{'+'.join(outputs)}",
            "input_modalities": inputs,
            "output_modalities": outputs,
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": prompt,
            "completion": completion,
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {"context_length": 131072, "max_completion_tokens": 32768, "is_moderated": False},
        "per_request_limits": None,
        "supported_parameters": ["max_completion_tokens", "max_tokens", "seed", "stop", "temperature"],
    }


# Real ids, so a configured default model works against the fake and the real service alike;
# the prices are fixed test data, not OpenRouter's.
MODELS = (
    _model("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", ["text", "image", "file"], ["text"],
           "0.00000015", "0.0000006"),
    _model("google/gemini-2.5-flash", "Google: Gemini 2.5 Flash", ["text", "image", "file"], ["text"],
           "0.0000003", "0.0000025"),
    _model("google/gemini-2.5-flash-image", "Google: Gemini 2.5 Flash Image", ["image", "text"],
           ["image", "text"], "0.0000003", "0.00003"),
    _model("black-forest-labs/flux.2-pro", "Black Forest Labs: FLUX.2 Pro", ["text", "image"], ["image"],
           "0", "0.00004"),
    _model("meta-llama/llama-3.3-70b-instruct", "Meta: Llama 3.3 70B Instruct", ["text"], ["text"],
           "0.0000001", "0.00000032"),
)  # fmt: skip
MODELS_BY_ID = {model["id"]: model for model in MODELS}


def _modalities(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def filter_models(output_modalities: str | None, input_modalities: str | None) -> list[dict[str, Any]]:
    """The catalogue as ``GET /models`` filters it; output defaults to ``text``, as at OpenRouter.

    Undocumented, so chosen here: a model matches an output list when it produces any of them
    ("all" matches every model), and an input list when it accepts all of them.
    """
    outputs = _modalities(output_modalities) or {"text"}
    inputs = _modalities(input_modalities)
    return [
        model
        for model in MODELS
        if ("all" in outputs or outputs & set(model["architecture"]["output_modalities"]))
        and inputs <= set(model["architecture"]["input_modalities"])
    ]
