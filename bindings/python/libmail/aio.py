"""asyncio clients: the same sessions as libmail.SMTP / LMTP / POP3, driven
by the C library's event-loop mode on the running loop.

Each operation calls the C function; when it answers MAIL_ERR_AGAIN the
coroutine waits on the session's socket (loop.add_reader / add_writer, as
mail_conn_want() asks) or until mail_conn_timeout_ms() passes, then calls
the same function again. No thread is started: many sessions share one
loop. Host names are resolved by the C library with getaddrinfo(), which
blocks; give numeric addresses (or resolve first) where that matters.

    async with libmail.aio.POP3("pop3://127.0.0.1:110", user=u, password=p) as pop:
        count, size = await pop.stat()

Cancelling a task in the middle of an operation closes and frees that
session (the protocol position is lost; make a new one).
"""
from __future__ import annotations

import asyncio
from typing import Any, BinaryIO, Callable, Dict, Iterable, Optional, Sequence, Tuple, Union

from ._capi import AGAIN, C, CONST
from ._errors import InvalidArgument
from ._session import Op, Session
from .pop3 import BatchResult, LeaveResult, POP3Base, Sink
from .smtp import MessageLike, SMTPBase, SendResult

_READ = CONST["MAIL_WANT_READ"]
_WRITE = CONST["MAIL_WANT_WRITE"]


async def _wait(session: Session) -> None:
    """Wait until the session's descriptor is ready for what the pending
    operation wants, or its deadline passes."""
    loop = asyncio.get_running_loop()
    fd, want, timeout = session._wait_spec()
    fut = loop.create_future()

    def ready() -> None:
        if not fut.done():
            fut.set_result(None)
    timer = None
    if fd < 0 or not want & (_READ | _WRITE):
        # no descriptor yet (a user transport), or nothing to wait for:
        # step again on the next turn of the loop
        await asyncio.sleep(0)
        return
    if want & _READ:
        loop.add_reader(fd, ready)
    if want & _WRITE:
        loop.add_writer(fd, ready)
    if timeout is not None:
        timer = loop.call_later(timeout, ready)
    try:
        await fut
    finally:
        if want & _READ:
            loop.remove_reader(fd)
        if want & _WRITE:
            loop.remove_writer(fd)
        if timer is not None:
            timer.cancel()


async def _drive(session: Session, op: Op) -> Any:
    try:
        call = next(op)
        while True:
            try:
                rc = call()
                while rc == AGAIN:
                    await _wait(session)
                    rc = call()
            except asyncio.CancelledError:
                session._abort()
                op.close()
                raise
            call = op.send(rc)
    except StopIteration as stop:
        return stop.value


class _Async:
    """Event-loop mode and the async context manager."""

    def _async_init(self) -> None:
        self._set_nonblocking(True)  # type: ignore[attr-defined]

    def _abort(self) -> None:
        # The C operation stays in progress and may still point at what
        # the cancelled coroutine owns (an envelope, a message-number
        # array): free the whole session before those go, so nothing can
        # resume it.
        self.close()  # type: ignore[attr-defined]

    async def connect(self) -> None:
        """Connect, greet, STARTTLS as required, and log in when
        credentials were given."""
        await _drive(self, self._op_connect())  # type: ignore[arg-type,attr-defined]

    async def auth(self) -> None:
        await _drive(self, self._op_auth())  # type: ignore[arg-type,attr-defined]

    async def __aenter__(self) -> Any:
        try:
            await self.connect()
        except BaseException:
            self.close()  # type: ignore[attr-defined]
            raise
        return self

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> None:
        try:
            if et is None and self._connected():  # type: ignore[attr-defined]
                await self.quit()  # type: ignore[attr-defined]
        finally:
            self.close()  # type: ignore[attr-defined]


class SMTP(_Async, SMTPBase):
    """libmail.SMTP as coroutines: ``await s.connect()`` (or ``async
    with``), ``await s.send(msg)``, ``await s.quit()``. Same keyword
    arguments as libmail.SMTP."""

    def __init__(self, url: str, **kw: Any) -> None:
        if "connect" in kw:
            raise InvalidArgument("aio sessions connect in connect() / async with")
        super().__init__(url, **kw)
        self._async_init()

    async def noop(self) -> None:
        """As libmail.SMTP.noop()."""
        await _drive(self, self._op_simple(C.mail_smtp_noop, "NOOP"))

    async def rset(self) -> None:
        """As libmail.SMTP.rset()."""
        await _drive(self, self._op_simple(C.mail_smtp_rset, "RSET"))

    async def quit(self) -> None:
        """As libmail.SMTP.quit()."""
        await _drive(self, self._op_simple(C.mail_smtp_quit, "QUIT"))

    async def send(self, msg: MessageLike, from_addr: Optional[str] = None,
                   to_addrs: Union[None, str, Sequence[str]] = None, *,
                   notify: Optional[Iterable[str]] = None, ret: Optional[str] = None,
                   envid: Optional[str] = None, orcpt: bool = False, requiretls: bool = False,
                   smtputf8: Optional[bool] = None, policy: str = "any",
                   progress: Optional[Callable[[int, int], Any]] = None) -> SendResult:
        """As libmail.SMTP.send()."""
        return await _drive(self, self._op_send(msg, from_addr, to_addrs, notify, ret, envid,
                                                orcpt, requiretls, smtputf8, policy, progress))


class LMTP(SMTP):
    """libmail.LMTP as coroutines."""
    _proto = "LMTP"
    _lmtp = True


class POP3(_Async, POP3Base):
    """libmail.POP3 as coroutines. Same keyword arguments."""

    def __init__(self, url: str, **kw: Any) -> None:
        if "connect" in kw:
            raise InvalidArgument("aio sessions connect in connect() / async with")
        super().__init__(url, **kw)
        self._async_init()

    async def stat(self) -> Tuple[int, int]:
        """As libmail.POP3.stat()."""
        return await _drive(self, self._op_stat())

    async def list(self, which: Optional[int] = None) -> Dict[int, int]:
        """As libmail.POP3.list()."""
        return await _drive(self, self._op_list(which))

    async def uidl(self, which: Optional[int] = None) -> Dict[int, str]:
        """As libmail.POP3.uidl()."""
        return await _drive(self, self._op_uidl(which))

    async def retr(self, msg: int, file: Optional[BinaryIO] = None) -> Any:
        """As libmail.POP3.retr()."""
        return await _drive(self, self._op_retr(msg, file, None))

    async def top(self, msg: int, lines: int = 0, file: Optional[BinaryIO] = None) -> Any:
        """As libmail.POP3.top()."""
        return await _drive(self, self._op_retr(msg, file, lines))

    async def retr_many(self, msgs: Iterable[int], sink: Optional[Sink] = None) -> BatchResult:
        """As libmail.POP3.retr_many()."""
        return await _drive(self, self._op_retr_many(msgs, sink))

    async def dele(self, *msgs: int) -> BatchResult:
        """As libmail.POP3.dele()."""
        if not msgs:
            raise InvalidArgument("dele() needs a message number")
        return await _drive(self, self._op_dele(list(msgs)))

    async def rset(self) -> None:
        """As libmail.POP3.rset()."""
        await _drive(self, self._op_simple(C.mail_pop3_rset, "RSET"))

    async def noop(self) -> None:
        """As libmail.POP3.noop()."""
        await _drive(self, self._op_simple(C.mail_pop3_noop, "NOOP"))

    async def leave_on_server(self, known: Optional[Dict[str, int]] = None,
                              delete_after_days: int = 0,
                              sink: Optional[Sink] = None) -> LeaveResult:
        """As libmail.POP3.leave_on_server()."""
        return await _drive(self, self._op_leave(known, delete_after_days, sink))

    async def quit(self) -> bool:
        """As libmail.POP3.quit()."""
        return await _drive(self, self._op_quit())


__all__ = ["SMTP", "LMTP", "POP3"]
