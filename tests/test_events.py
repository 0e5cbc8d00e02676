"""The events' fast constructor builds the very objects the dataclass ``__init__`` builds: for every
event class, the same class, fields, equality, hash and repr, and the same refusal to be changed."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from tracelens.parse import events as ev
from tracelens.parse.bulk import _entry

KINDS = sorted(ev.event_kinds().values(), key=lambda cls: cls.kind)


@pytest.mark.parametrize("cls", KINDS, ids=lambda cls: cls.kind)
def test_constructor_builds_what_init_builds(cls: type[ev.Event]) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    header = ("f.log", 7, datetime(2024, 3, 11, 9, 0, 1, 5), "006a0070", "00001004")
    # a distinct value per field, so that a value put in the wrong slot shows
    rest = (ev.Level.TRACE, "ws_common", "websphereX", *[f"{name}-value" for name in names[8:]])
    made = ev.constructor(cls)(*header, rest)
    expected = cls(*header, *rest)
    assert type(made) is cls
    assert made == expected and expected == made
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    assert made.to_dict() == expected.to_dict()
    assert [getattr(made, name) for name in names] == [*header, *rest]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 8  # type: ignore[misc]
    other = ev.constructor(cls)(*header[:1], 8, *header[2:], rest)
    assert other != made


def test_the_constructor_is_made_once_per_class() -> None:
    assert ev.constructor(ev.CookieValue) is ev.constructor(ev.CookieValue)
    assert ev.constructor(ev.CookieValue) is not ev.constructor(ev.CookieLookup)


def test_a_constructor_may_skip_values_of_its_caller() -> None:
    header = ("f", 1, None, "p", "t")
    make = ev.constructor(ev.CookieValue, 2)
    assert make(*header, ("mine", 0, ev.Level.TRACE, None, None, "n", "v")) == ev.CookieValue(
        *header, ev.Level.TRACE, None, None, name="n", value="v")
    with pytest.raises(ValueError):
        make(*header, (ev.Level.TRACE, None, None, "n", "v"))


def test_a_cache_entry_holds_the_arguments_of_its_class_in_field_order() -> None:
    typed = (ev.Level.TRACE, "located", "ws_common", "f", "x")
    # the payload's keys in another order than the fields: the entry puts them in field order
    entry = _entry((*typed, (ev.CookieValue, {"value": "v", "name": "n"})))
    assert entry[0] is ev.CookieValue and entry[2:] == (ev.Level.TRACE, "ws_common", "f", "n", "v")
    assert entry[1]("f", 1, None, "p", "t", entry) == ev.CookieValue("f", 1, None, "p", "t", ev.Level.TRACE,
                                                                     "ws_common", "f", name="n", value="v")
    message = _entry((*typed, None))
    assert message[0] is ev.Message and message[2:] == (ev.Level.TRACE, "ws_common", "f", "x")
    assert message[1]("f", 1, None, "p", "t", message) == ev.Message("f", 1, None, "p", "t", ev.Level.TRACE,
                                                                     "ws_common", "f", text="x")
    # a class with one field of its own, and one with none
    one = _entry((*typed, (ev.CookieLookup, {"name": "n"})))
    assert one[2:] == (ev.Level.TRACE, "ws_common", "f", "n")
    assert one[1]("f", 1, None, "p", "t", one) == ev.CookieLookup("f", 1, None, "p", "t", ev.Level.TRACE,
                                                                  "ws_common", "f", name="n")
    none = _entry((*typed, (ev.RequestEnd, {})))
    assert none[2:] == (ev.Level.TRACE, "ws_common", "f")
    assert none[1]("f", 1, None, "p", "t", none) == ev.RequestEnd("f", 1, None, "p", "t", ev.Level.TRACE,
                                                                  "ws_common", "f")


def test_a_payload_that_does_not_fit_its_class_fails_as_the_class_would() -> None:
    typed = (ev.Level.TRACE, "located", "ws_common", "f", "x")
    with pytest.raises(TypeError):
        _entry((*typed, (ev.CookieValue, {"name": "n"})))
    with pytest.raises(TypeError):
        _entry((*typed, (ev.CookieValue, {"name": "n", "value": "v", "other": 1})))
    with pytest.raises(TypeError):
        _entry((*typed, (ev.CookieValue, {"name": "n", "other": 1})))


def test_filler_builds_what_init_builds() -> None:
    from tracelens.requests.assemble import Attempt, AttemptOutcome
    from tracelens.requests.cookies import parse_session_cookie

    values = dict(member="m1", line=3, time=datetime(2024, 3, 11, 9, 0, 1), by_affinity=True,
                  outcome=AttemptOutcome.SERVED, outcome_line=4, host="h", port=9080, status=200, state=())
    for made in (ev.filler(Attempt)(**values), ev.filler(Attempt)(*values.values())):
        expected = Attempt(**values)
        assert type(made) is Attempt and made == expected
        assert hash(made) == hash(expected) and repr(made) == repr(expected)
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.line = 8  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev.filler(Attempt)(**{k: v for k, v in values.items() if k != "state"})  # every field must be given
    cookie = parse_session_cookie("0000abcdefghijkl:v1")
    assert ev.filler(type(cookie))(*dataclasses.astuple(cookie)) == cookie
