"""Mailbox sync for libmail.IMAP: the caller's state (SyncState), the
changes a sync reports (SyncChange, SyncResult). See IMAP.sync()."""
from __future__ import annotations

import ctypes
import os
from typing import Any, Callable, List, NamedTuple, Optional, Union

from . import _capi
from ._capi import CONST
from ._errors import make_error

from ._capi import C

STRATEGIES = {"auto": CONST["MAIL_IMAP_SYNC_AUTO"], "qresync": CONST["MAIL_IMAP_SYNC_QRESYNC"],
              "condstore": CONST["MAIL_IMAP_SYNC_CONDSTORE"], "full": CONST["MAIL_IMAP_SYNC_FULL"]}
STRATEGY_NAME = {v: k for k, v in STRATEGIES.items()}
EVENT_NAME = {CONST["MAIL_IMAP_SYNC_RESET"]: "reset", CONST["MAIL_IMAP_SYNC_NEW"]: "new",
              CONST["MAIL_IMAP_SYNC_FLAGS"]: "flags", CONST["MAIL_IMAP_SYNC_VANISHED"]: "vanished"}


class SyncChange(NamedTuple):
    """One change: event "new", "flags", "vanished" or "reset" (uid is
    then the new UIDVALIDITY: every UID known before is void), the UID and
    the message's flags now (empty for vanished and reset)."""
    event: str
    uid: int
    flags: frozenset


class SyncResult(NamedTuple):
    """What IMAP.sync() did: the strategy used ("qresync", "condstore",
    "full"; "maildir" for a mirror), the changes in the order reported,
    the state (None for a maildir mirror) and, for a mirror, the number of
    messages downloaded."""
    strategy: str
    changes: List[SyncChange]
    state: Optional["SyncState"]
    downloaded: int = 0


def _check(rc: int, what: str) -> None:
    if rc < 0:
        raise make_error(rc, what, "", (None, None, ""))


class SyncState:
    """What a client knows of one mailbox (UIDVALIDITY, HIGHESTMODSEQ, the
    UIDs with their flags), owned by the caller: SyncState.load(path) /
    state.save(path) keep it in a small versioned file written atomically.
    max_uids bounds it (LimitError past it)."""

    def __init__(self, max_uids: Optional[int] = None) -> None:
        h = ctypes.c_void_p()
        _check(C.mail_imap_sync_state_new(ctypes.byref(h), None), "sync state")
        self._h = h.value
        if max_uids is not None:
            _check(C.mail_imap_sync_state_set_max_uids(self._h, max_uids), "max_uids")

    @classmethod
    def load(cls, path: Union[str, os.PathLike], missing_ok: bool = True,
             max_uids: Optional[int] = None) -> "SyncState":
        """The state saved in path (an empty one when the file does not
        exist and missing_ok)."""
        st = cls(max_uids)
        rc = C.mail_imap_sync_state_load(st._h, _capi.arg(os.fspath(path)))
        if rc == _capi.STATUS["MAIL_ERR_NOT_FOUND"] and missing_ok:
            return st
        _check(rc, "load the sync state %s" % os.fspath(path))
        return st

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the state to path atomically (path.tmp, fsync, rename)."""
        _check(C.mail_imap_sync_state_save(self._h, _capi.arg(os.fspath(path))),
               "save the sync state %s" % os.fspath(path))

    def to_bytes(self) -> bytes:
        """The state as save() writes it, for storing elsewhere."""
        parts: List[bytes] = []

        def write(user: Any, data: Any, n: int) -> int:
            parts.append(ctypes.string_at(data, n))
            return 0
        fn = _capi.MIME_DATA_FN(write)
        _check(C.mail_imap_sync_state_write(self._h, fn, None), "write the sync state")
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes, max_uids: Optional[int] = None) -> "SyncState":
        """A state from what to_bytes() gave (checked as load() checks a file)."""
        st = cls(max_uids)
        view = memoryview(bytes(data))
        at = [0]

        def read(user: Any, buf: Any, cap: int, got: Any) -> int:
            n = min(cap, len(view) - at[0])
            ctypes.memmove(buf, bytes(view[at[0]:at[0] + n]), n)
            at[0] += n
            got[0] = n
            return 0
        fn = _capi.READ_FN(read)
        _check(C.mail_imap_sync_state_read(st._h, fn, None), "read the sync state")
        return st

    def __del__(self) -> None:
        h, self._h = getattr(self, "_h", None), None
        if h:
            C.mail_imap_sync_state_free(h)

    @property
    def uidvalidity(self) -> int:
        """The mailbox's UIDVALIDITY the state belongs to (0: never synced)."""
        return int(C.mail_imap_sync_state_uidvalidity(self._h))

    @property
    def highestmodseq(self) -> int:
        """The HIGHESTMODSEQ seen at the last sync (0 without CONDSTORE)."""
        return int(C.mail_imap_sync_state_highestmodseq(self._h))

    def __len__(self) -> int:
        return int(C.mail_imap_sync_state_count(self._h))

    def uids(self) -> List[int]:
        """The known UIDs, ascending."""
        return [int(C.mail_imap_sync_state_uid(self._h, i)) for i in range(len(self))]

    def flags(self, uid: int) -> frozenset:
        """The flags of uid (KeyError when unknown)."""
        buf = ctypes.create_string_buffer(CONST["MAIL_IMAP_SYNC_FLAGS_TEXT_MAX"])
        rc = C.mail_imap_sync_state_flags(buf, len(buf), self._h, uid)
        if rc == _capi.STATUS["MAIL_ERR_NOT_FOUND"]:
            raise KeyError(uid)
        _check(rc, "flags")
        return frozenset((_capi.text(buf.value) or "").split())

    def items(self) -> List[tuple]:
        """[(uid, flags), ...] ascending."""
        return [(u, self.flags(u)) for u in self.uids()]


def change_callback(changes: List[SyncChange],
                    callback: Optional[Callable[[SyncChange], Any]]) -> Callable[..., int]:
    def on_change(user: Any, ev: int, uid: int, flags: Optional[bytes]) -> int:
        ch = SyncChange(EVENT_NAME.get(ev, "?"), int(uid),
                        frozenset((_capi.text(flags) or "").split()))
        changes.append(ch)
        if callback is not None:
            callback(ch)
        return 0
    return on_change
