"""IMAP client: imaplib's operations with typed results (libmail.imap_types),
bodies streamed, APPEND streamed from bytes, files or a MessageBuilder, and
IDLE as an iterator that another thread can stop."""
from __future__ import annotations

import collections
import ctypes
import datetime
import email.message
import email.policy
import io
import os
import re
import select
import threading
import time
import urllib.parse
import weakref
from typing import (Any, BinaryIO, Callable, Deque, Dict, FrozenSet, Iterable, Iterator, List,
                    Optional, Sequence, Tuple, Union)

from . import _capi
from ._capi import AGAIN, C, CONST, OK, STATUS
from ._errors import InvalidArgument, UnsupportedError, make_error
from ._session import Blocking, Op, Session, run_blocking
from .imap_ext import ExtMixin
from .imap_types import (CODE_NAME, T, AppendResult, BodyStructure, CopyResult, Envelope, Event,
                         FetchItem, ListEntry, Mailbox, MailboxStatus, Namespace, SearchResult,
                         parse_set, read_copyuid, read_fetch, read_list, read_namespace, read_ranges,
                         read_search, read_status, response_text, section_key)
from .mime import Message, MessageBuilder

_STATE = {k[len("MAIL_IMAP_STATE_"):]: v for k, v in CONST.items()
          if k.startswith("MAIL_IMAP_STATE_")}
_AUTH_METHODS = {"auto": CONST["MAIL_IMAP_AUTH_AUTO"], "sasl": CONST["MAIL_IMAP_AUTH_SASL"],
                 "login": CONST["MAIL_IMAP_AUTH_LOGIN"]}
_STATUS_ITEMS = {k[len("MAIL_IMAP_STATUS_"):]: v for k, v in CONST.items()
                 if k.startswith("MAIL_IMAP_STATUS_")}
_STORE = {"replace": CONST["MAIL_IMAP_STORE_REPLACE"], "add": CONST["MAIL_IMAP_STORE_ADD"],
          "remove": CONST["MAIL_IMAP_STORE_REMOVE"]}
_STORE_ALIASES = {"FLAGS": "replace", "+FLAGS": "add", "-FLAGS": "remove", "=": "replace",
                  "+": "add", "-": "remove"}
_BEGIN = CONST["MAIL_IMAP_BODY_BEGIN"]
_DATA = CONST["MAIL_IMAP_BODY_DATA"]
_NO, _BAD = CONST["MAIL_IMAP_TYPE_NO"], CONST["MAIL_IMAP_TYPE_BAD"]
_CODE_ALERT = CONST["MAIL_IMAP_CODE_ALERT"]
_CODE_COPYUID = CONST["MAIL_IMAP_CODE_COPYUID"]
_NOT_FOUND = STATUS["MAIL_ERR_NOT_FOUND"]
_READ = CONST["MAIL_WANT_READ"]
_WRITE = CONST["MAIL_WANT_WRITE"]
_ALL = 0xFFFFFFFF  # "*" in a sequence set

Messages = Union[int, str, Iterable[int], range]
Sink = Callable[[int, str], Optional[BinaryIO]]
Body = Union[None, BinaryIO, Sink]
AppendSource = Union[bytes, bytearray, memoryview, BinaryIO, MessageBuilder, Message,
                     email.message.Message]


# ------------------------------------------------------------ helpers
def _strarray(values: Sequence[str]) -> Any:
    enc = [_capi.arg(v) for v in values]
    return (ctypes.c_char_p * max(1, len(enc)))(*enc), len(enc)


def _flag_list(flags: Union[None, str, Iterable[str]]) -> List[str]:
    if flags is None:
        return []
    if isinstance(flags, str):
        return flags.strip("()").split()
    return list(flags)


def _number(n: int) -> int:
    """A message number or UID: 1 to 2^32 - 1 (ctypes would wrap a larger one)."""
    if not 0 < n <= _ALL:
        raise InvalidArgument("not a message number or UID: %d" % n)
    return n


class _SeqSet:
    """A C sequence set built from an int, "1:5,7,10:*", or numbers."""

    def __init__(self, messages: Messages) -> None:
        h = ctypes.c_void_p()
        rc = C.mail_imap_seqset_new(ctypes.byref(h), None)
        if rc != OK:
            raise make_error(rc, "sequence set")
        self.h: int = h.value  # type: ignore[assignment]
        try:
            self._add(messages)
        except BaseException:
            self.free()
            raise

    def _add(self, messages: Messages) -> None:
        if isinstance(messages, int):
            messages = [messages]
        if isinstance(messages, (bytes, str)):
            text = messages.decode("ascii") if isinstance(messages, bytes) else messages
            for piece in text.split(","):
                a, _, b = piece.strip().partition(":")
                try:
                    first = _ALL if a == "*" else int(a)
                    last = first if not b else (_ALL if b == "*" else int(b))
                except ValueError:
                    raise InvalidArgument("not a sequence set: %r" % text) from None
                self._check(C.mail_imap_seqset_add_range(self.h, _number(first),
                                                         _number(last)), text)
            return
        if isinstance(messages, range) and messages.step == 1 and len(messages):
            self._check(C.mail_imap_seqset_add_range(self.h, _number(messages.start),
                                                     _number(messages.stop - 1)), "range")
            return
        nums = [_number(int(n)) for n in messages]
        if not nums:
            raise InvalidArgument("an empty set of messages")
        arr = (ctypes.c_uint32 * len(nums))(*nums)
        self._check(C.mail_imap_seqset_add(self.h, arr, len(nums)), "messages")

    @staticmethod
    def _check(rc: int, what: str) -> None:
        if rc != OK:
            raise make_error(rc, "sequence set %s" % what)

    def free(self) -> None:
        if self.h:
            C.mail_imap_seqset_free(self.h)
            self.h = 0


class _Fetch:
    """Collects one FETCH command's responses and streamed values."""

    def __init__(self, body: Body, on_item: Optional[Callable[[FetchItem], Any]]) -> None:
        self.body = body
        self.on_item = on_item
        self.items: List[FetchItem] = []
        self.count = 0
        self.pending: Dict[int, Dict[str, List[bytes]]] = {}
        self.chunks: Optional[List[bytes]] = None
        self.file: Any = None

    def body_cb(self, user: Any, ev: int, s: int, data: int, n: int) -> int:
        if ev == _DATA:
            chunk = ctypes.string_at(data, n)
            if self.file is not None:
                self.file.write(chunk)
            elif self.chunks is not None:
                self.chunks.append(chunk)
        elif ev == _BEGIN:
            seq = C.mail_imap_section_message(s)
            key = section_key(s)
            self.file = self.chunks = None
            if self.body is None:
                self.chunks = self.pending.setdefault(seq, {}).setdefault(key, [])
            elif hasattr(self.body, "write"):
                self.file = self.body
            else:
                self.file = self.body(seq, key)  # type: ignore[operator]
        else:
            self.file = self.chunks = None
        return 0

    def collect(self, r: int, t: int) -> bool:
        if t != T["FETCH"]:
            return False
        seq = ctypes.c_uint32()
        C.mail_imap_response_number(r, ctypes.byref(seq))
        item = read_fetch(r, seq.value)
        got = self.pending.pop(seq.value, None)
        if got:
            item.sections = {k: b"".join(v) for k, v in got.items()}
        self.count += 1
        if self.on_item is not None:
            self.on_item(item)
        else:
            self.items.append(item)
        return True


def _message_bytes(msg: Any) -> Optional[bytes]:
    if isinstance(msg, (bytes, bytearray, memoryview)):
        return bytes(msg)
    if isinstance(msg, Message):
        return msg.source
    if isinstance(msg, email.message.Message):
        policy = msg.policy.clone(linesep="\r\n")
        return msg.as_bytes(policy=policy)
    return None


def _file_size(f: Any) -> Optional[int]:
    try:
        return os.fstat(f.fileno()).st_size - f.tell()
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    try:
        here = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(here)
        return end - here
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _date_arg(date: Union[None, int, float, datetime.datetime]) -> int:
    if date is None:
        return 0
    if isinstance(date, datetime.datetime):
        if date.tzinfo is None:
            date = date.astimezone()
        return int(date.timestamp())
    return int(date)


# ------------------------------------------------------------ the session
class IMAPBase(Session):
    """The operations of an IMAP session, shared by libmail.IMAP and
    libmail.aio.IMAP."""

    _new = C.mail_imap_new
    _free_fn = C.mail_imap_free
    _conn_fn = C.mail_imap_conn
    _sasl_fn = C.mail_imap_sasl
    _connect_fn = C.mail_imap_connect_url
    _auth_fn = C.mail_imap_login
    _proto = "IMAP"

    def __init__(self, url: str, *, auth_method: str = "auto",
                 on_event: Optional[Callable[[Event], Any]] = None,
                 idle_interval: Optional[float] = None, select_url_mailbox: bool = True,
                 **kw: Any) -> None:
        if "imap" not in _capi.FEATURES:
            raise UnsupportedError("this libmail (%s) was built without IMAP"
                                   % _capi.LIBRARY_PATH)
        if "://" not in url:
            url = "imap://" + url
        self._stop_lock = threading.Lock()
        super().__init__(url, **kw)
        self._collect: Optional[Callable[[int, int], bool]] = None
        self._op_events: Optional[List[Event]] = None
        self._idle_queue: Optional[Deque[Event]] = None
        self._on_event = on_event
        self._mailbox_name: Optional[str] = None
        self._select_url_mailbox = select_url_mailbox
        self.alerts: List[Tuple[str, bool]] = []
        try:
            h = self._h
            if self._security is not None:
                self._check(C.mail_imap_set_security(h, self._security), "tls")
            if auth_method not in _AUTH_METHODS:
                raise InvalidArgument("auth_method: one of %s" % ", ".join(_AUTH_METHODS))
            self._check(C.mail_imap_set_auth_method(h, _AUTH_METHODS[auth_method]),
                        "auth_method")
            if idle_interval is not None:
                self._check(C.mail_imap_set_idle_interval(h, int(idle_interval * 1000)),
                            "idle_interval")
            if self._user is not None:
                self._check(C.mail_imap_set_auth(h, _capi.arg(self._user),
                                                 _capi.arg(self._password)), "credentials")
            parts = urllib.parse.urlsplit(url)
            self._url_user = bool(parts.username)
            # a user in the URL and password= apart: connect_url takes the
            # URL's user (without a password), the password is given after it
            self._url_password = self._password if (
                parts.username and parts.password is None and self._user is None) else None
            ref = weakref.ref(self)

            def untagged(user: Any, r: int, trusted: int) -> int:
                s = ref()
                if s is not None:
                    s._untagged(r, bool(trusted))
                return 0
            self._check(C.mail_imap_set_untagged_callback(
                h, self._cb.wrap(_capi.IMAP_UNTAGGED_FN, untagged, 1), None), "callback")
        except BaseException:
            self.close()
            raise
        self._password = None

    # ---------------------------------------------------------- life
    def close(self) -> None:
        """Close the connection without LOGOUT and free the session."""
        with self._stop_lock:  # never while another thread is in idle_stop()
            super().close()

    def _stop(self) -> None:
        # a callback raised: end an IDLE in progress (other commands finish
        # at their tagged reply and return MAIL_ERR_CALLBACK)
        if self._h and self._idle_queue is not None:
            C.mail_imap_idle_stop(self._h)

    def _idle_stop_threadsafe(self) -> None:
        with self._stop_lock:
            if self._h:
                C.mail_imap_idle_stop(self._h)

    # ---------------------------------------------------------- untagged
    def _untagged(self, r: int, trusted: bool) -> None:
        t = C.mail_imap_response_type(r)
        if self._collect is not None and self._collect(r, t):
            return
        ev = self._event(r, t, trusted)
        if ev is None:
            return
        if ev.kind == "alert":
            self.alerts.append((ev.text, trusted))
        if self._op_events is not None:
            self._op_events.append(ev)
        if self._idle_queue is not None:
            self._idle_queue.append(ev)
        if self._on_event is not None:
            self._on_event(ev)

    @staticmethod
    def _event(r: int, t: int, trusted: bool) -> Optional[Event]:
        num = ctypes.c_uint32()
        if t in (T["EXISTS"], T["RECENT"], T["EXPUNGE"]):
            C.mail_imap_response_number(r, ctypes.byref(num))
            return Event({T["EXISTS"]: "exists", T["RECENT"]: "recent",
                          T["EXPUNGE"]: "expunge"}[t], number=num.value, trusted=trusted)
        if t == T["FETCH"]:
            C.mail_imap_response_number(r, ctypes.byref(num))
            return Event("fetch", number=num.value, item=read_fetch(r, num.value),
                         trusted=trusted)
        if t == T["VANISHED"]:
            return Event("vanished", uids=read_ranges(r),
                         earlier=bool(C.mail_imap_response_earlier(r)), trusted=trusted)
        if t == T["FLAGS"]:
            return Event("flags", trusted=trusted)
        if t == T["BYE"]:
            return Event("bye", text=response_text(r), trusted=trusted)
        if C.mail_imap_response_code(r) == _CODE_ALERT:
            return Event("alert", text=response_text(r), trusted=trusted)
        if t in (T["OK"], T["NO"], T["BAD"], T["CAPABILITY"], T["ENABLED"]):
            return None
        return Event("other", text=response_text(r), trusted=trusted)

    # ---------------------------------------------------------- errors
    def _reply(self) -> tuple:
        if not self._h or C.mail_imap_last_status(self._h) not in (_NO, _BAD):
            return (None, None, "")
        code = C.mail_imap_last_code(self._h)
        return (None, CODE_NAME.get(code) if code else None,
                _capi.text(C.mail_imap_last_text(self._h)) or "")

    # ---------------------------------------------------------- state
    @property
    def state(self) -> str:
        """"NOT_AUTHENTICATED", "AUTHENTICATED", "SELECTED", ..."""
        return _capi.text(C.mail_imap_state_name(self._handle())) or ""

    @property
    def capabilities(self) -> FrozenSet[str]:
        """The server's last capability list (upper case; read again after
        TLS and after login)."""
        caps = _capi.text(C.mail_imap_capabilities(self._handle())) or ""
        return frozenset(c.upper() for c in caps.split())

    def has_capability(self, name: str) -> bool:
        return bool(C.mail_imap_has_capability(self._handle(), _capi.arg(name)))

    @property
    def greeting(self) -> Optional[str]:
        return _capi.text(C.mail_imap_greeting(self._handle()))

    @property
    def last_reply(self) -> Tuple[str, Optional[str], str]:
        """("OK"/"NO"/"BAD" or "", response code or None, text) of the last
        tagged reply."""
        h = self._handle()
        st = C.mail_imap_last_status(h)
        code = C.mail_imap_last_code(h)
        return ({1: "OK", _NO: "NO", _BAD: "BAD"}.get(st, ""),
                CODE_NAME.get(code) if code else None,
                _capi.text(C.mail_imap_last_text(h)) or "")

    @property
    def mailbox(self) -> Optional[Mailbox]:
        """The selected mailbox's state now, None when nothing is selected."""
        h = self._handle()
        if C.mail_imap_get_state(h) != _STATE["SELECTED"]:
            return None
        v = ctypes.c_uint64()

        def num(f: str) -> Optional[int]:
            rc = C.mail_imap_mailbox_number(ctypes.byref(v), h, CONST["MAIL_IMAP_MAILBOX_" + f])
            return v.value if rc == OK else None

        def flags(which: str) -> FrozenSet[str]:
            lst = CONST["MAIL_IMAP_FLAGS_" + which]
            return frozenset(_capi.text(C.mail_imap_mailbox_flag(h, lst, i)) or ""
                             for i in range(C.mail_imap_mailbox_flag_count(h, lst)))
        return Mailbox(self._mailbox_name or "", num("EXISTS") or 0, num("RECENT"),
                       num("UIDVALIDITY"), num("UIDNEXT"), num("HIGHESTMODSEQ"), num("UNSEEN"),
                       flags("DEFINED"), flags("PERMANENT"),
                       bool(C.mail_imap_mailbox_read_only(h)))

    # ---------------------------------------------------------- sync
    def _op_sync(self, mailbox: str, state: Any, strategy: str, readonly: bool,
                 callback: Optional[Callable[[Any], Any]]) -> Op:
        from .imap_sync import STRATEGIES, STRATEGY_NAME, SyncResult, SyncState, change_callback
        if strategy not in STRATEGIES:
            raise InvalidArgument("strategy must be one of %s" % ", ".join(sorted(STRATEGIES)))
        h = self._handle()
        path = None
        if state is None:
            st = SyncState()
        elif isinstance(state, SyncState):
            st = state
        else:
            path = os.fspath(state)
            st = SyncState.load(path)
        changes: List[Any] = []
        fn = self._cb.wrap(_capi.IMAP_SYNC_FN, change_callback(changes, callback), 1)
        used = ctypes.c_int()
        box = _capi.arg(mailbox)
        how = STRATEGIES[strategy]
        yield from self._call(lambda: C.mail_imap_sync_run(
            ctypes.byref(used), h, st._h, box, 1 if readonly else 0, how, fn, None),
            "sync %s" % mailbox)
        self._mailbox_name = mailbox
        if path is not None:
            st.save(path)
        return SyncResult(STRATEGY_NAME.get(used.value, "?"), changes, st)

    def _op_sync_maildir(self, mailbox: str, maildir: Any, strategy: str) -> Op:
        from .imap_sync import STRATEGIES, SyncResult
        if strategy not in STRATEGIES:
            raise InvalidArgument("strategy must be one of %s" % ", ".join(sorted(STRATEGIES)))
        h = self._handle()
        md = ctypes.c_void_p()
        path = os.fspath(maildir)
        rc = C.mail_maildir_open(ctypes.byref(md), _capi.arg(path), 1, None)
        if rc < 0:
            raise make_error(rc, "open the maildir %s" % path, "", (None, None, ""))
        got = ctypes.c_size_t()
        how = STRATEGIES[strategy]
        try:
            yield from self._call(lambda: C.mail_imap_sync_maildir(
                ctypes.byref(got), h, _capi.arg(mailbox), md.value, how),
                "sync %s into %s" % (mailbox, path))
        finally:
            C.mail_maildir_free(md.value)
        self._mailbox_name = mailbox
        return SyncResult("maildir", [], None, got.value)

    # ---------------------------------------------------------- running
    def _call(self, fn: Callable[[], int], what: str,
              collect: Optional[Callable[[int, int], bool]] = None, *allowed: int) -> Op:
        """Run one C operation with collect seeing the untagged responses."""
        prev = self._collect
        self._collect = collect
        try:
            rc = yield fn
        finally:
            self._collect = prev
        return self._check(rc, what, *allowed)

    def _op_connect(self) -> Op:
        h, url = self._handle(), _capi.arg(self.url)
        yield from self._call(lambda: C.mail_imap_connect_url(h, url), "connect to %s" % self.url)
        if self._url_password is not None:
            name = urllib.parse.unquote(urllib.parse.urlsplit(self.url).username or "")
            pw, self._url_password = self._url_password, None
            self._check(C.mail_imap_set_auth(h, _capi.arg(name), _capi.arg(pw)), "credentials")
        if C.mail_imap_get_state(h) == _STATE["NOT_AUTHENTICATED"] and \
                (self._auth_wanted or self._url_user):
            yield from self._op_auth()
        box = _capi.text(C.mail_imap_url_mailbox(h))
        if box and self._select_url_mailbox and \
                C.mail_imap_get_state(h) == _STATE["AUTHENTICATED"]:
            yield from self._op_select(box, False)

    def _op_login(self, user: Optional[str], password: Optional[str]) -> Op:
        h = self._handle()
        if user is not None:
            self._check(C.mail_imap_set_auth(h, _capi.arg(user), _capi.arg(password)),
                        "credentials")
        yield from self._call(lambda: C.mail_imap_login(h), "login")

    def _op_logout(self) -> Op:
        h = self._handle()
        yield from self._call(lambda: C.mail_imap_logout(h), "LOGOUT")

    @property
    def compressed(self) -> bool:
        """True once COMPRESS=DEFLATE is on (compress())."""
        return bool(self._h and C.mail_conn_is_compressed(self._conn))

    def compress_counts(self) -> Tuple[int, int, int, int]:
        """(wire in, plain in, wire out, plain out) bytes since compress()."""
        v = [ctypes.c_uint64() for _ in range(4)]
        C.mail_conn_compress_counts(*(ctypes.byref(x) for x in v), self._conn)
        return tuple(x.value for x in v)  # type: ignore[return-value]

    def _op_noop(self, fn: Callable[[int], int], what: str) -> Op:
        h = self._handle()
        events: List[Event] = []
        prev, self._op_events = self._op_events, events
        try:
            yield from self._call(lambda: fn(h), what)
        finally:
            self._op_events = prev
        return events

    def _op_enable(self, names: Sequence[str]) -> Op:
        h = self._handle()
        arr, n = _strarray(names)
        yield from self._call(lambda: C.mail_imap_enable(h, arr, n), "ENABLE")
        return frozenset(x for x in names if C.mail_imap_is_enabled(h, _capi.arg(x)))

    def _op_id(self, fields: Dict[str, Optional[str]]) -> Op:
        h = self._handle()
        keys = list(fields)
        kv, n = _strarray(keys)
        vals = [_capi.arg(fields[k]) for k in keys]
        vv = (ctypes.c_char_p * max(1, n))(*vals)
        out: Dict[str, Optional[str]] = {}

        def collect(r: int, t: int) -> bool:
            text = response_text(r)
            if t != T["OTHER"] or not text.upper().startswith("ID "):
                return False
            for k, v in re.findall(r'"((?:[^"\\]|\\.)*)"\s+(NIL|"(?:[^"\\]|\\.)*")', text):
                out[k] = None if v == "NIL" else v[1:-1]
            return True
        yield from self._call(lambda: C.mail_imap_id(h, kv, vv, n), "ID", collect)
        return out

    def _op_select(self, mailbox: str, read_only: bool) -> Op:
        h = self._handle()
        box = _capi.arg(mailbox)
        self._mailbox_name = None
        answer = (T["EXISTS"], T["RECENT"], T["FLAGS"])

        def collect(r: int, t: int) -> bool:
            # the mailbox's description is the answer (read from the session's
            # state afterwards), not news for on_event
            return t in answer
        yield from self._call(lambda: C.mail_imap_select(h, box, 1 if read_only else 0),
                              "%s %s" % ("EXAMINE" if read_only else "SELECT", mailbox), collect)
        self._mailbox_name = mailbox
        return self.mailbox

    def _op_mailbox_cmd(self, fn: Callable[..., int], what: str, *names: str) -> Op:
        h = self._handle()
        args = [_capi.arg(n) for n in names]
        yield from self._call(lambda: fn(h, *args), "%s %s" % (what, " ".join(names)))

    def _op_list(self, reference: str, pattern: str, ret: int) -> Op:
        h = self._handle()
        ref, pat = _capi.arg(reference), _capi.arg(pattern)
        entries: List[ListEntry] = []
        statuses: Dict[str, MailboxStatus] = {}

        def collect(r: int, t: int) -> bool:
            if t in (T["LIST"], T["LSUB"]):
                entries.append(read_list(r))
            elif t == T["STATUS"]:
                st = read_status(r)
                statuses[st.name] = st
            else:
                return False
            return True
        yield from self._call(lambda: C.mail_imap_list(h, ref, pat, ret), "LIST", collect)
        for e in entries:
            e.status = statuses.get(e.name)
        return entries

    def _op_status(self, mailbox: str, items: Iterable[str]) -> Op:
        h = self._handle()
        bits = 0
        for it in items:
            if it.upper() not in _STATUS_ITEMS:
                raise InvalidArgument("STATUS item: one of %s" % ", ".join(_STATUS_ITEMS))
            bits |= _STATUS_ITEMS[it.upper()]
        box = _capi.arg(mailbox)
        got: List[MailboxStatus] = []

        def collect(r: int, t: int) -> bool:
            if t != T["STATUS"]:
                return False
            got.append(read_status(r))
            return True
        yield from self._call(lambda: C.mail_imap_status(h, box, bits), "STATUS %s" % mailbox,
                              collect)
        return got[-1] if got else MailboxStatus(mailbox)

    def _op_namespace(self) -> Op:
        h = self._handle()
        got: List[Namespace] = []

        def collect(r: int, t: int) -> bool:
            if t != T["NAMESPACE"]:
                return False
            got.append(read_namespace(r))
            return True
        yield from self._call(lambda: C.mail_imap_namespace(h), "NAMESPACE", collect)
        return got[-1] if got else Namespace((), (), ())

    def _op_fetch(self, messages: Messages, items: Union[str, Sequence[str]], uid: bool,
                  body: Body, on_item: Optional[Callable[[FetchItem], Any]]) -> Op:
        h = self._handle()
        if not isinstance(items, str):
            items = "(%s)" % " ".join(items)
        elif " " in items.strip() and not items.strip().startswith("("):
            items = "(%s)" % items.strip()
        spec = _capi.arg(items)
        run = _Fetch(body, on_item)
        cb = self._cb.wrap(_capi.IMAP_BODY_FN, run.body_cb, 1)
        s = _SeqSet(messages)
        try:
            yield from self._call(lambda: C.mail_imap_fetch(h, s.h, 1 if uid else 0, spec, cb,
                                                            None),
                                  "%sFETCH %s" % ("UID " if uid else "", items), run.collect)
        finally:
            s.free()
            self._cb.keep.remove(cb)
        return run.count if on_item is not None else run.items

    def _op_store(self, messages: Messages, how: str, flags: Union[str, Iterable[str]],
                  uid: bool, silent: bool, unchangedsince: int) -> Op:
        h = self._handle()
        key = _STORE_ALIASES.get(how.upper(), how.lower())
        if key not in _STORE:
            raise InvalidArgument("how: 'add' ('+FLAGS'), 'remove' ('-FLAGS') or 'replace'")
        arr, n = _strarray(_flag_list(flags))
        run = _Fetch(None, None)
        s = _SeqSet(messages)
        try:
            yield from self._call(lambda: C.mail_imap_store(h, s.h, 1 if uid else 0, _STORE[key],
                                                            arr, n, 1 if silent else 0,
                                                            unchangedsince),
                                  "%sSTORE" % ("UID " if uid else ""), run.collect)
        finally:
            s.free()
        return run.items

    def _op_copy(self, messages: Messages, mailbox: str, uid: bool, move: bool) -> Op:
        h = self._handle()
        box = _capi.arg(mailbox)
        s = _SeqSet(messages)
        what = "%s%s %s" % ("UID " if uid else "", "MOVE" if move else "COPY", mailbox)
        got: List[CopyResult] = []

        def collect(r: int, t: int) -> bool:
            # MOVE reports COPYUID in an untagged OK before its EXPUNGEs (RFC 6851)
            if t == T["OK"] and C.mail_imap_response_code(r) == _CODE_COPYUID:
                got.append(read_copyuid(r))
            return False
        try:
            yield from self._call(lambda: C.mail_imap_copy(h, s.h, 1 if uid else 0, box,
                                                           1 if move else 0), what, collect)
        finally:
            s.free()
        data = (_capi.text(C.mail_imap_last_code_data(h)) or "").split()
        if C.mail_imap_last_code(h) == _CODE_COPYUID and len(data) == 3 and data[0].isdigit():
            return CopyResult(int(data[0]), parse_set(data[1]), parse_set(data[2]))
        return got[-1] if got else CopyResult(None, (), ())

    def _op_expunge(self, messages: Optional[Messages]) -> Op:
        h = self._handle()
        events: List[Event] = []
        prev, self._op_events = self._op_events, events
        s = _SeqSet(messages) if messages is not None else None
        try:
            if s is not None:
                yield from self._call(lambda: C.mail_imap_uid_expunge(h, s.h), "UID EXPUNGE")
            else:
                yield from self._call(lambda: C.mail_imap_expunge(h), "EXPUNGE")
        finally:
            self._op_events = prev
            if s is not None:
                s.free()
        out: List[int] = []
        for e in events:
            if e.kind == "expunge" and e.number is not None:
                out.append(e.number)
            elif e.kind == "vanished":
                for a, b in e.uids:
                    out.extend(range(a, b + 1))
        return out

    def _op_search(self, criteria: str, args: Sequence[Any], uid: bool,
                   ret: Optional[str]) -> Op:
        h = self._handle()
        crit = _capi.arg(criteria)
        arr, n = _strarray([str(a) for a in args])
        r = _capi.arg(ret)
        res = SearchResult(uid=uid)

        def collect(resp: int, t: int) -> bool:
            if t not in (T["SEARCH"], T["ESEARCH"]):
                return False
            read_search(resp, res)
            return True
        yield from self._call(lambda: C.mail_imap_search(h, 1 if uid else 0, r, crit, arr, n),
                              "%sSEARCH %s" % ("UID " if uid else "", criteria), collect)
        return res

    def _op_append(self, mailbox: str, message: AppendSource, flags: Union[None, str,
                                                                          Iterable[str]],
                   date: Union[None, int, float, datetime.datetime],
                   size: Optional[int]) -> Op:
        h = self._handle()
        box = _capi.arg(mailbox)
        arr, n = _strarray(_flag_list(flags))
        when = _date_arg(date)
        what = "APPEND %s" % mailbox
        if isinstance(message, MessageBuilder):
            b = message._handle()
            yield from self._call(lambda: C.mail_imap_append_builder(h, box, arr, n, when, b),
                                  what)
        else:
            data = _message_bytes(message)
            if data is not None:
                total = len(data)
                base = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
                pos = [0]

                def read(user: Any, buf: Any, cap: int, got: Any) -> int:
                    k = min(cap, total - pos[0])
                    ctypes.memmove(buf, base + pos[0], k)
                    pos[0] += k
                    got[0] = k
                    return 0
            elif hasattr(message, "read"):
                f = message
                total = size if size is not None else _file_size(f)  # type: ignore[assignment]
                if total is None:
                    raise InvalidArgument("append from a stream that cannot seek needs size=")

                def read(user: Any, buf: Any, cap: int, got: Any) -> int:
                    chunk = f.read(cap) or b""  # type: ignore[union-attr]
                    if len(chunk) > cap:
                        raise ValueError("read() returned more than asked for")
                    ctypes.memmove(buf, chunk, len(chunk))
                    got[0] = len(chunk)
                    return 0
            else:
                raise TypeError("append() takes bytes, a binary file object, a "
                                "libmail.MessageBuilder, a libmail.Message or an "
                                "email.message.Message, not %s" % type(message).__name__)
            cb = self._cb.wrap(_capi.READ_FN, read, 1)
            try:
                yield from self._call(lambda: C.mail_imap_append(h, box, arr, n, when, total, cb,
                                                                 None), what)
            finally:
                self._cb.keep.remove(cb)
                del data
        v, u = ctypes.c_uint32(), ctypes.c_uint32()
        if C.mail_imap_append_uid(ctypes.byref(v), ctypes.byref(u), h) == OK:
            return AppendResult(v.value, u.value)
        return AppendResult(None, None)


def _status_items(items: Optional[Iterable[str]]) -> Iterable[str]:
    return items if items is not None else ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
                                            "UNSEEN")


def _list_bits(subscribed: bool, children: bool, special_use: bool, status: bool) -> int:
    bits = 0
    for on, name in ((subscribed, "SUBSCRIBED"), (children, "CHILDREN"),
                     (special_use, "SPECIAL_USE"), (status, "STATUS")):
        if on:
            bits |= CONST["MAIL_IMAP_LIST_" + name]
    return bits


# ------------------------------------------------------------ IDLE
class IdleRun:
    """The steps of one IDLE in event-loop mode, shared by the blocking
    Idle (which waits with poll) and libmail.aio's (which waits on the
    loop): start, collect events, send DONE when the caller's timeout
    passes, call again after each wait until the tagged OK."""

    def __init__(self, im: IMAPBase, timeout: Optional[float]) -> None:
        self.im = im
        self.h = im._handle()
        self.queue: Deque[Event] = collections.deque()
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.finishing = False
        self.rc = AGAIN
        im._idle_queue = self.queue
        self.rc = C.mail_imap_idle_start(self.h)

    def events(self) -> Iterator[Event]:
        """What arrived (re-raising a callback's exception first)."""
        self.im._cb.raise_pending(self.rc)
        while self.queue:
            yield self.queue.popleft()

    @property
    def running(self) -> bool:
        return self.rc == AGAIN

    def limit(self) -> Tuple[bool, Optional[float]]:
        """(wait, at most how long). When the caller's timeout has passed
        it sends DONE instead and says not to wait (call limit() again)."""
        if self.finishing or self.deadline is None:
            return True, None
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.finishing = True
            self.rc = C.mail_imap_idle_done(self.h)
            return False, None
        return True, left

    def step(self) -> None:
        """After a wait: go on (or on with the DONE sent)."""
        self.rc = (C.mail_imap_idle_done if self.finishing else C.mail_imap_idle_start)(self.h)

    def end(self) -> None:
        self.im._idle_queue = None

    def check(self) -> None:
        self.im._check(self.rc, "IDLE")


class Idle:
    """An IDLE in progress (IMAP.idle()): iterate for Events; it ends when
    timeout passes, when stop() is called (from any thread), or when the
    loop leaves early (DONE is sent and the tagged OK read in each case).
    Also a context manager. The session takes no other command meanwhile."""

    def __init__(self, imap: "IMAP", timeout: Optional[float]) -> None:
        self._imap = imap
        self._timeout = timeout
        self._stopped = threading.Event()
        self._wake_w = -1  # the pipe that wakes the wait, while one runs
        self._wake_lock = threading.Lock()  # never written once closed (fd reuse)
        self._gen = self._run()

    def stop(self) -> None:
        """End the IDLE; safe from any thread (mail_imap_idle_stop) and
        before or after it ends."""
        self._stopped.set()
        self._imap._idle_stop_threadsafe()
        with self._wake_lock:
            try:
                if self._wake_w >= 0:
                    os.write(self._wake_w, b"x")
            except OSError:  # full: a wake-up is pending anyway
                pass

    @property
    def stopped(self) -> bool:
        """True once stop() was called."""
        return self._stopped.is_set()

    def __iter__(self) -> Iterator[Event]:
        return self._gen

    def __next__(self) -> Event:
        return next(self._gen)

    def __enter__(self) -> "Idle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """End the IDLE (sends DONE) and wait for the server's answer."""
        self._gen.close()

    def _run(self) -> Iterator[Event]:
        im = self._imap
        im._handle()
        wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        run = None
        try:
            im._set_nonblocking(True)
            run = IdleRun(im, self._timeout)
            while True:
                yield from run.events()
                if not run.running:
                    break
                wait, t = run.limit()
                if not wait:
                    continue
                fd, want, io_t = im._wait_spec()
                if io_t is not None:
                    t = io_t if t is None else min(t, io_t)
                # poll, not select: the session's descriptor may be over FD_SETSIZE
                p = select.poll()
                p.register(wake_r, select.POLLIN)
                ev = (select.POLLIN if want & _READ else 0) | (select.POLLOUT if want & _WRITE
                                                                else 0)
                if fd >= 0 and ev:
                    p.register(fd, ev)
                if any(f == wake_r for f, _ in p.poll(None if t is None
                                                      else max(0, int(t * 1000) + 1))):
                    os.read(wake_r, 64)
                run.step()
        finally:
            try:
                if run is not None and run.running and im._h:
                    # left early (or an exception): DONE, then the tagged OK
                    im._set_nonblocking(False)
                    run.finishing = True
                    run.step()
            finally:
                if run is not None:
                    run.end()
                if im._h:
                    im._set_nonblocking(False)
                with self._wake_lock:
                    w, self._wake_w = self._wake_w, -1
                    os.close(w)
                os.close(wake_r)
        run.check()


# ------------------------------------------------------------ blocking
class IMAP(ExtMixin, Blocking, IMAPBase):
    """A blocking IMAP session (a context manager).

    ``IMAP("imap://mail.example.org", user=..., password=...)`` connects
    (STARTTLS required on imap://; imaps:// is implicit TLS; certificates
    and names verified) and logs in when credentials are given (or the URL
    holds a user). A mailbox in the URL ("imaps://host/INBOX") is selected.
    A bare host name is taken as imap://host. Leaving the ``with`` block
    without an exception sends LOGOUT.

    Keyword arguments as libmail.SMTP (user, password, oauth_token,
    oauth_refresh, cafile, tls, verify, timeout, limits, trace, mechanisms,
    allow_insecure_auth, client_cert, client_key, server_name, proxy), plus
    auth_method ("auto", "sasl", "login"), on_event (called with every
    unsolicited Event: EXISTS, EXPUNGE, flag changes, ALERT ...),
    idle_interval (seconds between IDLE re-issues, default 25 minutes),
    select_url_mailbox, connect (False: call connect() yourself).

    Message sets (messages=) are an int, a str ("1:5,9,20:*") or an
    iterable of numbers; they are UIDs unless uid=False. Blocking calls
    release the GIL.
    """

    def __init__(self, url: str, *, connect: bool = True, **kw: Any) -> None:
        super().__init__(url, **kw)
        self._start(connect)

    def connect(self) -> None:
        """Connect, read the greeting, STARTTLS as required, log in when
        credentials were given and select the URL's mailbox."""
        run_blocking(self._op_connect())

    def login(self, user: Optional[str] = None, password: Optional[str] = None) -> None:
        """Log in (AUTHENTICATE with the best mechanism, or LOGIN), with the
        credentials given here or to the constructor."""
        run_blocking(self._op_login(user, password))

    def logout(self) -> None:
        """LOGOUT and close."""
        run_blocking(self._op_logout())

    quit = logout

    def capability(self) -> FrozenSet[str]:
        """Ask CAPABILITY again; returns the list."""
        run_blocking(self._op_noop(C.mail_imap_capability, "CAPABILITY"))
        return self.capabilities

    def noop(self) -> List[Event]:
        """NOOP: the changes the server reports (EXISTS, EXPUNGE, FETCH ...)."""
        return run_blocking(self._op_noop(C.mail_imap_noop, "NOOP"))

    def compress(self) -> None:
        """COMPRESS=DEFLATE (RFC 4978) from here on (UnsupportedError when
        the server or the build lacks it)."""
        run_blocking(self._op_noop(C.mail_imap_compress, "COMPRESS"))

    def enable(self, *names: str) -> FrozenSet[str]:
        """ENABLE extensions ("CONDSTORE", "UTF8=ACCEPT"); returns those enabled."""
        return run_blocking(self._op_enable(names))

    def id(self, **fields: Optional[str]) -> Dict[str, Optional[str]]:
        """ID (RFC 2971): send fields, return the server's."""
        return run_blocking(self._op_id(fields))

    def select(self, mailbox: str = "INBOX", readonly: bool = False) -> Mailbox:
        """SELECT (or EXAMINE when readonly) and return the mailbox's state."""
        return run_blocking(self._op_select(mailbox, readonly))

    def examine(self, mailbox: str = "INBOX") -> Mailbox:
        """Select mailbox read-only (EXAMINE) and return its Mailbox state."""
        return run_blocking(self._op_select(mailbox, True))

    def create(self, mailbox: str) -> None:
        """CREATE mailbox."""
        run_blocking(self._op_mailbox_cmd(C.mail_imap_create, "CREATE", mailbox))

    def delete(self, mailbox: str) -> None:
        """DELETE mailbox."""
        run_blocking(self._op_mailbox_cmd(C.mail_imap_delete, "DELETE", mailbox))

    def rename(self, old: str, new: str) -> None:
        """RENAME mailbox old to new."""
        run_blocking(self._op_mailbox_cmd(C.mail_imap_rename, "RENAME", old, new))

    def subscribe(self, mailbox: str) -> None:
        """SUBSCRIBE to mailbox."""
        run_blocking(self._op_mailbox_cmd(C.mail_imap_subscribe, "SUBSCRIBE", mailbox))

    def unsubscribe(self, mailbox: str) -> None:
        """UNSUBSCRIBE from mailbox."""
        run_blocking(self._op_mailbox_cmd(C.mail_imap_unsubscribe, "UNSUBSCRIBE", mailbox))

    def close_mailbox(self) -> None:
        """CLOSE (removes \\Deleted messages) — imaplib's close(); close()
        here frees the session."""
        run_blocking(self._op_noop(C.mail_imap_close, "CLOSE"))

    def unselect(self) -> None:
        """UNSELECT: leave the selected mailbox without expunging."""
        run_blocking(self._op_noop(C.mail_imap_unselect, "UNSELECT"))

    def list(self, reference: str = "", pattern: str = "*", *, subscribed: bool = False,
             children: bool = False, special_use: bool = False,
             status: bool = False) -> List[ListEntry]:
        """LIST; RETURN options when asked (UnsupportedError when the server
        lacks them); status=True fills each entry's .status (LIST-STATUS)."""
        return run_blocking(self._op_list(reference, pattern,
                                          _list_bits(subscribed, children, special_use,
                                                     status)))

    def status(self, mailbox: str, items: Optional[Iterable[str]] = None) -> MailboxStatus:
        """STATUS (items: "MESSAGES", "UIDNEXT", "UNSEEN", "SIZE", ...)."""
        return run_blocking(self._op_status(mailbox, _status_items(items)))

    def namespace(self) -> Namespace:
        """NAMESPACE: the server's personal, other users' and shared prefixes."""
        return run_blocking(self._op_namespace())

    def search(self, criteria: str = "ALL", *args: Any, uid: bool = True,
               ret: Optional[str] = None) -> SearchResult:
        """SEARCH: criteria in IMAP syntax where each "?" takes the next of
        args (any text; CHARSET UTF-8 is sent when needed), e.g.
        search("UNSEEN FROM ?", "bob"). ret asks for ESEARCH ("MIN MAX COUNT")."""
        return run_blocking(self._op_search(criteria, args, uid, ret))

    def sync(self, mailbox: str = "INBOX", state: Any = None, *, strategy: str = "auto",
             readonly: bool = True, maildir: Optional[Union[str, "os.PathLike[str]"]] = None,
             callback: Optional[Callable[[Any], Any]] = None) -> Any:
        """Bring a local copy of mailbox up to date and return a
        libmail.SyncResult (its .changes: SyncChange("new"|"flags"|
        "vanished"|"reset", uid, flags) in the order reported).

        state is a libmail.SyncState (updated in place), a path (loaded
        when it exists, saved atomically after the sync) or None (a fresh
        state: every message is new). With maildir=path the mailbox is
        mirrored into that maildir instead (made when missing; the state
        lives in it). QRESYNC is used when offered, else CONDSTORE, else a
        full UID/FLAGS listing; strategy ("qresync", "condstore", "full")
        forces a weaker way. callback gets each SyncChange as it comes.
        The mailbox is left selected (EXAMINEd unless readonly=False)."""
        if maildir is not None:
            return run_blocking(self._op_sync_maildir(mailbox, maildir, strategy))
        return run_blocking(self._op_sync(mailbox, state, strategy, readonly, callback))

    def fetch(self, messages: Messages, items: Union[str, Sequence[str]] = "(UID FLAGS)", *,
              uid: bool = True, body: Body = None,
              callback: Optional[Callable[[FetchItem], Any]] = None) -> Any:
        """FETCH items (IMAP syntax, or a list of item names) of messages;
        returns a list of FetchItem. Streamed values (BODY[...], BINARY[...],
        RFC822) are collected into item.sections, or with body= written
        into one binary file, or into sink(seq, name) -> file (None skips
        it), never held. With callback each FetchItem goes to it as it
        arrives instead (the count is returned). An exception raised by
        the callback or a file's write() stops the fetch and is re-raised
        (a failed body stream ends the session: it cannot resynchronise)."""
        return run_blocking(self._op_fetch(messages, items, uid, body, callback))

    def store(self, messages: Messages, how: str, flags: Union[str, Iterable[str]], *,
              uid: bool = True, silent: bool = False,
              unchangedsince: int = 0) -> List[FetchItem]:
        """STORE flags: how is "add" ("+FLAGS"), "remove" ("-FLAGS") or
        "replace" ("FLAGS"); returns the FETCH responses (none when silent)."""
        return run_blocking(self._op_store(messages, how, flags, uid, silent, unchangedsince))

    def copy(self, messages: Messages, mailbox: str, *, uid: bool = True) -> CopyResult:
        """COPY messages (UIDs unless uid=False) to mailbox; the CopyResult maps old UIDs to new
        ones when the server sends COPYUID."""
        return run_blocking(self._op_copy(messages, mailbox, uid, False))

    def move(self, messages: Messages, mailbox: str, *, uid: bool = True) -> CopyResult:
        """MOVE messages (UIDs unless uid=False) to mailbox (needs the MOVE extension); the
        CopyResult maps old UIDs to new ones."""
        return run_blocking(self._op_copy(messages, mailbox, uid, True))

    def expunge(self, messages: Optional[Messages] = None) -> List[int]:
        """EXPUNGE (or UID EXPUNGE of messages, UIDs); returns the sequence
        numbers the server reported gone (UIDs for VANISHED)."""
        return run_blocking(self._op_expunge(messages))

    def append(self, mailbox: str, message: AppendSource,
               flags: Union[None, str, Iterable[str]] = None,
               date: Union[None, int, float, datetime.datetime] = None, *,
               size: Optional[int] = None) -> AppendResult:
        """APPEND message (bytes, a binary file object streamed through the
        C read callback — give size for a stream that cannot seek — a
        libmail.MessageBuilder streamed, a libmail.Message or an
        email.message.Message) with flags and internal date."""
        return run_blocking(self._op_append(mailbox, message, flags, date, size))

    def idle(self, timeout: Optional[float] = None,
             callback: Optional[Callable[[Event], Any]] = None) -> Idle:
        """IDLE: an iterator of Events that ends after timeout seconds (None:
        until stop()), or with callback, run until then calling it for each
        event (returns the finished Idle). Idle.stop() is safe from any
        thread."""
        if C.mail_imap_get_state(self._handle()) not in (_STATE["AUTHENTICATED"],
                                                         _STATE["SELECTED"]):
            raise self._error(STATUS["MAIL_ERR_STATE"], "IDLE needs a login")
        idle = Idle(self, timeout)
        if callback is not None:
            for ev in idle:
                callback(ev)
        return idle


class IMAP_SSL(IMAP):
    """imaplib.IMAP4_SSL's shape: IMAP_SSL(host, port=993, ...) is
    IMAP("imaps://host:port", ...)."""

    def __init__(self, host: str, port: int = 993, **kw: Any) -> None:
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host
        super().__init__("imaps://%s:%d" % (host, port), **kw)


__all__ = ["IMAP", "IMAP_SSL", "Idle", "Envelope", "BodyStructure", "FetchItem", "Mailbox",
           "MailboxStatus", "ListEntry", "SearchResult", "AppendResult", "CopyResult",
           "Namespace", "Event"]
