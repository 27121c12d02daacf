"""``[reminders] group_intro_before`` and ``[walks] checklist``: defaults, the environment,
and a bad value named by its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scheduling.common.config import ConfigError, load_settings


def test_defaults_and_environment() -> None:
    settings = load_settings(environ={})
    assert settings.reminders.group_intro_before == timedelta(hours=3)
    assert settings.walks.checklist == ["vest", "torch", "phone", "first_aid"]
    changed = load_settings(environ={"VANDRA_REMINDERS_GROUP_INTRO_BEFORE": "90m",
                                     "VANDRA_WALKS_CHECKLIST": '["vest", "reflexband"]'})
    assert changed.reminders.group_intro_before == timedelta(minutes=90)
    assert changed.walks.checklist == ["vest", "reflexband"]


@pytest.mark.parametrize(
    ("section", "line", "key"),
    [
        ("walks", 'checklist = ["' + "x" * 61 + '"]', "checklist"),
        ("walks", "checklist = [" + ", ".join(['"a"'] * 11) + "]", "checklist"),
        ("walks", 'checklist = [""]', "checklist"),
        ("reminders", 'group_intro_before = "soon"', "group_intro_before"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, section: str, line: str, key: str) -> None:
    path = tmp_path / "vandra.toml"
    path.write_text(f"[{section}]\n{line}\n")
    with pytest.raises(ConfigError, match=rf"\[{section}\] {key}"):
        load_settings(path, environ={})
