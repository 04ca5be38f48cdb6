"""SMTP and LMTP clients: smtplib's shape, libmail's typed results."""
from __future__ import annotations

import copy
import ctypes
import email.message
import email.policy
import email.utils
from typing import (Any, Callable, Dict, Iterable, Iterator, List, NamedTuple,
                    Optional, Sequence, Union)

from . import _capi
from ._capi import C, CONST, OK, STATUS
from ._errors import InvalidArgument, RecipientsRefused
from ._session import Blocking, Op, Session, caps_dict, run_blocking

from .mime import Message, MessageBuilder, parse

MessageLike = Union[email.message.Message, bytes, bytearray, memoryview, Message,
                    MessageBuilder, Any]

_PARTIAL = STATUS["MAIL_ERR_PARTIAL"]
_RECIPIENTS = STATUS["MAIL_ERR_RECIPIENTS"]

_CHUNKING = {"when-needed": CONST["MAIL_SMTP_CHUNKING_WHEN_NEEDED"],
             "prefer": CONST["MAIL_SMTP_CHUNKING_PREFER"],
             "never": CONST["MAIL_SMTP_CHUNKING_NEVER"]}
_NOTIFY = {"never": CONST["MAIL_SMTP_NOTIFY_NEVER"], "success": CONST["MAIL_SMTP_NOTIFY_SUCCESS"],
           "failure": CONST["MAIL_SMTP_NOTIFY_FAILURE"], "delay": CONST["MAIL_SMTP_NOTIFY_DELAY"]}
_RET = {None: CONST["MAIL_SMTP_RET_DEFAULT"], "full": CONST["MAIL_SMTP_RET_FULL"],
        "hdrs": CONST["MAIL_SMTP_RET_HDRS"]}
_POLICY = {"any": CONST["MAIL_SMTP_POLICY_ANY"], "all": CONST["MAIL_SMTP_POLICY_ALL"]}


class RecipientResult(NamedTuple):
    """What the server said about one recipient (a named tuple: cheap to
    make, one per recipient of every message sent)."""
    address: str
    accepted: bool
    code: int                 # the reply that decided (RCPT, or the final/LMTP reply); 0: none
    enhanced: Optional[str]   # "2.1.5", or None
    text: str
    status: str               # "MAIL_OK", "MAIL_ERR_SERVER", "MAIL_ERR_NOT_ATTEMPTED"


class SendResult:
    """One RecipientResult per recipient, in the order given. Iterable,
    indexable (by position or address); truthy when every recipient
    accepted the message.

    The entries are read from the C envelope when first used (most callers
    only test the result), and the envelope is freed then, or when the
    result goes."""

    __slots__ = ("_env", "_all_ok", "_list")

    def __init__(self, env: int = 0, all_ok: bool = False,
                 recipients: Optional[List[RecipientResult]] = None) -> None:
        self._env = env
        self._all_ok = all_ok
        self._list = recipients

    @property
    def recipients(self) -> List[RecipientResult]:
        """One RecipientResult per recipient, in the order given."""
        if self._list is None:
            env, self._env = self._env, 0
            try:
                self._list = _read_results(env) if env else []
            finally:
                if env:
                    C.mail_smtp_envelope_free(env)
        return self._list

    def __del__(self, _free: Any = C.mail_smtp_envelope_free) -> None:
        if self._env:
            _free(self._env)
            self._env = 0

    @property
    def accepted(self) -> List[RecipientResult]:
        """The recipients the server accepted the message for."""
        return [r for r in self.recipients if r.accepted]

    @property
    def refused(self) -> List[RecipientResult]:
        """The recipients that refused the message (with their reply)."""
        return [r for r in self.recipients if not r.accepted]

    def __iter__(self) -> Iterator[RecipientResult]:
        return iter(self.recipients)

    def __len__(self) -> int:
        return len(self.recipients)

    def __getitem__(self, key: Union[int, str]) -> RecipientResult:
        if isinstance(key, str):
            for r in self.recipients:
                if r.address == key:
                    return r
            raise KeyError(key)
        return self.recipients[key]

    def __bool__(self) -> bool:
        if self._all_ok:   # the send returned MAIL_OK: every recipient accepted it
            return True
        return bool(self.recipients) and all(r.accepted for r in self.recipients)

    def __repr__(self) -> str:
        return "SendResult(%r)" % (self.recipients,)


def _read_results(env: int) -> List[RecipientResult]:
    out = []
    a, b, c = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    pa, pb, pc = ctypes.byref(a), ctypes.byref(b), ctypes.byref(c)
    for i in range(C.mail_smtp_envelope_recipient_count(env)):
        st = C.mail_smtp_envelope_recipient_status(env, i)
        enh = ("%d.%d.%d" % (a.value, b.value, c.value)
               if C.mail_smtp_envelope_recipient_enhanced(env, i, pa, pb, pc) == OK else None)
        out.append(RecipientResult(
            (C.mail_smtp_envelope_recipient_address(env, i) or b"").decode("utf-8", "replace"),
            st == OK, C.mail_smtp_envelope_recipient_code(env, i), enh,
            (C.mail_smtp_envelope_recipient_text(env, i) or b"").decode("utf-8", "replace"),
            _capi.STATUS_NAME.get(st) or _capi.status_name(st)))
    return out


def _enhanced(fn: Callable[..., int], *args: Any) -> Optional[str]:
    a, b, c = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    if fn(*args, ctypes.byref(a), ctypes.byref(b), ctypes.byref(c)) != OK:
        return None
    return "%d.%d.%d" % (a.value, b.value, c.value)


def _addr_list(values: Iterable[str]) -> List[str]:
    return [a for _, a in email.utils.getaddresses(list(values)) if a]


class _Body:
    """A message turned into an envelope body and its default addresses."""

    def __init__(self) -> None:
        self.keep: List[Any] = []
        self.from_addr: Optional[str] = None
        self.to_addrs: List[str] = []
        self.smtputf8 = False


class SMTPBase(Session):
    """The operations of an SMTP/LMTP session, shared by the blocking class
    (libmail.SMTP) and the asyncio one (libmail.aio.SMTP)."""

    _new = C.mail_smtp_new
    _free_fn = C.mail_smtp_free
    _conn_fn = C.mail_smtp_conn
    _sasl_fn = C.mail_smtp_sasl
    _connect_fn = C.mail_smtp_connect_url
    _auth_fn = C.mail_smtp_auth
    _proto = "SMTP"
    _lmtp = False

    def __init__(self, url: str, *, client_name: Optional[str] = None,
                 chunking: str = "when-needed", pipelining: bool = True, **kw: Any) -> None:
        super().__init__(url, **kw)
        try:
            h = self._h
            if self._lmtp:
                self._check(C.mail_smtp_set_lmtp(h, 1), "LMTP")
            if self._security is not None:
                self._check(C.mail_smtp_set_security(h, self._security), "tls")
            if client_name is not None:
                self._check(C.mail_smtp_set_client_name(h, _capi.arg(client_name)),
                            "client_name")
            if chunking not in _CHUNKING:
                raise InvalidArgument("chunking must be one of %s" % ", ".join(_CHUNKING))
            self._check(C.mail_smtp_set_chunking(h, _CHUNKING[chunking]), "chunking")
            self._check(C.mail_smtp_set_pipelining(h, 1 if pipelining else 0), "pipelining")
            timeout = kw.get("timeout")
            if timeout is not None:
                # also the wait for the reply after the data (10 minutes by default)
                ms = -1 if timeout < 0 else max(1, int(timeout * 1000))
                self._check(C.mail_smtp_set_timeouts(h, ms, ms), "timeout")
            if self._user is not None:
                self._check(C.mail_smtp_set_auth(h, _capi.arg(self._user),
                                                 _capi.arg(self._password)), "credentials")
        except BaseException:
            self.close()
            raise
        self._password = None

    def _stop(self) -> None:
        if self._h:
            C.mail_smtp_cancel(self._h)

    def _reply(self) -> tuple:
        r = C.mail_smtp_last_reply(self._h) if self._h else None
        if not r:
            return (None, None, "")
        return (C.mail_smtp_reply_code(r), _enhanced(C.mail_smtp_reply_enhanced, r),
                _capi.text(C.mail_smtp_reply_text(r, None)) or "")

    # ---------------------------------------------------------- state
    @property
    def capabilities(self) -> Dict[str, List[str]]:
        """The EHLO/LHLO extensions (after TLS): upper-case keyword ->
        parameters, e.g. {"SIZE": ["52428800"], "AUTH": ["PLAIN", ...]}."""
        return caps_dict(C.mail_smtp_capabilities(self._handle()), C.mail_smtp_caps_count,
                         C.mail_smtp_caps_keyword, C.mail_smtp_caps_param_count,
                         C.mail_smtp_caps_param)

    def has_capability(self, keyword: str) -> bool:
        return bool(C.mail_smtp_has_capability(self._handle(), _capi.arg(keyword)))

    @property
    def state(self) -> str:
        return _capi.text(C.mail_smtp_state_name(self._handle())) or ""

    @property
    def last_reply(self) -> Optional[tuple]:
        """(code, enhanced, text) of the server's last reply, or None."""
        r = self._reply()
        return None if r[0] is None else r

    # ---------------------------------------------------------- operations
    def _body(self, env: int, msg: MessageLike, need_addresses: bool = True) -> _Body:
        b = _Body()
        if type(msg) is bytes and not need_addresses:  # the common fast path
            b.keep.append(msg)
            self._check(C.mail_smtp_envelope_set_body_data(env, msg, len(msg)), "body")
            return b
        if isinstance(msg, MessageBuilder):
            builder = msg
            if not builder.frozen:
                opts = builder.options
                if self.has_capability("8BITMIME"):
                    opts |= CONST["MAIL_MIME_OPT_8BITMIME"]
                if self.has_capability("SMTPUTF8"):
                    opts |= CONST["MAIL_MIME_OPT_SMTPUTF8"]
                if self.has_capability("BINARYMIME") and self.has_capability("CHUNKING"):
                    opts |= CONST["MAIL_MIME_OPT_BINARYMIME"]
                builder.set_options(opts)
            rc = C.mail_smtp_envelope_set_body_mime(env, builder._handle())
            builder.frozen = True  # set_body_mime froze it, even when it failed
            self._check(rc, "body")
            b.keep.append(builder)
            b.from_addr = builder.envelope_from
            b.to_addrs = builder.envelope_recipients
            return b
        if isinstance(msg, email.message.Message):
            senders = msg.get_all("Sender") or msg.get_all("From") or []
            froms = _addr_list(senders)
            b.from_addr = froms[0] if froms else None
            b.to_addrs = _addr_list((msg.get_all("To") or []) + (msg.get_all("Cc") or []) +
                                    (msg.get_all("Bcc") or []))
            plain = copy.copy(msg)
            del plain["Bcc"]
            del plain["Resent-Bcc"]
            b.smtputf8 = any(not a.isascii() for a in [b.from_addr or ""] + b.to_addrs)
            policy = plain.policy.clone(linesep="\r\n")
            if b.smtputf8:
                try:
                    policy = policy.clone(utf8=True)
                except TypeError:  # compat32 has no utf8 setting
                    policy = email.policy.SMTPUTF8
            data = plain.as_bytes(policy=policy)
        elif isinstance(msg, Message):
            data = msg.source
            b.from_addr = msg._first_address("Sender") or msg._first_address("From")
            b.to_addrs = msg._addresses("To", "Cc", "Bcc")
        elif isinstance(msg, (bytes, bytearray, memoryview)):
            data = msg if isinstance(msg, bytes) else bytes(msg)
            if need_addresses:
                head = parse(data, headers_only=True)
                b.from_addr = head._first_address("Sender") or head._first_address("From")
                b.to_addrs = head._addresses("To", "Cc", "Bcc")
        elif hasattr(msg, "read"):
            return self._stream_body(env, msg, b)
        else:
            raise TypeError("send() takes an email.message.Message, bytes, a libmail.Message, "
                            "a libmail.MessageBuilder or a binary file object, not %s"
                            % type(msg).__name__)
        b.keep.append(data)
        self._check(C.mail_smtp_envelope_set_body_data(env, data, len(data)), "body")
        return b

    def _stream_body(self, env: int, f: Any, b: _Body) -> _Body:
        def read(user: Any, buf: Any, cap: int, got: Any) -> int:
            chunk = f.read(cap)
            if chunk is None:
                chunk = b""
            n = len(chunk)
            if n > cap:
                raise ValueError("read() returned more than asked for")
            ctypes.memmove(buf, chunk, n)
            got[0] = n
            return 0
        cb = self._cb.wrap(_capi.SMTP_READ_FN, read, 1)
        b.keep.append(cb)
        self._check(C.mail_smtp_envelope_set_body_callback(
            env, cb, None, CONST["MAIL_SMTP_SIZE_UNKNOWN"], CONST["MAIL_SMTP_NEEDS_8BIT"]),
            "body")
        return b

    def _op_send(self, msg: MessageLike, from_addr: Optional[str],
                 to_addrs: Union[None, str, Sequence[str]], notify: Optional[Iterable[str]],
                 ret: Optional[str], envid: Optional[str], orcpt: bool, requiretls: bool,
                 smtputf8: Optional[bool], policy: str,
                 progress: Optional[Callable[[int, int], Any]]) -> Op:
        h = self._handle()
        env_p = ctypes.c_void_p()
        self._check(C.mail_smtp_envelope_new(ctypes.byref(env_p), None), "envelope")
        env = env_p.value
        owned = True  # until a SendResult takes the envelope
        try:
            body = self._body(env, msg, from_addr is None or to_addrs is None)
            sender = from_addr if from_addr is not None else body.from_addr
            if isinstance(to_addrs, str):
                to_addrs = [to_addrs]
            rcpts = list(to_addrs) if to_addrs is not None else body.to_addrs
            if sender is None:
                raise InvalidArgument("no sender: pass from_addr or give the message a From")
            if not rcpts:
                raise InvalidArgument("no recipient: pass to_addrs or give the message To/Cc/Bcc")
            rc = C.mail_smtp_envelope_set_from(env, sender.encode("utf-8"))
            if rc:
                self._check(rc, "sender %r" % sender)
            bits = 0
            for n in notify or ():
                if n.lower() not in _NOTIFY:
                    raise InvalidArgument("notify: one of %s" % ", ".join(_NOTIFY))
                bits |= _NOTIFY[n.lower()]
            idx = ctypes.c_size_t()
            pidx = ctypes.byref(idx) if bits or orcpt else None
            add = C.mail_smtp_envelope_add_recipient
            for a in rcpts:
                rc = add(env, a.encode("utf-8"), pidx)
                if rc:
                    self._check(rc, "recipient %r" % a)
                if bits:
                    self._check(C.mail_smtp_envelope_set_notify(env, idx.value, bits), "notify")
                if orcpt:
                    self._check(C.mail_smtp_envelope_set_orcpt(env, idx.value, _capi.arg(a)),
                                "orcpt")
            if ret not in _RET:
                raise InvalidArgument("ret must be 'full', 'hdrs' or None")
            if ret is not None:
                self._check(C.mail_smtp_envelope_set_ret(env, _RET[ret]), "ret")
            if envid is not None:
                self._check(C.mail_smtp_envelope_set_envid(env, _capi.arg(envid)), "envid")
            if requiretls:
                self._check(C.mail_smtp_envelope_set_requiretls(env, 1), "requiretls")
            if smtputf8 or (smtputf8 is None and body.smtputf8):
                self._check(C.mail_smtp_envelope_set_smtputf8(env, 1), "smtputf8")
            if policy not in _POLICY:
                raise InvalidArgument("policy must be 'any' or 'all'")
            if policy != "any":
                self._check(C.mail_smtp_envelope_set_policy(env, _POLICY[policy]), "policy")
            if progress is not None:
                def prog(user: Any, sent: int, total: int) -> int:
                    progress(sent, total)
                    return 0
                C.mail_smtp_set_progress(h, self._cb.wrap(_capi.PROGRESS_FN, prog, 1), None)
            try:
                rc = yield lambda: C.mail_smtp_send(h, env)
            finally:
                if progress is not None and self._h:
                    C.mail_smtp_set_progress(h, _capi.PROGRESS_FN(), None)
            self._cb.raise_pending(rc)
            if rc == OK or rc == _PARTIAL or rc == _RECIPIENTS:
                result = SendResult(env, rc == OK)
                owned = False
            if rc == OK or rc == _PARTIAL:
                return result
            if rc == _RECIPIENTS:
                code, enh, text = self._reply()
                raise RecipientsRefused("send: every recipient was refused (%s)" % "; ".join(
                    "%s: %d %s" % (r.address, r.code, r.text) for r in result.refused),
                    result, status=rc, detail=self._detail(), code=code, enhanced=enh, text=text)
            raise self._error(rc, "send")
        finally:
            if owned:
                C.mail_smtp_envelope_free(env)


class SMTP(Blocking, SMTPBase):
    """A blocking SMTP session (a context manager).

    ``SMTP("submission://mail.example.org", user=..., password=...)``
    connects at once (STARTTLS required on smtp:// and submission://;
    smtps:// is implicit TLS; certificates and names verified) and logs in
    when credentials are given. Leaving the ``with`` block sends QUIT.

    Keyword arguments: user, password, oauth_token, oauth_refresh
    (callable(refresh) -> token), cafile, tls ("starttls", "implicit",
    "starttls-opportunistic-insecure", "none-insecure"), verify, timeout
    (seconds, connect and each wait), limits (libmail.Limits), trace
    (callable(direction, bytes)), mechanisms ("SCRAM-SHA-256 PLAIN"),
    allow_insecure_auth, client_name, chunking ("when-needed", "prefer",
    "never"), pipelining, proxy ("socks5://[user:password@]host[:port]"
    or "http://..." for an HTTP CONNECT proxy; the server's name goes to
    the proxy, TLS and its checks run inside the tunnel), connect (False:
    call connect() yourself). Blocking calls release the GIL.
    """

    def __init__(self, url: str, *, connect: bool = True, **kw: Any) -> None:
        super().__init__(url, **kw)
        self._start(connect)

    def connect(self) -> None:
        """Connect, greet, STARTTLS as required, and log in when
        credentials were given."""
        run_blocking(self._op_connect())

    def auth(self) -> None:
        """Log in with the strongest mechanism the server and settings allow."""
        run_blocking(self._op_auth())

    login = auth

    def noop(self) -> None:
        """NOOP: check that the session is alive (raises on a refusal or a lost link)."""
        run_blocking(self._op_simple(C.mail_smtp_noop, "NOOP"))

    def rset(self) -> None:
        """RSET: abandon the transaction in progress on the server."""
        run_blocking(self._op_simple(C.mail_smtp_rset, "RSET"))

    def quit(self) -> None:
        """QUIT and close the connection (the session can connect again)."""
        run_blocking(self._op_simple(C.mail_smtp_quit, "QUIT"))

    def send(self, msg: MessageLike, from_addr: Optional[str] = None,
             to_addrs: Union[None, str, Sequence[str]] = None, *,
             notify: Optional[Iterable[str]] = None, ret: Optional[str] = None,
             envid: Optional[str] = None, orcpt: bool = False, requiretls: bool = False,
             smtputf8: Optional[bool] = None, policy: str = "any",
             progress: Optional[Callable[[int, int], Any]] = None) -> SendResult:
        """Send one message; returns one RecipientResult per recipient.

        msg: an email.message.Message (Bcc removed, like smtplib's
        send_message), bytes, a libmail.Message, a libmail.MessageBuilder
        (streamed) or a binary file object (streamed; give the addresses).
        from_addr / to_addrs default to the message's Sender/From and
        To/Cc/Bcc. A partial refusal is not an error: see result.refused.
        RecipientsRefused when every recipient is refused.
        DSN: notify (any of "success", "failure", "delay" or "never"), ret
        ("full"/"hdrs"), envid, orcpt. requiretls (RFC 8689), smtputf8
        (None: when an address needs it), policy ("any" / "all": DATA only
        if every recipient was accepted), progress(sent, total).
        """
        return run_blocking(self._op_send(msg, from_addr, to_addrs, notify, ret, envid, orcpt,
                                          requiretls, smtputf8, policy, progress))

    send_message = send

    def sendmail(self, from_addr: str, to_addrs: Union[str, Sequence[str]],
                 msg: Union[bytes, str], **kw: Any) -> Dict[str, tuple]:
        """smtplib's sendmail(): a dict of the refused recipients
        (address -> (code, text))."""
        if isinstance(msg, str):
            msg = msg.encode("ascii")
        result = self.send(msg, from_addr, to_addrs, **kw)
        return {r.address: (r.code, r.text.encode()) for r in result.refused}


class LMTP(SMTP):
    """An LMTP session (RFC 2033): lmtp://host[:port] or lmtp:///path/to/socket.
    Each recipient's result is its own final reply after the data."""
    _proto = "LMTP"
    _lmtp = True
