"""POP3 client: poplib's operations with typed results, streamed bodies,
pipelined batches and the leave-mail-on-the-server cycle."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Dict, Iterable, List, Optional, Tuple

from . import _capi
from ._capi import C, CONST, OK, STATUS
from ._errors import InvalidArgument
from ._session import Blocking, Op, Session, caps_dict, run_blocking

_BEGIN = CONST["MAIL_POP3_BODY_BEGIN"]
_DATA = CONST["MAIL_POP3_BODY_DATA"]
_END = CONST["MAIL_POP3_BODY_END"]
_PARTIAL = STATUS["MAIL_ERR_PARTIAL"]
_SERVER = STATUS["MAIL_ERR_SERVER"]
_AUTH_METHODS = {"auto": CONST["MAIL_POP3_AUTH_AUTO"], "sasl": CONST["MAIL_POP3_AUTH_SASL"],
                 "user": CONST["MAIL_POP3_AUTH_USER"], "apop": CONST["MAIL_POP3_AUTH_APOP"]}

Sink = Callable[[int], BinaryIO]


@dataclass
class BatchResult:
    """What a pipelined batch did: the message numbers that came (or were
    deleted) and those the server refused. messages holds the bodies when
    no sink was given."""
    ok: List[int] = field(default_factory=list)
    refused: List[int] = field(default_factory=list)
    messages: Dict[int, bytes] = field(default_factory=dict)


@dataclass
class LeaveResult:
    """One leave-on-server cycle: new (uid -> bytes when no sink was
    given), new_numbers, and seen (uid -> first-seen time, seconds since the
    epoch) to store and pass as known next time."""
    new: Dict[str, bytes]
    new_numbers: List[int]
    seen: Dict[str, int]
    deleted: int


class _Bodies:
    """Collects streamed bodies: into memory, or into a file object per
    message (sink(msg) -> file), written chunk by chunk."""

    def __init__(self, sink: Optional[Sink] = None, single: Optional[BinaryIO] = None) -> None:
        self.sink = sink
        self.single = single
        self.chunks: Dict[int, List[bytes]] = {}
        self.files: Dict[int, BinaryIO] = {}
        self.done: List[int] = []
        self.sizes: Dict[int, int] = {}

    def __call__(self, user: Any, msg: int, event: int, data: Any, n: int) -> int:
        if event == _BEGIN:
            self.sizes[msg] = 0
            if self.single is not None:
                self.files[msg] = self.single
            elif self.sink is not None:
                self.files[msg] = self.sink(msg)
            else:
                self.chunks[msg] = []
        elif event == _DATA:
            chunk = ctypes.string_at(data, n)
            self.sizes[msg] += n
            f = self.files.get(msg)
            if f is not None:
                f.write(chunk)
            else:
                self.chunks[msg].append(chunk)
        elif event == _END:
            self.done.append(msg)
        return 0

    def body(self, msg: int) -> bytes:
        return b"".join(self.chunks.get(msg, ()))


class POP3Base(Session):
    """The operations of a POP3 session, shared by libmail.POP3 and
    libmail.aio.POP3."""

    _new = C.mail_pop3_new
    _free_fn = C.mail_pop3_free
    _conn_fn = C.mail_pop3_conn
    _sasl_fn = C.mail_pop3_sasl
    _connect_fn = C.mail_pop3_connect_url
    _auth_fn = C.mail_pop3_auth
    _proto = "POP3"

    def __init__(self, url: str, *, auth_method: str = "auto",
                 pipeline_window: Optional[int] = None, **kw: Any) -> None:
        super().__init__(url, **kw)
        try:
            h = self._h
            if self._security is not None:
                self._check(C.mail_pop3_set_security(h, self._security), "tls")
            if auth_method not in _AUTH_METHODS:
                raise InvalidArgument("auth_method: one of %s" % ", ".join(_AUTH_METHODS))
            self._check(C.mail_pop3_set_auth_method(h, _AUTH_METHODS[auth_method]),
                        "auth_method")
            if pipeline_window is not None:
                self._check(C.mail_pop3_set_pipeline_window(h, pipeline_window),
                            "pipeline_window")
            if self._user is not None:
                self._check(C.mail_pop3_set_auth(h, _capi.arg(self._user),
                                                 _capi.arg(self._password)), "credentials")
        except BaseException:
            self.close()
            raise
        self._password = None

    def _reply(self) -> tuple:
        r = C.mail_pop3_last_reply(self._h) if self._h else None
        if not r:
            return (None, None, "")
        return (None, _capi.text(C.mail_pop3_reply_resp_code(r, None)),
                _capi.text(C.mail_pop3_reply_text(r, None)) or "")

    # ---------------------------------------------------------- state
    @property
    def capabilities(self) -> Dict[str, List[str]]:
        """The last CAPA (after TLS, and after login when re-read):
        upper-case keyword -> arguments."""
        return caps_dict(C.mail_pop3_capabilities(self._handle()), C.mail_pop3_caps_count,
                         C.mail_pop3_caps_keyword, C.mail_pop3_caps_param_count,
                         C.mail_pop3_caps_param)

    @property
    def greeting(self) -> Optional[str]:
        return _capi.text(C.mail_pop3_greeting(self._handle()))

    @property
    def state(self) -> str:
        """"AUTHORIZATION", "TRANSACTION", ..."""
        return _capi.text(C.mail_pop3_state_name(self._handle())) or ""

    @property
    def deleted_count(self) -> int:
        """Messages marked deleted in this session (not unmarked by RSET)."""
        return C.mail_pop3_deleted_count(self._handle())

    # ---------------------------------------------------------- operations
    def _op_stat(self) -> Op:
        h = self._handle()
        n, size = ctypes.c_uint32(), ctypes.c_uint64()
        rc = yield lambda: C.mail_pop3_stat(h, ctypes.byref(n), ctypes.byref(size))
        self._check(rc, "STAT")
        return n.value, size.value

    def _op_list(self, which: Optional[int]) -> Op:
        h = self._handle()
        if which is not None:
            size = ctypes.c_uint64()
            rc = yield lambda: C.mail_pop3_list_one(h, which, ctypes.byref(size))
            self._check(rc, "LIST %d" % which)
            return {which: size.value}
        rc = yield lambda: C.mail_pop3_list(h)
        self._check(rc, "LIST")
        out = {}
        n, size = ctypes.c_uint32(), ctypes.c_uint64()
        for i in range(C.mail_pop3_list_count(h)):
            if C.mail_pop3_list_at(h, i, ctypes.byref(n), ctypes.byref(size)) == OK:
                out[n.value] = size.value
        return out

    def _op_uidl(self, which: Optional[int]) -> Op:
        h = self._handle()
        if which is not None:
            buf = ctypes.create_string_buffer(72)
            rc = yield lambda: C.mail_pop3_uidl_one(h, which, buf, len(buf))
            self._check(rc, "UIDL %d" % which)
            return {which: buf.value.decode("ascii")}
        rc = yield lambda: C.mail_pop3_uidl(h)
        self._check(rc, "UIDL")
        return self._uidl_entries()

    def _uidl_entries(self) -> Dict[int, str]:
        h = self._h
        out = {}
        n, uid = ctypes.c_uint32(), ctypes.c_char_p()
        for i in range(C.mail_pop3_uidl_count(h)):
            if C.mail_pop3_uidl_at(h, i, ctypes.byref(n), ctypes.byref(uid)) == OK:
                out[n.value] = (uid.value or b"").decode("ascii")
        return out

    def _body_cb(self, bodies: _Bodies) -> Any:
        return self._cb.wrap(_capi.POP3_BODY_FN, bodies, 1)

    def _op_retr(self, msg: int, file: Optional[BinaryIO], lines: Optional[int]) -> Op:
        h = self._handle()
        bodies = _Bodies(single=file)
        cb = self._body_cb(bodies)
        try:
            if lines is None:
                rc = yield lambda: C.mail_pop3_retr(h, msg, cb, None)
                self._check(rc, "RETR %d" % msg)
            else:
                rc = yield lambda: C.mail_pop3_top(h, msg, lines, cb, None)
                self._check(rc, "TOP %d %d" % (msg, lines))
        finally:
            self._cb.keep.remove(cb)
        if file is not None:
            return bodies.sizes.get(msg, 0)
        return bodies.body(msg)

    def _batch(self, msgs: List[int], rc: int, what: str) -> Tuple[List[int], List[int]]:
        self._check(rc, what, _PARTIAL, _SERVER)
        ok, refused = [], []
        for i, m in enumerate(msgs):
            (ok if C.mail_pop3_batch_status(self._h, i) == OK else refused).append(m)
        return ok, refused

    def _op_retr_many(self, msgs: Iterable[int], sink: Optional[Sink]) -> Op:
        h = self._handle()
        nums = list(msgs)
        if not nums:
            return BatchResult()
        arr = (ctypes.c_uint32 * len(nums))(*nums)
        bodies = _Bodies(sink=sink)
        cb = self._body_cb(bodies)
        try:
            rc = yield lambda: C.mail_pop3_retr_many(h, arr, len(nums), cb, None)
        finally:
            self._cb.keep.remove(cb)
        ok, refused = self._batch(nums, rc, "RETR (batch)")
        res = BatchResult(ok, refused)
        if sink is None:
            res.messages = {m: bodies.body(m) for m in ok}
        return res

    def _op_dele(self, msgs: List[int]) -> Op:
        h = self._handle()
        if len(msgs) == 1:
            rc = yield lambda: C.mail_pop3_dele(h, msgs[0])
            self._check(rc, "DELE %d" % msgs[0])
            return BatchResult([msgs[0]], [])
        arr = (ctypes.c_uint32 * len(msgs))(*msgs)
        rc = yield lambda: C.mail_pop3_dele_many(h, arr, len(msgs))
        ok, refused = self._batch(msgs, rc, "DELE (batch)")
        return BatchResult(ok, refused)

    def _op_quit(self) -> Op:
        h = self._handle()
        committed = ctypes.c_int()
        rc = yield lambda: C.mail_pop3_quit(h, ctypes.byref(committed))
        self._check(rc, "QUIT")
        return bool(committed.value)

    def _op_leave(self, known: Optional[Dict[str, int]], delete_after_days: int,
                  sink: Optional[Sink]) -> Op:
        h = self._handle()
        sets = []
        for _ in range(2):
            s = ctypes.c_void_p()
            self._check(C.mail_pop3_uidset_new(ctypes.byref(s), None), "uid set")
            sets.append(s.value)
        known_set, seen_set = sets
        try:
            for uid, t in (known or {}).items():
                self._check(C.mail_pop3_uidset_add(known_set, uid.encode("ascii"), int(t)),
                            "known uid %r" % uid)
            bodies = _Bodies(sink=sink)
            cb = self._body_cb(bodies)
            count = ctypes.c_size_t()
            try:
                rc = yield lambda: C.mail_pop3_leave_on_server(
                    h, known_set, delete_after_days, cb, None, seen_set, ctypes.byref(count))
            finally:
                self._cb.keep.remove(cb)
            self._check(rc, "leave-on-server cycle", _PARTIAL)
            uids = self._uidl_entries()
            seen: Dict[str, int] = {}
            t = ctypes.c_int64()
            for i in range(C.mail_pop3_uidset_count(seen_set)):
                u = C.mail_pop3_uidset_at(seen_set, i, ctypes.byref(t))
                if u is not None:
                    seen[u.decode("ascii")] = t.value
            new = {} if sink is not None else {uids.get(m, str(m)): bodies.body(m)
                                               for m in bodies.done}
            return LeaveResult(new, list(bodies.done), seen, C.mail_pop3_deleted_count(h))
        finally:
            C.mail_pop3_uidset_free(known_set)
            C.mail_pop3_uidset_free(seen_set)


class POP3(Blocking, POP3Base):
    """A blocking POP3 session (a context manager).

    ``POP3("pop3://mail.example.org", user=..., password=...)`` connects
    (STLS required on pop3://, pop3s:// is implicit TLS) and logs in when
    credentials are given. Leaving the ``with`` block without an exception
    sends QUIT (deletions committed); with one, the connection is closed
    without QUIT, so nothing marked deleted is removed.

    Keyword arguments as libmail.SMTP, plus auth_method ("auto", "sasl",
    "user", "apop") and pipeline_window. Blocking calls release the GIL.
    """

    def __init__(self, url: str, *, connect: bool = True, **kw: Any) -> None:
        super().__init__(url, **kw)
        self._start(connect)

    def connect(self) -> None:
        """Connect, read the greeting and CAPA, STLS as required, and log
        in when credentials were given."""
        run_blocking(self._op_connect())

    def auth(self) -> None:
        """Log in with the credentials given to the constructor, by the auth_method chosen
        ("auto": the strongest the server offers); a cleartext password is never sent over a
        link that is not verified TLS."""
        run_blocking(self._op_auth())

    login = auth

    def stat(self) -> Tuple[int, int]:
        """(message count, maildrop size in octets)."""
        return run_blocking(self._op_stat())

    def list(self, which: Optional[int] = None) -> Dict[int, int]:
        """Message number -> size, for every message (or just which)."""
        return run_blocking(self._op_list(which))

    def uidl(self, which: Optional[int] = None) -> Dict[int, str]:
        """Message number -> unique id, for every message (or just which)."""
        return run_blocking(self._op_uidl(which))

    def retr(self, msg: int, file: Optional[BinaryIO] = None) -> Any:
        """The message as bytes; with file, streamed into it (bounded
        memory) and the byte count returned. An exception from file.write
        stops the retrieval and is re-raised."""
        return run_blocking(self._op_retr(msg, file, None))

    def top(self, msg: int, lines: int = 0, file: Optional[BinaryIO] = None) -> Any:
        """The headers, blank line and first lines of the body."""
        return run_blocking(self._op_retr(msg, file, lines))

    def retr_many(self, msgs: Iterable[int], sink: Optional[Sink] = None) -> BatchResult:
        """RETR several messages, pipelined when the server offers it.
        sink(msg) -> binary file to stream each into; without one the
        bodies are in result.messages. Refusals are in result.refused."""
        return run_blocking(self._op_retr_many(msgs, sink))

    def dele(self, *msgs: int) -> BatchResult:
        """Mark messages deleted (removed at QUIT); several are pipelined."""
        if not msgs:
            raise InvalidArgument("dele() needs a message number")
        return run_blocking(self._op_dele(list(msgs)))

    def rset(self) -> None:
        """RSET: undo every deletion marked in this session."""
        run_blocking(self._op_simple(C.mail_pop3_rset, "RSET"))

    def noop(self) -> None:
        """NOOP: check that the session is alive."""
        run_blocking(self._op_simple(C.mail_pop3_noop, "NOOP"))

    def leave_on_server(self, known: Optional[Dict[str, int]] = None,
                        delete_after_days: int = 0,
                        sink: Optional[Sink] = None) -> LeaveResult:
        """The leave-mail-on-the-server cycle: retrieve every message whose
        unique id is not in known (uid -> first-seen time), mark for
        deletion those known for at least delete_after_days (0: never), and
        return what is on the server now (seen) to pass as known next time."""
        return run_blocking(self._op_leave(known, delete_after_days, sink))

    def quit(self) -> bool:
        """QUIT and close; True when the server committed the deletions."""
        return run_blocking(self._op_quit())
