"""The profile vocabulary: fixed choices, IANA zones, field-named errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.intake import roles
from pulse_core.errors import ValidationError
from subscribers.profile import LEVEL_LABELS, REGIONS, ROLES, Profile, clean_profile


def test_a_full_profile_is_kept_normalised() -> None:
    profile = clean_profile(
        {"role": " AI-SE ", "level": "Senior", "region": "gb", "timezone": "Europe/London"}
    )
    assert profile == Profile("ai-se", "senior", "GB", "Europe/London")


def test_blank_and_absent_fields_mean_not_given() -> None:
    assert clean_profile({"role": "", "level": "  ", "timezone": None}) == Profile()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role", "ceo"),
        ("level", "junior"),
        ("region", "XX"),
        ("region", "US\r\nBcc: x@example.com"),
        ("timezone", "Mars/Olympus"),
        ("timezone", "../../etc/passwd"),
        ("timezone", "Europe/Lon\ndon"),
        ("timezone", "=?utf-8?q?Europe/London?="),
        ("role", "<script>alert(1)</script>"),
    ],
)
def test_a_value_off_the_list_is_refused_naming_its_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_profile({field: value})
    assert caught.value.field == field


@given(st.dictionaries(st.sampled_from(["role", "level", "region", "timezone"]), st.text()))
def test_any_input_gives_a_listed_value_or_a_field_error(raw: dict[str, str]) -> None:
    try:
        profile = clean_profile(raw)
    except ValidationError as err:
        assert err.field in raw
        return
    assert profile.role in (None, *ROLES)
    assert profile.level in (None, *LEVEL_LABELS)
    assert profile.region in (None, *REGIONS)


def test_levels_are_the_salary_datas_levels() -> None:
    assert set(LEVEL_LABELS.values()) <= {label for label, _ in roles.LEVELS} | {roles.MID_LEVEL}


def test_every_country_intake_can_read_is_a_region_readers_can_choose() -> None:
    assert set(roles.COUNTRIES.values()) <= set(REGIONS)
