"""The HTTP service: a JSON API and a page, on FastAPI (``pip install -e '.[serve]'``).

    GET  /            the page: type a sentence, mark the entities, see the label,
                      the likeliest labels in words and a heat map over the tokens
    GET  /favicon.ico the page's icon (SVG)
    GET  /health      {"status": "ok", "encoder": ..., "labels": N, "auth": bool, "limits": {...}}
    GET  /labels      {"labels": [...], "negative": "Other", "descriptions": {label: text}}
    GET  /model-card  the model's card (Markdown as plain text)
    POST /predict     one item, or {"items": [...]} for many; an item is a tagged
                      sentence ("The <e1>..</e1> ... <e2>..</e2> .", or {"sentence": ...})
                      or an OpenNRE item ({"text", "h": {"pos"}, "t": {"pos"}} or
                      {"token", "h", "t"}); "saliency": false skips the saliency.
                      Answers {"prediction": {...}} or {"predictions": [...]}; each
                      has label, score, scores, tokens, attention (or null),
                      saliency, entities, their spans and each token's role.
                      For many, an item the model cannot take (the transformer:
                      entities longer than its max_length) is {"item": i, "error":
                      "..."} in its place and the others are answered; for one, 422.
    POST /extract     relations in raw text: {"text": ...} or {"texts": [...]}, with
                      anrc extract's options; answers {"extraction": {...}} or
                      {"extractions": [...]} (sentences, mentions, relations with
                      character offsets; anrc.extraction).

Every error, whatever its status, is ``{"error": "one line"}``: a bad request gets a
4xx naming the problem (and the item, for many) and the service keeps serving.
Limits (:class:`~anrc.serve.requests.Limits`): body bytes and items a request (413),
words a sentence (413), seconds a request (503). Predictions run on worker threads
(:mod:`anrc.serve.worker`), never on the event loop. With an API key, /predict,
/extract, /labels and /model-card need ``Authorization: Bearer KEY`` (or ``X-API-Key: KEY``);
the page and /health stay open. (No ``from __future__ import annotations`` here:
FastAPI reads the annotations.)
"""

import hmac
import logging
from importlib import resources

import anyio.to_thread
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from anrc.data.labels import describe_label
from anrc.extraction import DECODINGS
from anrc.extraction.mentions import source_choices
from anrc.inference.jsontext import dumps
from anrc.serve.requests import BadRequest, Limits, parse_extract_request, parse_request
from anrc.serve.worker import ItemError, Timeout, Worker

INSTALL_HINT = "anrc serve needs the extra: pip install -e '.[serve]'"
#: bodies smaller than this are parsed on the event loop (a thread hop costs more)
INLINE_PARSE_BYTES = 16_384
log = logging.getLogger("anrc.serve")
#: the page's icon: two entities joined by an arc (an SVG, which browsers take at this path)
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<path d="M4 11 Q8 2 12 11" fill="none" stroke="#2563eb" stroke-width="1.6"/>'
    '<circle cx="4" cy="12" r="2.5" fill="#2563eb"/><circle cx="12" cy="12" r="2.5" '
    'fill="#dc2626"/></svg>'
)


def page_html() -> str:
    return resources.files("anrc.serve").joinpath("page.html").read_text(encoding="utf-8")


def _authorised(headers, api_key: str | None) -> bool:
    if not api_key:
        return True
    given = headers.get("x-api-key") or ""
    auth = headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return hmac.compare_digest(given.encode(), api_key.encode())


def _error(status: int, message: str):
    """The one error shape of every route: ``{"error": message}``."""

    return JSONResponse({"error": message}, status_code=status)


def _install_error_handlers(app) -> None:
    """One error shape everywhere: ``{"error": ...}`` for 404, 405, 422 and 500 too."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):
        text = {404: f"no such page: {request.url.path}",
                405: f"{request.method} is not allowed on {request.url.path}"}  # fmt: skip
        return _error(exc.status_code, text.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc):
        return _error(422, f"invalid request: {exc.errors()[:1]}")

    @app.exception_handler(Exception)
    async def internal_error(request, exc):
        log.exception("internal error on %s", request.url.path)
        return _error(500, "internal error (the server log has the details)")


def create_app(
    classifier,
    limits: Limits | None = None,
    workers: int = 1,
    api_key: str | None = None,
    model_card: str | None = None,
):
    """The FastAPI app serving ``classifier`` (a RelationClassifier)."""
    limits = limits or Limits()
    app = FastAPI(title="anrc", docs_url=None, redoc_url=None, openapi_url=None)
    _install_error_handlers(app)
    app.state.worker = Worker(classifier, workers, limits.chunk_words, limits.chunk_ms / 1000)

    def require_key(request: Request) -> None:
        if not _authorised(request.headers, api_key):
            raise HTTPException(401, "missing or wrong API key (Authorization: Bearer KEY)")

    keyed = [Depends(require_key)] if api_key else []
    _add_info_routes(app, classifier, limits, keyed, bool(api_key), model_card)
    _add_predict_route(app, app.state.worker, limits, keyed)
    _add_extract_route(app, app.state.worker, limits, keyed)
    return app


def _add_info_routes(app, classifier, limits: Limits, keyed, auth: bool, model_card) -> None:
    """``/`` (the page), ``/health``, ``/labels`` and ``/model-card``."""

    labels, page = classifier.labels, page_html()

    @app.get("/", response_class=HTMLResponse)
    def index():
        return page

    @app.get("/favicon.ico")
    def favicon():
        return Response(FAVICON, media_type="image/svg+xml")

    @app.get("/health")
    def health():
        return {
            "status": "ok",
            "encoder": classifier.config.model.encoder,
            "labels": len(labels),
            "auth": auth,
            "model_card": model_card is not None,
            "limits": vars(limits),
        }

    @app.get("/labels", dependencies=keyed)
    def label_list():
        return {
            "labels": list(labels),
            "negative": labels.negative,
            "descriptions": {lab: describe_label(lab, labels.negative) for lab in labels},
            # what POST /extract uses for the options a request leaves out
            "extract": {
                "decoding": classifier.default_decoding,
                "threshold": classifier.default_threshold,
            },
        }

    @app.get("/model-card", dependencies=keyed)
    def card():
        if model_card is None:
            return _error(404, "this model has no model card")
        return PlainTextResponse(model_card)


async def _capped_body(request, max_bytes: int) -> bytes | Response:
    """The body, read as it arrives; a 413 as soon as it passes ``max_bytes``: by its
    Content-Length before reading, or while a chunked upload (which has none) arrives,
    never held whole."""
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > max_bytes:
        return _error(413, f"request body of {size} bytes; at most {max_bytes}")
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > max_bytes:
            return _error(413, f"request body over {max_bytes} bytes")
        parts.append(part)
    return b"".join(parts)


async def _handle(request, limits: Limits, answer) -> Response:
    """A POST route's body read under the cap and answered by ``answer(body)``; a bad
    request (4xx) or a timeout (503) in the one error shape."""
    body = await _capped_body(request, limits.max_bytes)
    if isinstance(body, Response):  # over the cap
        return body
    try:
        return await answer(body)
    except BadRequest as err:
        return _error(err.status, str(err))
    except Timeout as err:
        return _error(503, str(err))


def _add_predict_route(app, worker: Worker, limits: Limits, keyed) -> None:
    """``POST /predict``: parsed and answered off the event loop when large, predicted by
    the worker pool within the deadline (which also checks each answer is valid JSON)."""

    async def answer(body: bytes) -> Response:
        big = len(body) >= INLINE_PARSE_BYTES
        # parsing a large body takes a while: off the event loop too
        req = await anyio.to_thread.run_sync(parse_request, body, limits) if big else (
            parse_request(body, limits))  # fmt: skip
        preds = await worker.predict(req.examples, limits.timeout, req.saliency)
        if req.many:  # each answer's JSON text was rendered on the worker: joined here
            items = [dumps(p.to_json()) if isinstance(p, ItemError) else p for p in preds]
            return _json_reply(b'{"predictions":[' + b",".join(items) + b"]}")
        if isinstance(preds[0], ItemError):  # one sentence the model cannot take
            return _error(422, f"request: {preds[0].problem}")
        return _json_reply(b'{"prediction":' + preds[0] + b"}")

    @app.post("/predict", dependencies=keyed)
    async def predict(request: Request):
        return await _handle(request, limits, answer)


def _add_extract_route(app, worker: Worker, limits: Limits, keyed) -> None:
    """``POST /extract``: relations in raw text (``{"text": ...}`` or ``{"texts": [...]}``,
    with the options of ``anrc extract``), under /predict's limits and error shape."""
    names = source_choices(), DECODINGS.choices()

    async def answer(body: bytes) -> Response:
        req = parse_extract_request(body, limits, *names)
        found = await worker.extract(req.texts, req.options, limits.timeout)
        if req.many:
            return _json_reply(b'{"extractions":[' + b",".join(found) + b"]}")
        return _json_reply(b'{"extraction":' + found[0] + b"}")

    @app.post("/extract", dependencies=keyed)
    async def extract(request: Request):
        return await _handle(request, limits, answer)


def _json_reply(text: bytes) -> Response:
    """JSON text (rendered on a worker: anrc.inference.jsontext) as a response."""
    return Response(text, media_type="application/json")
