"""One relation mention (:class:`Example`), the tagged-sentence form and OpenNRE-style dicts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from anrc.data.tokens import tokenize

_TAG = re.compile(r"<\s*(/?)\s*(e[12])\s*>")


@dataclass
class Example:
    """One relation mention: tokens, the two entity spans (end-exclusive) and the label."""

    id: str
    tokens: list[str]
    e1: tuple[int, int]
    e2: tuple[int, int]
    label: str | None = None
    line: int = 0
    comment: str | None = None

    def tagged_text(self) -> str:
        """The sentence with ``<e1>``/``<e2>`` tags, tokens joined by single spaces."""
        out = []
        for i, tok in enumerate(self.tokens):
            for name, (s, _) in (("e1", self.e1), ("e2", self.e2)):
                if i == s:
                    out.append(f"<{name}>")
            out.append(tok)
            for name, (_, e) in (("e1", self.e1), ("e2", self.e2)):
                if i == e - 1:
                    out.append(f"</{name}>")
        text = " ".join(out)
        return re.sub(r"<(e[12])> ", r"<\1>", re.sub(r" </(e[12])>", r"</\1>", text))


def parse_tagged(text: str) -> tuple[list[str], tuple[int, int], tuple[int, int]]:
    """Tokenise a sentence with ``<e1>..</e1>`` and ``<e2>..</e2>`` tags.

    Tags may carry whitespace (``< e1 >``, ``<e1> Thom Yorke </e1>``) and come in
    either order. Raises ``ValueError`` with a one-line reason if the tags are
    missing, unclosed, nested, repeated or enclose no token.
    """
    tokens: list[str] = []
    open_: dict[str, int] = {}
    spans: dict[str, tuple[int, int]] = {}
    pos = 0
    for m in _TAG.finditer(text):
        tokens += tokenize(text[pos : m.start()])
        pos = m.end()
        closing, name = m.group(1) == "/", m.group(2)
        if not closing:
            if name in open_ or name in spans:
                raise ValueError(f"entity tag <{name}> appears twice")
            if open_:
                other = next(iter(open_))
                raise ValueError(
                    f"entity tag <{other}> is not closed before <{name}> opens (tags may not nest)"
                )
            open_[name] = len(tokens)
        else:
            if name not in open_:
                raise ValueError(f"closing tag </{name}> without an opening <{name}>")
            start = open_.pop(name)
            if start == len(tokens):
                raise ValueError(f"entity <{name}> is empty")
            spans[name] = (start, len(tokens))
    tokens += tokenize(text[pos:])
    if open_:
        raise ValueError(f"entity tag <{next(iter(open_))}> is not closed")
    for name in ("e1", "e2"):
        if name not in spans:
            raise ValueError(f"entity tag <{name}> is missing")
    return tokens, spans["e1"], spans["e2"]


def _pos(obj: dict, key: str) -> tuple[int, int]:
    ent = obj.get(key)
    pos = ent.get("pos") if isinstance(ent, dict) else None
    if (
        not isinstance(pos, list | tuple)
        or len(pos) != 2
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in pos)
    ):
        raise ValueError(f'"{key}" must be an object with "pos": [start, end]')
    return pos[0], pos[1]


def _from_text(text: object, h: tuple[int, int], t: tuple[int, int]):
    """OpenNRE's ``text`` with character offsets -> tokens and token spans.

    The text is cut at the entity boundaries and each piece tokenised on its own,
    so an entity is always whole tokens.
    """

    if not isinstance(text, str) or not text.strip():
        raise ValueError('"text" must be a non-empty string')
    for (s, e), name in ((h, "h"), (t, "t")):
        if not 0 <= s < e <= len(text) or not text[s:e].strip():
            raise ValueError(
                f"entity {name} characters {[s, e]} are empty or outside the "
                f"{len(text)} characters of the text"
            )
    if h[0] < t[1] and t[0] < h[1]:
        raise ValueError("the two entity spans overlap")
    tokens: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    at = 0
    for name, (s, e) in sorted((("h", h), ("t", t)), key=lambda kv: kv[1]):
        tokens += tokenize(text[at:s])
        ent = tokenize(text[s:e])
        spans[name] = (len(tokens), len(tokens) + len(ent))
        tokens += ent
        at = e
    tokens += tokenize(text[at:])
    return tokens, spans["h"], spans["t"]


def example_from_json(obj: object, default_id: str, line: int = 0) -> Example:
    """An Example from an OpenNRE item; ValueError on a bad shape.

    Either ``token`` (a list of words) with ``h``/``t`` ``pos`` as end-exclusive token
    offsets, or ``text`` (a string) with ``pos`` as end-exclusive character offsets
    (OpenNRE's ``infer`` input); ``pos`` may be a list or a tuple. ``relation`` is
    the label, ``id`` the identifier (optional).
    """
    if not isinstance(obj, dict):
        raise ValueError("each line must be a JSON object")
    h, t = _pos(obj, "h"), _pos(obj, "t")
    if "token" not in obj and "text" in obj:
        tokens, h, t = _from_text(obj["text"], h, t)
    else:
        tokens = obj.get("token")
        if not isinstance(tokens, list) or not all(isinstance(x, str) and x for x in tokens):
            raise ValueError('"token" must be a list of non-empty strings (or give "text")')
        if not tokens:
            raise ValueError('"token" is empty')
    for (s, e), name in ((h, "e1"), (t, "e2")):
        if not 0 <= s < e <= len(tokens):
            raise ValueError(
                f"entity {name} span {[s, e]} is empty or outside the {len(tokens)} tokens"
            )
    if h[0] < t[1] and t[0] < h[1]:
        raise ValueError("the two entity spans overlap")
    label = obj.get("relation")
    if label is not None and not isinstance(label, str):
        raise ValueError('"relation" must be a string')
    ex_id = obj.get("id", default_id)
    return Example(str(ex_id), list(tokens), h, t, label, line)


def example_to_json(ex: Example) -> dict:
    obj: dict = {
        "id": ex.id,
        "token": ex.tokens,
        "h": {"name": " ".join(ex.tokens[ex.e1[0] : ex.e1[1]]), "pos": list(ex.e1)},
        "t": {"name": " ".join(ex.tokens[ex.e2[0] : ex.e2[1]]), "pos": list(ex.e2)},
    }
    if ex.label is not None:
        obj["relation"] = ex.label
    return obj


def to_example(item: str | dict | Example, default_id: str = "0") -> Example:
    """A tagged sentence, an OpenNRE-style dict, or an Example -> Example (ValueError if
    bad): what a user hands to the prediction API, the service or the predict stream."""
    if isinstance(item, Example):
        return item
    if isinstance(item, dict):
        return _readable(example_from_json(item, default_id))
    if isinstance(item, str):
        tokens, e1, e2 = parse_tagged(item)
        if not tokens:
            raise ValueError("empty sentence")
        return _readable(Example(default_id, tokens, e1, e2))
    raise ValueError(f"cannot predict on a {type(item).__name__}")


def _readable(ex: Example) -> Example:
    """``ex``, unless a word holds a lone surrogate (U+D800-U+DFFF: half of a UTF-16
    pair, not a character; JSON's \\ud800 makes one), which no tokenizer can read."""
    for word in ex.tokens:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError as err:
            code = ord(word[err.start])
            raise ValueError(
                f"the text holds U+{code:04X}, a lone surrogate, not a character"
            ) from None
    return ex
