"""A /predict or /extract request body -> examples or texts, with every limit checked
before any prediction.

Pure functions, no web framework: a bad body raises :class:`BadRequest` with the
HTTP status and one message that names the item (``item 3: ...``) when the body
holds many.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from anrc.data import Example, to_example
from anrc.registry import did_you_mean

#: the keys a body may have: {"items": [...]} and what one item may say
BODY_KEYS = ("items", "saliency")
ITEM_KEYS = ("sentence", "text", "token", "h", "t", "id", "relation")
ENTITY_KEYS = ("pos", "name", "id", "type")


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (``anrc serve --help`` sets each)."""

    max_bytes: int = 1_000_000  # request body
    max_items: int = 64  # sentences in one request
    max_words: int = 512  # words in one sentence
    timeout: float = 30.0  # seconds for one request's predictions
    chunk_ms: float = 25.0  # about this much work a chunk a worker predicts (anrc.serve.worker)
    chunk_words: int | None = None  # or this many words a chunk, fixed


def parse_json(body: bytes, max_bytes: int) -> object:
    """The body as JSON (a UTF-8 byte-order mark is allowed); too large, not UTF-8, not
    JSON, a number of absurd length or nested too deep is a BadRequest."""
    if len(body) > max_bytes:
        raise BadRequest(f"request body of {len(body)} bytes; at most {max_bytes}", 413)
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise BadRequest(f"the body is not UTF-8 ({err.reason} at byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise BadRequest(f"the body is not JSON ({err})") from None
    except ValueError as err:  # e.g. an integer past Python's 4,300 digits
        raise BadRequest(f"the body's JSON holds a value Python cannot read ({err})") from None
    except RecursionError:
        raise BadRequest(
            "the body's JSON nests too deeply (arrays or objects within each other)"
        ) from None


@dataclass
class Request:
    """A parsed /predict body."""

    examples: list[Example]
    many: bool  # {"items": [...]} or a list: answer {"predictions": [...]}
    saliency: bool = True  # {"saliency": false} skips it (about 4x less work a sentence)


def _check_keys(obj: object, known: tuple[str, ...], where: str) -> None:
    """A BadRequest for a key ``obj`` (a dict) should not have, with the nearest known."""
    if not isinstance(obj, dict):
        return
    for key in obj:
        if key not in known:
            raise BadRequest(
                f"{where}unknown key {key!r}{did_you_mean(str(key), known)}; "
                f"known: {', '.join(known)}"
            )


def _items(payload: object) -> tuple[list, bool]:
    """(items, many) from a request body."""
    if isinstance(payload, dict) and "items" in payload:
        _check_keys(payload, BODY_KEYS, "")
        items = payload["items"]
        if not isinstance(items, list) or not items:
            raise BadRequest('"items" must be a non-empty list')
        return items, True
    if isinstance(payload, list):
        if not payload:
            raise BadRequest("an empty list: nothing to predict")
        return payload, True
    _check_keys(payload, (*BODY_KEYS, *ITEM_KEYS), "request: ")
    return [payload], False


def _example(obj: object, default_id: str) -> Example:
    """One item (a tagged sentence, {"sentence": ...} or an OpenNRE item) -> Example."""

    for name in ("h", "t"):
        if isinstance(obj, dict):
            _check_keys(obj.get(name), ENTITY_KEYS, f"{name}: ")
    if isinstance(obj, dict) and "sentence" in obj:
        obj = obj["sentence"]
    if not isinstance(obj, str | dict):
        raise ValueError("expected a tagged sentence or an OpenNRE item")
    try:
        return to_example(obj, default_id)
    except RecursionError:
        raise ValueError("the item nests too deeply") from None


def _saliency(payload: object) -> bool:
    value = payload.get("saliency", True) if isinstance(payload, dict) else True
    if not isinstance(value, bool):
        raise BadRequest('"saliency" must be true or false')
    return value


def parse_request(body: bytes, limits: Limits) -> Request:
    """A /predict body -> Request, every limit checked (BadRequest)."""
    payload = parse_json(body, limits.max_bytes)
    examples, many = parse_items(payload, limits)
    return Request(examples, many, _saliency(payload))


def parse_items(payload: object, limits: Limits) -> tuple[list[Example], bool]:
    """(examples, many): the request's sentences, each within ``limits.max_words``."""
    items, many = _items(payload)
    if len(items) > limits.max_items:
        raise BadRequest(f"{len(items)} items; at most {limits.max_items} a request", 413)
    examples = []
    for i, raw in enumerate(items):
        where = f"item {i}" if many else "request"
        if many:
            _check_keys(raw, ITEM_KEYS, f"{where}: ")
        try:
            ex = _example(raw, str(i))
        except ValueError as err:
            raise BadRequest(f"{where}: {err}") from None
        if len(ex.tokens) > limits.max_words:
            raise BadRequest(
                f"{where}: a sentence of {len(ex.tokens):,} words; at most "
                f"{limits.max_words:,} (anrc serve --max-words)",
                413,
            )
        examples.append(ex)
    return examples, many


#: the keys an /extract body may have: one text or several, and how to decode them
EXTRACT_KEYS = ("text", "texts", "source", "mentions", "window", "decoding", "threshold",
                "with_negative", "prior", "split")  # fmt: skip


@dataclass
class ExtractRequest:
    """A parsed /extract body: raw texts, and the extraction's options."""

    texts: list[str]
    many: bool  # {"texts": [...]}: answer {"extractions": [...]}
    options: dict


def _texts(payload: dict, limits: Limits) -> tuple[list[str], bool]:
    if ("text" in payload) == ("texts" in payload):
        raise BadRequest('give "text" (a string) or "texts" (a list of strings), one of them')
    many = "texts" in payload
    texts = payload["texts"] if many else [payload["text"]]
    if not isinstance(texts, list) or not texts:
        raise BadRequest('"texts" must be a non-empty list of strings')
    if len(texts) > limits.max_items:
        raise BadRequest(f"{len(texts)} texts; at most {limits.max_items} a request", 413)
    for i, text in enumerate(texts):
        where = f"text {i}" if many else "text"
        if not isinstance(text, str) or not text.strip():
            raise BadRequest(f"{where}: must be a non-empty string")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise BadRequest(
                f"{where}: holds U+{ord(text[err.start]):04X}, not a character"
            ) from None
        words = len(text.split())
        if words > limits.max_words * 4:
            raise BadRequest(f"{where}: {words} words; at most {limits.max_words * 4}", 413)
    return texts, many


def _extract_options(payload: dict, sources, decodings) -> dict:
    """The options the body sets, each checked (the same rules as ``anrc extract``)."""
    opts = {k: payload[k] for k in EXTRACT_KEYS[2:] if k in payload}
    checks = {
        "source": (lambda v: v in sources, f"one of {', '.join(sources)}"),
        "mentions": (
            lambda v: type(v) is int and (v == 0 or 2 <= v <= 1000),
            "0 (the tagger's own) or a whole number from 2 to 1000",
        ),
        "window": (lambda v: type(v) is int and v >= 0, "a whole number of tokens, 0 for any"),
        "decoding": (lambda v: v in decodings, f"one of {', '.join(decodings)}"),
        "threshold": (lambda v: type(v) in (int, float) and 0 <= v <= 1, "a probability, 0 to 1"),
        "with_negative": (lambda v: isinstance(v, bool), "true or false"),
        "prior": (lambda v: isinstance(v, bool), "true or false"),
        "split": (lambda v: isinstance(v, bool), "true or false"),
    }
    for key, value in opts.items():
        ok, what = checks[key]
        if not ok(value):
            raise BadRequest(f'"{key}" must be {what}')
    return opts


def parse_extract_request(body: bytes, limits: Limits, sources, decodings) -> ExtractRequest:
    """An /extract body -> ExtractRequest, every limit and option checked (BadRequest);
    ``sources`` and ``decodings``: the registered names an option may take."""
    payload = parse_json(body, limits.max_bytes)
    if not isinstance(payload, dict):
        raise BadRequest('the body must be a JSON object: {"text": "..."} or {"texts": [...]}')
    _check_keys(payload, EXTRACT_KEYS, "request: ")
    texts, many = _texts(payload, limits)
    return ExtractRequest(texts, many, _extract_options(payload, sources, decodings))
