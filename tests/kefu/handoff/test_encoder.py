"""The handoff classifier's sentence encoders, side by side (real weights from the packages)."""
from __future__ import annotations

import itertools
import time

import numpy as np

from kefu.handoff import encoder


def test_each_encoder_gives_a_unit_vector_and_empty_text_gives_zeros() -> None:
    rows = encoder.embed(["the kettle started smoking", "水壶冒烟了", ""])
    assert rows.shape == (3, encoder.DIM) == (3, sum(encoder.DIMS))
    starts = np.cumsum((0, *encoder.DIMS))
    for row in rows[:2]:
        for start, end in itertools.pairwise(starts):
            assert np.isclose(np.linalg.norm(row[start:end]), 1.0, atol=1e-3)
    assert not rows[2].any()


def test_a_paraphrase_across_languages_is_closer_than_an_unrelated_sentence() -> None:
    kettle, kettle_zh, refund = encoder.embed(["the kettle started smoking", "水壶冒烟了", "how do I get an invoice"])
    assert kettle @ kettle_zh > kettle @ refund


def test_a_new_sentence_costs_tens_of_milliseconds_and_a_repeated_one_nothing() -> None:
    encoder.embed(["warm"])
    started = time.perf_counter()
    encoder.embed(["a sentence this test has never embedded before, about a late parcel"])
    fresh = time.perf_counter() - started
    started = time.perf_counter()
    encoder.embed(["a sentence this test has never embedded before, about a late parcel"])
    cached = time.perf_counter() - started
    assert fresh < 1.0 and cached < fresh
