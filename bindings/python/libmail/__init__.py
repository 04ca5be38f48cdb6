"""libmail for Python: SMTP/LMTP, POP3, IMAP and MIME over the libmail C
library (through ctypes; no compiled extension).

    import libmail
    with libmail.SMTP("submission://mail.example.org", user="alice",
                      password=pw) as smtp:
        result = smtp.send(email_message)      # one entry per recipient
    with libmail.POP3("pop3s://mail.example.org", user="alice", password=pw) as pop:
        for n in pop.list():
            msg = libmail.parse(pop.retr(n))
    with libmail.IMAP("imaps://mail.example.org/INBOX", user="alice", password=pw) as im:
        for item in im.fetch("1:*", "(UID FLAGS ENVELOPE)"):
            print(item.uid, item.envelope.subject)

Secure by default: certificates and host names are verified and STARTTLS
is required on plain ports. libmail.aio has the same clients for asyncio.
Blocking calls release the GIL; a session (like the C handle under it) is
used by one thread at a time (an IDLE's stop() is the one call safe from
another thread).
"""
from __future__ import annotations

from typing import FrozenSet

from . import _capi
from ._errors import (AuthError, CallbackError, ConnectionError, Error, InvalidArgument,
                      LimitError, ProtocolError, RecipientsRefused, ServerError, StateError,
                      TimeoutError, TLSError, UnsupportedError)
from ._session import Limits
from .mime import Address, Defect, Message, MessageBuilder, Part, decode_header, parse, \
    parse_addresses
from .pop3 import POP3, BatchResult, LeaveResult
from .imap import IMAP, IMAP_SSL, Idle
from .imap_sync import SyncChange, SyncResult, SyncState
from .imap_types import (AppendResult, BodyStructure, CopyResult, Envelope, Event, FetchItem,
                         ListEntry, Mailbox, MailboxStatus, Namespace, SearchResult)
from .smtp import LMTP, SMTP, RecipientResult, SendResult

__version__ = "0.1.0"

#: The C library's version string and number (0xMMmmpp), and its path.
library_version: str = _capi.VERSION
library_version_number: int = _capi.VERSION_NUMBER
library_path: str = _capi.LIBRARY_PATH


def features() -> FrozenSet[str]:
    """The modules the loaded C library was built with ("smtp", "pop3",
    "mime", "tls", "imap", ...)."""
    return _capi.FEATURES


__all__ = [
    "SMTP", "LMTP", "POP3", "IMAP", "IMAP_SSL", "Idle", "SyncState", "SyncResult", "SyncChange", "Envelope", "BodyStructure",
    "FetchItem", "Mailbox", "MailboxStatus", "ListEntry", "SearchResult", "AppendResult",
    "CopyResult", "Namespace", "Event", "parse", "Message", "Part", "MessageBuilder", "Address", "Defect",
    "parse_addresses", "decode_header", "SendResult", "RecipientResult", "BatchResult",
    "LeaveResult", "Limits", "Error", "ConnectionError", "TLSError", "AuthError",
    "ProtocolError", "ServerError", "RecipientsRefused", "LimitError", "TimeoutError",
    "UnsupportedError", "InvalidArgument", "CallbackError", "StateError", "features",
    "library_version", "library_version_number", "library_path",
]
