"""POST /api/v1/classify: labels and probabilities for a list of texts, as JSON, described by OpenAPI.

    curl -s http://127.0.0.1:7861/api/v1/classify -H 'Content-Type: application/json' \
         -d '{"texts": ["the app crashes when I log in"]}'

A small FastAPI app of its own, answered by `RestGate` (ASGI middleware given to the Gradio app through
launch(app_kwargs=...)) before Gradio sees the request: the demo's lock-down of Gradio's own routes stays as it
is, and nothing under /api/v1/ reaches Gradio. The schema is at /api/v1/openapi.json. The demo answers with its
one model; the studio answers with any finished run's model and asks for its password (HTTP Basic).
"""
from __future__ import annotations

import base64
import hmac
from typing import Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .. import feedback, security
from ..inference import Classifier, InferenceError
from .serve import _header, _read_body, _replay

PREFIX = "/api/v1"
MAX_TEXTS = 64                     # texts per request
MAX_BODY_BYTES = 256 * 1024        # bytes per request
DEMO_TEXTS_PER_MINUTE = 60         # per visitor; a short text takes about 10 ms on a 2-core CPU
DEMO_TEXTS_ALL_PER_MINUTE = 600    # all visitors together
STUDIO_TEXTS_PER_MINUTE = 3000     # the studio's owner, behind the password
WRONG_PASSWORDS_PER_MINUTE = 10


class ClassifyRequest(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS,
                             description=f"the texts to classify, 1 to {MAX_TEXTS}, each up to "
                                         f"{feedback.MAX_TEXT_CHARS} characters")
    run: str | None = Field(None, description="the studio only: the run whose model answers (default: the newest "
                                              "finished run); the demo always answers with its own model")


class LabelScores(BaseModel):
    label: str = Field(description="the most likely label")
    confidence: float = Field(description="its probability")
    scores: dict[str, float] = Field(description="every label's probability, highest first")


class ClassifyResponse(BaseModel):
    model: str = Field(description="the run whose model answered")
    labels: list[str]
    predictions: list[LabelScores] = Field(description="one per text, in the order of `texts`")


def _sentence(status: int, text: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": text}, status_code=status, headers=headers)


def build_api(classifier_for: Callable[[str | None], tuple[str, Classifier]], limit: security.RateLimit,
              key_of: Callable[[Request], str], check_password: Callable[[Request], bool] | None = None,
              title: str = "Text classifier") -> FastAPI:
    """The API: `classifier_for(run)` gives (run id, classifier) or raises LookupError with a sentence;
    `key_of(request)` names the caller for `limit`; `check_password`, when given, must pass first."""
    api = FastAPI(title=f"{title}: REST API", version="1", openapi_url=f"{PREFIX}/openapi.json", docs_url=None,
                  redoc_url=None, description="Classify texts with a model trained in the text classifier studio.")

    @api.exception_handler(RequestValidationError)
    async def invalid(request, err):  # one sentence instead of pydantic's list of errors
        return _sentence(422, f'Send JSON like {{"texts": ["a text", "another text"]}} with 1 to {MAX_TEXTS} texts.')

    @api.post(f"{PREFIX}/classify", response_model=ClassifyResponse,
              responses={401: {"description": "the studio's password is missing or wrong"},
                         413: {"description": "too many texts, a text too long, or a body over the size limit"},
                         429: {"description": "too many texts this minute"}})
    def classify(body: ClassifyRequest, request: Request) -> ClassifyResponse:
        """Labels and probabilities for up to 64 texts."""
        if check_password is not None and not check_password(request):
            raise HTTPException(401, "Give the studio's user name and password (curl -u USER:PASS).",
                                headers={"WWW-Authenticate": 'Basic realm="studio"'})
        if any(len(text) > feedback.MAX_TEXT_CHARS for text in body.texts):
            raise HTTPException(413, f"A text is longer than {feedback.MAX_TEXT_CHARS} characters; shorten it.")
        if not limit.allow(key_of(request), len(body.texts)):
            raise HTTPException(429, f"Too many texts: at most {limit.limit} a minute; wait a minute and try again.")
        try:
            run_id, classifier = classifier_for(body.run)
            predictions = classifier.predict(body.texts)
        except (LookupError, InferenceError) as err:
            raise HTTPException(404, str(err).strip("'\"")) from None
        return ClassifyResponse(model=run_id, labels=classifier.labels,
                                predictions=[LabelScores(**p.to_dict()) for p in predictions])

    return api


def password_check(auth: tuple[str, str], failures: security.RateLimit | None = None) -> Callable[[Request], bool]:
    """HTTP Basic against the studio's (user, password); wrong passwords are limited per address like sign-ins."""
    failures = failures or security.RateLimit(WRONG_PASSWORDS_PER_MINUTE, 60)
    expected = f"{auth[0]}:{auth[1]}".encode()

    def check(request: Request) -> bool:
        address = security.client_address(request.client.host if request.client else None,
                                          request.headers.get("x-forwarded-for"), security.trusted_proxies())
        scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
        try:
            given = base64.b64decode(value, validate=True) if scheme.lower() == "basic" else b""
        except ValueError:
            given = b""
        if given and hmac.compare_digest(given, expected):
            return True
        if not failures.allow(address):
            raise HTTPException(429, "Too many wrong passwords; wait a minute and try again.")
        return False
    return check


class RestGate:
    """Answers everything under /api/v1/ from the API app, with the body size limited; the rest goes on."""

    def __init__(self, app, api: FastAPI, max_body: int = MAX_BODY_BYTES) -> None:
        self.app, self.api, self.max_body = app, api, max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not (scope.get("path", "") + "/").startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        too_large = _sentence(413, f"The request is larger than {security.describe_size(self.max_body)}; send "
                                   f"fewer or shorter texts (at most {MAX_TEXTS} a request).")
        length = _header(scope, b"content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            await too_large(scope, receive, send)
            return
        if scope.get("method") == "POST":
            body = await _read_body(receive, self.max_body)
            if body is None:
                await too_large(scope, receive, send)
                return
            receive = _replay(body)
        await self.api(scope, receive, send)


def demo_api(run_id: str, classifier: Classifier, sessions: security.VisitorSessions, title: str,
             limit: security.RateLimit | None = None) -> FastAPI:
    """The demo's API: its one model, limited per visitor (security.visitor_key) and for all visitors."""
    limit = limit or security.RateLimit(DEMO_TEXTS_PER_MINUTE, 60, total=DEMO_TEXTS_ALL_PER_MINUTE)

    def key_of(request: Request) -> str:
        return security.visitor_key(request.client.host if request.client else None,
                                    request.headers.get("x-forwarded-for"),
                                    request.cookies.get(security.VISITOR_COOKIE), sessions)
    return build_api(lambda run: (run_id, classifier), limit, key_of, title=title)


def studio_api(runs_dir, auth: tuple[str, str] | None) -> FastAPI:
    """The studio's API: any finished run's model, by id or the newest; the password when the studio has one."""
    from ..inference import load_classifier
    from ..runs import get_run, latest_run

    def classifier_for(run_id: str | None) -> tuple[str, Classifier]:
        run = get_run(runs_dir, run_id) if run_id else latest_run(runs_dir, with_model=True)
        if run is None or not run.has_model():
            raise LookupError("There is no finished run with a model to answer; train one first."
                              if run is None else f"The run {run.id} has no trained model.")
        return run.id, load_classifier(run.model_dir)

    def key_of(request: Request) -> str:
        return security.client_address(request.client.host if request.client else None,
                                       request.headers.get("x-forwarded-for"), security.trusted_proxies())
    limit = security.RateLimit(STUDIO_TEXTS_PER_MINUTE, 60)
    return build_api(classifier_for, limit, key_of, password_check(auth) if auth else None,
                     title="Text classifier studio")

