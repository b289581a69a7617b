"""A student's side of a class: join, read the open question, send records through a local queue.

    async with ClassClient("192.168.1.20:8765", "K7MZQ2", "ada", queue_file=path) as client:
        await client.join()
        client.queue_prediction(seq, "yes")          # kept locally (and in queue_file) until the host has it
        client.queue_result("class", summary, machine_info())
        report = await client.flush()                # sends the queue in order; what fails to arrive stays
        state = await client.state()                 # {question, revealed}

Every record gets its id when it is queued and keeps it on every resend, so a record whose answer was lost
(the host restarted, the Wi-Fi dropped) is sent again and stored once. The queue file (userdata's JSON, written
atomically) also keeps the student's token: a student whose app restarts resumes the same place in the class.

The client connects to the one address it is given and nowhere else: no proxies from the environment
(trust_env=False), no redirects followed.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from teach_sgd import userdata
from teach_sgd.classroom import protocol as p
from teach_sgd.errors import UsageError

TIMEOUT_S = 5.0
_ADDRESS = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})")


class ClassError(UsageError):
    """The class host refused a request (the sentence is the host's) or could not be reached."""


class Unreachable(ClassError):
    pass


def parse_address(text: str) -> tuple[str, int]:
    """'HOST:PORT' → (host, port); UsageError saying the expected form otherwise (no scheme, no path)."""
    m = _ADDRESS.fullmatch(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 65535:
        raise UsageError(f"class address {p.clean_text(str(text), 40)!r} is not HOST:PORT, e.g. 192.168.1.20:8765 "
                         "(`teach-sgd class host` prints it)")
    return m.group(1).strip("[]"), int(m.group(2))


def join_details(address: str, code: str, name: str | None, name_label: str = "nickname") -> tuple[str, str, str]:
    """(address, CODE, nickname) as a student typed them (the command line's --class, the app's Join form),
    checked before anything is sent; a UsageError saying what to fix otherwise."""
    parse_address(address)
    code = code.strip().upper()
    if not p.CODE_RE.fullmatch(code):
        raise UsageError(f"join code {p.clean_text(code, 12)!r} is not {p.CODE_LENGTH} letters and digits: copy it "
                         "from the instructor's screen")
    try:
        return address, code, p.nickname(name or "student")
    except p.Refused as e:
        raise UsageError(f"{name_label}: {e}") from None


def queue_path(code: str) -> Path:
    return userdata.data_dir() / f"class-{code}.json"


@dataclass
class FlushReport:
    sent: int = 0                                          # records the host now has (stored or already there)
    already: int = 0                                       # of those, ones it had before (a resend)
    refused: list[str] = field(default_factory=list)      # the host's reason, one per record it will never take
    pending: int = 0                                       # records still queued (host unreachable or busy)


class ClassClient:
    def __init__(self, address: str, code: str, nickname: str = "student", queue_file: Path | None = None,
                 timeout_s: float = TIMEOUT_S):
        host, port = parse_address(address)
        self.base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        self.code = str(code).strip().upper()
        self.nickname = nickname
        self.queue_file = queue_file
        self.student: str | None = None
        self.queue: list[dict] = []
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        if queue_file is not None:
            saved, _ = userdata.load_table(queue_file, "class")
            if saved.get("base") == self.base and saved.get("code") == self.code:
                self.student = saved.get("student")
                self.nickname = saved.get("nickname", nickname)
                self.queue = [r for r in saved.get("queue", []) if isinstance(r, dict)]

    async def __aenter__(self) -> "ClassClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True  # a request still in flight elsewhere (a screen's poll) must not open a new session
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- requests -----------------------------------------------------------------------------------------
    async def post(self, path: str, body: dict) -> tuple[int, dict]:
        """(HTTP status, JSON answer); Unreachable if there is no answer at all."""
        if self._closed:
            raise Unreachable("this class client was closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False, timeout=self._timeout)
        try:
            async with self._session.post(self.base + path, json={"code": self.code, **body},
                                          allow_redirects=False) as r:
                try:
                    answer = await r.json(content_type=None)
                except ValueError:
                    answer = {}
                return r.status, answer if isinstance(answer, dict) else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            raise Unreachable(f"cannot reach the class at {self.base.removeprefix('http://')}: "
                              f"{type(e).__name__}; check the address and that the host is running") from None

    async def _call(self, path: str, body: dict) -> dict:
        status, answer = await self.post(path, body)
        if status != 200:
            raise ClassError(f"the class host refused: {answer.get('error', f'HTTP {status}')}")
        return answer

    async def join(self) -> str:
        """Join once (the token is kept in the queue file); returns the nickname the host will show."""
        if self.student is None:
            answer = await self._call("/join", {"nickname": self.nickname})
            self.student, self.nickname = answer["student"], answer["nickname"]
            self._save()
        return self.nickname

    async def state(self) -> dict:
        return await self._call("/state", {"student": self.student})

    async def export(self) -> list[dict]:
        return (await self._call("/export", {}))["results"]

    # ---- the queue ----------------------------------------------------------------------------------------
    def queue_prediction(self, seq: int, choice: str) -> dict:
        return self._queue({"path": "/predict", "id": p.new_id(), "seq": seq, "choice": choice})

    def queue_result(self, experiment: str, summary: dict, machine: dict, seq: int | None = None,
                     measured: str | None = None, record_id: str | None = None) -> dict:
        return self._queue({"path": "/result", "id": record_id or p.new_id(), "experiment": experiment,
                            "summary": summary, "machine": machine, "seq": seq, "measured": measured})

    def _queue(self, record: dict) -> dict:
        self.queue.append(record)
        self._save()
        return record

    async def flush(self) -> FlushReport:
        """Send the queue in order. A record the host took (stored now or before) leaves the queue; one it
        refused for what it is (4xx, not 429) leaves it with the reason reported; the first that gets no answer,
        or 429 / 5xx, stops the flush and stays queued with everything after it."""
        report = FlushReport()
        while self.queue:
            record = self.queue[0]
            body = {k: v for k, v in record.items() if k != "path"} | {"student": self.student}
            try:
                status, answer = await self.post(record["path"], body)
            except Unreachable:
                break
            if status == 429 or status >= 500:
                break
            if status == 200:
                report.sent += 1
                report.already += answer.get("stored") is False
            else:
                report.refused.append(str(answer.get("error", f"HTTP {status}")))
            self.queue.pop(0)
            self._save()
        report.pending = len(self.queue)
        return report

    def _save(self) -> None:
        if self.queue_file is not None:
            userdata.save_table(self.queue_file, "class", {"base": self.base, "code": self.code,
                                                            "student": self.student, "nickname": self.nickname,
                                                            "queue": self.queue})
