"""MIME: parse a message into a tree of parts, and build one.

``libmail.parse(data)`` gives a :class:`Message` (the root part plus the
message's source and defects). Parts borrow from their message: each keeps
it alive, so a part outlives the variable that held the message.
"""
from __future__ import annotations

import ctypes
import email
import email.message
import email.policy
import email.utils
import os
import weakref
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Dict, Iterator, List, Optional, Tuple, Union

from . import _capi
from ._capi import C, CONST, OK
from ._errors import InvalidArgument, make_error

_BORROW = CONST["MAIL_MIME_BORROW"]
_HEADERS_ONLY = CONST["MAIL_MIME_HEADERS_ONLY"]
_CHECK = CONST["MAIL_MIME_CHECK_HEADERS"]
_TO_UTF8 = CONST["MAIL_MIME_TO_UTF8"]

_ENCODING_NAMES = {CONST[k]: k[len("MAIL_MIME_ENC_"):].lower().replace("_", "-")
                   for k in CONST if k.startswith("MAIL_MIME_ENC_")}


@dataclass(frozen=True)
class Defect:
    """Something malformed the parser found and worked around."""
    kind: int       # a mail_mime_defect_kind value
    name: str       # e.g. "close-boundary-not-found"
    offset: int     # byte offset in the source
    path: str       # the part's path ("" for a multipart root, "1", "2.1", ...)


@dataclass(frozen=True)
class Address:
    """One mailbox of an address list (also IMAP envelopes' type)."""
    name: Optional[str]
    mailbox: str
    local: str
    domain: Optional[str]
    group: Optional[str] = None

    def __str__(self) -> str:
        return email.utils.formataddr((self.name or "", self.mailbox))


def parse_addresses(text: str, *, strict: bool = False) -> List[Address]:
    """Parse an RFC 5322 address list (display names decoded). strict
    refuses ambiguous forms with InvalidArgument instead of guessing."""
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    lst = ctypes.c_void_p()
    rc = C.mail_address_list_parse(ctypes.byref(lst), raw, len(raw),
                                   CONST["MAIL_ADDR_STRICT"] if strict else 0, None, None)
    if rc != OK:
        raise make_error(rc, "address list")
    try:
        out = []
        for i in range(C.mail_address_list_count(lst)):
            a = C.mail_address_list_get(lst, i).contents
            out.append(Address(_capi.text(a.name), _capi.text(a.mailbox) or "",
                               _capi.text(a.local) or "", _capi.text(a.domain),
                               _capi.text(a.group)))
        return out
    finally:
        C.mail_address_list_free(lst)


def decode_header(value: Union[str, bytes]) -> str:
    """Unfold a raw header value and decode RFC 2047 words to text."""
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    out, n = ctypes.c_void_p(), ctypes.c_size_t()
    rc = C.mail_mime_header_decode(ctypes.byref(out), ctypes.byref(n), None, raw, len(raw), None)
    if rc != OK:
        raise make_error(rc, "header decode")
    return _capi.take_buffer(out, n.value).decode("utf-8", "replace")


class _Tree:
    """Owns a parsed tree and the source bytes it borrows; every Part of
    the message holds it, so the tree lives while any part is reachable
    (no reference cycle: freed as soon as the last one goes)."""

    __slots__ = ("m", "source", "finalizer", "__weakref__")

    def __init__(self, m: int, source: bytes) -> None:
        self.m = m
        self.source = source
        self.finalizer = weakref.finalize(self, C.mail_mime_message_free, m)


class Part:
    """One MIME entity of a parsed message. Header names are
    case-insensitive; values are decoded (RFC 2047, charsets) unless a
    method says raw."""

    __slots__ = ("_p", "_msg", "_children", "__weakref__")

    def __init__(self, handle: int, tree: _Tree) -> None:
        self._p = handle
        self._msg = tree             # keeps the tree (and its source) alive
        self._children: Optional[List["Part"]] = None

    # ---- structure
    @property
    def content_type(self) -> str:
        """"type/subtype" in lower case (defaults applied)."""
        return C.mail_mime_part_content_type(self._p).decode()

    @property
    def maintype(self) -> str:
        """The part's main type ("text" of "text/plain")."""
        return self.content_type.split("/", 1)[0]

    @property
    def subtype(self) -> str:
        """The part's subtype ("plain" of "text/plain")."""
        return self.content_type.split("/", 1)[-1]

    def get_content_type(self) -> str:
        """The content type as "type/subtype" in lower case (email.message compatible)."""
        return self.content_type

    def get_param(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """A Content-Type parameter (RFC 2231 joined and decoded)."""
        v = C.mail_mime_part_type_param(self._p, name.encode())
        return default if v is None else v.decode("utf-8", "replace")

    @property
    def disposition(self) -> Optional[str]:
        """The Content-Disposition value in lower case ("inline", "attachment"), or None."""
        return _capi.text(C.mail_mime_part_disposition(self._p))

    def get_disposition_param(self, name: str) -> Optional[str]:
        """A Content-Disposition parameter, decoded (RFC 2231), or None."""
        return _capi.text(C.mail_mime_part_disposition_param(self._p, name.encode()))

    @property
    def filename(self) -> Optional[str]:
        """The file name (disposition filename, else the type's name), decoded to UTF-8, or None.
        The sender chose it: never use it as a path."""
        return _capi.text(C.mail_mime_part_filename(self._p))

    def get_filename(self, default: Optional[str] = None) -> Optional[str]:
        """The file name, or default when there is none (email.message compatible)."""
        f = self.filename
        return default if f is None else f

    @property
    def charset(self) -> Optional[str]:
        """The charset parameter in lower case, or None."""
        return _capi.text(C.mail_mime_part_charset(self._p))

    @property
    def transfer_encoding(self) -> str:
        """The Content-Transfer-Encoding as written (lower case; "7bit" when absent)."""
        return C.mail_mime_part_encoding_name(self._p).decode()

    @property
    def encoding(self) -> str:
        """The transfer encoding the parser recognised: "7bit", "8bit",
        "binary", "quoted-printable", "base64", "uuencode" or "unknown"."""
        return _ENCODING_NAMES.get(C.mail_mime_part_encoding(self._p), "unknown")

    def is_multipart(self) -> bool:
        """True for a multipart part."""
        return bool(C.mail_mime_part_is_multipart(self._p))

    def is_message(self) -> bool:
        """True for a message/rfc822 (or message/global) part parsed recursively."""
        return bool(C.mail_mime_part_is_message(self._p))

    def is_attachment(self) -> bool:
        """True when the part's disposition is "attachment"."""
        return self.disposition == "attachment"

    @property
    def path(self) -> str:
        """IMAP-style section path: "" for a multipart root, "1", "2.1"..."""
        return C.mail_mime_part_path(self._p).decode()

    @property
    def depth(self) -> int:
        """How deep the part is in the tree (0 for the root)."""
        return C.mail_mime_part_depth(self._p)

    @property
    def offsets(self) -> Tuple[int, int, int]:
        """(header start, body start, body end) as byte offsets in the source."""
        a, b, c = ctypes.c_uint64(), ctypes.c_uint64(), ctypes.c_uint64()
        C.mail_mime_part_offsets(self._p, ctypes.byref(a), ctypes.byref(b), ctypes.byref(c))
        return a.value, b.value, c.value

    @property
    def children(self) -> List["Part"]:
        """Parts of a multipart, or the inner message of a message part."""
        if self._children is None:
            p, msg = self._p, self._msg
            self._children = [Part(C.mail_mime_part_child(p, i), msg)
                              for i in range(C.mail_mime_part_child_count(p))]
        return self._children

    def iter_parts(self) -> Iterator["Part"]:
        """Iterate over the part's children (email.message compatible)."""
        return iter(self.children)

    def walk(self) -> Iterator["Part"]:
        """This part and every part below it, depth first (like email's walk())."""
        stack = [self]
        while stack:
            part = stack.pop()
            yield part
            stack.extend(reversed(part.children))

    def leaves(self) -> Iterator["Part"]:
        """Every part without children (the ones with content)."""
        return (p for p in self.walk() if not p.children)

    # ---- headers
    def header_items(self) -> List[Tuple[str, str]]:
        """Every header field as (name, raw value), in order."""
        out = []
        name, value, n = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_size_t()
        for i in range(C.mail_mime_part_header_count(self._p)):
            if C.mail_mime_part_header_at(self._p, i, ctypes.byref(name), ctypes.byref(value),
                                          ctypes.byref(n)) != OK:
                break
            out.append((ctypes.string_at(name).decode("utf-8", "replace"),
                        ctypes.string_at(value, n.value).decode("utf-8", "surrogateescape")))
        return out

    def keys(self) -> List[str]:
        """The names of the part's header fields, in order."""
        return [k for k, _ in self.header_items()]

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The first field called name, unfolded and decoded, or default."""
        v = C.mail_mime_part_header_decoded(self._p, name.encode())
        return default if v is None else v.decode("utf-8", "replace")

    def __getitem__(self, name: str) -> Optional[str]:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return C.mail_mime_part_header(self._p, name.encode()) is not None

    def get_raw(self, name: str) -> Optional[str]:
        """The first field called name as written (folding kept)."""
        v = C.mail_mime_part_header(self._p, name.encode())
        return None if v is None else v.decode("utf-8", "surrogateescape")

    def get_all(self, name: str) -> List[str]:
        """Every field called name, decoded."""
        low = name.lower()
        return [decode_header(v) for k, v in self.header_items() if k.lower() == low]

    def addresses(self, *names: str) -> List[Address]:
        """The mailboxes of the address fields named (To, Cc, ...), in order."""
        out: List[Address] = []
        for n in names:
            for raw in (v for k, v in self.header_items() if k.lower() == n.lower()):
                out.extend(parse_addresses(raw))
        return out

    def _addresses(self, *names: str) -> List[str]:
        return [a.mailbox for a in self.addresses(*names)]

    def _first_address(self, name: str) -> Optional[str]:
        a = self._addresses(name)
        return a[0] if a else None

    # ---- content
    def get_content(self) -> bytes:
        """The transfer-decoded body of a leaf (base64, QP, uuencode undone)."""
        out, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = C.mail_mime_part_decode(self._p, 0, ctypes.byref(out), ctypes.byref(n))
        if rc != OK:
            raise make_error(rc, "decode part %s" % self.path)
        return _capi.take_buffer(out, n.value)

    get_payload_bytes = get_content

    def get_text(self) -> str:
        """A text part's body decoded and converted from its charset."""
        out, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = C.mail_mime_part_decode(self._p, _TO_UTF8, ctypes.byref(out), ctypes.byref(n))
        if rc != OK:
            raise make_error(rc, "decode part %s" % self.path)
        return _capi.take_buffer(out, n.value).decode("utf-8", "replace")

    def stream_content(self, write: Callable[[bytes], Any], *, text: bool = False) -> None:
        """Stream the decoded body to write(chunk) in bounded memory (a
        file's .write will do). An exception in write stops the stream and
        is re-raised here."""
        err: List[BaseException] = []

        def fn(user: Any, data: Any, n: int) -> int:
            try:
                write(ctypes.string_at(data, n))
                return 0
            except BaseException as e:  # noqa: B902
                err.append(e)
                return 1
        cb = _capi.MIME_DATA_FN(fn)
        rc = C.mail_mime_part_decode_cb(self._p, _TO_UTF8 if text else 0, cb, None)
        if err:
            raise err[0]
        if rc != OK:
            raise make_error(rc, "decode part %s" % self.path)

    @property
    def defects(self) -> List[Defect]:
        """Defects recorded against this part."""
        out = []
        kind, off = ctypes.c_int(), ctypes.c_uint64()
        path = self.path
        for i in range(C.mail_mime_part_defect_count(self._p)):
            if C.mail_mime_part_defect(self._p, i, ctypes.byref(kind), ctypes.byref(off)) == OK:
                out.append(Defect(kind.value, C.mail_mime_defect_name(kind.value).decode(),
                                  off.value, path))
        return out

    @property
    def raw(self) -> bytes:
        """This part's bytes in the source (headers and body)."""
        h, _, e = self.offsets
        return self._msg.source[h:e]

    def __repr__(self) -> str:
        return "<libmail.Part %r %s>" % (self.path, self.content_type)


class Message(Part):
    """A parsed message: its root part, plus the source and every defect."""

    __slots__ = ()

    def __init__(self, data: bytes, *, headers_only: bool = False,
                 check_headers: bool = False,
                 limits: Optional[Dict[str, int]] = None) -> None:
        lim_p = None
        if limits:
            lim = _capi.mail_mime_limits()
            C.mail_mime_limits_default(ctypes.byref(lim))
            for k, v in limits.items():
                if k == "version" or not hasattr(lim, k):
                    raise InvalidArgument("unknown MIME limit %r" % k)
                setattr(lim, k, v)
            lim_p = ctypes.byref(lim)
        flags = _BORROW | (_HEADERS_ONLY if headers_only else 0) | (_CHECK if check_headers else 0)
        m = ctypes.c_void_p()
        # MAIL_MIME_BORROW: the tree points into the immutable bytes object,
        # which this Message keeps (no copy).
        rc = C.mail_mime_message_parse(ctypes.byref(m), data, len(data), flags, lim_p, None)
        if rc != OK:
            raise make_error(rc, "parse")
        tree = _Tree(m.value, data)
        super().__init__(C.mail_mime_message_root(tree.m), tree)

    @property
    def source(self) -> bytes:
        """The bytes the message was parsed from."""
        return self._msg.source

    def as_bytes(self) -> bytes:
        """The message's bytes as parsed."""
        return self._msg.source

    def __bytes__(self) -> bytes:
        return self._msg.source

    @property
    def all_defects(self) -> List[Defect]:
        """Every defect in the whole message (decoding defects once decoded)."""
        out = []
        kind, off, part = ctypes.c_int(), ctypes.c_uint64(), ctypes.c_void_p()
        m = self._msg.m
        for i in range(C.mail_mime_message_defect_count(m)):
            if C.mail_mime_message_defect(m, i, ctypes.byref(kind), ctypes.byref(off),
                                          ctypes.byref(part)) == OK:
                path = C.mail_mime_part_path(part.value).decode() if part.value else ""
                out.append(Defect(kind.value, C.mail_mime_defect_name(kind.value).decode(),
                                  off.value, path))
        return out

    def close(self) -> None:
        """Free the tree now (its parts must not be used afterwards). Also
        done when the message and its parts are no longer referenced."""
        self._msg.finalizer()

    def __enter__(self) -> "Message":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def to_email_message(self, policy: Any = email.policy.default) -> email.message.Message:
        """The same message as Python's email package sees it."""
        return email.message_from_bytes(self._msg.source, policy=policy)

    @classmethod
    def from_email_message(cls, msg: email.message.Message) -> "Message":
        """Parse what Python's email package would send for msg."""
        return cls(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))

    def __repr__(self) -> str:
        return "<libmail.Message %s, %d bytes>" % (self.content_type, len(self._msg.source))


def parse(data: Union[bytes, bytearray, memoryview, BinaryIO], *,
          headers_only: bool = False, check_headers: bool = False,
          limits: Optional[Dict[str, int]] = None) -> Message:
    """Parse a message from bytes or a binary file object (read whole).
    Malformed input still gives a tree; see .defects / .all_defects.
    check_headers also checks addresses, dates and Message-IDs.
    limits: mail_mime_limits fields (max_depth, max_parts, ...)."""
    if hasattr(data, "read"):
        data = data.read()  # type: ignore[union-attr]
    elif isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise TypeError("parse() takes bytes or a binary file object")
    return Message(data, headers_only=headers_only, check_headers=check_headers,
                   limits=limits)


class MessageBuilder:
    """Build a message (text, HTML, inline images, attachments); SMTP.send
    streams it without copying. All text is str (UTF-8 on the wire, RFC 2047
    encoded where needed).

        b = MessageBuilder(from_=("Alice", "alice@example.org"), to=["bob@example.org"],
                           subject="Hi", text="Hello")
        b.add_attachment(data, "application/pdf", "a.pdf")
        raw = b.as_bytes()
    """

    def __init__(self, *, from_: Union[None, str, Tuple[Optional[str], str]] = None,
                 to: Any = (), cc: Any = (), bcc: Any = (), reply_to: Any = (),
                 subject: Optional[str] = None, text: Optional[str] = None,
                 html: Optional[str] = None, message_id: Optional[str] = None,
                 headers: Optional[Dict[str, str]] = None) -> None:
        h = ctypes.c_void_p()
        rc = C.mail_mime_builder_new(ctypes.byref(h), None)
        if rc != OK:
            raise make_error(rc, "builder")
        self._h: int = h.value  # type: ignore[assignment]
        self._keep: List[Any] = []
        self._finalizer = weakref.finalize(self, _free_builder, self._h, self._keep)
        self.frozen = False
        self.options = 0
        if from_ is not None:
            self.set_from(from_)
        for fn, vals in ((self.add_to, to), (self.add_cc, cc), (self.add_bcc, bcc),
                         (self.add_reply_to, reply_to)):
            single = isinstance(vals, str) or (
                isinstance(vals, tuple) and len(vals) == 2 and isinstance(vals[1], str)
                and "@" in vals[1])
            for v in ([vals] if single else vals):
                fn(v)
        if subject is not None:
            self.set_subject(subject)
        if message_id is not None:
            self.set_message_id(message_id)
        for k, v in (headers or {}).items():
            self.add_header(k, v)
        if text is not None:
            self.set_text(text)
        if html is not None:
            self.set_html(html)

    def _handle(self) -> int:
        if not self._h:
            raise InvalidArgument("the builder was closed")
        return self._h

    def _ok(self, rc: int, what: str) -> None:
        if rc != OK:
            raise make_error(rc, what)

    @staticmethod
    def _split(addr: Union[str, Tuple[Optional[str], str]]) -> Tuple[Optional[bytes], bytes]:
        if isinstance(addr, tuple):
            name, mailbox = addr
        elif "\r" in addr or "\n" in addr or "\0" in addr:
            name, mailbox = None, addr  # refused by the C library as it is
        else:
            name, mailbox = email.utils.parseaddr(addr)
            if not mailbox:
                mailbox = addr
            name = name or None
        return _capi.arg(name), mailbox.encode("utf-8")

    def set_options(self, options: int) -> None:
        """MAIL_MIME_OPT_* bits for the path (8BITMIME, SMTPUTF8, BINARYMIME)."""
        self._ok(C.mail_mime_builder_set_options(self._handle(), options), "options")
        self.options = options

    def set_from(self, addr: Union[str, Tuple[Optional[str], str]]) -> None:
        """Set From: an address, or a (display name, address) pair."""
        self._ok(C.mail_mime_builder_set_from(self._handle(), *self._split(addr)), "From")

    def add_to(self, addr: Union[str, Tuple[Optional[str], str]]) -> None:
        """Add a To address, or a (display name, address) pair."""
        self._ok(C.mail_mime_builder_add_to(self._handle(), *self._split(addr)), "To")

    def add_cc(self, addr: Union[str, Tuple[Optional[str], str]]) -> None:
        """Add a Cc address, or a (display name, address) pair."""
        self._ok(C.mail_mime_builder_add_cc(self._handle(), *self._split(addr)), "Cc")

    def add_bcc(self, addr: Union[str, Tuple[Optional[str], str]]) -> None:
        """A Bcc recipient: in the envelope, never in the message."""
        self._ok(C.mail_mime_builder_add_bcc(self._handle(), *self._split(addr)), "Bcc")

    def add_reply_to(self, addr: Union[str, Tuple[Optional[str], str]]) -> None:
        """Add a Reply-To address, or a (display name, address) pair."""
        self._ok(C.mail_mime_builder_add_reply_to(self._handle(), *self._split(addr)),
                 "Reply-To")

    def set_subject(self, subject: str) -> None:
        """Set the Subject (any Unicode; encoded as RFC 2047 when needed)."""
        self._ok(C.mail_mime_builder_set_subject(self._handle(), _capi.arg(subject)), "Subject")

    def set_date(self, unix_seconds: int, utc_offset_minutes: int = 0) -> None:
        """Set the Date from Unix seconds and a UTC offset in minutes."""
        self._ok(C.mail_mime_builder_set_date(self._handle(), int(unix_seconds),
                                              utc_offset_minutes), "Date")

    def set_message_id(self, msgid: str) -> None:
        """id-left@id-right, without angle brackets."""
        self._ok(C.mail_mime_builder_set_message_id(self._handle(),
                                                    _capi.arg(msgid.strip("<>"))), "Message-ID")

    def add_header(self, name: str, value: str) -> None:
        """Add a header field (CR, LF and NUL are refused)."""
        self._ok(C.mail_mime_builder_add_header(self._handle(), _capi.arg(name),
                                                _capi.arg(value)), "header %s" % name)

    def set_text(self, text: str) -> None:
        """Set the plain-text body."""
        b = text.encode("utf-8")
        self._ok(C.mail_mime_builder_set_text(self._handle(), b, len(b)), "text")

    def set_html(self, html: str) -> None:
        """Set the HTML body (with a text body, the message becomes multipart/alternative)."""
        b = html.encode("utf-8")
        self._ok(C.mail_mime_builder_set_html(self._handle(), b, len(b)), "html")

    def add_inline(self, data: bytes, content_type: str, content_id: str,
                   filename: Optional[str] = None) -> None:
        """An inline part the HTML references as cid:content_id."""
        data = bytes(data)
        self._ok(C.mail_mime_builder_add_inline(self._handle(), _capi.arg(content_type),
                                                _capi.arg(filename), data, len(data),
                                                _capi.arg(content_id.strip("<>")), None),
                 "inline part")

    def add_attachment(self, data: Union[bytes, str, "os.PathLike[str]", BinaryIO],
                       content_type: Optional[str] = None, filename: Optional[str] = None, *,
                       length: Optional[int] = None) -> None:
        """Attach bytes (copied), a path (read when the message is
        produced) or a binary file object (streamed, read once to measure
        and once to send when it can seek; else length must be given)."""
        h = self._handle()
        ct, fn = _capi.arg(content_type), _capi.arg(filename)
        if isinstance(data, (bytes, bytearray, memoryview)):
            d = bytes(data)
            self._ok(C.mail_mime_builder_add_attachment(h, ct, fn, d, len(d), None),
                     "attachment")
        elif isinstance(data, (str, os.PathLike)):
            self._ok(C.mail_mime_builder_add_attachment_file(h, ct, fn, os.fsencode(data),
                                                             None), "attachment %s" % data)
        elif hasattr(data, "read"):
            self._add_stream(data, ct, fn, length)
        else:
            raise TypeError("add_attachment() takes bytes, a path or a binary file")

    def _add_stream(self, f: BinaryIO, ct: Optional[bytes], fn: Optional[bytes],
                    length: Optional[int]) -> None:
        err = self._keep

        def read(user: Any, buf: Any, cap: int, got: Any) -> int:
            try:
                chunk = f.read(cap) or b""
                ctypes.memmove(buf, chunk, len(chunk))
                got[0] = len(chunk)
                return 0
            except BaseException as e:  # noqa: B902
                err.append(e)
                return 1

        def rewind(user: Any) -> int:
            try:
                f.seek(0)
                return 0
            except BaseException as e:  # noqa: B902
                err.append(e)
                return 1
        seekable = getattr(f, "seekable", lambda: False)()
        rd = _capi.MIME_READ_FN(read)
        rw = _capi.MIME_REWIND_FN(rewind) if seekable else _capi.MIME_REWIND_FN()
        self._keep.extend([rd, rw, f])
        if length is None and not seekable:
            raise InvalidArgument("a file object that cannot seek needs length=")
        n = CONST["MAIL_MIME_LENGTH_UNKNOWN"] if length is None else length
        self._ok(C.mail_mime_builder_add_attachment_callback(self._handle(), ct, fn, rd, rw,
                                                             None, n, None), "attachment")

    def attach_message(self, data: Union[bytes, "Message", email.message.Message],
                       filename: Optional[str] = None) -> None:
        """Attach a complete message as message/rfc822."""
        if isinstance(data, email.message.Message):
            data = data.as_bytes(policy=data.policy.clone(linesep="\r\n"))
        elif isinstance(data, Message):
            data = data.source
        d = bytes(data)
        self._ok(C.mail_mime_builder_attach_message_data(self._handle(), d, len(d),
                                                         _capi.arg(filename), None),
                 "attached message")

    def _raise_stream_error(self) -> None:
        for x in self._keep:
            if isinstance(x, BaseException):
                self._keep.remove(x)
                raise x

    @property
    def size(self) -> int:
        """The exact size of the message (freezes it)."""
        n = ctypes.c_uint64()
        rc = C.mail_mime_builder_size(self._handle(), ctypes.byref(n))
        self.frozen = True
        self._raise_stream_error()
        self._ok(rc, "size")
        return n.value

    def as_bytes(self) -> bytes:
        """The whole message (freezes it; may be called again)."""
        out, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = C.mail_mime_builder_to_buffer(self._handle(), ctypes.byref(out), ctypes.byref(n))
        self.frozen = True
        self._raise_stream_error()
        self._ok(rc, "build")
        return _capi.take_buffer(out, n.value)

    def __bytes__(self) -> bytes:
        return self.as_bytes()

    @property
    def envelope_from(self) -> Optional[str]:
        """The address an SMTP envelope would use as sender (Sender, else From), or None."""
        return _envelope_from(self._handle())

    @property
    def envelope_recipients(self) -> List[str]:
        """To, Cc and Bcc addresses, duplicates removed."""
        return _envelope_rcpts(self._handle())

    def close(self) -> None:
        """Free the message now (also done when it is garbage-collected)."""
        self._finalizer()
        self._h = 0

    def __enter__(self) -> "MessageBuilder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _free_builder(h: int, keep: List[Any]) -> None:
    C.mail_mime_builder_free(h)
    keep.clear()


def _envelope_from(h: int) -> Optional[str]:
    s = ctypes.c_char_p()
    if C.mail_mime_builder_envelope_from(h, ctypes.byref(s)) != OK:
        return None
    return _capi.text(s.value)


def _envelope_rcpts(h: int) -> List[str]:
    out = []
    s = ctypes.c_char_p()
    for i in range(C.mail_mime_builder_envelope_count(h)):
        if C.mail_mime_builder_envelope_recipient(h, i, ctypes.byref(s)) == OK:
            out.append(_capi.text(s.value) or "")
    return out
