"""asyncio clients: the same sessions as libmail.SMTP / LMTP / POP3 / IMAP,
driven by the C library's event-loop mode on the running loop.

Each operation calls the C function; when it answers MAIL_ERR_AGAIN the
coroutine waits on the session's socket (loop.add_reader / add_writer, as
mail_conn_want() asks) or until mail_conn_timeout_ms() passes, then calls
the same function again. No thread is started: many sessions share one
loop. Host names are resolved by the C library with getaddrinfo(), which
blocks; give numeric addresses (or resolve first) where that matters.

    async with libmail.aio.POP3("pop3://127.0.0.1:110", user=u, password=p) as pop:
        count, size = await pop.stat()
    async with libmail.aio.IMAP("imaps://127.0.0.1/INBOX", user=u, password=p) as im:
        items = await im.fetch("1:*", "(UID ENVELOPE)")
        async with im.idle(timeout=600) as idle:
            async for event in idle:
                ...

Cancelling a task in the middle of an operation closes and frees that
session (the protocol position is lost; make a new one).
"""
from __future__ import annotations

import asyncio
from typing import (Any, AsyncIterator, BinaryIO, Callable, Dict, FrozenSet, Iterable,
                    List, Optional, Sequence, Tuple, Union)

from ._capi import AGAIN, C, CONST
from ._errors import InvalidArgument
from ._session import Op, Session
from .pop3 import BatchResult, LeaveResult, POP3Base, Sink
from .imap import AppendSource, Body, IdleRun, IMAPBase, Messages, _list_bits, _status_items
from .imap_types import (AppendResult, CopyResult, Event, FetchItem, ListEntry, Mailbox,
                         MailboxStatus, Namespace, SearchResult)
from .smtp import MessageLike, SMTPBase, SendResult

_READ = CONST["MAIL_WANT_READ"]
_WRITE = CONST["MAIL_WANT_WRITE"]


async def _wait(session: Session, max_timeout: Optional[float] = None,
                waker: Optional[Callable[[Optional[Callable[[], None]]], None]] = None) -> None:
    """Wait until the session's descriptor is ready for what the pending
    operation wants, or its deadline (or max_timeout) passes. waker, when
    given, receives the function that ends the wait early (and None when
    the wait is over)."""
    loop = asyncio.get_running_loop()
    fd, want, timeout = session._wait_spec()
    if max_timeout is not None:
        timeout = max_timeout if timeout is None else min(timeout, max_timeout)
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
    if waker is not None:
        waker(ready)
    if want & _READ:
        loop.add_reader(fd, ready)
    if want & _WRITE:
        loop.add_writer(fd, ready)
    if timeout is not None:
        timer = loop.call_later(timeout, ready)
    try:
        await fut
    finally:
        if waker is not None:
            waker(None)
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


class IMAP(_Async, IMAPBase):
    """libmail.IMAP as coroutines (same keyword arguments; ``async with``
    connects, logs in and selects the URL's mailbox, and sends LOGOUT at
    the end). ``async for ev in imap.idle(timeout=...)`` idles."""

    def __init__(self, url: str, **kw: Any) -> None:
        if "connect" in kw:
            raise InvalidArgument("aio sessions connect in connect() / async with")
        super().__init__(url, **kw)
        self._async_init()

    async def login(self, user: Optional[str] = None, password: Optional[str] = None) -> None:
        """As libmail.IMAP.login()."""
        await _drive(self, self._op_login(user, password))

    async def logout(self) -> None:
        """As libmail.IMAP.logout()."""
        await _drive(self, self._op_logout())

    quit = logout

    async def capability(self) -> FrozenSet[str]:
        """As libmail.IMAP.capability()."""
        await _drive(self, self._op_noop(C.mail_imap_capability, "CAPABILITY"))
        return self.capabilities

    async def noop(self) -> List[Event]:
        """As libmail.IMAP.noop()."""
        return await _drive(self, self._op_noop(C.mail_imap_noop, "NOOP"))

    async def sync(self, mailbox: str = "INBOX", state: Any = None, *, strategy: str = "auto",
                   readonly: bool = True,
                   callback: Optional[Callable[[Any], Any]] = None) -> Any:
        """As libmail.IMAP.sync() (a state file or SyncState; the maildir
        mirror is blocking only: use libmail.IMAP for it)."""
        return await _drive(self, self._op_sync(mailbox, state, strategy, readonly, callback))

    async def compress(self) -> None:
        """As libmail.IMAP.compress()."""
        await _drive(self, self._op_noop(C.mail_imap_compress, "COMPRESS"))

    async def enable(self, *names: str) -> FrozenSet[str]:
        """As libmail.IMAP.enable()."""
        return await _drive(self, self._op_enable(names))

    async def id(self, **fields: Optional[str]) -> Dict[str, Optional[str]]:
        """As libmail.IMAP.id()."""
        return await _drive(self, self._op_id(fields))

    async def select(self, mailbox: str = "INBOX", readonly: bool = False) -> Mailbox:
        """As libmail.IMAP.select()."""
        return await _drive(self, self._op_select(mailbox, readonly))

    async def examine(self, mailbox: str = "INBOX") -> Mailbox:
        """As libmail.IMAP.examine()."""
        return await _drive(self, self._op_select(mailbox, True))

    async def create(self, mailbox: str) -> None:
        """As libmail.IMAP.create()."""
        await _drive(self, self._op_mailbox_cmd(C.mail_imap_create, "CREATE", mailbox))

    async def delete(self, mailbox: str) -> None:
        """As libmail.IMAP.delete()."""
        await _drive(self, self._op_mailbox_cmd(C.mail_imap_delete, "DELETE", mailbox))

    async def rename(self, old: str, new: str) -> None:
        """As libmail.IMAP.rename()."""
        await _drive(self, self._op_mailbox_cmd(C.mail_imap_rename, "RENAME", old, new))

    async def subscribe(self, mailbox: str) -> None:
        """As libmail.IMAP.subscribe()."""
        await _drive(self, self._op_mailbox_cmd(C.mail_imap_subscribe, "SUBSCRIBE", mailbox))

    async def unsubscribe(self, mailbox: str) -> None:
        """As libmail.IMAP.unsubscribe()."""
        await _drive(self, self._op_mailbox_cmd(C.mail_imap_unsubscribe, "UNSUBSCRIBE",
                                                mailbox))

    async def close_mailbox(self) -> None:
        """As libmail.IMAP.close_mailbox() (CLOSE)."""
        await _drive(self, self._op_noop(C.mail_imap_close, "CLOSE"))

    async def unselect(self) -> None:
        """As libmail.IMAP.unselect()."""
        await _drive(self, self._op_noop(C.mail_imap_unselect, "UNSELECT"))

    async def list(self, reference: str = "", pattern: str = "*", *, subscribed: bool = False,
                   children: bool = False, special_use: bool = False,
                   status: bool = False) -> List[ListEntry]:
        """As libmail.IMAP.list()."""
        return await _drive(self, self._op_list(reference, pattern, _list_bits(
            subscribed, children, special_use, status)))

    async def status(self, mailbox: str,
                     items: Optional[Iterable[str]] = None) -> MailboxStatus:
        """As libmail.IMAP.status()."""
        return await _drive(self, self._op_status(mailbox, _status_items(items)))

    async def namespace(self) -> Namespace:
        """As libmail.IMAP.namespace()."""
        return await _drive(self, self._op_namespace())

    async def search(self, criteria: str = "ALL", *args: Any, uid: bool = True,
                     ret: Optional[str] = None) -> SearchResult:
        """As libmail.IMAP.search()."""
        return await _drive(self, self._op_search(criteria, args, uid, ret))

    async def fetch(self, messages: Messages, items: Union[str, Sequence[str]] = "(UID FLAGS)",
                    *, uid: bool = True, body: Body = None,
                    callback: Optional[Callable[[FetchItem], Any]] = None) -> Any:
        """As libmail.IMAP.fetch()."""
        return await _drive(self, self._op_fetch(messages, items, uid, body, callback))

    async def store(self, messages: Messages, how: str, flags: Union[str, Iterable[str]], *,
                    uid: bool = True, silent: bool = False,
                    unchangedsince: int = 0) -> List[FetchItem]:
        """As libmail.IMAP.store()."""
        return await _drive(self, self._op_store(messages, how, flags, uid, silent,
                                                 unchangedsince))

    async def copy(self, messages: Messages, mailbox: str, *, uid: bool = True) -> CopyResult:
        """As libmail.IMAP.copy()."""
        return await _drive(self, self._op_copy(messages, mailbox, uid, False))

    async def move(self, messages: Messages, mailbox: str, *, uid: bool = True) -> CopyResult:
        """As libmail.IMAP.move()."""
        return await _drive(self, self._op_copy(messages, mailbox, uid, True))

    async def expunge(self, messages: Optional[Messages] = None) -> List[int]:
        """As libmail.IMAP.expunge()."""
        return await _drive(self, self._op_expunge(messages))

    async def append(self, mailbox: str, message: AppendSource,
                     flags: Union[None, str, Iterable[str]] = None, date: Any = None, *,
                     size: Optional[int] = None) -> AppendResult:
        """As libmail.IMAP.append() (a file object's read() is called on the
        loop: give bytes, a MessageBuilder or a fast local file)."""
        return await _drive(self, self._op_append(mailbox, message, flags, date, size))

    def idle(self, timeout: Optional[float] = None) -> "AsyncIdle":
        """IDLE as an async iterator of Events (``async for``; ``async with``
        ends it cleanly when the loop body leaves early)."""
        return AsyncIdle(self, timeout)


class AsyncIdle:
    """An IDLE on the event loop: ``async for ev in idle``; ends after
    timeout seconds, on stop() (safe from any thread) or when closed."""

    def __init__(self, imap: IMAP, timeout: Optional[float]) -> None:
        self._imap = imap
        self._timeout = timeout
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._ready: Optional[Callable[[], None]] = None
        self._gen = self._run()
        self.stopped = False

    def stop(self) -> None:
        """End the IDLE (DONE, then the tagged OK); safe from any thread."""
        self.stopped = True
        self._imap._idle_stop_threadsafe()
        loop, ready = self._loop, self._ready
        if loop is not None and ready is not None:
            try:
                loop.call_soon_threadsafe(ready)
            except RuntimeError:  # the loop is closed
                pass

    def _waker(self, ready: Optional[Callable[[], None]]) -> None:
        self._ready = ready

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._gen

    async def __anext__(self) -> Event:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    async def __aenter__(self) -> "AsyncIdle":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _run(self) -> AsyncIterator[Event]:
        im = self._imap
        self._loop = asyncio.get_running_loop()
        run = IdleRun(im, self._timeout)
        try:
            while True:
                for ev in run.events():
                    yield ev
                if not run.running:
                    break
                wait, t = run.limit()
                if not wait:
                    continue
                try:
                    await _wait(im, t, self._waker)
                except asyncio.CancelledError:
                    im._abort()
                    raise
                run.step()
        finally:
            run.end()
            if run.running and im._h:
                # left early: DONE and the tagged OK, still on the loop
                run.finishing = True
                run.step()
                while run.running:
                    await _wait(im)
                    run.step()
        run.check()


__all__ = ["SMTP", "LMTP", "POP3", "IMAP", "AsyncIdle"]
