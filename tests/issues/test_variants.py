"""Variant keys and the plan: which profile combinations get a render, and who gets which."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import ValidationError
from pipeline.issues.variants import (
    DEFAULT_KEY,
    Relevance,
    VariantKey,
    parse_variant,
    plan_variants,
)
from subscribers.profile import LEVELS, REGIONS, ROLES

EVERYTHING = Relevance(frozenset(LEVELS), frozenset(REGIONS), frozenset(ROLES))


def test_a_key_reads_back_as_it_is_written() -> None:
    key = parse_variant(" Region=us , level=Senior ")
    assert key == VariantKey(level="senior", region="US")
    assert key.text == "level=senior,region=US"
    assert parse_variant(key.text) == key
    assert parse_variant("default") == DEFAULT_KEY and DEFAULT_KEY.stored is None


@pytest.mark.parametrize(
    ("raw", "field", "says"),
    [
        ("level=junior", "level", "mid, senior, staff"),
        ("region=XX", "region", "US"),
        ("role=ceo", "role", "ai-se"),
        ("team=x", "variant", "level, region, role"),
        ("level", "level", "give a value"),
        ("level=senior,level=mid", "level", "once"),
        ("level=senior\r\nX-Evil: 1", "level", "must be one of"),
        ("=?utf-8?q?x?=", "variant", "unknown field"),
        ("level=" + "s" * 100, "variant", "at most 80"),
    ],
)
def test_a_bad_key_names_its_field_and_the_values_it_takes(raw: str, field: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_variant(raw)
    assert caught.value.field == field
    assert says in str(caught.value)


@given(st.text(max_size=120))
def test_any_text_is_a_known_key_or_refused(raw: str) -> None:
    try:
        key = parse_variant(raw)
    except ValidationError:
        return
    assert key.level in (None, *LEVELS) and key.region in (None, *REGIONS)
    assert key.role in (None, *ROLES)


def test_the_largest_combinations_become_variants_and_the_rest_fall_back() -> None:
    readers = {
        (None, "senior", "US"): 50,
        (None, "staff", "US"): 3,
        ("se-manager", None, None): 20,
        (None, None, "GB"): 10,
        (None, None, None): 100,
    }
    plan = plan_variants(readers, EVERYTHING, limit=2)
    keys = [v.key.text for v in plan.variants]
    assert keys == ["level=senior,region=US", "role=se-manager"]
    assert plan.default_readers == 113
    assert plan.variant_for(None, "staff", "US") == DEFAULT_KEY
    assert plan.variant_for("se-manager", "senior", "US").text == "level=senior,region=US"


def test_a_reader_whose_own_combination_missed_the_cut_gets_a_coarser_variant() -> None:
    readers = {(None, "senior", None): 30, (None, "senior", "US"): 2, (None, "mid", None): 5}
    plan = plan_variants(readers, EVERYTHING, limit=2)
    assert [v.key.text for v in plan.variants] == ["level=senior", "level=mid"]
    assert plan.variant_for(None, "senior", "US").text == "level=senior"
    assert {v.key.text: v.readers for v in plan.variants} == {"level=senior": 32, "level=mid": 5}


def test_values_that_change_nothing_this_week_make_no_variant() -> None:
    readers = {(None, "senior", "JP"): 40, ("other", None, None): 7}
    only_levels = Relevance(levels=frozenset({"senior"}))
    plan = plan_variants(readers, only_levels, limit=24)
    assert [v.key.text for v in plan.variants] == ["level=senior"]
    assert plan.variant_for("other", None, None) == DEFAULT_KEY
    assert plan_variants(readers, only_levels, limit=0).variants == ()


@given(
    st.dictionaries(
        st.tuples(
            st.sampled_from([None, *ROLES]),
            st.sampled_from([None, *LEVELS]),
            st.sampled_from([None, "US", "GB", "DE"]),
        ),
        st.integers(min_value=1, max_value=50),
    ),
    st.integers(min_value=0, max_value=30),
)
def test_the_plan_is_bounded_and_counts_every_reader_once(
    readers: dict[tuple[str | None, str | None, str | None], int], limit: int
) -> None:
    plan = plan_variants(readers, EVERYTHING, limit)
    assert len(plan.variants) <= limit
    assert plan.default_readers + sum(v.readers for v in plan.variants) == sum(readers.values())
    for (role, level, region), _count in readers.items():
        assert plan.variant_for(role, level, region).matches(role, level, region)
