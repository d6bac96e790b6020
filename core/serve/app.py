"""The HTTP API (FastAPI): stored videos listed and classified by name, clips classified by upload
or URL, the ensemble described, probes and metrics. Every answer is JSON; every failure one
`{"error"}` line with its status; every request one log line."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from core.serve.answers import chosen_members, classify_answer
from core.serve.auth import authorized, needs_token
from core.serve.batcher import QueueFull, StoredBatcher
from core.serve.clips import ClipWorker
from core.serve.engine import ServeEngine, StoredRequest
from core.serve.errors import ApiError, busy, error_response, install_error_handlers
from core.serve.metrics import ServeMetrics
from core.serve.settings import ServeSettings
from core.serve.uploads import streamed_upload
from core.video.url_fetch import FetchLimits

LOG = logging.getLogger("core.serve")
MAX_JSON_BYTES = 64 * 1024
MAX_BATCH_NAMES = 256
MAX_PAGE = 1000
StoredPredictor = Callable[[StoredRequest], Awaitable[np.ndarray]]


class ClassifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    video: str | None = Field(None, max_length=4096)
    url: str | None = Field(None, max_length=4096)
    tta: StrictBool = False
    members: list[str] | None = Field(None, max_length=64)


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    videos: list[str] = Field(min_length=1, max_length=MAX_BATCH_NAMES)
    tta: StrictBool = False
    members: list[str] | None = Field(None, max_length=64)


async def read_json(request: Request) -> Any:
    """The body as JSON, read no further than MAX_JSON_BYTES."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise ApiError(
                413, f"a JSON body may hold at most {MAX_JSON_BYTES // 1024} KB; upload clips as a form"
            )
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, f'malformed JSON ({exc}); send an object like {{"video": NAME, "tta": true}}'
        ) from None


def validated(model: type[BaseModel], document: Any) -> Any:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(422, f"{where}: {first['msg']}") from None


def parse_tta(text: str | None) -> bool:
    if text is None:
        return False
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ApiError(422, f'tta must be "true" or "false", got {text!r}')
    return value == "true"


class Service:
    """What the routes share: the engine, the settings, the stored-video predictor, the metrics."""

    def __init__(self, engine: ServeEngine, settings: ServeSettings, metrics: ServeMetrics) -> None:
        self.engine = engine
        self.settings = settings
        self.metrics = metrics
        self.clips = ClipWorker(engine, settings.max_clip_jobs, settings.request_timeout_s)
        self.predict_stored: StoredPredictor | None = None

    def row_of(self, name: str) -> int:
        row = self.engine.index.rows.get(name)
        if row is None:
            raise ApiError(404, f"no stored video named {name!r}; list them with GET /api/videos")
        return row

    def members(self, requested: list[str] | None) -> list[str]:
        try:
            return chosen_members(requested, self.engine.member_names)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None

    async def stored(self, row: int, tta: bool) -> np.ndarray:
        if self.predict_stored is None:
            raise busy("the server is still starting")
        try:
            return await asyncio.wait_for(
                self.predict_stored(StoredRequest(row, tta)), self.settings.request_timeout_s
            )
        except QueueFull:
            raise busy(f"{self.settings.max_queue} requests are waiting already; retry shortly") from None
        except TimeoutError:
            raise busy(f"not answered within {self.settings.request_timeout_s:g} s; retry shortly") from None

    def answer(self, probabilities: np.ndarray, chosen: list[str], tta: bool, true_label: int | None,
               timing: dict[str, float]) -> dict[str, Any]:  # fmt: skip
        return classify_answer(
            probabilities,
            member_names=self.engine.member_names,
            chosen=chosen,
            tta=tta,
            class_names=self.engine.class_names,
            true_label=true_label,
            recipe=self.engine.recipe,
            fingerprint=self.engine.fingerprint,
            timing=timing,
        )

    async def classify_stored(self, name: str, tta: bool, chosen: list[str]) -> dict[str, Any]:
        started = time.perf_counter()
        row = self.row_of(name)
        probabilities = await self.stored(row, tta)
        timing = {"total_s": time.perf_counter() - started}
        answer = self.answer(probabilities, chosen, tta, int(self.engine.index.labels[row]), timing)
        return {"video": name, **answer}

    async def classify_url(self, url: str, tta: bool, chosen: list[str]) -> dict[str, Any]:
        started, timing = time.perf_counter(), {}
        limits = FetchLimits(
            max_bytes=self.settings.max_upload_bytes,
            timeout_s=self.settings.url_timeout_s,
            allow_private=self.settings.allow_private_urls,
        )
        with self.clips.slot():
            probabilities = await self.clips.classify_url(url, tta, limits, self.settings.temp_dir, timing)
        timing["total_s"] = time.perf_counter() - started
        return {"url": url, **self.answer(probabilities, chosen, tta, None, timing)}

    async def classify_upload(self, request: Request) -> dict[str, Any]:
        started = time.perf_counter()
        with self.clips.slot():
            async with streamed_upload(
                request, self.settings.max_upload_bytes, self.settings.temp_dir
            ) as upload:
                tta = parse_tta(upload.fields.get("tta"))
                timing = {"receive_s": time.perf_counter() - started}
                probabilities = await self.clips.classify_file(upload.path, upload.filename, tta)
        timing["total_s"] = time.perf_counter() - started
        chosen = self.engine.member_names
        return {"file": upload.filename, **self.answer(probabilities, chosen, tta, None, timing)}


def _route_of(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")


def install_middleware(app: FastAPI, service: Service) -> None:
    token = service.settings.token

    @app.middleware("http")
    async def guard_count_and_log(request: Request, call_next: Callable) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            if (
                token is not None
                and needs_token(request.url.path)
                and not authorized(request.headers.get("authorization"), token)
            ):
                response = error_response(
                    401, "missing or wrong bearer token; send Authorization: Bearer <token>",
                    {"WWW-Authenticate": "Bearer"},
                )  # fmt: skip
            else:
                response = await call_next(request)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(request)
            service.metrics.observe(route, status, elapsed)
            if route == "/api/classify" and status in (413, 415, 422):
                service.metrics.uploads_refused.labels(status=str(status)).inc()
            client = request.client.host if request.client else "-"
            LOG.info("%s %s %s %d %.1fms", client, request.method, request.url.path, status, 1000 * elapsed)


def install_routes(app: FastAPI, service: Service) -> None:
    engine = service.engine

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        if service.predict_stored is None:
            return error_response(503, "loading; retry shortly", {"Retry-After": "1"})
        return JSONResponse(
            {"status": "ready", "members": len(engine.member_names), "videos": len(engine.index.names)}
        )

    @app.get("/api/videos")
    async def videos(
        limit: int = Query(50, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0),
        class_name: str | None = Query(None, alias="class", max_length=200),
        q: str | None = Query(None, max_length=200),
    ) -> dict[str, Any]:
        if class_name is not None and class_name not in engine.class_names:
            raise ApiError(400, f"unknown class {class_name!r}; one of {', '.join(engine.class_names)}")
        total, page = engine.index.page(limit, offset, class_name, q)
        return {"total": total, "offset": offset, "limit": limit, "videos": page}

    @app.post("/api/classify")
    async def classify(request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            return await service.classify_upload(request)
        if content_type != "application/json":
            raise ApiError(
                415, 'send JSON ({"video" or "url", "tta"}) or a multipart form with a `file` field'
            )
        body = validated(ClassifyBody, await read_json(request))
        if (body.video is None) == (body.url is None):
            raise ApiError(422, 'give exactly one of "video" (a stored video\'s name) or "url"')
        chosen = service.members(body.members)
        if body.video is not None:
            return await service.classify_stored(body.video, body.tta, chosen)
        return await service.classify_url(body.url, body.tta, chosen)

    @app.post("/api/classify/batch")
    async def classify_batch(request: Request) -> dict[str, Any]:
        body = validated(BatchBody, await read_json(request))
        chosen = service.members(body.members)
        for name in body.videos:
            service.row_of(name)
        answers = await asyncio.gather(*(service.classify_stored(n, body.tta, chosen) for n in body.videos))
        return {"results": list(answers)}

    @app.get("/api/models")
    async def models() -> dict[str, Any]:
        return engine.models_document()

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(service.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def create_app(
    engine: ServeEngine, settings: ServeSettings, predict_stored: StoredPredictor | None = None
) -> FastAPI:
    """The app. Without `predict_stored` (a Ray Serve batch method), stored videos go through a
    local `StoredBatcher` started with the app."""
    metrics = ServeMetrics()
    service = Service(engine, settings, metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        batcher = None
        if predict_stored is None:
            batcher = StoredBatcher(
                engine.predict_stored,
                max_batch=settings.max_batch,
                max_wait_s=settings.max_wait_ms / 1000,
                max_queue=settings.max_queue,
                on_batch=metrics.batch_size.observe,
            )
            batcher.start()
            metrics.track_queue(lambda: batcher.depth)
        service.predict_stored = predict_stored or batcher.submit
        try:
            yield
        finally:
            service.predict_stored = None
            service.clips.close()
            if batcher is not None:
                await batcher.stop()

    app = FastAPI(
        title="Video classifier ensemble",
        description="The checkpoint ensemble over HTTP; see docs/serving.md.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_middleware(app, service)
    install_routes(app, service)
    return app
