"""The class server: aiohttp on the instructor's machine, in front of the ClassStore.

    server = ClassServer(store, host="127.0.0.1", port=0, lessons=LessonCatalog())
    await server.start()             # on the running asyncio loop (the app's own, or `class host`'s)
    server.address                   # "127.0.0.1:8765": what students type
    server.open_question(lesson, checkpoint) / server.reveal() / server.close_question()   # the instructor
    await server.stop()

It binds the host it is given and nothing else, and it never opens a connection itself. Every request is
checked (protocol.py) before anything is stored: join code, size (MAX_BODY), schema, rate. A request that fails
a check gets a 4xx with {"error": one sentence}; the server stays up and stores nothing of it.

Rate limits, per client, as token buckets (burst, then a steady rate):
    refused requests per address   20, then 2/s    — guessing a code of 31⁶ at 2/s takes years
    joins per address             200, then 5/s    — a whole class behind one NAT still joins at once
    requests per student           40, then 10/s   — a student polls once a second and sends a few records
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

from aiohttp import web

from teach_sgd.classroom import protocol as p
from teach_sgd.classroom.protocol import Refused
from teach_sgd.classroom.store import ClassStore

DEFAULT_PORT = 8765
MAX_CLIENTS = 10_000  # rate-limit buckets kept; the oldest is forgotten first (memory stays bounded)


@dataclass
class Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets by key: `allow(key)` takes one token, False when the key's bucket is empty."""

    def __init__(self, burst: float, per_s: float, now=time.monotonic):
        self.burst, self.per_s, self.now = burst, per_s, now
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()

    def allow(self, key: str) -> bool:
        t = self.now()
        b = self.buckets.pop(key, None) or Bucket(self.burst, t)
        b.tokens = min(self.burst, b.tokens + (t - b.at) * self.per_s)
        b.at = t
        self.buckets[key] = b
        while len(self.buckets) > MAX_CLIENTS:
            self.buckets.popitem(last=False)
        if b.tokens < 1:
            return False
        b.tokens -= 1
        return True

    def empty(self, key: str) -> bool:
        """Whether `key` has no token left, without taking one."""
        b = self.buckets.get(key)
        return b is not None and min(self.burst, b.tokens + (self.now() - b.at) * self.per_s) < 1


class ClassServer:
    def __init__(self, store: ClassStore, host: str = "127.0.0.1", port: int = DEFAULT_PORT, lessons=None):
        self.store = store
        self.host, self.port = host, port
        self.lessons = lessons  # a LessonCatalog (classroom/questions.py): which questions exist; None: none
        self.refusals = RateLimiter(20, 2)
        self.joins = RateLimiter(200, 5)
        self.students = RateLimiter(40, 10)
        self.requests = 0
        self.refused = 0
        self._runner: web.AppRunner | None = None
        app = web.Application(client_max_size=p.MAX_BODY, middlewares=[self._guard])
        for name in ("join", "state", "predict", "result", "export"):
            app.router.add_post(f"/{name}", getattr(self, f"_{name}"))
        self.app = app

    @property
    def code(self) -> str:
        return self.store.code

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    async def start(self) -> str:
        """Bind and serve; returns the address. Port 0 takes a free port (tests, the benchmark)."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        return self.address

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- the instructor (in this process, never over the network) -----------------------------------------
    def open_question(self, lesson: str, checkpoint: str) -> dict:
        """Open lesson `lesson`'s checkpoint `checkpoint` for the class; Refused if there is no such question."""
        if self.lessons is None:
            raise Refused("this class has no lessons to ask from", 404)
        question = self.lessons.question(lesson, checkpoint)
        self.store.open_question(question.lesson, question.checkpoint, list(question.choices))
        return self.store.current_question()

    def reveal(self) -> bool:
        return self.store.reveal()

    def ask_class_runs(self) -> int:
        """Every student's app runs the class experiment (classroom/experiment.py) when it next asks /state."""
        return self.store.ask_class_runs()

    def close_question(self) -> None:
        self.store.close_question()

    # ---- checks every request passes ----------------------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler):
        self.requests += 1
        peer = request.remote or "?"
        if self.refusals.empty(peer):
            self.refused += 1
            return _error("too many refused requests from this address; wait a few seconds", 429)
        try:
            if request.content_length is not None and request.content_length > p.MAX_BODY:
                raise Refused(f"request too large: at most {p.MAX_BODY // 1024} KB", 413)
            return await handler(request)
        except Refused as e:
            failed = e
        except web.HTTPRequestEntityTooLarge:
            failed = Refused(f"request too large: at most {p.MAX_BODY // 1024} KB", 413)
        except web.HTTPException as e:  # unknown path, wrong method
            failed = Refused(f"{e.reason}: the class server answers POST /join, /state, /predict, /result, "
                             "/export", e.status)
        self.refused += 1
        if failed.status != 429:
            self.refusals.allow(peer)
        return _error(str(failed), failed.status)

    async def _body(self, request: web.Request, student: bool = True) -> tuple[dict, str | None]:
        """The request's JSON object, its join code checked, and its student token (checked) when `student`."""
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise Refused("the body is not JSON", 400) from None
        if not isinstance(body, dict):
            raise Refused("the body must be a JSON object", 400)
        code = p.code_of(body)
        if not secrets.compare_digest(code, self.store.code):
            raise Refused("wrong join code", 403)
        if not student:
            return body, None
        token = p.token(body, "student", p.STUDENT_ID, "student token")
        if not self.students.allow(token):
            raise Refused("too many requests; wait a second", 429)
        if self.store.nickname(token) is None:
            raise Refused("not joined to this class: join again", 403)
        return body, token

    # ---- the endpoints ------------------------------------------------------------------------------------
    async def _join(self, request: web.Request) -> web.Response:
        body, _ = await self._body(request, student=False)
        if not self.joins.allow(request.remote or "?"):
            raise Refused("too many joins from this address; wait a few seconds", 429)
        name = p.nickname(body.get("nickname"))
        return web.json_response({"student": self.store.join(name), "nickname": name})

    async def _state(self, request: web.Request) -> web.Response:
        await self._body(request)
        q = self.store.current_question()
        return web.json_response({"question": q and {k: q[k] for k in ("seq", "lesson", "checkpoint")},
                                  "revealed": bool(q and q["revealed"]), "class_runs": self.store.class_runs()})

    async def _predict(self, request: web.Request) -> web.Response:
        body, student = await self._body(request)
        record = p.token(body, "id", p.RECORD_ID, "record id")
        q = self.store.current_question()
        if q is None or body.get("seq") != q["seq"]:
            raise Refused("that question is not open", 409)
        if q["revealed"]:
            raise Refused("that question has been revealed: predictions are closed", 409)
        if body.get("choice") not in q["choices"]:
            raise Refused(f"choice must be one of {', '.join(q['choices'])}", 422)
        return web.json_response({"stored": self.store.add_prediction(record, student, q["seq"], body["choice"])})

    async def _result(self, request: web.Request) -> web.Response:
        body, student = await self._body(request)
        record = p.token(body, "id", p.RECORD_ID, "record id")
        experiment = body.get("experiment")
        if experiment not in p.EXPERIMENTS:
            raise Refused(f"experiment must be one of {', '.join(p.EXPERIMENTS)}", 422)
        seq = measured = None
        if experiment == "question":
            seq = body.get("seq")
            q = self.store.question(seq) if isinstance(seq, int) and not isinstance(seq, bool) else None
            if q is None:
                raise Refused("no such question in this class", 404)
            measured = body.get("measured")
            if measured is not None and measured not in q["choices"]:
                raise Refused(f"measured must be one of {', '.join(q['choices'])} or null", 422)
        machine, summary = p.machine(body.get("machine")), p.check_summary(body.get("summary"))
        return web.json_response({"stored": self.store.add_result(record, student, experiment, machine, summary,
                                                                  seq, measured)})

    async def _export(self, request: web.Request) -> web.Response:
        await self._body(request, student=False)
        return web.json_response({"results": export_rows(self.store)})


def export_rows(store: ClassStore) -> list[dict]:
    """What `class export` writes: every stored result with its nickname, machine and run summary."""
    return [{k: r[k] for k in ("nickname", "experiment", "question", "measured", "machine", "summary")}
            for r in store.results()]


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def serve_forever(server: ClassServer, ready=None) -> None:
    """`class host`: start, call `ready(server)`, then serve until cancelled (Ctrl-C)."""
    await server.start()
    if ready is not None:
        ready(server)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
