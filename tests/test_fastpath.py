"""The fast path gives exactly the events of the plain LALR parse: on generated lines, mutated lines,
every sample log and trace, and a generated benchmark trace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, SAMPLES
from tests.test_grammar_properties import bodies, headers
from tracelens.parse.fastpath import _start_shapes
from tracelens.parse.parser import RecordParser
from tracelens.read.reader import RawRecord, ReadStats, read_records

FAST = RecordParser(fast=True)
SLOW = RecordParser(fast=False)
LOGS = sorted([*SAMPLES.glob("*.log"), *(ROOT / "tests" / "traces").glob("*.log")])
LINES = [line for p in LOGS for line in p.read_text(encoding="utf-8").splitlines() if line.startswith("[")]


def same(text: str) -> None:
    raw = RawRecord("f.log", 3, text)
    assert FAST.parse(raw) == SLOW.parse(raw), text


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.name)
def test_every_sample_gives_the_same_events(path: Path) -> None:
    lenient = path.name.startswith("real-03")
    records = list(read_records([str(path)], ReadStats(), lenient=lenient))
    fast, slow = RecordParser(lenient, fast=True), RecordParser(lenient, fast=False)
    assert [fast.parse(r) for r in records] == [slow.parse(r) for r in records]


def test_a_generated_benchmark_trace_gives_the_same_events() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    for i, text in enumerate(generate(4000, seed=11)):
        raw = RawRecord("gen.log", i + 1, text)
        assert FAST.parse(raw) == SLOW.parse(raw), text


@settings(max_examples=300, deadline=None)
@given(headers(), bodies())
def test_generated_records(header: tuple[str, object, str, str], body: tuple[str, object, object]) -> None:
    same(header[0] + body[0])


def _mutations() -> st.SearchStrategy[str]:
    line = st.sampled_from(LINES)
    cut = st.tuples(line, st.integers(0, 400)).map(lambda t: t[0][: t[1]])
    flip = st.tuples(line, st.integers(0, 400), st.characters(codec="utf-8")).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1:])
    insert = st.tuples(line, st.integers(0, 400), st.text(max_size=8)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:])
    splice = st.tuples(line, line, st.integers(0, 200), st.integers(0, 200)).map(
        lambda t: t[0][: t[2]] + t[1][t[3]:])
    # the parts the fast path decides on: timestamps, ids, levels, separators, quotes
    punct = st.tuples(line, st.integers(0, 400), st.sampled_from(list(" :;,.'[]-/\t\x00\r"))).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:])
    return st.one_of(cut, flip, insert, splice, punct)


@settings(max_examples=int(__import__("os").environ.get("TRACELENS_FASTPATH_EXAMPLES", "600")), deadline=None)
@given(_mutations())
def test_mutated_real_lines(text: str) -> None:
    same(text)


@pytest.mark.parametrize("text", [
    "[Wed Oct 06 13:51:03.123 2010] 000015f9 f122cba0 - TRACE: errno 0",  # asctime with a fraction
    "[Wed Oct 06 13:51:03 2010.123] 000015f9 f122cba0 - TRACE: errno 0",
    "[11/Sep/2017:18:43:58.8404912] 006a00f8 00000001 - PLUGIN: Plugins loaded.",  # seven digits
    "[11/Sep/2017:18:43:58] 006a00f8 00000001 - PLUGIN: Plugins loaded.",  # no fraction
    "[30/Feb/2017:18:43:58.1] 006a00f8 00000001 - TRACE: errno 0",  # not a date
    "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - TRACE:    ",  # indentation and nothing else
    "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - TRACE: ws_common: websphereX:",  # lexer commits, then fails
    "[Wed Dec 03 15:40:13 2014] 0123456789abcdef0 00000e78 - TRACE: errno 0",  # 17 hex digits
    "[Wed Dec 03 15:40:13 2014] 12/QTMHHTTP/WEB 4711 12 - TRACE: errno 0",  # IBM i
    "[Wed Dec 03 15:40:13 2014] 12/QTMHHTTP/WEB 4711 - TRACE: errno 0",
    "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - ERROR: ServerIOTimeout fired. retry count,",
    "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - TRACE: ws_server: serverSetFailoverStatus: Marking a down",
    "[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - INFO: something",
    # a tab is no TEXT (found by the fuzz)
    "[07/Jun/2004:10:15:01.12345] 00001a2c 00000e78 - PLUGIN: \tPlugins loaded.",
])
def test_edge_cases(text: str) -> None:
    same(text)


def test_every_callback_gives_one_constant_class() -> None:
    """``FastParser.kind`` learns a shape's class from its first line: no callback may choose its class
    from the tokens. Checked on the transformer's source, so that a new callback that does fails here."""
    import ast

    source = (ROOT / "tracelens" / "parse" / "grammar.py").read_text(encoding="utf-8")
    transformer = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == "_ToEvents")
    checked = 0
    for fn in transformer.body:
        if not isinstance(fn, ast.FunctionDef) or ast.unparse(fn.returns or ast.Constant(None)) != "Payload":
            continue
        returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
        assert len(returns) == 1, fn.name
        value = returns[0].value
        assert isinstance(value, ast.Tuple) and isinstance(value.elts[0], ast.Attribute), fn.name
        assert ast.unparse(value.elts[0]).startswith("ev."), fn.name
        checked += 1
    assert checked > 50


def test_kind_is_the_class_of_the_event() -> None:
    fast = FAST.fast_parser
    for text in LINES:
        rec = fast.split(text)
        if rec is None:
            continue
        level, _, rest = text.partition(" - ")[2].partition(":")
        expected = type(FAST.parse(RawRecord("f", 1, text)))
        assert fast.kind(level, rest[1:] if rest else None) is expected, text


def _first_token_texts() -> list[str]:
    """Texts that start with every literal first token, and every piece of a sample line after ': '."""
    from lark.lexer import PatternStr

    from tracelens.parse.grammar import build_parser

    terminals = {t.name: t for t in build_parser().terminals}
    texts = [f"{terminals[name].pattern.value}{tail}" for shapes in _start_shapes().values() for name in shapes.names
             if isinstance(terminals[name].pattern, PatternStr) for tail in ("", "x", " 1", ": ")]
    texts += [piece for line in LINES for piece in line.split(": ")]
    return texts


def _assert_same_first_token(text: str) -> None:
    """The regex chosen by ``text``'s first character takes the token the whole alternation takes."""
    for shapes in _start_shapes().values():
        whole = shapes.first.match(text)
        rx = shapes._by_char.get(text[:1], shapes._others)
        by_char = rx.match(text) if rx is not None else None
        expected = (whole.lastgroup, whole.group()) if whole else None
        assert ((by_char.lastgroup, by_char.group()) if by_char else None) == expected, text


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=30), st.sampled_from(_first_token_texts())))
def test_the_first_token_by_first_character_is_the_alternations_choice(text: str) -> None:
    _assert_same_first_token(text)


def test_every_literal_first_token_text_takes_the_same_first_token() -> None:
    for text in _first_token_texts():
        _assert_same_first_token(text)
