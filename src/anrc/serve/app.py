"""The HTTP service: a JSON API and a page, on FastAPI (``pip install -e '.[serve]'``).

    GET  /          the page: type a sentence, mark the entities, see the label,
                    every label's probability and a heat map over the tokens
    GET  /health    {"status": "ok", "encoder": ..., "labels": N}
    GET  /labels    {"labels": [...], "negative": "Other"}
    POST /predict   one item, or {"items": [...]} for many; an item is a tagged
                    sentence ("The <e1>..</e1> ... <e2>..</e2> .", or {"sentence": ...})
                    or an OpenNRE item ({"text", "h": {"pos"}, "t": {"pos"}} or
                    {"token", "h", "t"}). Answers {"prediction": {...}} or
                    {"predictions": [...]}; each has label, score, scores, tokens,
                    attention (or null) and saliency.

A bad request gets a 4xx JSON ``{"error": "..."}`` naming the problem (and the
item, for many), and the service keeps serving. Bodies over ``max_bytes`` and
more than ``max_items`` items are refused (413). Predictions run one request at
a time (a lock around the model), so the model is never used by two threads.
(No ``from __future__ import annotations`` here: FastAPI reads the annotations.)
"""

import json
import threading
from importlib import resources

INSTALL_HINT = "anrc serve needs the extra: pip install -e '.[serve]'"


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _items(payload) -> tuple[list, bool]:
    """(items, many) from a request body."""
    if isinstance(payload, dict) and "items" in payload:
        items = payload["items"]
        if not isinstance(items, list) or not items:
            raise BadRequest('"items" must be a non-empty list')
        return items, True
    if isinstance(payload, list):
        if not payload:
            raise BadRequest("an empty list: nothing to predict")
        return payload, True
    return [payload], False


def _item(obj, where: str):
    if isinstance(obj, dict) and "sentence" in obj:
        obj = obj["sentence"]
    if not isinstance(obj, str | dict):
        raise BadRequest(f"{where}: expected a tagged sentence or an OpenNRE item")
    return obj


def predict_payload(classifier, payload, max_items: int) -> dict:
    """The response body for a /predict payload (BadRequest on bad input)."""
    from anrc.inference.api import to_example

    items, many = _items(payload)
    if len(items) > max_items:
        raise BadRequest(f"{len(items)} items; at most {max_items} a request", 413)
    examples = []
    for i, raw in enumerate(items):
        where = f"item {i}" if many else "request"
        try:
            examples.append(to_example(_item(raw, where), str(i)))
        except ValueError as err:
            raise BadRequest(f"{where}: {err}") from None
    preds = classifier.predict_many(examples, with_saliency=True)
    if many:
        return {"predictions": [p.to_json() for p in preds]}
    return {"prediction": preds[0].to_json()}


def page_html() -> str:
    return resources.files("anrc.serve").joinpath("page.html").read_text(encoding="utf-8")


def create_app(classifier, max_items: int = 64, max_bytes: int = 1_000_000):
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import HTMLResponse, JSONResponse
    except ImportError:
        raise ImportError(INSTALL_HINT) from None

    app = FastAPI(title="anrc", docs_url=None, redoc_url=None)
    lock = threading.Lock()
    cfg = classifier.config
    page = page_html()

    def error(status: int, message: str):
        return JSONResponse({"error": message}, status_code=status)

    @app.get("/", response_class=HTMLResponse)
    def index():
        return page

    @app.get("/health")
    def health():
        return {"status": "ok", "encoder": cfg.model.encoder, "labels": len(classifier.labels)}

    @app.get("/labels")
    def labels():
        return {"labels": classifier.labels.labels, "negative": classifier.labels.negative}

    @app.post("/predict")
    async def predict(request: Request):
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > max_bytes:
            return error(413, f"request body of {size} bytes; at most {max_bytes}")
        body = await request.body()
        if len(body) > max_bytes:
            return error(413, f"request body of {len(body)} bytes; at most {max_bytes}")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            return error(400, f"the body is not JSON ({err})")
        try:
            with lock:
                return predict_payload(classifier, payload, max_items)
        except BadRequest as err:
            return error(err.status, str(err))

    return app


def serve(classifier, host: str, port: int, max_items: int, log_level: str = "warning") -> None:
    try:
        import uvicorn
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    uvicorn.run(create_app(classifier, max_items), host=host, port=port, log_level=log_level)
