"""docs/settings.md is the operator's reference: every environment variable and every baton.toml key of
the model is in it, every value a role table accepts is explained, and its example is a valid file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot import config

DOC = (Path(__file__).resolve().parent.parent / "docs" / "settings.md").read_text("utf-8")


def _documented() -> set[str]:
    """The names in the first column of the reference tables: documented means with a row of its own."""
    first_cells = [line.split("|")[1] for line in DOC.splitlines() if line.startswith("| ")]
    return {name for cell in first_cells for name in re.findall(r"`([^`]+)`", cell)}


def test_every_environment_variable_is_documented():
    missing = [name for name in config.env_names().values() if name not in _documented()]

    assert missing == [], f"add to docs/settings.md: {missing}"


def test_every_baton_toml_key_is_documented():
    missing = [key for key in config.toml_keys() if key not in _documented()]

    assert missing == [], f"add to docs/settings.md: {missing}"


def test_every_hidden_field_and_permission_is_explained():
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", DOC, flags=re.MULTILINE))

    assert set(config.HIDDEN_FIELDS) <= rows and set(config.PERMISSIONS) <= rows


def test_the_example_is_a_valid_baton_toml():
    example = DOC[DOC.index("### Example"):]
    block = example[example.index("```toml") + len("```toml"):]
    raw = tomllib.loads(block[: block.index("```")])

    parsed = config.parse_toml(raw, source="docs/settings.md")

    assert parsed.routing["billing"].notify == "S0123BILLING"
    assert set(raw) == set(config.BatonToml.model_fields)  # it shows every table
