"""The exception hierarchy and the one mapping from a mail_status to it."""
from __future__ import annotations

import builtins
from typing import Optional, Tuple

from ._capi import STATUS, status_name, strerror


class Error(Exception):
    """Base of every libmail error.

    status: the C status code (negative); status_name: its C name;
    detail: the session's own description (the connection's last error and
    the server's last reply), never a credential.
    """

    code: Optional[int] = None
    enhanced: Optional[str] = None
    text: str = ""

    def __init__(self, message: str, *, status: int = 0, detail: str = "",
                 code: Optional[int] = None, enhanced: Optional[str] = None,
                 text: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.status_name = status_name(status) if status else ""
        self.detail = detail
        self.code = code
        self.enhanced = enhanced
        self.text = text


class ConnectionError(Error, builtins.ConnectionError):
    """Resolving, connecting, reading or writing failed, or the peer closed."""


class TLSError(Error):
    """TLS handshake or verification failed, STARTTLS was not possible, or
    the operation would have run without the protection it requires."""


class AuthError(Error):
    """The server refused the credentials, or no mechanism could be used."""


class ProtocolError(Error):
    """The server broke the protocol."""


class ServerError(Error):
    """The server refused a command: code (the SMTP reply code; None for
    POP3), enhanced (the SMTP enhanced status code such as "5.1.1", or the
    POP3 response code such as "IN-USE"; None when absent) and text (the
    server's words). Every Error carries the same three fields, filled
    whenever the server's reply decided the outcome (AuthError too)."""


class RecipientsRefused(ServerError):
    """Every recipient of a message was refused; .result has each one."""

    def __init__(self, message: str, result: object, **kw) -> None:
        super().__init__(message, **kw)
        self.result = result


class LimitError(Error):
    """Input exceeded a configured limit, or a message is larger than the
    server (or a local limit) accepts."""


class TimeoutError(Error, builtins.TimeoutError):
    """No progress before the deadline."""


class UnsupportedError(Error):
    """Not compiled in, or not offered by the server."""


class InvalidArgument(Error, ValueError):
    """An argument was refused (CR/LF/NUL, bad syntax, bad charset)."""


class CallbackError(Error):
    """A callback failed without a Python exception to re-raise."""


class StateError(Error):
    """The call is not allowed in the session's current state."""


_S = STATUS
_CLASSES = {
    ConnectionError: ("IO", "CLOSED", "RESOLVE", "CONNECT", "PROXY"),
    TLSError: ("TLS", "TLS_VERIFY", "STARTTLS", "STARTTLS_INJECTION", "INSECURE",
               "REQUIRETLS"),
    AuthError: ("AUTH", "NO_MECHANISM", "SASL_SERVER"),
    ProtocolError: ("PROTOCOL", "SASL_BAD_CHALLENGE"),
    ServerError: ("SERVER", "RECIPIENTS", "SERVER_CLOSING", "PARTIAL", "THROTTLED",
                  "SERVER_LIMIT", "TOO_MANY_CONNECTIONS"),
    LimitError: ("LIMIT", "TOO_BIG"),
    TimeoutError: ("TIMEOUT",),
    UnsupportedError: ("UNSUPPORTED", "NEEDS_SMTPUTF8"),
    InvalidArgument: ("INVALID", "SYNTAX", "CHARSET", "FILE", "BUFFER"),
    CallbackError: ("CALLBACK", "CANCELLED"),
    StateError: ("STATE",),
}
CLASS_OF = {_S["MAIL_ERR_" + n]: cls for cls, names in _CLASSES.items() for n in names}


def error_class(rc: int) -> type:
    return CLASS_OF.get(rc, Error)


def make_error(rc: int, what: str, detail: str = "",
               reply: Optional[Tuple[Optional[int], Optional[str], str]] = None) -> Error:
    """The exception for status rc of operation what. detail is the
    session's error string; reply (code, enhanced, text) the server's."""
    cls = error_class(rc)
    msg = "%s: %s" % (what, strerror(rc))
    if detail:
        msg += " (%s)" % detail
    code, enhanced, text = reply or (None, None, "")
    return cls(msg, status=rc, detail=detail, code=code, enhanced=enhanced, text=text)
