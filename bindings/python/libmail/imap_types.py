"""IMAP's typed results, and the one place that reads them out of the C
response parser (include/mail/imap_parse.h).

Everything a response points at is valid only while the C callback that
delivered it runs, so each reader copies what it needs into plain Python
objects at once; nothing here keeps a pointer into C memory.
"""
from __future__ import annotations

import ctypes
import datetime
import email.utils
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Tuple

from ._capi import C, CONST, OK
from .mime import Address, decode_header

_size = ctypes.c_size_t
_byref = ctypes.byref

T = {k[len("MAIL_IMAP_TYPE_"):]: v for k, v in CONST.items() if k.startswith("MAIL_IMAP_TYPE_")}
TYPE_NAME = {v: k for k, v in T.items()}
CODE_NAME = {v: k[len("MAIL_IMAP_CODE_"):].replace("_", "-") for k, v in CONST.items()
             if k.startswith("MAIL_IMAP_CODE_")}
_ITEM = {k[len("MAIL_IMAP_ITEM_"):]: v for k, v in CONST.items() if k.startswith("MAIL_IMAP_ITEM_")}
_ENV = [CONST["MAIL_IMAP_ENV_" + n] for n in ("DATE", "SUBJECT", "IN_REPLY_TO", "MESSAGE_ID")]
_ADDR = [CONST["MAIL_IMAP_ADDR_" + n] for n in ("FROM", "SENDER", "REPLY_TO", "TO", "CC", "BCC")]
_BODY = {n.lower(): CONST["MAIL_IMAP_BODY_" + n] for n in (
    "TYPE", "SUBTYPE", "ID", "DESCRIPTION", "ENCODING", "MD5", "DISPOSITION", "LOCATION")}
_PARAMS_CT = CONST["MAIL_IMAP_PARAMS_CONTENT_TYPE"]
_PARAMS_DISP = CONST["MAIL_IMAP_PARAMS_DISPOSITION"]


# ------------------------------------------------------------ the types
@dataclass(frozen=True)
class Envelope:
    """A FETCH ENVELOPE: the subject and display names decoded (RFC 2047),
    the addresses as libmail.Address (group members carry .group)."""
    date: Optional[str]
    subject: Optional[str]
    from_: Tuple[Address, ...]
    sender: Tuple[Address, ...]
    reply_to: Tuple[Address, ...]
    to: Tuple[Address, ...]
    cc: Tuple[Address, ...]
    bcc: Tuple[Address, ...]
    in_reply_to: Optional[str]
    message_id: Optional[str]

    @property
    def datetime(self) -> Optional[datetime.datetime]:
        """The Date field parsed (None when absent or not a date)."""
        if not self.date:
            return None
        try:
            return email.utils.parsedate_to_datetime(self.date)
        except (TypeError, ValueError, IndexError):
            return None


@dataclass(frozen=True)
class BodyStructure:
    """One part of a BODYSTRUCTURE; .parts are the children (a multipart's
    parts, or the one message inside a message/rfc822 part). .section is
    the part's number for BODY[section] ("1", "2.1"; "" for the root of a
    multipart, "1" for a single-part message's body)."""
    type: str
    subtype: str
    params: Dict[str, str]
    section: str
    id: Optional[str] = None
    description: Optional[str] = None
    encoding: Optional[str] = None
    size: Optional[int] = None
    lines: Optional[int] = None
    md5: Optional[str] = None
    disposition: Optional[str] = None
    disposition_params: Dict[str, str] = field(default_factory=dict)
    language: Tuple[str, ...] = ()
    location: Optional[str] = None
    envelope: Optional[Envelope] = None
    parts: Tuple["BodyStructure", ...] = ()

    @property
    def content_type(self) -> str:
        """The part's type as "type/subtype", in lower case."""
        return ("%s/%s" % (self.type, self.subtype)).lower()

    @property
    def is_multipart(self) -> bool:
        """True for a multipart part (which has children instead of a body)."""
        return self.type.upper() == "MULTIPART"

    @property
    def charset(self) -> Optional[str]:
        """The charset parameter, or None."""
        return self.params.get("charset")

    @property
    def filename(self) -> Optional[str]:
        """The attachment's file name (decoded from RFC 2047), or None."""
        name = self.disposition_params.get("filename") or self.params.get("name")
        return decode_header(name) if name and "=?" in name else name

    def walk(self) -> Iterator["BodyStructure"]:
        """This part and every part below it, depth first."""
        yield self
        for p in self.parts:
            yield from p.walk()

    def leaves(self) -> Iterator["BodyStructure"]:
        """Every part below this one that has no children, in order."""
        return (p for p in self.walk() if not p.parts)


@dataclass
class FetchItem:
    """One FETCH response. Fields the FETCH did not ask for are None.
    sections maps each streamed value's name ("BODY[]", "BODY[1.2]<0>",
    "BINARY[1]", "RFC822.HEADER") to its bytes when they were collected,
    section_sizes to its size in every case."""
    seq: int
    uid: Optional[int] = None
    flags: Optional[FrozenSet[str]] = None
    modseq: Optional[int] = None
    internaldate: Optional[datetime.datetime] = None
    size: Optional[int] = None
    envelope: Optional[Envelope] = None
    bodystructure: Optional[BodyStructure] = None
    emailid: Optional[str] = None
    threadid: Optional[str] = None
    preview: Optional[str] = None
    labels: Optional[Tuple[str, ...]] = None
    sections: Dict[str, bytes] = field(default_factory=dict)
    section_sizes: Dict[str, int] = field(default_factory=dict)
    defects: List[str] = field(default_factory=list)

    @property
    def body(self) -> Optional[bytes]:
        """The first collected section's bytes (BODY[] for a whole message)."""
        return next(iter(self.sections.values()), None)


@dataclass(frozen=True)
class Mailbox:
    """The selected mailbox as the server described it (and as untagged
    responses have updated it since)."""
    name: str
    exists: int
    recent: Optional[int]
    uidvalidity: Optional[int]
    uidnext: Optional[int]
    highestmodseq: Optional[int]
    unseen: Optional[int]
    flags: FrozenSet[str]
    permanent_flags: FrozenSet[str]
    read_only: bool


@dataclass(frozen=True)
class MailboxStatus:
    """A STATUS response (items not asked for are None)."""
    name: str
    messages: Optional[int] = None
    recent: Optional[int] = None
    uidnext: Optional[int] = None
    uidvalidity: Optional[int] = None
    unseen: Optional[int] = None
    deleted: Optional[int] = None
    size: Optional[int] = None
    highestmodseq: Optional[int] = None


SPECIAL_USE = frozenset({"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent",
                         "\\Trash", "\\Important"})


@dataclass
class ListEntry:
    """A LIST (or LSUB) response: the name in UTF-8, its delimiter (None
    for a flat name space), attributes as sent ("\\HasNoChildren",
    "\\Sent"), extended data (RFC 5258) and, with LIST-STATUS, .status."""
    name: str
    delimiter: Optional[str]
    attributes: FrozenSet[str]
    raw_name: bytes = b""
    extended: Dict[str, str] = field(default_factory=dict)
    status: Optional[MailboxStatus] = None

    @property
    def special_use(self) -> Optional[str]:
        """The RFC 6154 use ("\\Sent", "\\Trash", ...), or None."""
        for a in self.attributes:
            for s in SPECIAL_USE:
                if a.lower() == s.lower():
                    return s
        return None

    @property
    def selectable(self) -> bool:
        """False when the mailbox is \\Noselect or \\NonExistent."""
        return not any(a.lower() in ("\\noselect", "\\nonexistent") for a in self.attributes)


@dataclass
class SearchResult:
    """SEARCH / ESEARCH results: .numbers (UIDs for a UID SEARCH, in the
    order sent) and, for ESEARCH, min / max / count; modseq for a CONDSTORE
    search. Iterable, sized, supports `in`."""
    numbers: List[int] = field(default_factory=list)
    uid: bool = False
    min: Optional[int] = None
    max: Optional[int] = None
    count: Optional[int] = None
    modseq: Optional[int] = None

    def __iter__(self) -> Iterator[int]:
        return iter(self.numbers)

    def __len__(self) -> int:
        return len(self.numbers)

    def __contains__(self, n: object) -> bool:
        return n in self.numbers


@dataclass(frozen=True)
class AppendResult:
    """APPENDUID (UIDPLUS): the mailbox's UIDVALIDITY and the new UID, None
    when the server did not say."""
    uidvalidity: Optional[int]
    uid: Optional[int]


@dataclass(frozen=True)
class CopyResult:
    """COPYUID (UIDPLUS) of a COPY or MOVE: source UID -> destination UID."""
    uidvalidity: Optional[int]
    source: Tuple[int, ...]
    destination: Tuple[int, ...]

    @property
    def mapping(self) -> Dict[int, int]:
        """Source UID -> destination UID, from the server's COPYUID."""
        return dict(zip(self.source, self.destination))


@dataclass(frozen=True)
class Namespace:
    """NAMESPACE: (prefix, delimiter) pairs of each class."""
    personal: Tuple[Tuple[str, Optional[str]], ...]
    other_users: Tuple[Tuple[str, Optional[str]], ...]
    shared: Tuple[Tuple[str, Optional[str]], ...]


@dataclass(frozen=True)
class Event:
    """An untagged response the session did not ask for: kind "exists",
    "recent", "expunge" (number: the sequence number), "vanished"
    (uids: ranges (first, last); earlier), "fetch" (item: a FetchItem, e.g.
    a flag change), "flags", "alert" (text), "bye" (text), or "other".
    trusted is False for what came before TLS."""
    kind: str
    number: Optional[int] = None
    item: Optional[FetchItem] = None
    uids: Tuple[Tuple[int, int], ...] = ()
    earlier: bool = False
    text: str = ""
    trusted: bool = True


# ------------------------------------------------------------ readers
# The accessors return strings as POINTER(c_char) with their length (they
# are not NUL-terminated): p[:n] copies them out, several times faster than
# ctypes.string_at. Each reader makes its out-parameters once (_Out) and
# reuses them for every call it makes; they are not shared between
# readers, so sessions in different threads never meet.
_PC = ctypes.POINTER(ctypes.c_char)


class _Out:
    __slots__ = ("n", "pn", "num", "pnum", "a", "pa", "b", "pb", "an", "pan", "bn", "pbn")

    def __init__(self) -> None:
        self.n = _size()
        self.pn = _byref(self.n)
        self.num = ctypes.c_uint64()
        self.pnum = _byref(self.num)
        self.a, self.b = _PC(), _PC()
        self.pa, self.pb = _byref(self.a), _byref(self.b)
        self.an, self.bn = _size(), _size()
        self.pan, self.pbn = _byref(self.an), _byref(self.bn)


def _s(p: Any, n: int) -> Optional[str]:
    return p[:n].decode("utf-8", "replace") if p else None


def _decoded(s: Optional[str]) -> Optional[str]:
    return decode_header(s) if s is not None and "=?" in s else s


def _strings(r: int, o: _Out) -> List[str]:
    get, n, pn = C.mail_imap_response_string, o.n, o.pn
    out = []
    for i in range(C.mail_imap_response_string_count(r)):
        p = get(r, i, pn)
        if p:
            out.append(p[:n.value].decode("utf-8", "replace"))
    return out


_addr_name = C.mail_imap_address_name
_addr_mailbox = C.mail_imap_address_mailbox
_addr_host = C.mail_imap_address_host
_env_address = C.mail_imap_envelope_address


def read_addresses(e: int, which: int, o: _Out) -> Tuple[Address, ...]:
    count = C.mail_imap_envelope_address_count(e, which)
    if not count:
        return ()
    n, pn = o.n, o.pn
    out = []
    group: Optional[str] = None
    for i in range(count):
        a = _env_address(e, which, i)
        if not a:
            continue
        p = _addr_mailbox(a, pn)
        local = p[:n.value].decode("utf-8", "replace") if p else None
        p = _addr_host(a, pn)
        if not p:  # RFC 3501 group syntax: start (local is its name) or end
            group = _decoded(local) if local is not None else None
            continue
        host = p[:n.value].decode("utf-8", "replace")
        p = _addr_name(a, pn)
        name = p[:n.value].decode("utf-8", "replace") if p else None
        if name and "=?" in name:
            name = decode_header(name)
        local = local or ""
        out.append(Address(name or None, "%s@%s" % (local, host) if host else local, local,
                           host or None, group))
    return tuple(out)


def read_envelope(e: int, o: Optional[_Out] = None) -> Envelope:
    o = o or _Out()
    f, n, pn = C.mail_imap_envelope_field, o.n, o.pn
    date, subject, irt, mid = (_s(f(e, k, pn), n.value) for k in _ENV)
    a = [read_addresses(e, k, o) for k in _ADDR]
    return Envelope(date, _decoded(subject), a[0], a[1], a[2], a[3], a[4], a[5], irt, mid)


def _params(b: int, which: int, o: _Out) -> Dict[str, str]:
    out: Dict[str, str] = {}
    get = C.mail_imap_body_param
    i = 0
    while get(b, which, i, o.pa, o.pan, o.pb, o.pbn) == OK:
        k = o.a[:o.an.value].decode("utf-8", "replace") if o.a else ""
        out[k.lower()] = o.b[:o.bn.value].decode("utf-8", "replace") if o.b else ""
        i += 1
    return out


_body_field = C.mail_imap_body_field
_BODY_ITEMS = list(_BODY.items())


def read_body(b: int, section: str = "", o: Optional[_Out] = None) -> BodyStructure:
    o = o or _Out()
    n, pn = o.n, o.pn
    fld = {}
    for k, v in _BODY_ITEMS:
        p = _body_field(b, v, pn)
        fld[k] = p[:n.value].decode("utf-8", "replace") if p else None
    size = o.num.value if C.mail_imap_body_size(b, o.pnum) == OK else None
    lines = o.num.value if C.mail_imap_body_lines(b, o.pnum) == OK else None
    multipart = bool(C.mail_imap_body_is_multipart(b))
    kids = []
    for i in range(C.mail_imap_body_child_count(b)):
        c = C.mail_imap_body_child(b, i)
        if not c:
            continue
        if multipart:
            sub = "%s.%d" % (section, i + 1) if section else str(i + 1)
        elif C.mail_imap_body_is_multipart(c):
            sub = section  # message/rfc822 holding a multipart: its parts are section.N
        else:
            sub = "%s.1" % section if section else "1"
        kids.append(read_body(c, sub, o))
    env = C.mail_imap_body_envelope(b)
    langs = []
    for i in range(C.mail_imap_body_language_count(b)):
        p = C.mail_imap_body_language(b, i, pn)
        if p:
            langs.append(p[:n.value].decode("utf-8", "replace"))
    disp_params = _params(b, _PARAMS_DISP, o) if fld["disposition"] is not None else {}
    return BodyStructure(
        type=fld["type"] or ("MULTIPART" if multipart else "TEXT"), subtype=fld["subtype"] or "",
        params=_params(b, _PARAMS_CT, o), section=section if (section or multipart) else "1",
        id=fld["id"], description=fld["description"], encoding=fld["encoding"], size=size,
        lines=lines, md5=fld["md5"], disposition=fld["disposition"],
        disposition_params=disp_params, language=tuple(langs),
        location=fld["location"], envelope=read_envelope(env, o) if env else None,
        parts=tuple(kids))


def section_key(s: int) -> str:
    """The name of a streamed value as the FETCH response gives it:
    "BODY[1.2]", "BODY[]<0>", "RFC822"."""
    n = _size()
    item = _s(C.mail_imap_section_item(s, _byref(n)), n.value) or "BODY"
    item = item.upper()
    if item.startswith("RFC822"):
        return item
    spec = _s(C.mail_imap_section_spec(s, _byref(n)), n.value) or ""
    key = "%s[%s]" % (item, spec)
    origin = ctypes.c_uint64()
    if C.mail_imap_section_origin(s, _byref(origin)) == OK:
        key += "<%d>" % origin.value
    return key


def _epoch(t: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


_has = C.mail_imap_fetch_has
_fetch_number = C.mail_imap_fetch_number
_fetch_flag = C.mail_imap_fetch_flag
_I_UID, _I_FLAGS, _I_MODSEQ = _ITEM["UID"], _ITEM["FLAGS"], _ITEM["MODSEQ"]
_I_SIZE, _I_DATE, _I_ENV, _I_BODY = (_ITEM["RFC822_SIZE"], _ITEM["INTERNALDATE"],
                                     _ITEM["ENVELOPE"], _ITEM["BODYSTRUCTURE"])
_STRING_ITEMS = [(_ITEM[n], n.lower()) for n in ("EMAILID", "THREADID", "PREVIEW")]


def read_fetch(r: int, seq: int) -> FetchItem:
    o = _Out()
    n, pn, num, pnum = o.n, o.pn, o.num, o.pnum
    item = FetchItem(seq)
    if _has(r, _I_UID) and _fetch_number(r, _I_UID, pnum) == OK:
        item.uid = num.value
    if _has(r, _I_FLAGS):
        flags = []
        for i in range(C.mail_imap_fetch_flag_count(r)):
            p = _fetch_flag(r, i, pn)
            if p:
                flags.append(p[:n.value].decode("utf-8", "replace"))
        item.flags = frozenset(flags)
    if _has(r, _I_ENV):
        e = C.mail_imap_fetch_envelope(r)
        if e:
            item.envelope = read_envelope(e, o)
    if _has(r, _I_BODY):
        b = C.mail_imap_fetch_body(r)
        if b:
            item.bodystructure = read_body(b, "", o)
    if _has(r, _I_MODSEQ) and _fetch_number(r, _I_MODSEQ, pnum) == OK:
        item.modseq = num.value
    if _has(r, _I_SIZE) and _fetch_number(r, _I_SIZE, pnum) == OK:
        item.size = num.value
    if _has(r, _I_DATE):
        t = ctypes.c_int64()
        if C.mail_imap_fetch_internaldate(r, _byref(t)) == OK:
            item.internaldate = _epoch(t.value)
    for code, attr in _STRING_ITEMS:
        if _has(r, code):
            setattr(item, attr, _s(C.mail_imap_fetch_string(r, code, pn), n.value))
    if _has(r, _ITEM["GM_LABELS"]):
        labels = []
        for i in range(C.mail_imap_fetch_label_count(r)):
            p = C.mail_imap_fetch_label(r, i, pn)
            if p:
                labels.append(p[:n.value].decode("utf-8", "replace"))
        item.labels = tuple(labels)
    for i in range(C.mail_imap_fetch_section_count(r)):
        s = C.mail_imap_fetch_section(r, i)
        if s:
            item.section_sizes[section_key(s)] = C.mail_imap_section_size(s)
    if C.mail_imap_response_defect_count(r):
        item.defects = read_defects(r)
    return item


def read_defects(r: int) -> List[str]:
    out = []
    kind = ctypes.c_int()
    o = _Out()
    for i in range(C.mail_imap_response_defect_count(r)):
        if C.mail_imap_response_defect(r, i, _byref(kind), o.pa, o.pan, None, None) == OK:
            what = _s(o.a, o.an.value) or "response"
            out.append("%s (defect %d)" % (what, kind.value))
    return out


def read_mailbox_name(r: int, o: Optional[_Out] = None) -> Tuple[str, bytes]:
    o = o or _Out()
    p = C.mail_imap_response_mailbox(r, o.pn, o.pa, o.pan)
    name = _s(p, o.n.value) or ""
    return name, (o.a[:o.an.value] if o.a else name.encode())


def read_list(r: int) -> ListEntry:
    o = _Out()
    name, raw = read_mailbox_name(r, o)
    d = ctypes.create_string_buffer(1)
    delim = d.raw.decode("latin-1") if C.mail_imap_response_delimiter(r, d) == OK and \
        d.raw != b"\0" else None
    ext: Dict[str, str] = {}
    i = 0
    while C.mail_imap_response_list_ext(r, i, o.pa, o.pan, o.pb, o.pbn) == OK:
        ext[(_s(o.a, o.an.value) or "").upper()] = _s(o.b, o.bn.value) or ""
        i += 1
    return ListEntry(name, delim, frozenset(_strings(r, o)), raw, ext)


_STATUS_FIELDS = {"MESSAGES": "messages", "RECENT": "recent", "UIDNEXT": "uidnext",
                  "UIDVALIDITY": "uidvalidity", "UNSEEN": "unseen", "DELETED": "deleted",
                  "SIZE": "size", "HIGHESTMODSEQ": "highestmodseq"}


def read_status(r: int) -> MailboxStatus:
    o = _Out()
    name, _ = read_mailbox_name(r, o)
    vals: Dict[str, int] = {}
    i = 0
    while C.mail_imap_response_status_item(r, i, o.pa, o.pan, o.pnum) == OK:
        key = _STATUS_FIELDS.get((_s(o.a, o.an.value) or "").upper())
        if key:
            vals[key] = o.num.value
        i += 1
    return MailboxStatus(name, **vals)


def read_namespace(r: int) -> Namespace:
    classes = []
    o = _Out()
    d = ctypes.create_string_buffer(1)
    for cls in range(3):
        entries = []
        i = 0
        while C.mail_imap_response_namespace(r, cls, i, o.pa, o.pan, d) == OK:
            entries.append((_s(o.a, o.an.value) or "",
                            d.raw.decode("latin-1") if d.raw != b"\0" else None))
            i += 1
        classes.append(tuple(entries))
    return Namespace(*classes)


def read_ranges(r: int) -> Tuple[Tuple[int, int], ...]:
    a, b = ctypes.c_uint32(), ctypes.c_uint32()
    out = []
    for i in range(C.mail_imap_response_range_count(r)):
        if C.mail_imap_response_range(r, i, _byref(a), _byref(b)) == OK:
            out.append((a.value, b.value))
    return tuple(out)


def read_search(r: int, into: SearchResult) -> None:
    """Add a SEARCH or ESEARCH response to into."""
    t = C.mail_imap_response_type(r)
    mod = ctypes.c_uint64()
    if t == T["SEARCH"]:
        count = _size()
        arr = C.mail_imap_response_numbers(r, _byref(count))
        if arr and count.value:
            into.numbers.extend(arr[:count.value])
        if C.mail_imap_response_modseq(r, _byref(mod)) == OK:
            into.modseq = mod.value
        return
    uid = ctypes.c_int()
    C.mail_imap_response_esearch(r, None, None, _byref(uid))
    into.uid = bool(uid.value)
    o = _Out()
    i = 0
    while C.mail_imap_response_esearch_item(r, i, o.pa, o.pan, o.pb, o.pbn) == OK:
        key = (_s(o.a, o.an.value) or "").upper()
        val = _s(o.b, o.bn.value)
        if key in ("MIN", "MAX", "COUNT", "MODSEQ") and val and val.isdigit():
            setattr(into, key.lower(), int(val))
        elif key == "ALL":
            for first, last in read_ranges(r):
                into.numbers.extend(range(first, last + 1))
        i += 1


def parse_set(text: str) -> Tuple[int, ...]:
    """A UID set as sent ("304,319:321") expanded, in order."""
    out: List[int] = []
    for piece in text.split(","):
        piece = piece.strip()
        if not piece:
            continue
        a, _, b = piece.partition(":")
        if a.isdigit() and (not b or b.isdigit()):
            lo, hi = int(a), int(b or a)
            step = 1 if hi >= lo else -1
            out.extend(range(lo, hi + step, step))
    return tuple(out)


def read_copyuid(r: int) -> CopyResult:
    """The [COPYUID uidvalidity source destination] code of a response."""
    v = ctypes.c_uint64()
    n = _size()
    valid = v.value if C.mail_imap_response_code_number(r, _byref(v)) == OK else None
    src = _s(C.mail_imap_response_code_set(r, _byref(n)), n.value) or ""
    dst = _s(C.mail_imap_response_code_set2(r, _byref(n)), n.value) or ""
    return CopyResult(valid, parse_set(src), parse_set(dst))


def response_text(r: int) -> str:
    n = _size()
    return _s(C.mail_imap_response_text(r, _byref(n)), n.value) or ""


__all__ = ["Envelope", "BodyStructure", "FetchItem", "Mailbox", "MailboxStatus", "ListEntry",
           "SearchResult", "AppendResult", "CopyResult", "Namespace", "Event"]
