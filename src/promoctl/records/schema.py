"""JSON Schema for every record kind, generated from the models (never edited by hand)."""

from __future__ import annotations

import json

from promoctl.records.models import KINDS

BASE_URL = "https://promoctl.invalid/schemas/"  # an identifier only; never fetched


def schemas() -> dict[str, str]:
    """File name -> schema text, stable byte for byte for the same promoctl version."""
    out = {}
    for kind, model in sorted(KINDS.items()):
        schema = model.model_json_schema(mode="validation")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{BASE_URL}{kind}.schema.json",
            **schema,
        }
        out[f"{kind}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out
