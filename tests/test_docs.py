"""Docs that cannot drift: every setting and every CLI command is documented."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from server.cli import main
from server.config import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_is_documented(name: str) -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert f"`HERITAGE_{name.upper()}`" in text


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_cli_command_is_documented(command: str) -> None:
    text = (DOCS / "usage.md").read_text(encoding="utf-8")
    assert f"heritage {command}" in text
    for param in main.commands[command].params:
        if param.param_type_name == "option":
            assert param.opts[0] in text, f"{param.opts[0]} of `heritage {command}` is not in docs/usage.md"


def test_readme_has_exactly_two_setup_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in section.splitlines() if line.startswith("    ")]
    assert commands == ["    pip install -e . && heritage demo", "    scripts/test"]
