"""What SMTP and POP3 sessions share: the handle's life, the connection
settings (TLS, timeouts, limits, trace), callbacks kept alive with their
exceptions carried back to the caller, and the drivers that run an
operation either blocking or step by step (libmail.aio).

An operation is a generator: it yields zero-argument callables that make
one C call returning a mail_status, and receives that call's final status.
The blocking driver just calls them (the C library waits, with the GIL
released by ctypes); the asyncio driver calls them in event-loop mode and,
on MAIL_ERR_AGAIN, waits on the session's descriptor with add_reader /
add_writer until it is ready or the C library's deadline passes, then calls
the same function again, as the C API asks.
"""
from __future__ import annotations

import ctypes
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, Generator, List, Optional

from . import _capi
from ._capi import AGAIN, C, CONST, OK
from ._errors import Error, InvalidArgument, make_error

Op = Generator[Callable[[], int], int, Any]

_SECURITY = {
    None: None,
    "starttls": CONST["MAIL_SECURITY_STARTTLS"],
    "implicit": CONST["MAIL_SECURITY_IMPLICIT_TLS"],
    "starttls-opportunistic-insecure": CONST["MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE"],
    "none-insecure": CONST["MAIL_SECURITY_NONE_INSECURE"],
}

TRACE_DIRECTIONS = {CONST["MAIL_TRACE_RECV"]: "recv", CONST["MAIL_TRACE_SEND"]: "send",
                    CONST["MAIL_TRACE_INFO"]: "info"}


@dataclass
class Limits:
    """Bounds on what a session buffers from the server (None keeps the
    library's default); exceeding one raises LimitError."""
    max_line: Optional[int] = None
    max_literal: Optional[int] = None
    max_response: Optional[int] = None
    max_depth: Optional[int] = None
    max_items: Optional[int] = None
    max_lines: Optional[int] = None
    max_output: Optional[int] = None


class Callbacks:
    """Keeps the ctypes callback objects alive as long as C may call them
    (the session's finalizer holds .keep) and remembers the first exception
    raised inside one, to be re-raised in the caller when the C call
    returns."""

    def __init__(self) -> None:
        self.keep: List[Any] = []
        self.error: Optional[BaseException] = None
        # a weak reference to the session's stop method (no cycle, so the
        # finalizer runs as soon as the session is dropped)
        self.on_error: Optional[Callable[[], Optional[Callable[[], None]]]] = None

    def wrap(self, cftype: Any, fn: Callable[..., Any], failed: Any) -> Any:
        def trampoline(*args: Any) -> Any:
            if self.error is not None:
                return failed
            try:
                return fn(*args)
            except BaseException as e:  # noqa: B902 - re-raised in the caller
                self.error = e
                stop = self.on_error() if self.on_error is not None else None
                if stop is not None:
                    stop()
                return failed
        cf = cftype(trampoline)
        self.keep.append(cf)
        return cf

    def raise_pending(self, rc: int = 0) -> None:
        e, self.error = self.error, None
        if e is not None:
            if rc < 0 and e.__cause__ is None and isinstance(e, Exception):
                e.__context__ = make_error(rc, "stopped by the callback's exception")
            raise e


def _free(free_fn: Any, handle: int, keep: List[Any]) -> None:
    free_fn(handle)
    keep.clear()


def caps_dict(caps: int, count: Any, keyword: Any, param_count: Any,
              param: Any) -> Dict[str, List[str]]:
    """A capability list (EHLO's or CAPA's, through its accessors) as
    upper-case keyword -> parameters."""
    out: Dict[str, List[str]] = {}
    for i in range(count(caps)):
        kw = _capi.text(keyword(caps, i)) or ""
        out[kw.upper()] = [_capi.text(param(caps, i, j)) or "" for j in range(param_count(caps, i))]
    return out


def run_blocking(op: Op) -> Any:
    """Drive an operation in blocking mode."""
    try:
        call = next(op)
        while True:
            call = op.send(call())
    except StopIteration as stop:
        return stop.value


class Session:
    """Base of the protocol sessions (not used directly)."""

    _new: Any = None
    _free_fn: Any = None
    _conn_fn: Any = None
    _sasl_fn: Any = None
    _connect_fn: Any = None
    _auth_fn: Any = None
    _proto = ""

    def __init__(self, url: str, *, user: Optional[str] = None,
                 password: Optional[str] = None, oauth_token: Optional[str] = None,
                 oauth_refresh: Optional[Callable[[bool], str]] = None,
                 cafile: Optional[str] = None, tls: Optional[str] = None,
                 verify: bool = True, timeout: Optional[float] = None,
                 limits: Optional[Limits] = None,
                 trace: Optional[Callable[[str, bytes], None]] = None,
                 mechanisms: Optional[str] = None, allow_insecure_auth: bool = False,
                 client_cert: Optional[str] = None, client_key: Optional[str] = None,
                 server_name: Optional[str] = None, proxy: Optional[str] = None) -> None:
        if tls not in _SECURITY:
            raise InvalidArgument("tls must be one of %s" % ", ".join(
                repr(k) for k in _SECURITY))
        self.url = url
        self._user = user
        self._password = password
        self._security = _SECURITY[tls]
        self._auth_wanted = user is not None or oauth_token is not None
        self._cb = Callbacks()
        self._cb.on_error = weakref.WeakMethod(self._stop)
        h = ctypes.c_void_p()
        rc = type(self)._new(ctypes.byref(h), None)
        if rc != OK:
            raise make_error(rc, "%s session" % self._proto)
        self._h: int = h.value  # type: ignore[assignment]
        self._finalizer = weakref.finalize(self, _free, type(self)._free_fn, self._h,
                                           self._cb.keep)
        self._conn: int = type(self)._conn_fn(self._h)
        self._sasl: int = type(self)._sasl_fn(self._h)
        try:
            self._configure(cafile, verify, timeout, limits, trace, oauth_token,
                            oauth_refresh, mechanisms, allow_insecure_auth,
                            client_cert, client_key, server_name, proxy)
        except BaseException:
            self.close()
            raise

    # ---------------------------------------------------------- settings
    def _configure(self, cafile: Optional[str], verify: bool, timeout: Optional[float],
                   limits: Optional[Limits], trace: Optional[Callable[[str, bytes], None]],
                   oauth_token: Optional[str], oauth_refresh: Optional[Callable[[bool], str]],
                   mechanisms: Optional[str], allow_insecure_auth: bool,
                   client_cert: Optional[str], client_key: Optional[str],
                   server_name: Optional[str], proxy: Optional[str] = None) -> None:
        if cafile or not verify or client_cert:
            cfg = ctypes.c_void_p()
            self._check(C.mail_tls_config_new(ctypes.byref(cfg), None), "TLS configuration")
            try:
                if cafile:
                    self._check(C.mail_tls_config_set_ca_file(cfg, _capi.arg(cafile)),
                                "cafile %s" % cafile)
                if not verify:
                    self._check(C.mail_tls_config_set_insecure_no_verify(cfg, 1), "verify")
                if client_cert:
                    self._check(C.mail_tls_config_set_client_cert_file(
                        cfg, _capi.arg(client_cert), _capi.arg(client_key or client_cert),
                        None), "client_cert")
                self._check(C.mail_conn_set_tls_config(self._conn, cfg), "TLS configuration")
            finally:
                C.mail_tls_config_free(cfg)  # the connection holds its own reference
        if server_name:
            self._check(C.mail_conn_set_tls_server_name(self._conn, _capi.arg(server_name)),
                        "server_name")
        # cancel() from another thread ends a blocking wait at once.
        self._check(C.mail_conn_enable_cancel(self._conn), "cancel")
        if proxy:
            # No text of the URL in the error: it may hold the proxy password.
            self._check(C.mail_conn_set_proxy_url(self._conn, _capi.arg(proxy)), "proxy")
        if timeout is not None:
            ms = -1 if timeout < 0 else max(1, int(timeout * 1000))
            for kind in ("MAIL_TIMEOUT_CONNECT", "MAIL_TIMEOUT_IO"):
                self._check(C.mail_conn_set_timeout(self._conn, CONST[kind], ms), "timeout")
        if limits is not None:
            lim = _capi.mail_limits(version=CONST["MAIL_LIMITS_VERSION"])
            C.mail_conn_get_limits(self._conn, ctypes.byref(lim))
            for field in ("max_line", "max_literal", "max_response", "max_depth", "max_items",
                          "max_lines", "max_output"):
                v = getattr(limits, field)
                if v is not None:
                    setattr(lim, field, v)
            self._check(C.mail_conn_set_limits(self._conn, ctypes.byref(lim)), "limits")
        if trace is not None:
            self.set_trace(trace)
        if oauth_token is not None:
            self._check(C.mail_sasl_set_oauth_token(self._sasl, _capi.arg(oauth_token)),
                        "oauth_token")
        if oauth_refresh is not None:
            sasl = self._sasl

            def token(user: Any, handle: Any, refresh: int) -> int:
                tok = oauth_refresh(bool(refresh))
                return C.mail_sasl_set_oauth_token(sasl, _capi.arg(tok))
            C.mail_sasl_set_token_callback(self._sasl, self._cb.wrap(_capi.TOKEN_FN, token, 1),
                                           None)
        if mechanisms is not None:
            self._check(C.mail_sasl_set_mechanisms(self._sasl, _capi.arg(mechanisms)),
                        "mechanisms")
        if allow_insecure_auth:
            C.mail_sasl_set_allow_insecure_plaintext(self._sasl, 1)

    def set_trace(self, fn: Optional[Callable[[str, bytes], None]]) -> None:
        """Install fn(direction, data) for every chunk sent ("send"),
        received ("recv") or noted ("info"); credentials are "[redacted]".
        None removes it. An exception raised by fn stops the operation
        where the protocol allows (SMTP) and is re-raised by it."""
        if fn is None:
            C.mail_conn_set_trace(self._conn, _capi.TRACE_FN(), None)
            return

        def tramp(user: Any, direction: int, data: Any, n: int) -> None:
            fn(TRACE_DIRECTIONS.get(direction, str(direction)), ctypes.string_at(data, n))
        C.mail_conn_set_trace(self._conn, self._cb.wrap(_capi.TRACE_FN, tramp, None), None)

    def _stop(self) -> None:
        """Ask the C operation in progress to stop (a callback raised)."""

    # ---------------------------------------------------------- operations
    def _op_connect(self) -> Op:
        """Connect by URL, then log in when credentials were given."""
        h, url = self._handle(), _capi.arg(self.url)
        rc = yield lambda: type(self)._connect_fn(h, url)
        self._check(rc, "connect to %s" % self.url)
        if self._auth_wanted:
            yield from self._op_auth()

    def _op_auth(self) -> Op:
        h = self._handle()
        rc = yield lambda: type(self)._auth_fn(h)
        self._check(rc, "login")

    def _op_simple(self, fn: Callable[[int], int], what: str) -> Op:
        h = self._handle()
        rc = yield lambda: fn(h)
        self._check(rc, what)

    def _connected(self) -> bool:
        return bool(self._h) and C.mail_conn_fd(self._conn) >= 0

    # ---------------------------------------------------------- errors
    def _reply(self) -> tuple:
        return (None, None, "")

    def _detail(self) -> str:
        parts = []
        if self._h:
            err = _capi.text(C.mail_conn_last_error(self._conn))
            if err:
                parts.append(err)
            text = self._reply()[2]
            if text:
                parts.append("server said: %s" % text)
        return "; ".join(parts)

    def _error(self, rc: int, what: str) -> Error:
        return make_error(rc, what, self._detail(), self._reply())

    def _check(self, rc: int, what: str, *allowed: int) -> int:
        """Re-raise a callback's exception, else raise for an error status
        not in allowed; returns rc."""
        self._cb.raise_pending(rc)
        if rc < 0 and rc not in allowed:
            raise self._error(rc, what)
        return rc

    def _handle(self) -> int:
        if not self._h:
            raise Error("%s session is closed" % self._proto)
        return self._h

    # ---------------------------------------------------------- life
    @property
    def closed(self) -> bool:
        return not self._h

    def close(self) -> None:
        """Close the connection without a goodbye and free the session
        (also done by the finalizer). Safe to repeat."""
        self._finalizer()
        self._h = 0

    def cancel(self) -> None:
        """Cancel the call in progress on this session, from any thread: it
        raises CallbackError (MAIL_ERR_CANCELLED) in the thread running it,
        the connection is closed, and connect() starts afresh. Does nothing
        when no call is under way. Do not close() the session meanwhile."""
        if self._h:
            C.mail_conn_cancel(self._conn)

    def fileno(self) -> int:
        """The connection's socket, or -1."""
        return C.mail_conn_fd(self._conn) if self._h else -1

    @property
    def tls_version(self) -> Optional[str]:
        """The negotiated TLS version ("TLSv1.3"), or None without TLS."""
        return _capi.text(C.mail_conn_tls_version(self._conn)) if self._h else None

    @property
    def tls_cipher(self) -> Optional[str]:
        return _capi.text(C.mail_conn_tls_cipher(self._conn)) if self._h else None

    @property
    def verified(self) -> bool:
        """True when TLS is up and the server's certificate and name verified."""
        return bool(self._h and C.mail_conn_is_verified(self._conn))

    def _wait_spec(self) -> tuple:
        """(fd, want bits, timeout in s or None) for the event-loop driver."""
        t = C.mail_conn_timeout_ms(self._conn)
        return (C.mail_conn_fd(self._conn), C.mail_conn_want(self._conn),
                None if t < 0 else t / 1000.0)

    def _set_nonblocking(self, on: bool) -> None:
        C.mail_conn_set_nonblocking(self._conn, 1 if on else 0)


class Blocking:
    """The blocking classes' context manager: QUIT when the block ends
    normally; after an exception only close (for POP3: nothing marked
    deleted is removed)."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        try:
            if et is None and self._connected():  # type: ignore[attr-defined]
                self.quit()  # type: ignore[attr-defined]
        finally:
            self.close()  # type: ignore[attr-defined]

    def _start(self, connect: bool) -> None:
        if connect:
            try:
                run_blocking(self._op_connect())  # type: ignore[attr-defined]
            except BaseException:
                self.close()  # type: ignore[attr-defined]
                raise


__all__ = ["Limits", "Session", "Blocking", "Callbacks", "run_blocking", "AGAIN"]
