"""IMAP extension commands (mail/imap_ext.h) on libmail.IMAP: QUOTA,
ACL, METADATA, SORT and THREAD. Each returns what the server sent back,
typed; a server that does not offer the extension raises UnsupportedError
with nothing sent."""
from __future__ import annotations

import ctypes
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._capi import C, CONST, OK
from ._session import Op, run_blocking
from .imap_types import T

_PC = ctypes.POINTER(ctypes.c_char)
_DEPTH = {0: CONST["MAIL_IMAP_METADATA_DEPTH_0"], 1: CONST["MAIL_IMAP_METADATA_DEPTH_1"],
          "infinity": CONST["MAIL_IMAP_METADATA_DEPTH_INFINITY"]}


def _text(p: Any, n: int) -> Optional[str]:
    return p[:n].decode("utf-8", "replace") if p else None


def _arr(values: Sequence[Optional[str]]) -> Any:
    enc = [None if v is None else v.encode("utf-8") for v in values]
    return (ctypes.c_char_p * max(1, len(enc)))(*enc)


def _mailbox(r: int) -> str:
    n = ctypes.c_size_t()
    return _text(C.mail_imap_response_mailbox(r, ctypes.byref(n), None, None), n.value) or ""


def _strings(r: int) -> List[str]:
    n = ctypes.c_size_t()
    out = []
    for i in range(C.mail_imap_response_string_count(r)):
        out.append(_text(C.mail_imap_response_string(r, i, ctypes.byref(n)), n.value) or "")
    return out


def _pairs(r: int, fn: Any) -> List[Tuple[str, Optional[bytes]]]:
    a, b = _PC(), _PC()
    an, bn = ctypes.c_size_t(), ctypes.c_size_t()
    out = []
    i = 0
    while fn(r, i, ctypes.byref(a), ctypes.byref(an), ctypes.byref(b), ctypes.byref(bn)) == OK:
        out.append((_text(a, an.value) or "", b[:bn.value] if b else None))
        i += 1
    return out


def _quota(r: int) -> Dict[str, Tuple[int, int]]:
    a, an = _PC(), ctypes.c_size_t()
    use, lim = ctypes.c_uint64(), ctypes.c_uint64()
    out = {}
    i = 0
    while C.mail_imap_response_quota(r, i, ctypes.byref(a), ctypes.byref(an), ctypes.byref(use),
                                     ctypes.byref(lim)) == OK:
        out[_text(a, an.value) or ""] = (use.value, lim.value)
        i += 1
    return out


class ExtMixin:
    """The extension commands of libmail.IMAP (blocking)."""

    def _op_ext(self, fn: Any, what: str, want: Sequence[str], read: Any) -> Op:
        got: List[Any] = []
        types = [T[w] for w in want]

        def collect(r: int, t: int) -> bool:
            if t not in types:
                return False
            got.append(read(r, t))
            return True
        yield from self._call(fn, what, collect)  # type: ignore[attr-defined]
        return got

    def getquotaroot(self, mailbox: str) -> Dict[str, Dict[str, Tuple[int, int]]]:
        """GETQUOTAROOT: {root: {resource: (usage, limit)}} (STORAGE in KiB)."""
        h, m = self._handle(), mailbox.encode()  # type: ignore[attr-defined]
        got = run_blocking(self._op_ext(lambda: C.mail_imap_getquotaroot(h, m), "GETQUOTAROOT",
                                        ("QUOTAROOT", "QUOTA"),
                                        lambda r, t: (t, _strings(r) if t == T["QUOTAROOT"]
                                                      else (_mailbox(r), _quota(r)))))
        roots: Dict[str, Dict[str, Tuple[int, int]]] = {}
        for t, v in got:
            if t == T["QUOTAROOT"]:
                for root in v:
                    roots.setdefault(root, {})
            else:
                roots[v[0]] = v[1]
        return roots

    def getquota(self, root: str = "") -> Dict[str, Tuple[int, int]]:
        """GETQUOTA root: {resource: (usage, limit)}."""
        h, q = self._handle(), root.encode()  # type: ignore[attr-defined]
        got = run_blocking(self._op_ext(lambda: C.mail_imap_getquota(h, q), "GETQUOTA",
                                        ("QUOTA",), lambda r, t: _quota(r)))
        return got[-1] if got else {}

    def setacl(self, mailbox: str, identifier: str, rights: str) -> None:
        """SETACL: rights replaced, or added/removed with a leading "+"/"-"."""
        h = self._handle()  # type: ignore[attr-defined]
        a, b, c = mailbox.encode(), identifier.encode(), rights.encode()
        run_blocking(self._op_ext(lambda: C.mail_imap_setacl(h, a, b, c), "SETACL", (), None))

    def deleteacl(self, mailbox: str, identifier: str) -> None:
        h, a, b = self._handle(), mailbox.encode(), identifier.encode()  # type: ignore
        run_blocking(self._op_ext(lambda: C.mail_imap_deleteacl(h, a, b), "DELETEACL", (), None))

    def getacl(self, mailbox: str) -> Dict[str, str]:
        """GETACL: {identifier: rights}."""
        h, a = self._handle(), mailbox.encode()  # type: ignore[attr-defined]
        got = run_blocking(self._op_ext(lambda: C.mail_imap_getacl(h, a), "GETACL", ("ACL",),
                                        lambda r, t: _pairs(r, C.mail_imap_response_acl)))
        return {k: (v or b"").decode() for k, v in (got[-1] if got else [])}

    def myrights(self, mailbox: str) -> str:
        h, a = self._handle(), mailbox.encode()  # type: ignore[attr-defined]
        got = run_blocking(self._op_ext(lambda: C.mail_imap_myrights(h, a), "MYRIGHTS",
                                        ("MYRIGHTS",), lambda r, t: _strings(r)))
        return got[-1][0] if got and got[-1] else ""

    def listrights(self, mailbox: str, identifier: str) -> Tuple[str, List[str]]:
        """LISTRIGHTS: (rights always granted, [optional groups])."""
        h, a, b = self._handle(), mailbox.encode(), identifier.encode()  # type: ignore
        got = run_blocking(self._op_ext(lambda: C.mail_imap_listrights(h, a, b), "LISTRIGHTS",
                                        ("LISTRIGHTS",), lambda r, t: _strings(r)))
        s = got[-1] if got else []
        return (s[1] if len(s) > 1 else "", s[2:])

    def getmetadata(self, mailbox: str, *entries: str, maxsize: int = 0,
                    depth: Any = 0) -> Dict[str, Optional[bytes]]:
        """GETMETADATA: {entry: value bytes or None}; mailbox "" for the server's."""
        h, m = self._handle(), mailbox.encode()  # type: ignore[attr-defined]
        arr, n, d = _arr(entries), len(entries), _DEPTH[depth]
        got = run_blocking(self._op_ext(
            lambda: C.mail_imap_getmetadata(h, m, arr, n, maxsize, d), "GETMETADATA",
            ("METADATA",), lambda r, t: _pairs(r, C.mail_imap_response_metadata)))
        out: Dict[str, Optional[bytes]] = {}
        for pairs in got:
            out.update(pairs)
        return out

    def setmetadata(self, mailbox: str, values: Dict[str, Optional[str]]) -> None:
        """SETMETADATA: each entry set to its value, or removed for None."""
        h, m = self._handle(), mailbox.encode()  # type: ignore[attr-defined]
        keys = list(values)
        e, v = _arr(keys), _arr([values[k] for k in keys])
        run_blocking(self._op_ext(lambda: C.mail_imap_setmetadata(h, m, e, v, None, len(keys)),
                                  "SETMETADATA", (), None))

    def sort(self, order: str, criteria: str = "ALL", *args: Any, uid: bool = True) -> List[int]:
        """SORT (order, e.g. "REVERSE DATE"): the numbers (UIDs) in order."""
        h = self._handle()  # type: ignore[attr-defined]
        o, c, arr = order.encode(), criteria.encode(), _arr([str(a) for a in args])

        def numbers(r: int, t: int) -> List[int]:
            count = ctypes.c_size_t()
            p = C.mail_imap_response_numbers(r, ctypes.byref(count))
            return list(p[:count.value]) if p and count.value else []
        got = run_blocking(self._op_ext(
            lambda: C.mail_imap_sort(h, 1 if uid else 0, None, o, c, arr, len(args)),
            "SORT", ("SORT",), numbers))
        return [n for part in got for n in part]

    def thread(self, algorithm: str = "REFERENCES", criteria: str = "ALL", *args: Any,
               uid: bool = True) -> List[Tuple[int, Optional[int]]]:
        """THREAD: the forest as (number, parent index or None) in depth-first order."""
        h = self._handle()  # type: ignore[attr-defined]
        a, c, arr = algorithm.encode(), criteria.encode(), _arr([str(x) for x in args])

        def nodes(r: int, t: int) -> List[Tuple[int, Optional[int]]]:
            num, parent = ctypes.c_uint32(), ctypes.c_size_t()
            out = []
            i = 0
            while C.mail_imap_response_thread_node(r, i, ctypes.byref(num),
                                                   ctypes.byref(parent)) == OK:
                p = parent.value
                out.append((num.value, None if p == ctypes.c_size_t(-1).value else p))
                i += 1
            return out
        got = run_blocking(self._op_ext(
            lambda: C.mail_imap_thread(h, 1 if uid else 0, a, c, arr, len(args)), "THREAD",
            ("THREAD",), nodes))
        return got[-1] if got else []
