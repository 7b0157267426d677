"""docs/CONFIGURATION.md is what the settings classes say today (it is generated from them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.config_reference import READERS, render, variables_of

pytestmark = pytest.mark.unit

PAGE = Path(__file__).resolve().parents[2] / "docs" / "CONFIGURATION.md"


def test_the_committed_configuration_reference_is_up_to_date() -> None:
    assert PAGE.read_text() == render(), (
        "docs/CONFIGURATION.md is stale: run "
        "`.venv/bin/python -m deploy.config_reference > docs/CONFIGURATION.md`"
    )


@pytest.mark.parametrize("name", READERS)
def test_every_variable_a_service_reads_is_on_the_page(name: str) -> None:
    settings_class, _ = READERS[name]
    page = PAGE.read_text()

    missing = [v for v in sorted(variables_of(settings_class)) if f"| `{v}`" not in page]

    assert missing == []


@pytest.mark.parametrize("name", READERS)
def test_every_setting_says_what_it_does(name: str) -> None:
    settings_class, _ = READERS[name]

    undescribed = sorted(
        field_name
        for field_name, field in settings_class.model_fields.items()
        if not (field.description or "").strip()
    )

    assert undescribed == [], "give each Field a description= (docs/CONFIGURATION.md prints it)"
