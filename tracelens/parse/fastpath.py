"""Parse stage: the grammar's shapes compiled once into regular expressions, for speed.

The Lark grammar stays the single definition of what a line means. This module does not restate
it: it reads the compiled grammar (its terminals and its BNF rules) and turns every message shape —
a rule alternative made of terminals and of non-recursive sub-rules — into one anchored regular
expression whose groups are the tokens the parser would keep. A line that matches is handed to the
*same* transformer callbacks the LALR parser calls, with the same tokens, so it becomes the same
event. Anything the fast path is not sure of goes to the LALR parser: shapes with repetitions or
ambiguous optional parts, lines whose first token the contextual lexer would choose differently,
headers the calendar rejects. ``tests/test_fastpath.py`` proves the equivalence on generated lines
and on every sample log.

Two rules keep the regular expressions faithful to the lexer:

- every terminal is an atomic group ``(?>...)``: like the lexer, the match never gives back
  characters a token took;
- the first token is chosen exactly as lark's contextual lexer chooses it (one alternation of the
  start state's terminals, in lark's own priority order), and only shapes that start with that
  terminal are tried.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from lark import Lark, Token
from lark.grammar import Rule, Terminal
from lark.lexer import PatternStr

from tracelens.parse import events as ev
from tracelens.parse.grammar import Body, _ToEvents, build_parser, message_start, start_symbol
from tracelens.read.header import asctime, clftime

Payload = tuple[type[ev.Event], dict[str, Any]]
# a typed body: (level, structure shape, component, function, text, payload or None)
Typed = tuple[ev.Level, str, str | None, str | None, str, Payload | None]
# shapes whose optional parts overlap (`" retry count " INT` versus `" retry " WORD`): the lexer decides
_UNSAFE_CALLBACKS = frozenset({"sio_timeout"})
# Each cache is emptied when it reaches this size, so that memory stays bounded and a log whose
# bodies change over time (cookie values, counters) keeps its recurring ones cached.
CACHE_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class _Node:
    """How to rebuild the transformer's call tree from a match: a callback and its children."""

    callback: str | None  # None: an inlined (`?rule`) node that passes its single child through
    children: tuple[tuple[str, Any], ...]  # ("tok", terminal name, group) or ("sub", _Node)


@dataclass(frozen=True, slots=True)
class _Shape:
    pattern: str  # compiled when first used: a log uses few of the shapes
    node: _Node


class _Compiler:
    def __init__(self, lark: Lark) -> None:
        self.rules: dict[str, list[Rule]] = {}
        for rule in lark.rules:
            self.rules.setdefault(rule.origin.name, []).append(rule)
        self.terminals = {t.name: t for t in lark.terminals}
        self.group = 0

    def alternatives(self, name: str, depth: int = 0) -> list[tuple[list[Any], _Node]] | None:
        """Every way ``name`` can match, as (flat symbol list, call tree); None when it repeats."""
        if depth > 8 or name.startswith("__"):
            return None  # lark's helper rules for `*` and `+`: repetition, not a fixed shape
        out: list[tuple[list[Any], _Node]] = []
        for rule in self.rules.get(name, []):
            callback = rule.alias or rule.origin.name
            if callback in _UNSAFE_CALLBACKS:
                continue
            parts: list[list[tuple[list[Any], Any]]] = []
            ok = True
            for sym in rule.expansion:
                if isinstance(sym, Terminal):
                    parts.append([([sym], ("tok", sym.name, not sym.filter_out))])
                else:
                    subs = self.alternatives(sym.name, depth + 1)
                    if subs is None:
                        ok = False
                        break
                    parts.append([(flat, ("sub", node)) for flat, node in subs])
            if not ok:
                continue
            inline = rule.options.expand1 and not rule.alias
            for combo in itertools.product(*parts):
                flat = [s for symbols, _ in combo for s in symbols]
                children = tuple(child for _, child in combo)
                out.append((flat, _Node(None if inline else callback, children)))
        return out

    def regex(self, flat: list[Any]) -> str:
        pieces = []
        for sym in flat:
            pattern = self.terminals[sym.name].pattern.to_regexp()
            pieces.append(f"(?>({pattern}))" if not sym.filter_out else f"(?>{pattern})")
        return "".join(pieces)


def _number_groups(node: _Node, counter: list[int]) -> _Node:
    """Give each kept token of the call tree its group number, in the order the regex captures them."""
    children: list[tuple[str, Any]] = []
    for kind, *rest in node.children:
        if kind == "tok":
            name, keep = rest
            if keep:
                counter[0] += 1
                children.append(("tok", (name, counter[0])))
            else:
                children.append(("skip", name))
        else:
            children.append(("sub", _number_groups(rest[0], counter)))
    return _Node(node.callback, tuple(children))


class _StartShapes:
    """The shapes of one start symbol, indexed by the terminal the lexer takes first."""

    def __init__(self, compiler: _Compiler, start: str, transformer: _ToEvents) -> None:
        self.transformer = transformer
        self.by_first: dict[str, list[_Shape]] = {}
        self._kinds: dict[tuple[str, int], type[ev.Event]] = {}
        self._firsts: dict[str, _First] = {}  # by the group of `first` that matched: compiled when first used
        alts = compiler.alternatives(start) or []
        firsts: dict[str, Any] = {}
        for flat, node in alts:
            if not flat:
                continue
            numbered = _number_groups(node, [0])
            shape = _Shape(compiler.regex(flat), numbered)
            self.by_first.setdefault(flat[0].name, []).append(shape)
            firsts[flat[0].name] = compiler.terminals[flat[0].name]
        # the contextual lexer's choice at the start state: lark's own order (BasicLexer's sort key)
        ordered = sorted(firsts.values(), key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value),
                                                         t.name))
        self.names = [t.name for t in ordered]
        branches = [f"(?P<t{i}>{t.pattern.to_regexp()})" for i, t in enumerate(ordered)]
        self._branches = branches
        # NOTE: the same choice by the text's first character: a terminal that is a plain string can only
        # match where the text starts with its first character, so each character gets the alternation of
        # those strings that start with it and of the other terminals, in the same order (the whole
        # alternation tried sixty branches one after the other, a fifth of the time of a distinct body)
        leads = [t.pattern.value[0] if isinstance(t.pattern, PatternStr) and not t.pattern.flags and t.pattern.value
                 else None for t in ordered]
        others = [b for b, lead in zip(branches, leads, strict=True) if lead is None]
        self._others = re.compile("|".join(others)) if others else None
        self._by_char = {
            c: re.compile("|".join(b for b, lead in zip(branches, leads, strict=True) if lead in (c, None)))
            for c in set(leads) if c is not None}

    @functools.cached_property
    def first(self) -> re.Pattern[str]:
        """The whole alternation of the first terminals, in the lexer's order: what ``_by_char`` and
        ``_others`` split by first character (the split is checked against it; never compiled in a run)."""
        return re.compile("|".join(self._branches))

    def match(self, text: str) -> Payload | None:
        found = self._alternative(text)
        if found is None:
            return None
        full, first = found
        result: Payload = first[2][cast(str, full.lastgroup)](full.groups())  # not None: _alternative checked
        return result

    def _alternative(self, text: str) -> tuple[re.Match[str], _First] | None:
        """The match of the alternation of the shapes that start with the lexer's first token, and
        those shapes; None when none matches the whole text.

        The shapes of one first terminal are tried as one alternation: the first alternative that
        matches the whole text wins, as trying them one by one would find.
        """
        rx = self._by_char.get(text[:1], self._others)
        m = rx.match(text) if rx is not None else None
        if m is None or m.lastgroup is None:
            return None
        first = self._firsts.get(m.lastgroup)
        if first is None:
            first = self._firsts[m.lastgroup] = self._compile_first(self.names[int(m.lastgroup[1:])])
        full = first[1].fullmatch(text)
        if full is None or full.lastgroup is None:
            return None
        return full, first

    def _compile_first(self, first: str) -> _First:
        """The alternation of the shapes that start with terminal ``first``, and a builder per shape.

        NOTE: the payload is built from the alternation's own match (each shape's groups sit at a known
        offset in it), by a builder made once per shape: matching the chosen shape a second time and
        walking its call tree for every distinct body cost half of the fast path's time per body.
        """
        shapes = self.by_first[first]
        any_of = re.compile("|".join(f"(?P<s{k}>{shape.pattern})" for k, shape in enumerate(shapes)))
        builders = {f"s{k}": _builder(shape.node, any_of.groupindex[f"s{k}"], self.transformer)
                    for k, shape in enumerate(shapes)}
        return first, any_of, builders

    def _shape(self, text: str) -> tuple[tuple[str, int], _Shape] | None:
        """The first shape (in order) that matches the whole text, and its key; None when none does."""
        found = self._alternative(text)
        if found is None:
            return None
        full, (first, _, _) = found
        assert full.lastgroup is not None
        index = int(full.lastgroup[1:])
        return (first, index), self.by_first[first][index]

    def kind(self, text: str) -> type[ev.Event] | None:
        """The class :meth:`match` would give, without building the payload; None when no shape matches.

        A shape always gives the same class: every callback of the transformer returns a constant
        class (``tests/test_fastpath.py`` checks the transformer's source for it), so the class is
        learnt from the first line of each shape.
        """
        found = self._shape(text)
        if found is None:
            return None
        key = found[0]
        cls = self._kinds.get(key)
        if cls is None:
            built = self.match(text)
            assert built is not None
            cls = self._kinds[key] = built[0]
        return cls


Builder = Callable[[tuple[Any, ...]], Any]
# a first terminal's name, its shapes as one alternation, and a builder per alternative (by group name)
_First = tuple[str, re.Pattern[str], dict[str, Builder]]


def _builder(node: _Node, offset: int, transformer: _ToEvents) -> Builder:
    """What the transformer makes of ``node`` from the groups of a match (``Match.groups()``) in which
    the shape's own group 1 is group ``offset + 1``: the same callbacks, with the same tokens, as the
    LALR parser calls."""
    parts: list[tuple[str | None, Any]] = []  # (terminal, index in the groups) or (None, a sub-builder)
    for kind, value in node.children:
        if kind == "tok":
            name, group = value
            parts.append((name, offset + group - 1))
        elif kind == "sub":
            parts.append((None, _builder(value, offset, transformer)))
    token = _token
    if node.callback is None:
        def inline(groups: tuple[Any, ...]) -> Any:
            children = [token(n, groups[i]) if n is not None else i(groups) for n, i in parts]
            return children[0] if len(children) == 1 else children
        return inline
    method: Callable[[list[Any]], Any] = getattr(transformer, node.callback)
    if all(n is not None for n, _ in parts):
        def tokens_only(groups: tuple[Any, ...]) -> Any:
            return method([token(cast(str, n), groups[i]) for n, i in parts])
        return tokens_only

    def nested(groups: tuple[Any, ...]) -> Any:
        return method([token(n, groups[i]) if n is not None else i(groups) for n, i in parts])
    return nested


def _token(name: str, value: str) -> Token:
    """A token as the lexer makes it, without a position (the callbacks read its type and text).

    NOTE: ``Token(name, value)`` goes through lark's keyword-compatibility layer and costs ten times
    as much; typing the distinct bodies of a large log spent half its time there.
    """
    tok = str.__new__(Token, value)
    tok.type, tok.value = name, value
    tok.start_pos = tok.line = tok.column = tok.end_line = tok.end_column = tok.end_pos = None
    return tok


#: The level words of the grammar, by their text.
LEVELS = {level.value: level for level in ev.Level}
_FALLBACK = None  # a body the fast path leaves to the LALR parser


@functools.cache
def _start_shapes(lenient: bool = False) -> dict[str, _StartShapes]:
    """The message shapes of every start symbol, compiled once per process (a worker forked after the
    first parser was made inherits them: compiling them is a fifth of a second); ``lenient``: of the
    grammar ``--lenient`` reads with."""
    compiler = _Compiler(build_parser(lenient=lenient))
    transformer = _ToEvents()
    return {s: _StartShapes(compiler, s, transformer) for s in ("message", "bare_message", "banner")}


class FastRecord(NamedTuple):
    """A record split by the fast path: everything needed to build its event, or to count it."""

    second: datetime
    fraction: str | None
    pid: str
    tid: str
    body: Body
    payload: Payload | None  # None: a generic message


def record_time(rec: FastRecord) -> datetime:
    if rec[1] is None:
        return rec[0]
    return rec[0].replace(microsecond=int(rec[1].ljust(6, "0")))


def record_class(rec: FastRecord) -> type[ev.Event]:
    payload = rec[5]
    return ev.Message if payload is None else payload[0]


class FastParser:
    """Splits and types a headered record without running the LALR parser, or says it cannot.

    ``split`` returns None whenever the fast path is not certain to agree with the grammar; the
    caller then runs :class:`tracelens.parse.parser.RecordParser`'s LALR path. Everything that repeats
    (timestamps to the second, ids, level and body texts with their typed payload) is cached.
    """

    def __init__(self, lenient: bool = False) -> None:
        lark = build_parser(lenient=lenient)
        t = {term.name: term.pattern.to_regexp() for term in lark.terminals}
        self.starts = _start_shapes(lenient)
        self._lark = lark
        # A cheap split first; every piece is then checked against its own terminal of the grammar,
        # once per distinct value.
        self.record = re.compile(r"\[([^\].]*)(?:\.([0-9]{1,6}))?\] (?:(\S+) )?(\S+) (\S+) - ([A-Z]+):(?: (.*))?")
        self.asc = re.compile(t["ASCTIME"])
        self.clf = re.compile(t["CLFTIME"])
        self.procid = re.compile(t["PROCID"])
        self.job = re.compile(t["IBMI_JOB"])
        self.component = re.compile(t["COMPONENT"])
        self.text = re.compile(t["TEXT"])
        self.located = re.compile(rf"(?>({t['COMPONENT']})): (?>({t['FUNCTION']})): (?>({t['MESSAGE']}))?")
        self.indented = re.compile(rf"(?>({t['INDENT']}))(?>({t['TEXT']}))")
        self._seconds: dict[str, tuple[datetime, bool] | None] = {}  # text -> (datetime, 8.5 style) or invalid
        self._ids: set[str] = set()
        self._bodies: dict[str, dict[str, tuple[Body, Payload | None] | None]] = {lv: {} for lv in LEVELS}

    def split(self, text: str) -> FastRecord | None:
        """A :class:`FastRecord` (as a plain tuple: one is made per line), or None to take the LALR path."""
        m = self.record.fullmatch(text)
        if m is None:
            return None
        second, fraction, job, pid, tid, level, body = m.groups()
        stamp = self.second(second)
        if stamp is None or (fraction is not None and not stamp[1]):
            return None
        if job is not None:
            if not (self.job.fullmatch(job) and self.procid.fullmatch(pid) and self.procid.fullmatch(tid)):
                return None
            pid = f"{job}:{pid}"
        elif not self.valid_ids(pid, tid):
            return None
        entry = self.body(level, body)
        if entry is None:
            return None
        return FastRecord(stamp[0], fraction, pid, tid, entry[0], entry[1])

    def second(self, text: str) -> tuple[datetime, bool] | None:
        """The timestamp to the second and whether it is the 8.5 style; None when it is not one."""
        stamp = self._seconds.get(text)
        if stamp is None and text not in self._seconds:
            stamp = self._second(text)
        return stamp

    @property
    def ids(self) -> set[str]:
        """The process and thread ids already checked (the set itself: a hot loop tests it inline)."""
        return self._ids

    def valid_ids(self, pid: str, tid: str) -> bool:
        ids = self._ids
        if pid in ids and tid in ids:
            return True
        if not (self.procid.fullmatch(pid) and self.procid.fullmatch(tid)):
            return False
        if len(ids) >= CACHE_LIMIT:
            ids.clear()
        ids.update((pid, tid))
        return True

    def body(self, level: str, body: str | None) -> tuple[Body, Payload | None] | None:
        """The parsed body and its payload, or None when the LALR parser must decide."""
        bodies = self._bodies.get(level)
        if bodies is None:
            return None
        key = body or ""
        entry = bodies.get(key)
        if entry is None:
            if key in bodies:
                return None  # known to need the LALR path
            entry = self._body(LEVELS[level], body)
            if len(bodies) >= CACHE_LIMIT:
                bodies.clear()
            bodies[key] = entry
        return entry

    def _second(self, text: str) -> tuple[datetime, bool] | None:
        try:
            if self.asc.fullmatch(text):
                value: tuple[datetime, bool] | None = (asctime(text), False)
            elif self.clf.fullmatch(text):
                value = (clftime(text), True)
            else:
                value = None
        except ValueError:
            value = None  # a date the calendar does not have: the LALR path says why
        if len(self._seconds) > CACHE_LIMIT:
            self._seconds.clear()
        self._seconds[text] = value
        return value

    def _body(self, level: ev.Level, body: str | None) -> tuple[Body, Payload | None] | None:
        """What :meth:`body` gives, uncached: :meth:`structure`, then :meth:`message`."""
        typed = self._typed(level, body)
        if typed is None:
            return _FALLBACK
        return Body(*typed[:5]), typed[5]

    def typed(self, level: str, body: str | None) -> Typed | None:
        """:meth:`body` uncached, and its Body as its values: ``(level, shape, component, function, text,
        payload)``; None when the LALR parser must decide. For a caller that keeps what it needs itself."""
        lv = LEVELS.get(level)
        return None if lv is None else self._typed(lv, body)

    def _typed(self, level: ev.Level, body: str | None) -> Typed | None:
        # NOTE: structure and message written out in one (a call costs about as much as a dictionary
        # look-up): a large log has a distinct body in every few records, each typed here once
        parts = self._parts(body)
        if parts is None:
            return _FALLBACK
        shape, component, function, text = parts
        start = start_symbol(level, shape)
        if start is None:
            return level, shape, component, function, text, None
        payload = self.starts[start].match(text)
        if payload is None:
            payload = self._lalr(text, start)
        return level, shape, component, function, text, payload

    def kind(self, level: str, body: str | None) -> type[ev.Event] | None:
        """The event class of ``LEVEL: body`` without building its payload; None: the LALR path decides."""
        lv = LEVELS.get(level)
        parts = self._parts(body)
        if lv is None or parts is None:
            return None
        shape, _, _, text = parts
        start = start_symbol(lv, shape)
        if start is None:
            return ev.Message
        cls = self.starts[start].kind(text)
        if cls is None:
            payload = self._lalr(text, start)
            cls = ev.Message if payload is None else payload[0]
        return cls

    def structure(self, level: ev.Level, body: str | None) -> Body | None:
        """The body's structure (located, indented, bare, empty), or None when the LALR parser must decide."""
        parts = self._parts(body)
        return None if parts is None else Body(level, *parts)

    def _parts(self, body: str | None) -> tuple[str, str | None, str | None, str] | None:
        """``(shape, component, function, text)`` of a body, as the grammar's structure rules split it."""
        if not body:
            return "empty", None, None, ""
        # NOTE: the whole located form first (most bodies are), then its first token alone: the same
        # decision as the lexer's, with one match for a located body instead of two
        loc = self.located.fullmatch(body)
        if loc is not None:
            component, function, text = loc.groups()
            return "located", component, function, text or ""
        if self.component.match(body):
            return _FALLBACK  # the lexer commits to `component: function:` and then fails: lark says why
        if body[0] == " ":
            ind = self.indented.fullmatch(body)
            if ind is None:
                return _FALLBACK
            return "indented", None, None, ind.group(2)
        if self.text.fullmatch(body):
            return "bare", None, None, body
        return _FALLBACK  # a body that starts with a tab or another space the grammar has no token for

    def message(self, body: Body) -> Payload | None:
        """The typed payload of a body, or None for a generic message."""
        start = message_start(body)
        if start is None:
            return None
        payload = self.starts[start].match(body.text)
        if payload is None:
            payload = self._lalr(body.text, start)
        return payload

    def _lalr(self, text: str, start: str) -> Payload | None:
        try:
            return cast(Payload, self._lark.parse(text, start=start))
        except Exception:
            return None
