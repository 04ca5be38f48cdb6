"""Everything the package knows about the C API, in one place.

Every C name (functions, callback types, struct layouts, constants) the
Python package uses is written here and nowhere else, so a rename in
include/mail/ breaks tests/test_capi.py (which checks this module against
the headers) and is fixed in this file alone. The other modules use the
Python names below (``C.mail_smtp_send``, ``STATUS["MAIL_ERR_AGAIN"]`` ...).

Library lookup order: $LIBMAIL_LIBRARY, next to the package, the build
tree, the system loader. The library found must have a compatible version
(see :func:`check_library`).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_int64, c_size_t,
                    c_uint, c_uint32, c_uint64, c_ubyte, c_void_p)
from typing import Dict, FrozenSet, List, Optional, Tuple

SONAME = "libmail.so.0"

# Versions this package speaks: the 0.x ABI from 0.1.0 on (0x000100).
SUPPORTED_MAJOR = 0
MIN_VERSION_NUMBER = 0x000100

# ------------------------------------------------------------ constants
# Values copied from include/mail/*.h; tests/test_capi.py compares every
# one with the headers.
STATUS: Dict[str, int] = {
    "MAIL_OK": 0,
    "MAIL_ERR_AGAIN": -1, "MAIL_ERR_INVALID": -2, "MAIL_ERR_NOMEM": -3,
    "MAIL_ERR_STATE": -4, "MAIL_ERR_UNSUPPORTED": -5, "MAIL_ERR_SERVER": -6,
    "MAIL_ERR_AUTH": -7, "MAIL_ERR_NO_MECHANISM": -8, "MAIL_ERR_INSECURE": -9,
    "MAIL_ERR_TOO_BIG": -10, "MAIL_ERR_NOT_FOUND": -11, "MAIL_ERR_BUFFER": -12,
    "MAIL_ERR_CANCELLED": -13, "MAIL_ERR_RECIPIENTS": -14, "MAIL_ERR_PARTIAL": -15,
    "MAIL_ERR_CALLBACK": -16, "MAIL_ERR_CHARSET": -17, "MAIL_ERR_SYNTAX": -18,
    "MAIL_ERR_FILE": -19, "MAIL_ERR_NEEDS_SMTPUTF8": -20, "MAIL_ERR_REQUIRETLS": -21,
    "MAIL_ERR_SASL_BAD_CHALLENGE": -22, "MAIL_ERR_THROTTLED": -23,
    "MAIL_ERR_SERVER_LIMIT": -24, "MAIL_ERR_TOO_MANY_CONNECTIONS": -25, "MAIL_ERR_NOT_ATTEMPTED": -26,
    "MAIL_ERR_IO": -100, "MAIL_ERR_TIMEOUT": -101, "MAIL_ERR_CLOSED": -102,
    "MAIL_ERR_RESOLVE": -103, "MAIL_ERR_CONNECT": -104, "MAIL_ERR_TLS": -105,
    "MAIL_ERR_TLS_VERIFY": -106, "MAIL_ERR_STARTTLS": -107,
    "MAIL_ERR_STARTTLS_INJECTION": -108, "MAIL_ERR_PROTOCOL": -109,
    "MAIL_ERR_LIMIT": -110, "MAIL_ERR_SERVER_CLOSING": -111,
    "MAIL_ERR_SASL_SERVER": -112, "MAIL_ERR_INTERNAL": -113, "MAIL_ERR_PROXY": -114,
}
STATUS_NAME: Dict[int, str] = {v: k for k, v in STATUS.items()}

CONST: Dict[str, int] = {
    "MAIL_LIMITS_VERSION": 2,
    "MAIL_TRACE_RECV": 0, "MAIL_TRACE_SEND": 1, "MAIL_TRACE_INFO": 2,
    "MAIL_SECURITY_STARTTLS": 0, "MAIL_SECURITY_IMPLICIT_TLS": 1,
    "MAIL_PROXY_NONE": 0, "MAIL_PROXY_SOCKS5": 1, "MAIL_PROXY_HTTP": 2,
    "MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE": 2, "MAIL_SECURITY_NONE_INSECURE": 3,
    "MAIL_WANT_READ": 1, "MAIL_WANT_WRITE": 2,
    "MAIL_TIMEOUT_CONNECT": 0, "MAIL_TIMEOUT_IO": 1,
    # loop.h
    "MAIL_LOOP_BACKEND_DEFAULT": 0, "MAIL_LOOP_BACKEND_POLL": 1, "MAIL_LOOP_BACKEND_EPOLL": 2,
    # smtp.h
    "MAIL_SMTP_CHUNKING_WHEN_NEEDED": 0, "MAIL_SMTP_CHUNKING_PREFER": 1,
    "MAIL_SMTP_CHUNKING_NEVER": 2,
    "MAIL_SMTP_NOTIFY_NEVER": 0x1, "MAIL_SMTP_NOTIFY_SUCCESS": 0x2,
    "MAIL_SMTP_NOTIFY_FAILURE": 0x4, "MAIL_SMTP_NOTIFY_DELAY": 0x8,
    "MAIL_SMTP_RET_DEFAULT": 0, "MAIL_SMTP_RET_FULL": 1, "MAIL_SMTP_RET_HDRS": 2,
    "MAIL_SMTP_POLICY_ANY": 0, "MAIL_SMTP_POLICY_ALL": 1,
    "MAIL_SMTP_NEEDS_8BIT": 0x1, "MAIL_SMTP_NEEDS_BINARY": 0x2, "MAIL_SMTP_NEEDS_SMTPUTF8": 0x4,
    "MAIL_SMTP_SIZE_UNKNOWN": 0xFFFFFFFFFFFFFFFF,
    # pop3.h
    "MAIL_POP3_BODY_BEGIN": 1, "MAIL_POP3_BODY_DATA": 2, "MAIL_POP3_BODY_END": 3,
    "MAIL_POP3_STATE_DISCONNECTED": 0, "MAIL_POP3_STATE_TRANSACTION": 4,
    "MAIL_POP3_AUTH_AUTO": 0, "MAIL_POP3_AUTH_SASL": 1, "MAIL_POP3_AUTH_USER": 2,
    "MAIL_POP3_AUTH_APOP": 3,
    # mime.h
    "MAIL_MIME_HEADERS_ONLY": 0x01, "MAIL_MIME_TO_UTF8": 0x02, "MAIL_MIME_RAW_BODY": 0x04,
    "MAIL_MIME_BORROW": 0x10, "MAIL_MIME_CHECK_HEADERS": 0x20,
    "MAIL_MIME_LIMITS_VERSION": 1,
    "MAIL_MIME_ENC_7BIT": 0, "MAIL_MIME_ENC_8BIT": 1, "MAIL_MIME_ENC_BINARY": 2,
    "MAIL_MIME_ENC_QUOTED_PRINTABLE": 3, "MAIL_MIME_ENC_BASE64": 4,
    "MAIL_MIME_ENC_UUENCODE": 5, "MAIL_MIME_ENC_UNKNOWN": 6,
    "MAIL_ADDR_STRICT": 0x01,
    # mime_build.h
    "MAIL_MIME_OPT_8BITMIME": 0x1, "MAIL_MIME_OPT_BINARYMIME": 0x2,
    "MAIL_MIME_OPT_SMTPUTF8": 0x4, "MAIL_MIME_OPT_COMPAT_FILENAME": 0x8,
    "MAIL_MIME_NEEDS_8BIT": 0x1, "MAIL_MIME_NEEDS_BINARY": 0x2, "MAIL_MIME_NEEDS_SMTPUTF8": 0x4,
    "MAIL_MIME_BUILD_ENC_AUTO": -1,
    "MAIL_MIME_LENGTH_UNKNOWN": 0xFFFFFFFFFFFFFFFF,
    # imap.h
    "MAIL_IMAP_STATE_DISCONNECTED": 0, "MAIL_IMAP_STATE_CONNECTING": 1,
    "MAIL_IMAP_STATE_NOT_AUTHENTICATED": 2, "MAIL_IMAP_STATE_AUTHENTICATING": 3,
    "MAIL_IMAP_STATE_AUTHENTICATED": 4, "MAIL_IMAP_STATE_SELECTED": 5, "MAIL_IMAP_STATE_LOGOUT": 6,
    "MAIL_IMAP_AUTH_AUTO": 0, "MAIL_IMAP_AUTH_SASL": 1, "MAIL_IMAP_AUTH_LOGIN": 2,
    "MAIL_IMAP_MAILBOX_EXISTS": 0, "MAIL_IMAP_MAILBOX_RECENT": 1,
    "MAIL_IMAP_MAILBOX_UIDVALIDITY": 2, "MAIL_IMAP_MAILBOX_UIDNEXT": 3,
    "MAIL_IMAP_MAILBOX_HIGHESTMODSEQ": 4, "MAIL_IMAP_MAILBOX_UNSEEN": 5,
    # imap_sync.h
    "MAIL_IMAP_SYNC_AUTO": 0, "MAIL_IMAP_SYNC_QRESYNC": 1, "MAIL_IMAP_SYNC_CONDSTORE": 2,
    "MAIL_IMAP_SYNC_FULL": 3, "MAIL_IMAP_SYNC_RESET": 1, "MAIL_IMAP_SYNC_NEW": 2,
    "MAIL_IMAP_SYNC_FLAGS": 3, "MAIL_IMAP_SYNC_VANISHED": 4, "MAIL_IMAP_SYNC_FLAGS_TEXT_MAX": 1024,
    "MAIL_IMAP_FLAGS_DEFINED": 0, "MAIL_IMAP_FLAGS_PERMANENT": 1,
    "MAIL_IMAP_LIST_SUBSCRIBED": 1, "MAIL_IMAP_LIST_CHILDREN": 2, "MAIL_IMAP_LIST_SPECIAL_USE": 4,
    "MAIL_IMAP_LIST_STATUS": 8, "MAIL_IMAP_LIST_MYRIGHTS": 16,
    "MAIL_IMAP_STATUS_MESSAGES": 1, "MAIL_IMAP_STATUS_RECENT": 2, "MAIL_IMAP_STATUS_UIDNEXT": 4,
    "MAIL_IMAP_STATUS_UIDVALIDITY": 8, "MAIL_IMAP_STATUS_UNSEEN": 16,
    "MAIL_IMAP_STATUS_DELETED": 32, "MAIL_IMAP_STATUS_SIZE": 64,
    "MAIL_IMAP_STATUS_HIGHESTMODSEQ": 128, "MAIL_IMAP_STATUS_APPENDLIMIT": 256,
    "MAIL_IMAP_STATUS_MAILBOXID": 512,
    # imap_ext.h
    "MAIL_IMAP_METADATA_DEPTH_0": 0, "MAIL_IMAP_METADATA_DEPTH_1": 1,
    "MAIL_IMAP_METADATA_DEPTH_INFINITY": 2,
    "MAIL_IMAP_STORE_REPLACE": 0, "MAIL_IMAP_STORE_ADD": 1, "MAIL_IMAP_STORE_REMOVE": 2,
    # imap_parse.h
    "MAIL_IMAP_KIND_GREETING": 1, "MAIL_IMAP_KIND_TAGGED": 2, "MAIL_IMAP_KIND_UNTAGGED": 3,
    "MAIL_IMAP_KIND_CONTINUATION": 4,
    "MAIL_IMAP_TYPE_OTHER": 0, "MAIL_IMAP_TYPE_OK": 1, "MAIL_IMAP_TYPE_NO": 2,
    "MAIL_IMAP_TYPE_BAD": 3, "MAIL_IMAP_TYPE_PREAUTH": 4, "MAIL_IMAP_TYPE_BYE": 5,
    "MAIL_IMAP_TYPE_CONTINUE": 6, "MAIL_IMAP_TYPE_CAPABILITY": 7, "MAIL_IMAP_TYPE_ENABLED": 8,
    "MAIL_IMAP_TYPE_LIST": 9, "MAIL_IMAP_TYPE_LSUB": 10, "MAIL_IMAP_TYPE_NAMESPACE": 11,
    "MAIL_IMAP_TYPE_STATUS": 12, "MAIL_IMAP_TYPE_FLAGS": 13, "MAIL_IMAP_TYPE_EXISTS": 14,
    "MAIL_IMAP_TYPE_RECENT": 15, "MAIL_IMAP_TYPE_EXPUNGE": 16, "MAIL_IMAP_TYPE_VANISHED": 17,
    "MAIL_IMAP_TYPE_SEARCH": 18, "MAIL_IMAP_TYPE_ESEARCH": 19, "MAIL_IMAP_TYPE_SORT": 20,
    "MAIL_IMAP_TYPE_THREAD": 21, "MAIL_IMAP_TYPE_FETCH": 22, "MAIL_IMAP_TYPE_QUOTA": 23,
    "MAIL_IMAP_TYPE_QUOTAROOT": 24, "MAIL_IMAP_TYPE_ACL": 25, "MAIL_IMAP_TYPE_LISTRIGHTS": 26,
    "MAIL_IMAP_TYPE_MYRIGHTS": 27, "MAIL_IMAP_TYPE_METADATA": 28,
    "MAIL_IMAP_CODE_NONE": 0, "MAIL_IMAP_CODE_OTHER": 1, "MAIL_IMAP_CODE_ALERT": 2,
    "MAIL_IMAP_CODE_BADCHARSET": 3, "MAIL_IMAP_CODE_CAPABILITY": 4, "MAIL_IMAP_CODE_PARSE": 5,
    "MAIL_IMAP_CODE_PERMANENTFLAGS": 6, "MAIL_IMAP_CODE_READ_ONLY": 7,
    "MAIL_IMAP_CODE_READ_WRITE": 8, "MAIL_IMAP_CODE_TRYCREATE": 9, "MAIL_IMAP_CODE_UIDNEXT": 10,
    "MAIL_IMAP_CODE_UIDVALIDITY": 11, "MAIL_IMAP_CODE_UNSEEN": 12,
    "MAIL_IMAP_CODE_HIGHESTMODSEQ": 13, "MAIL_IMAP_CODE_NOMODSEQ": 14,
    "MAIL_IMAP_CODE_MODIFIED": 15, "MAIL_IMAP_CODE_APPENDUID": 16, "MAIL_IMAP_CODE_COPYUID": 17,
    "MAIL_IMAP_CODE_UIDNOTSTICKY": 18, "MAIL_IMAP_CODE_CLOSED": 19,
    "MAIL_IMAP_CODE_UNAVAILABLE": 20, "MAIL_IMAP_CODE_AUTHENTICATIONFAILED": 21,
    "MAIL_IMAP_CODE_AUTHORIZATIONFAILED": 22, "MAIL_IMAP_CODE_EXPIRED": 23,
    "MAIL_IMAP_CODE_PRIVACYREQUIRED": 24, "MAIL_IMAP_CODE_CONTACTADMIN": 25,
    "MAIL_IMAP_CODE_NOPERM": 26, "MAIL_IMAP_CODE_INUSE": 27, "MAIL_IMAP_CODE_EXPUNGEISSUED": 28,
    "MAIL_IMAP_CODE_CORRUPTION": 29, "MAIL_IMAP_CODE_SERVERBUG": 30,
    "MAIL_IMAP_CODE_CLIENTBUG": 31, "MAIL_IMAP_CODE_CANNOT": 32, "MAIL_IMAP_CODE_LIMIT": 33,
    "MAIL_IMAP_CODE_OVERQUOTA": 34, "MAIL_IMAP_CODE_ALREADYEXISTS": 35,
    "MAIL_IMAP_CODE_NONEXISTENT": 36, "MAIL_IMAP_CODE_HASCHILDREN": 37,
    "MAIL_IMAP_CODE_UNKNOWN_CTE": 38, "MAIL_IMAP_CODE_COMPRESSIONACTIVE": 39,
    "MAIL_IMAP_CODE_NOTSAVED": 40, "MAIL_IMAP_CODE_MAILBOXID": 41,
    "MAIL_IMAP_CODE_THROTTLED": 42, "MAIL_IMAP_CODE_METADATA": 43, "MAIL_IMAP_CODE_USEATTR": 44,
    "MAIL_IMAP_CODE_TOOBIG": 45,
    "MAIL_IMAP_ITEM_UID": 0, "MAIL_IMAP_ITEM_FLAGS": 1, "MAIL_IMAP_ITEM_INTERNALDATE": 2,
    "MAIL_IMAP_ITEM_RFC822_SIZE": 3, "MAIL_IMAP_ITEM_ENVELOPE": 4,
    "MAIL_IMAP_ITEM_BODYSTRUCTURE": 5, "MAIL_IMAP_ITEM_MODSEQ": 6, "MAIL_IMAP_ITEM_EMAILID": 7,
    "MAIL_IMAP_ITEM_THREADID": 8, "MAIL_IMAP_ITEM_PREVIEW": 9, "MAIL_IMAP_ITEM_GM_MSGID": 10,
    "MAIL_IMAP_ITEM_GM_THRID": 11, "MAIL_IMAP_ITEM_GM_LABELS": 12,
    "MAIL_IMAP_ITEM_BINARY_SIZE": 13, "MAIL_IMAP_ITEM_SECTION": 14,
    "MAIL_IMAP_ITEM_SAVEDATE": 15,
    "MAIL_IMAP_ADDR_FROM": 0, "MAIL_IMAP_ADDR_SENDER": 1, "MAIL_IMAP_ADDR_REPLY_TO": 2,
    "MAIL_IMAP_ADDR_TO": 3, "MAIL_IMAP_ADDR_CC": 4, "MAIL_IMAP_ADDR_BCC": 5,
    "MAIL_IMAP_ENV_DATE": 0, "MAIL_IMAP_ENV_SUBJECT": 1, "MAIL_IMAP_ENV_IN_REPLY_TO": 2,
    "MAIL_IMAP_ENV_MESSAGE_ID": 3,
    "MAIL_IMAP_BODY_TYPE": 0, "MAIL_IMAP_BODY_SUBTYPE": 1, "MAIL_IMAP_BODY_ID": 2,
    "MAIL_IMAP_BODY_DESCRIPTION": 3, "MAIL_IMAP_BODY_ENCODING": 4, "MAIL_IMAP_BODY_MD5": 5,
    "MAIL_IMAP_BODY_DISPOSITION": 6, "MAIL_IMAP_BODY_LOCATION": 7,
    "MAIL_IMAP_PARAMS_CONTENT_TYPE": 0, "MAIL_IMAP_PARAMS_DISPOSITION": 1,
    "MAIL_IMAP_DEFECT_SYNTAX": 1, "MAIL_IMAP_DEFECT_ITEM": 2, "MAIL_IMAP_DEFECT_CODE": 3,
    "MAIL_IMAP_DEFECT_RESPONSE": 4, "MAIL_IMAP_DEFECT_TOO_DEEP": 5, "MAIL_IMAP_DEFECT_TOO_MANY": 6,
    "MAIL_IMAP_BODY_BEGIN": 1, "MAIL_IMAP_BODY_DATA": 2, "MAIL_IMAP_BODY_END": 3,
    # mail_features() bits
    "MAIL_FEATURE_SMTP": 1 << 0,
    "MAIL_FEATURE_POP3": 1 << 1,
    "MAIL_FEATURE_IMAP": 1 << 2,
    "MAIL_FEATURE_NNTP": 1 << 3,
    "MAIL_FEATURE_MIME": 1 << 4,
    "MAIL_FEATURE_TLS": 1 << 5,
    "MAIL_FEATURE_ZLIB": 1 << 6,
    "MAIL_FEATURE_SASLPREP": 1 << 7,
    "MAIL_FEATURE_IDNA": 1 << 8,
    "MAIL_FEATURE_MAILDIR": 1 << 9,
    "MAIL_FEATURE_SOCKETS": 1 << 10,
    "MAIL_FEATURE_PROXY": 1 << 11, "MAIL_FEATURE_LOOP": 1 << 12, "MAIL_FEATURE_SMTP_POOL": 1 << 13,
}


def const(name: str) -> int:
    """A constant of the C API by its C name (KeyError when unknown here)."""
    if name in STATUS:
        return STATUS[name]
    return CONST[name]


OK = STATUS["MAIL_OK"]
AGAIN = STATUS["MAIL_ERR_AGAIN"]

# ------------------------------------------------------------ structs


class mail_limits(Structure):
    _fields_ = [("version", c_uint), ("max_line", c_size_t), ("max_literal", c_size_t),
                ("max_response", c_size_t), ("max_depth", c_uint), ("max_items", c_size_t),
                # version 2
                ("max_lines", c_size_t), ("max_output", c_size_t)]


class mail_mime_limits(Structure):
    _fields_ = [("version", c_uint), ("max_depth", c_uint), ("max_parts", c_size_t),
                ("max_headers", c_size_t), ("max_header_length", c_size_t),
                ("max_header_block", c_size_t), ("max_decoded", c_uint64),
                ("max_defects", c_size_t)]


class mail_address(Structure):
    _fields_ = [("name", c_char_p), ("mailbox", c_char_p), ("local", c_char_p),
                ("domain", c_char_p), ("group", c_char_p)]


STRUCTS = {"mail_limits": mail_limits, "mail_mime_limits": mail_mime_limits,
           "mail_address": mail_address}

# ------------------------------------------------------------ callback types
CALLBACKS = {
    "mail_trace_fn": CFUNCTYPE(None, c_void_p, c_int, POINTER(c_ubyte), c_size_t),
    "mail_smtp_progress_fn": CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64),
    "mail_smtp_read_fn": CFUNCTYPE(c_int, c_void_p, POINTER(c_ubyte), c_size_t,
                                   POINTER(c_size_t)),
    "mail_pop3_body_fn": CFUNCTYPE(c_int, c_void_p, c_uint32, c_int, POINTER(c_ubyte), c_size_t),
    "mail_sasl_token_fn": CFUNCTYPE(c_int, c_void_p, c_void_p, c_int),
    "mail_mime_read_fn": CFUNCTYPE(c_int, c_void_p, POINTER(c_ubyte), c_size_t,
                                   POINTER(c_size_t)),
    "mail_mime_rewind_fn": CFUNCTYPE(c_int, c_void_p),
    # the one write callback (mail_mime_part_decode_cb, mail_mime_message_write,
    # mail_mime_builder_write, mbox data)
    "mail_write_fn": CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t),
    # the one read callback (IMAP APPEND; common.h)
    "mail_read_fn": CFUNCTYPE(c_int, c_void_p, POINTER(c_ubyte), c_size_t, POINTER(c_size_t)),
    "mail_random_fn": CFUNCTYPE(c_int, c_void_p, POINTER(c_ubyte), c_size_t),
    "mail_clock_fn": CFUNCTYPE(c_int64, c_void_p, c_int),
    "mail_tls_verify_fn": CFUNCTYPE(c_int, c_void_p, c_int, c_char_p, POINTER(c_ubyte), c_size_t,
                                    c_char_p),
    # imap_parse.h, imap.h (pointers into C memory stay c_void_p)
    "mail_imap_body_fn": CFUNCTYPE(c_int, c_void_p, c_int, c_void_p, c_void_p, c_size_t),
    "mail_imap_untagged_fn": CFUNCTYPE(c_int, c_void_p, c_void_p, c_int),
    "mail_smtp_batch_fn": CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p, c_int),
    "mail_smtp_reconnect_fn": CFUNCTYPE(c_int, c_void_p, c_void_p),
    "mail_smtp_wait_fn": CFUNCTYPE(c_int, c_void_p, c_int),
    # maildir.h
    "mail_maildir_entry_fn": CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, c_int, c_uint64,
                                       c_int64),
    "mail_nntp_body_fn": CFUNCTYPE(c_int, c_void_p, c_uint64, c_int, POINTER(c_ubyte), c_size_t),
    "mail_maildir_map_fn": CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, c_int64),
    "mail_resolve_fn": CFUNCTYPE(c_int, c_void_p, c_void_p, c_char_p, c_uint),
    # imap_sync.h
    "mail_imap_sync_fn": CFUNCTYPE(c_int, c_void_p, c_int, c_uint32, c_char_p),
    "mail_loop_step_fn": CFUNCTYPE(c_int, c_void_p, c_void_p),
    "mail_loop_done_fn": CFUNCTYPE(None, c_void_p, c_int),
    "mail_loop_timer_fn": CFUNCTYPE(None, c_void_p),
}
TRACE_FN = CALLBACKS["mail_trace_fn"]
PROGRESS_FN = CALLBACKS["mail_smtp_progress_fn"]
SMTP_READ_FN = CALLBACKS["mail_smtp_read_fn"]
POP3_BODY_FN = CALLBACKS["mail_pop3_body_fn"]
TOKEN_FN = CALLBACKS["mail_sasl_token_fn"]
MIME_READ_FN = CALLBACKS["mail_mime_read_fn"]
MIME_REWIND_FN = CALLBACKS["mail_mime_rewind_fn"]
MIME_DATA_FN = CALLBACKS["mail_write_fn"]
READ_FN = CALLBACKS["mail_read_fn"]
IMAP_BODY_FN = CALLBACKS["mail_imap_body_fn"]
IMAP_UNTAGGED_FN = CALLBACKS["mail_imap_untagged_fn"]
RANDOM_FN = CALLBACKS["mail_random_fn"]
CLOCK_FN = CALLBACKS["mail_clock_fn"]
RESOLVE_FN = CALLBACKS["mail_resolve_fn"]
TLS_VERIFY_FN = CALLBACKS["mail_tls_verify_fn"]
MAILDIR_ENTRY_FN = CALLBACKS["mail_maildir_entry_fn"]
MAILDIR_MAP_FN = CALLBACKS["mail_maildir_map_fn"]
SMTP_BATCH_FN = CALLBACKS["mail_smtp_batch_fn"]
IMAP_SYNC_FN = CALLBACKS["mail_imap_sync_fn"]

# ------------------------------------------------------------ prototypes
# name: (restype, [argtypes]). Handles are c_void_p; strings in are
# c_char_p (bytes); strings out are c_char_p too (ctypes copies them into
# Python bytes at once, so nothing is kept pointing into C memory).
_p = c_void_p
_s = c_char_p
_sz = c_size_t
_psz = POINTER(c_size_t)
_pu = POINTER(c_uint)
_pb = POINTER(POINTER(c_ubyte))
# strings that are not NUL-terminated (imap_parse.h gives their lengths): sliced, p[:n]
_pc = POINTER(ctypes.c_char)
_ppc = POINTER(_pc)

PROTOTYPES: Dict[str, Tuple[object, List[object]]] = {
    # common.h
    "mail_strerror": (_s, [c_int]),
    "mail_status_is_fatal": (c_int, [c_int]),
    "mail_free": (None, [_p]),
    "mail_limits_default": (None, [POINTER(mail_limits)]),
    "mail_version": (_s, []),
    "mail_version_number": (c_uint, []),
    "mail_init": (c_int, []),
    # conn.h
    "mail_tls_config_new": (c_int, [POINTER(_p), _p]),
    "mail_tls_config_free": (None, [_p]),
    "mail_tls_config_set_ca_file": (c_int, [_p, _s]),
    "mail_tls_config_set_client_cert_file": (c_int, [_p, _s, _s, _s]),
    "mail_tls_config_add_pin_sha256": (c_int, [_p, _s]),
    "mail_tls_config_set_min_version": (c_int, [_p, c_int]),
    "mail_tls_config_set_insecure_no_verify": (c_int, [_p, c_int]),
    "mail_conn_set_trace": (c_int, [_p, TRACE_FN, _p]),
    "mail_conn_set_limits": (c_int, [_p, POINTER(mail_limits)]),
    "mail_conn_get_limits": (None, [_p, POINTER(mail_limits)]),
    "mail_conn_set_timeout": (c_int, [_p, c_int, c_int]),
    "mail_conn_set_tls_config": (c_int, [_p, _p]),
    "mail_conn_set_tls_server_name": (c_int, [_p, _s]),
    "mail_conn_set_proxy": (c_int, [_p, c_int, _s, c_uint]),
    "mail_conn_set_proxy_auth": (c_int, [_p, _s, _s]),
    "mail_conn_set_proxy_url": (c_int, [_p, _s]),
    "mail_conn_enable_cancel": (c_int, [_p]),
    "mail_conn_set_resolver": (c_int, [_p, RESOLVE_FN, c_void_p]),
    "mail_smtp_pool_new": (c_int, [POINTER(_p), _p]),
    "mail_smtp_pool_free": (None, [_p]),
    "mail_smtp_pool_set_limit": (c_int, [_p, c_uint]),
    "mail_smtp_pool_set_idle_timeout": (c_int, [_p, c_int]),
    "mail_smtp_pool_take": (c_int, [POINTER(_p), _p, _s, c_uint, c_int, _s, _s]),
    "mail_smtp_pool_put": (c_int, [_p, _p]),
    "mail_smtp_pool_discard": (c_int, [_p, _p]),
    "mail_smtp_pool_unreserve": (c_int, [_p, _s, c_uint, c_int, _s, _s]),
    "mail_smtp_pool_close_idle": (c_size_t, [_p]),
    "mail_smtp_pool_counts": (c_int, [POINTER(c_size_t), POINTER(c_size_t), POINTER(c_size_t), _p]),
    "mail_conn_resolved": (c_int, [_p, c_int, POINTER(c_void_p), POINTER(c_size_t), c_size_t, _s]),
    "mail_conn_cancel": (None, [_p]),
    "mail_conn_set_nonblocking": (c_int, [_p, c_int]),
    "mail_conn_close": (None, [_p]),
    "mail_conn_fd": (c_int, [_p]),
    "mail_conn_want": (c_int, [_p]),
    "mail_conn_timeout_ms": (c_int64, [_p]),
    "mail_conn_is_tls": (c_int, [_p]),
    "mail_conn_is_verified": (c_int, [_p]),
    "mail_conn_tls_version": (_s, [_p]),
    "mail_conn_tls_cipher": (_s, [_p]),
    "mail_conn_verify_error": (_s, [_p]),
    "mail_conn_last_error": (_s, [_p]),
    # sasl.h
    "mail_sasl_set_oauth_token": (c_int, [_p, _s]),
    "mail_sasl_set_token_callback": (c_int, [_p, TOKEN_FN, _p]),
    "mail_sasl_set_mechanisms": (c_int, [_p, _s]),
    "mail_sasl_set_allow_insecure_plaintext": (c_int, [_p, c_int]),
    "mail_sasl_mechanism": (_s, [_p]),
    # smtp_reply.h
    "mail_smtp_reply_code": (c_int, [_p]),
    "mail_smtp_reply_enhanced": (c_int, [_p, _pu, _pu, _pu]),
    "mail_smtp_reply_text": (_s, [_p, _psz]),
    "mail_smtp_caps_count": (_sz, [_p]),
    "mail_smtp_caps_keyword": (_s, [_p, _sz]),
    "mail_smtp_caps_param_count": (_sz, [_p, _sz]),
    "mail_smtp_caps_param": (_s, [_p, _sz, _sz]),
    # smtp.h
    "mail_smtp_new": (c_int, [POINTER(_p), _p]),
    "mail_smtp_free": (None, [_p]),
    "mail_smtp_conn": (_p, [_p]),
    "mail_smtp_sasl": (_p, [_p]),
    "mail_smtp_set_auth": (c_int, [_p, _s, _s]),
    "mail_smtp_set_security": (c_int, [_p, c_int]),
    "mail_smtp_set_client_name": (c_int, [_p, _s]),
    "mail_smtp_set_lmtp": (c_int, [_p, c_int]),
    "mail_smtp_set_pipelining": (c_int, [_p, c_int]),
    "mail_smtp_set_chunking": (c_int, [_p, c_int]),
    "mail_smtp_set_timeouts": (c_int, [_p, c_int, c_int]),
    "mail_smtp_set_progress": (c_int, [_p, PROGRESS_FN, _p]),
    "mail_smtp_connect_url": (c_int, [_p, _s]),
    "mail_smtp_auth": (c_int, [_p]),
    "mail_smtp_noop": (c_int, [_p]),
    "mail_smtp_rset": (c_int, [_p]),
    "mail_smtp_quit": (c_int, [_p]),
    "mail_smtp_send": (c_int, [_p, _p]),
    "mail_smtp_cancel": (None, [_p]),
    "mail_smtp_capabilities": (_p, [_p]),
    "mail_smtp_has_capability": (c_int, [_p, _s]),
    "mail_smtp_last_reply": (_p, [_p]),
    "mail_smtp_state_name": (_s, [_p]),
    "mail_smtp_envelope_new": (c_int, [POINTER(_p), _p]),
    "mail_smtp_envelope_free": (None, [_p]),
    "mail_smtp_envelope_set_from": (c_int, [_p, _s]),
    "mail_smtp_envelope_add_recipient": (c_int, [_p, _s, _psz]),
    "mail_smtp_envelope_set_notify": (c_int, [_p, _sz, c_uint]),
    "mail_smtp_envelope_set_orcpt": (c_int, [_p, _sz, _s]),
    "mail_smtp_envelope_set_ret": (c_int, [_p, c_int]),
    "mail_smtp_envelope_set_envid": (c_int, [_p, _s]),
    "mail_smtp_envelope_set_requiretls": (c_int, [_p, c_int]),
    "mail_smtp_envelope_set_smtputf8": (c_int, [_p, c_int]),
    "mail_smtp_envelope_set_policy": (c_int, [_p, c_int]),
    "mail_smtp_envelope_set_body_mime": (c_int, [_p, _p]),
    "mail_smtp_envelope_add_mime_addresses": (c_int, [_p, _p]),
    "mail_smtp_envelope_set_body_callback": (c_int, [_p, SMTP_READ_FN, _p, c_uint64, c_uint]),
    "mail_smtp_envelope_set_body_data": (c_int, [_p, c_void_p, _sz]),
    "mail_smtp_envelope_recipient_count": (_sz, [_p]),
    "mail_smtp_envelope_recipient_address": (_s, [_p, _sz]),
    "mail_smtp_envelope_recipient_status": (c_int, [_p, _sz]),
    "mail_smtp_envelope_recipient_code": (c_int, [_p, _sz]),
    "mail_smtp_envelope_recipient_enhanced": (c_int, [_p, _sz, _pu, _pu, _pu]),
    "mail_smtp_envelope_recipient_text": (_s, [_p, _sz]),
    # pop3_reply.h
    "mail_pop3_reply_status": (c_int, [_p]),
    "mail_pop3_reply_text": (_s, [_p, _psz]),
    "mail_pop3_reply_resp_code": (_s, [_p, _psz]),
    "mail_pop3_caps_count": (_sz, [_p]),
    "mail_pop3_caps_keyword": (_s, [_p, _sz]),
    "mail_pop3_caps_param_count": (_sz, [_p, _sz]),
    "mail_pop3_caps_param": (_s, [_p, _sz, _sz]),
    # pop3.h
    "mail_pop3_new": (c_int, [POINTER(_p), _p]),
    "mail_pop3_free": (None, [_p]),
    "mail_pop3_conn": (_p, [_p]),
    "mail_pop3_sasl": (_p, [_p]),
    "mail_pop3_set_security": (c_int, [_p, c_int]),
    "mail_pop3_set_auth": (c_int, [_p, _s, _s]),
    "mail_pop3_set_auth_method": (c_int, [_p, c_int]),
    "mail_pop3_set_pipeline_window": (c_int, [_p, c_uint]),
    "mail_pop3_connect_url": (c_int, [_p, _s]),
    "mail_pop3_auth": (c_int, [_p]),
    "mail_pop3_get_state": (c_int, [_p]),
    "mail_pop3_state_name": (_s, [_p]),
    "mail_pop3_last_reply": (_p, [_p]),
    "mail_pop3_greeting": (_s, [_p]),
    "mail_pop3_capabilities": (_p, [_p]),
    "mail_pop3_has_capability": (c_int, [_p, _s]),
    "mail_pop3_stat": (c_int, [_p, POINTER(c_uint32), POINTER(c_uint64)]),
    "mail_pop3_list": (c_int, [_p]),
    "mail_pop3_list_count": (_sz, [_p]),
    "mail_pop3_list_at": (c_int, [_p, _sz, POINTER(c_uint32), POINTER(c_uint64)]),
    "mail_pop3_list_one": (c_int, [_p, c_uint32, POINTER(c_uint64)]),
    "mail_pop3_uidl": (c_int, [_p]),
    "mail_pop3_uidl_count": (_sz, [_p]),
    "mail_pop3_uidl_at": (c_int, [_p, _sz, POINTER(c_uint32), POINTER(c_char_p)]),
    "mail_pop3_uidl_one": (c_int, [_p, c_uint32, c_void_p, _sz]),
    "mail_pop3_retr": (c_int, [_p, c_uint32, POP3_BODY_FN, _p]),
    "mail_pop3_retr_many": (c_int, [_p, POINTER(c_uint32), _sz, POP3_BODY_FN, _p]),
    "mail_pop3_top": (c_int, [_p, c_uint32, c_uint32, POP3_BODY_FN, _p]),
    "mail_pop3_dele": (c_int, [_p, c_uint32]),
    "mail_pop3_dele_many": (c_int, [_p, POINTER(c_uint32), _sz]),
    "mail_pop3_batch_status": (c_int, [_p, _sz]),
    "mail_pop3_rset": (c_int, [_p]),
    "mail_pop3_noop": (c_int, [_p]),
    "mail_pop3_quit": (c_int, [_p, POINTER(c_int)]),
    "mail_pop3_deleted_count": (_sz, [_p]),
    "mail_pop3_uidset_new": (c_int, [POINTER(_p), _p]),
    "mail_pop3_uidset_free": (None, [_p]),
    "mail_pop3_uidset_add": (c_int, [_p, _s, c_int64]),
    "mail_pop3_uidset_count": (_sz, [_p]),
    "mail_pop3_uidset_at": (_s, [_p, _sz, POINTER(c_int64)]),
    "mail_pop3_leave_on_server": (c_int, [_p, _p, c_uint, POP3_BODY_FN, _p, _p, _psz]),
    # mime.h
    "mail_mime_defect_name": (_s, [c_int]),
    "mail_mime_limits_default": (None, [POINTER(mail_mime_limits)]),
    "mail_mime_part_content_type": (_s, [_p]),
    "mail_mime_part_type_param": (_s, [_p, _s]),
    "mail_mime_part_disposition": (_s, [_p]),
    "mail_mime_part_disposition_param": (_s, [_p, _s]),
    "mail_mime_part_filename": (_s, [_p]),
    "mail_mime_part_charset": (_s, [_p]),
    "mail_mime_part_encoding": (c_int, [_p]),
    "mail_mime_part_encoding_name": (_s, [_p]),
    "mail_mime_part_is_multipart": (c_int, [_p]),
    "mail_mime_part_is_message": (c_int, [_p]),
    "mail_mime_part_path": (_s, [_p]),
    "mail_mime_part_depth": (c_uint, [_p]),
    "mail_mime_part_offsets": (None, [_p, POINTER(c_uint64), POINTER(c_uint64),
                                      POINTER(c_uint64)]),
    "mail_mime_part_header_count": (_sz, [_p]),
    "mail_mime_part_header_at": (c_int, [_p, _sz, POINTER(c_void_p), POINTER(c_void_p), _psz]),
    "mail_mime_part_header": (_s, [_p, _s]),
    "mail_mime_part_header_decoded": (_s, [_p, _s]),
    "mail_mime_part_child_count": (_sz, [_p]),
    "mail_mime_part_child": (_p, [_p, _sz]),
    "mail_mime_part_parent": (_p, [_p]),
    "mail_mime_part_defect_count": (_sz, [_p]),
    "mail_mime_part_defect": (c_int, [_p, _sz, POINTER(c_int), POINTER(c_uint64)]),
    "mail_mime_message_parse": (c_int, [POINTER(_p), c_void_p, _sz, c_uint,
                                        POINTER(mail_mime_limits), _p]),
    "mail_mime_message_free": (None, [_p]),
    "mail_mime_message_root": (_p, [_p]),
    "mail_mime_message_defect_count": (_sz, [_p]),
    "mail_mime_message_defect": (c_int, [_p, _sz, POINTER(c_int), POINTER(c_uint64),
                                         POINTER(c_void_p)]),
    "mail_mime_part_decode": (c_int, [_p, c_uint, POINTER(c_void_p), _psz]),
    "mail_mime_part_decode_cb": (c_int, [_p, c_uint, MIME_DATA_FN, _p]),
    "mail_mime_header_decode": (c_int, [POINTER(c_void_p), _psz, _pu, _s, _sz, _p]),
    "mail_address_list_parse": (c_int, [POINTER(_p), _s, _sz, c_uint, _pu, _p]),
    "mail_address_list_count": (_sz, [_p]),
    "mail_address_list_get": (POINTER(mail_address), [_p, _sz]),
    "mail_address_list_free": (None, [_p]),
    "mail_date_parse": (c_int, [_s, _sz, POINTER(c_int64), POINTER(c_int)]),
    # mime_build.h
    "mail_mime_builder_new": (c_int, [POINTER(_p), _p]),
    "mail_mime_builder_free": (None, [_p]),
    "mail_mime_builder_set_options": (c_int, [_p, c_uint]),
    "mail_mime_builder_set_from": (c_int, [_p, _s, _s]),
    "mail_mime_builder_add_to": (c_int, [_p, _s, _s]),
    "mail_mime_builder_add_cc": (c_int, [_p, _s, _s]),
    "mail_mime_builder_add_bcc": (c_int, [_p, _s, _s]),
    "mail_mime_builder_add_reply_to": (c_int, [_p, _s, _s]),
    "mail_mime_builder_set_subject": (c_int, [_p, _s]),
    "mail_mime_builder_set_date": (c_int, [_p, c_int64, c_int]),
    "mail_mime_builder_set_message_id": (c_int, [_p, _s]),
    "mail_mime_builder_add_header": (c_int, [_p, _s, _s]),
    "mail_mime_builder_set_text": (c_int, [_p, _s, _sz]),
    "mail_mime_builder_set_html": (c_int, [_p, _s, _sz]),
    "mail_mime_builder_add_inline": (c_int, [_p, _s, _s, c_void_p, _sz, _s, POINTER(_p)]),
    "mail_mime_builder_add_attachment": (c_int, [_p, _s, _s, c_void_p, _sz, POINTER(_p)]),
    "mail_mime_builder_add_attachment_file": (c_int, [_p, _s, _s, _s, POINTER(_p)]),
    "mail_mime_builder_add_attachment_callback": (c_int, [_p, _s, _s, MIME_READ_FN,
                                                          MIME_REWIND_FN, _p, c_uint64,
                                                          POINTER(_p)]),
    "mail_mime_builder_attach_message_data": (c_int, [_p, c_void_p, _sz, _s, POINTER(_p)]),
    "mail_mime_builder_part_set_content_id": (c_int, [_p, _s]),
    "mail_mime_builder_part_add_header": (c_int, [_p, _s, _s]),
    "mail_mime_builder_size": (c_int, [_p, POINTER(c_uint64)]),
    "mail_mime_builder_transport": (c_int, [_p, _pu]),
    "mail_mime_builder_to_buffer": (c_int, [_p, POINTER(c_void_p), _psz]),
    "mail_mime_builder_rewind": (c_int, [_p]),
    "mail_mime_builder_envelope_from": (c_int, [_p, POINTER(c_char_p)]),
    "mail_mime_builder_envelope_count": (_sz, [_p]),
    "mail_mime_builder_envelope_recipient": (c_int, [_p, _sz, POINTER(c_char_p)]),
    # Declared for completeness (every exported function is: tests/test_capi.py),
    # most not used by the package itself.
    # common.h
    "mail_limits_init": (c_int, [POINTER(mail_limits), c_uint]),
    # conn.h
    "mail_tls_config_set_ca_path": (c_int, [_p, _s]),
    "mail_tls_config_set_ca_mem": (c_int, [_p, _s, _sz]),
    "mail_tls_config_set_system_ca": (c_int, [_p, c_int]),
    "mail_tls_config_set_client_cert_mem": (c_int, [_p, _s, _sz, _s, _sz, _s]),
    "mail_tls_config_set_pin_only": (c_int, [_p, c_int]),
    "mail_tls_config_set_verify_callback": (c_int, [_p, TLS_VERIFY_FN, c_void_p]),
    "mail_tls_config_set_session_resumption": (c_int, [_p, c_int]),
    "mail_conn_new": (c_int, [POINTER(_p), _p]),
    "mail_conn_free": (None, [_p]),
    "mail_conn_set_trace_show_secrets_insecure": (c_int, [_p, c_int]),
    "mail_conn_set_random": (c_int, [_p, RANDOM_FN, c_void_p]),
    "mail_conn_set_clock": (c_int, [_p, CLOCK_FN, c_void_p]),
    "mail_conn_set_transport": (c_int, [_p, _p, c_void_p]),
    "mail_conn_set_feed": (c_int, [_p, c_int]),
    "mail_conn_feed": (c_int, [_p, c_void_p, _sz, _psz]),
    "mail_conn_feed_eof": (c_int, [_p]),
    "mail_conn_feed_error": (c_int, [_p, c_int]),
    "mail_conn_drain": (c_int, [_p, c_void_p, _sz, _psz]),
    "mail_conn_feed_tls_done": (c_int, [_p, c_int, c_int]),
    "mail_conn_feed_set_channel_binding": (c_int, [_p, c_int, c_void_p, _sz]),
    "mail_conn_adopt_fd": (c_int, [_p, c_int, _s]),
    "mail_conn_connect": (c_int, [_p, _s, c_uint, c_int]),
    "mail_conn_connect_addr": (c_int, [_p, c_void_p, _sz, _s, c_int]),
    "mail_conn_connect_unix": (c_int, [_p, _s]),
    "mail_conn_tls_resumed": (c_int, [_p]),
    "mail_conn_peer_certificate": (c_int, [_p, POINTER(_p), _psz]),
    "mail_conn_channel_binding": (c_int, [_p, c_int, c_void_p, _sz, _psz]),
    # imap.h
    "mail_imap_new": (c_int, [POINTER(_p), _p]),
    "mail_imap_free": (None, [_p]),
    "mail_imap_conn": (_p, [_p]),
    "mail_imap_sasl": (_p, [_p]),
    "mail_imap_set_security": (c_int, [_p, c_int]),
    "mail_imap_set_auth": (c_int, [_p, _s, _s]),
    "mail_imap_set_auth_method": (c_int, [_p, c_int]),
    "mail_imap_set_untagged_callback": (c_int, [_p, IMAP_UNTAGGED_FN, c_void_p]),
    "mail_imap_get_state": (c_int, [_p]),
    "mail_imap_state_name": (_s, [_p]),
    "mail_imap_connect": (c_int, [_p, _s, c_uint, c_int]),
    "mail_imap_connect_url": (c_int, [_p, _s]),
    "mail_imap_url_mailbox": (_s, [_p]),
    "mail_imap_login": (c_int, [_p]),
    "mail_imap_capability": (c_int, [_p]),
    "mail_imap_has_capability": (c_int, [_p, _s]),
    "mail_imap_capabilities": (_s, [_p]),
    "mail_imap_greeting": (_s, [_p]),
    "mail_imap_enable": (c_int, [_p, POINTER(c_char_p), _sz]),
    "mail_imap_is_enabled": (c_int, [_p, _s]),
    "mail_imap_id": (c_int, [_p, POINTER(c_char_p), POINTER(c_char_p), _sz]),
    "mail_imap_noop": (c_int, [_p]),
    "mail_imap_logout": (c_int, [_p]),
    "mail_imap_select": (c_int, [_p, _s, c_int]),
    "mail_imap_mailbox_number": (c_int, [POINTER(c_uint64), _p, c_int]),
    "mail_imap_mailbox_flag_count": (_sz, [_p, c_int]),
    "mail_imap_mailbox_flag": (_s, [_p, c_int, _sz]),
    "mail_imap_mailbox_read_only": (c_int, [_p]),
    "mail_imap_create": (c_int, [_p, _s]),
    "mail_imap_delete": (c_int, [_p, _s]),
    "mail_imap_rename": (c_int, [_p, _s, _s]),
    "mail_imap_subscribe": (c_int, [_p, _s]),
    "mail_imap_unsubscribe": (c_int, [_p, _s]),
    "mail_imap_close": (c_int, [_p]),
    "mail_imap_unselect": (c_int, [_p]),
    "mail_imap_expunge": (c_int, [_p]),
    "mail_imap_list": (c_int, [_p, _s, _s, c_uint]),
    "mail_imap_namespace": (c_int, [_p]),
    "mail_imap_status": (c_int, [_p, _s, c_uint]),
    "mail_imap_seqset_new": (c_int, [POINTER(_p), _p]),
    "mail_imap_seqset_free": (None, [_p]),
    "mail_imap_seqset_clear": (None, [_p]),
    "mail_imap_seqset_add_range": (c_int, [_p, c_uint32, c_uint32]),
    "mail_imap_seqset_add": (c_int, [_p, POINTER(c_uint32), _sz]),
    "mail_imap_set_max_set_length": (c_int, [_p, _sz]),
    "mail_imap_fetch": (c_int, [_p, _p, c_int, _s, IMAP_BODY_FN, c_void_p]),
    "mail_imap_store": (c_int, [_p, _p, c_int, c_int, POINTER(c_char_p), _sz, c_int, c_uint64]),
    "mail_imap_copy": (c_int, [_p, _p, c_int, _s, c_int]),
    "mail_imap_uid_expunge": (c_int, [_p, _p]),
    "mail_imap_search": (c_int, [_p, c_int, _s, _s, POINTER(c_char_p), _sz]),
    "mail_imap_append": (c_int, [_p, _s, POINTER(c_char_p), _sz, c_int64, c_uint64, READ_FN,
                                 c_void_p]),
    "mail_imap_append_builder": (c_int, [_p, _s, POINTER(c_char_p), _sz, c_int64, _p]),
    "mail_imap_append_uid": (c_int, [POINTER(c_uint32), POINTER(c_uint32), _p]),
    "mail_imap_idle_start": (c_int, [_p]),
    "mail_imap_idle_done": (c_int, [_p]),
    "mail_imap_idle_stop": (None, [_p]),
    "mail_imap_set_idle_interval": (c_int, [_p, c_int]),
    "mail_imap_last_status": (c_int, [_p]),
    "mail_imap_last_code": (c_int, [_p]),
    "mail_imap_last_text": (_s, [_p]),
    "mail_imap_last_code_data": (_s, [_p]),
    # imap_parse.h
    "mail_imap_parser_new": (c_int, [POINTER(_p), _p]),
    "mail_imap_parser_free": (None, [_p]),
    "mail_imap_parser_set_limits": (c_int, [_p, POINTER(mail_limits)]),
    "mail_imap_parser_set_utf8": (c_int, [_p, c_int]),
    "mail_imap_parser_expect_greeting": (c_int, [_p, c_int]),
    "mail_imap_parser_set_body_callback": (c_int, [_p, IMAP_BODY_FN, c_void_p]),
    "mail_imap_parser_feed": (c_int, [_p, c_void_p, _sz]),
    "mail_imap_parser_end": (None, [_p]),
    "mail_imap_parser_next": (c_int, [_p, POINTER(_p)]),
    "mail_imap_parser_reset": (None, [_p]),
    "mail_imap_parser_pending": (_sz, [_p]),
    "mail_imap_parser_held": (_sz, [_p]),
    "mail_imap_response_kind": (c_int, [_p]),
    "mail_imap_response_type": (c_int, [_p]),
    "mail_imap_response_tag": (_pc, [_p, _psz]),
    "mail_imap_response_span": (None, [_p, POINTER(c_uint64), POINTER(c_uint64)]),
    "mail_imap_response_text": (_pc, [_p, _psz]),
    "mail_imap_response_text_base64": (c_int, [_p, _psz, c_void_p, _sz]),
    "mail_imap_response_number": (c_int, [_p, POINTER(c_uint32)]),
    "mail_imap_response_code": (c_int, [_p]),
    "mail_imap_response_code_name": (_pc, [_p, _psz]),
    "mail_imap_response_code_raw": (_pc, [_p, _psz]),
    "mail_imap_response_code_number": (c_int, [_p, POINTER(c_uint64)]),
    "mail_imap_response_code_set": (_pc, [_p, _psz]),
    "mail_imap_response_code_set2": (_pc, [_p, _psz]),
    "mail_imap_response_string_count": (_sz, [_p]),
    "mail_imap_response_string": (_pc, [_p, _sz, _psz]),
    "mail_imap_response_numbers": (POINTER(c_uint32), [_p, _psz]),
    "mail_imap_response_modseq": (c_int, [_p, POINTER(c_uint64)]),
    "mail_imap_response_mailbox": (_pc, [_p, _psz, _ppc, _psz]),
    "mail_imap_response_delimiter": (c_int, [_p, _s]),
    "mail_imap_response_list_ext": (c_int, [_p, _sz, _ppc, _psz,
                                            _ppc, _psz]),
    "mail_imap_response_status_item": (c_int, [_p, _sz, _ppc, _psz,
                                               POINTER(c_uint64)]),
    "mail_imap_response_namespace": (c_int, [_p, c_int, _sz, _ppc, _psz, _s]),
    "mail_imap_response_set": (_pc, [_p, _psz]),
    "mail_imap_response_range_count": (_sz, [_p]),
    "mail_imap_response_range": (c_int, [_p, _sz, POINTER(c_uint32), POINTER(c_uint32)]),
    "mail_imap_response_earlier": (c_int, [_p]),
    "mail_imap_response_esearch": (c_int, [_p, _ppc, _psz, POINTER(c_int)]),
    "mail_imap_response_esearch_item": (c_int, [_p, _sz, _ppc, _psz,
                                                _ppc, _psz]),
    "mail_imap_response_thread_node": (c_int, [_p, _sz, POINTER(c_uint32), _psz]),
    "mail_imap_response_defect_count": (_sz, [_p]),
    "mail_imap_response_defect": (c_int, [_p, _sz, POINTER(c_int), _ppc, _psz,
                                          _ppc, _psz]),
    "mail_imap_fetch_has": (c_int, [_p, c_int]),
    "mail_imap_fetch_number": (c_int, [_p, c_int, POINTER(c_uint64)]),
    "mail_imap_fetch_string": (_pc, [_p, c_int, _psz]),
    "mail_imap_fetch_internaldate": (c_int, [_p, POINTER(c_int64)]),
    "mail_imap_fetch_flag_count": (_sz, [_p]),
    "mail_imap_fetch_flag": (_pc, [_p, _sz, _psz]),
    "mail_imap_fetch_label_count": (_sz, [_p]),
    "mail_imap_fetch_label": (_pc, [_p, _sz, _psz]),
    "mail_imap_fetch_binary_size": (c_int, [_p, _sz, _ppc, _psz, POINTER(c_uint64)]),
    "mail_imap_fetch_envelope": (_p, [_p]),
    "mail_imap_fetch_body": (_p, [_p]),
    "mail_imap_fetch_section_count": (_sz, [_p]),
    "mail_imap_fetch_section": (_p, [_p, _sz]),
    "mail_imap_section_item": (_pc, [_p, _psz]),
    "mail_imap_section_spec": (_pc, [_p, _psz]),
    "mail_imap_section_origin": (c_int, [_p, POINTER(c_uint64)]),
    "mail_imap_section_size": (c_uint64, [_p]),
    "mail_imap_section_is_nil": (c_int, [_p]),
    "mail_imap_section_message": (c_uint32, [_p]),
    "mail_imap_envelope_field": (_pc, [_p, c_int, _psz]),
    "mail_imap_envelope_address_count": (_sz, [_p, c_int]),
    "mail_imap_envelope_address": (_p, [_p, c_int, _sz]),
    "mail_imap_address_name": (_pc, [_p, _psz]),
    "mail_imap_address_adl": (_pc, [_p, _psz]),
    "mail_imap_address_mailbox": (_pc, [_p, _psz]),
    "mail_imap_address_host": (_pc, [_p, _psz]),
    "mail_imap_body_is_multipart": (c_int, [_p]),
    "mail_imap_body_child_count": (_sz, [_p]),
    "mail_imap_body_child": (_p, [_p, _sz]),
    "mail_imap_body_parent": (_p, [_p]),
    "mail_imap_body_field": (_pc, [_p, c_int, _psz]),
    "mail_imap_body_param_count": (_sz, [_p, c_int]),
    "mail_imap_body_param": (c_int, [_p, c_int, _sz, _ppc, _psz,
                                     _ppc, _psz]),
    "mail_imap_body_language_count": (_sz, [_p]),
    "mail_imap_body_language": (_pc, [_p, _sz, _psz]),
    "mail_imap_body_size": (c_int, [_p, POINTER(c_uint64)]),
    "mail_imap_body_lines": (c_int, [_p, POINTER(c_uint64)]),
    "mail_imap_body_envelope": (_p, [_p]),
    "mail_imap_body_extension": (_pc, [_p, _psz]),
    "mail_imap_utf7_decode": (c_int, [_psz, _s, _sz, _s, _sz]),
    "mail_imap_utf7_encode": (c_int, [_psz, _s, _sz, _s, _sz]),
    # mime.h
    "mail_mime_parser_new": (c_int, [POINTER(_p), _p]),
    "mail_mime_parser_free": (None, [_p]),
    "mail_mime_parser_set_callbacks": (c_int, [_p, _p]),
    "mail_mime_parser_set_limits": (c_int, [_p, POINTER(mail_mime_limits)]),
    "mail_mime_parser_set_flags": (c_int, [_p, c_uint]),
    "mail_mime_parser_feed": (c_int, [_p, c_void_p, _sz]),
    "mail_mime_parser_finish": (c_int, [_p]),
    "mail_mime_parser_reset": (None, [_p]),
    "mail_mime_parser_defect_total": (_sz, [_p]),
    "mail_mime_message_source": (c_void_p, [_p, _psz]),
    "mail_mime_part_set_header": (c_int, [_p, _s, _s]),
    "mail_mime_part_remove": (c_int, [_p]),
    "mail_mime_part_append_raw": (c_int, [_p, c_void_p, _sz]),
    "mail_mime_message_write": (c_int, [_p, MIME_DATA_FN, c_void_p]),
    "mail_charset_to_utf8": (c_int, [POINTER(c_void_p), _psz, _s, c_void_p, _sz, _p]),
    "mail_mime_safe_filename": (_s, [_s, _p]),
    "mail_msgid_list_parse": (c_int, [POINTER(_p), _s, _sz, _pu, _p]),
    "mail_msgid_list_count": (_sz, [_p]),
    "mail_msgid_list_get": (_s, [_p, _sz]),
    "mail_msgid_list_free": (None, [_p]),
    "mail_mbox_reader_new": (c_int, [POINTER(_p), c_int, _p, _p]),
    "mail_mbox_reader_feed": (c_int, [_p, c_void_p, _sz]),
    "mail_mbox_reader_finish": (c_int, [_p]),
    "mail_mbox_reader_free": (None, [_p]),
    "mail_dsn_parse": (c_int, [POINTER(_p), c_void_p, _sz, _p]),
    "mail_dsn_reporting_mta": (_s, [_p]),
    "mail_dsn_envelope_id": (_s, [_p]),
    "mail_dsn_arrival_date": (_s, [_p]),
    "mail_dsn_recipient_count": (_sz, [_p]),
    "mail_dsn_recipient_get": (_p, [_p, _sz]),
    "mail_dsn_free": (None, [_p]),
    "mail_mdn_parse": (c_int, [POINTER(_p), c_void_p, _sz, _p]),
    "mail_mdn_free": (None, [_p]),
    # mime_build.h
    "mail_mime_builder_set_random": (c_int, [_p, RANDOM_FN, c_void_p]),
    "mail_mime_builder_set_clock": (c_int, [_p, CLOCK_FN, c_void_p]),
    "mail_mime_builder_get_options": (c_uint, [_p]),
    "mail_mime_builder_set_sender": (c_int, [_p, _s, _s]),
    "mail_mime_builder_add_address": (c_int, [_p, c_int, POINTER(mail_address)]),
    "mail_mime_builder_attach_message": (c_int, [_p, _p, _s, POINTER(_p)]),
    "mail_mime_builder_part_set_encoding": (c_int, [_p, c_int]),
    "mail_mime_builder_read": (c_int, [_p, c_void_p, _sz, _psz]),
    "mail_mime_builder_read_cb": (c_int, [c_void_p, c_void_p, _sz, _psz]),
    "mail_mime_builder_write": (c_int, [_p, MIME_DATA_FN, c_void_p]),
    "mail_date_format": (_sz, [c_void_p, c_int64, c_int]),
    # pop3.h
    "mail_pop3_connect": (c_int, [_p, _s, c_uint, c_int]),
    "mail_pop3_last_reply_command": (_s, [_p]),
    "mail_pop3_caps_known": (c_int, [_p]),
    "mail_pop3_login_delay": (c_int, [_p, POINTER(c_uint32)]),
    "mail_pop3_expire": (c_int, [_p, POINTER(c_uint32), POINTER(c_int), POINTER(c_int)]),
    "mail_pop3_implementation": (_s, [_p]),
    "mail_pop3_uidl_many": (c_int, [_p, POINTER(c_uint32), _sz]),
    "mail_pop3_uidset_contains": (c_int, [_p, _s]),
    "mail_pop3_uidset_clear": (None, [_p]),
    # pop3_reply.h
    "mail_pop3_parser_new": (c_int, [POINTER(_p), _p]),
    "mail_pop3_parser_free": (None, [_p]),
    "mail_pop3_parser_set_limits": (c_int, [_p, POINTER(mail_limits)]),
    "mail_pop3_parser_expect": (c_int, [_p, c_int]),
    "mail_pop3_parser_feed": (c_int, [_p, c_void_p, _sz]),
    "mail_pop3_parser_end": (None, [_p]),
    "mail_pop3_parser_next": (c_int, [_p, POINTER(c_int)]),
    "mail_pop3_parser_reply": (_p, [_p]),
    "mail_pop3_parser_data": (c_void_p, [_p, _psz]),
    "mail_pop3_parser_reset": (None, [_p]),
    "mail_pop3_parser_pending": (_sz, [_p]),
    "mail_pop3_reply_resp_code_id": (c_int, [_p]),
    "mail_pop3_reply_copy_text": (c_int, [_p, _s, _sz, _psz]),
    "mail_pop3_reply_clone": (c_int, [POINTER(_p), _p, _p]),
    "mail_pop3_reply_free": (None, [_p]),
    "mail_pop3_parse_stat": (c_int, [POINTER(c_uint32), POINTER(c_uint64), _s, _sz]),
    "mail_pop3_parse_list": (c_int, [POINTER(c_uint32), POINTER(c_uint64), _s, _sz]),
    "mail_pop3_parse_uidl": (c_int, [POINTER(c_uint32), POINTER(c_char_p), _psz, _s, _sz]),
    "mail_pop3_caps_new": (c_int, [POINTER(_p), _p]),
    "mail_pop3_caps_free": (None, [_p]),
    "mail_pop3_caps_clear": (None, [_p]),
    "mail_pop3_caps_add_line": (c_int, [_p, _s, _sz]),
    "mail_pop3_caps_find": (c_int, [_p, _s, _psz]),
    # sasl.h
    "mail_sasl_new": (c_int, [POINTER(_p), _p]),
    "mail_sasl_free": (None, [_p]),
    "mail_sasl_set_username": (c_int, [_p, _s]),
    "mail_sasl_set_password": (c_int, [_p, _s]),
    "mail_sasl_set_authzid": (c_int, [_p, _s]),
    "mail_sasl_set_oauth_host": (c_int, [_p, _s, c_uint]),
    "mail_sasl_set_external": (c_int, [_p, c_int]),
    "mail_sasl_set_tls": (c_int, [_p, c_int]),
    "mail_sasl_set_channel_binding": (c_int, [_p, c_int, c_void_p, _sz]),
    "mail_sasl_set_channel_binding_preference": (c_int, [_p, c_int]),
    "mail_sasl_set_allow_channel_binding_downgrade": (c_int, [_p, c_int]),
    "mail_sasl_set_scram_iterations": (c_int, [_p, c_uint, c_uint]),
    "mail_sasl_set_random": (c_int, [_p, RANDOM_FN, c_void_p]),
    "mail_sasl_select": (c_int, [_p, _s, POINTER(c_char_p)]),
    "mail_sasl_next_mechanism": (c_int, [_p, POINTER(c_char_p)]),
    "mail_sasl_start": (c_int, [_p, _s, POINTER(_p), _psz]),
    "mail_sasl_step": (c_int, [_p, c_void_p, _sz, POINTER(_p), _psz]),
    "mail_sasl_success": (c_int, [_p, c_void_p, _sz]),
    "mail_sasl_failure": (c_int, [_p]),
    "mail_sasl_downgrade_channel_binding": (c_int, [_p, POINTER(c_char_p)]),
    "mail_sasl_outcome": (c_int, [_p]),
    "mail_sasl_error_detail": (_s, [_p, c_int]),
    "mail_sasl_b64_encode": (c_int, [_psz, _s, _sz, c_void_p, _sz]),
    "mail_sasl_b64_decode": (c_int, [_psz, c_void_p, _sz, _s, _sz]),
    # smtp.h
    "mail_smtp_set_strict": (c_int, [_p, c_int]),
    "mail_smtp_connect": (c_int, [_p, _s, c_uint, c_int]),
    "mail_smtp_connect_unix": (c_int, [_p, _s]),
    "mail_smtp_send_mime": (c_int, [_p, _p, _p]),
    "mail_smtp_last_reply_command": (_s, [_p]),
    "mail_smtp_greeting": (_s, [_p]),
    # smtp_reply.h
    "mail_smtp_parser_new": (c_int, [POINTER(_p), _p]),
    "mail_smtp_parser_free": (None, [_p]),
    "mail_smtp_parser_set_limits": (c_int, [_p, POINTER(mail_limits)]),
    "mail_smtp_parser_set_enhanced_codes": (c_int, [_p, c_int]),
    "mail_smtp_parser_feed": (c_int, [_p, c_void_p, _sz]),
    "mail_smtp_parser_end": (None, [_p]),
    "mail_smtp_parser_next": (c_int, [_p, POINTER(_p)]),
    "mail_smtp_parser_reset": (None, [_p]),
    "mail_smtp_parser_pending": (_sz, [_p]),
    "mail_smtp_reply_line_count": (_sz, [_p]),
    "mail_smtp_reply_line": (_s, [_p, _sz, _psz]),
    "mail_smtp_reply_line_enhanced": (c_int, [_p, _sz, _pu, _pu, _pu]),
    "mail_smtp_reply_copy_text": (c_int, [_p, _s, _sz, _psz]),
    "mail_smtp_reply_clone": (c_int, [POINTER(_p), _p, _p]),
    "mail_smtp_reply_free": (None, [_p]),
    "mail_smtp_caps_new": (c_int, [POINTER(_p), _p]),
    "mail_smtp_caps_free": (None, [_p]),
    "mail_smtp_caps_parse_ehlo": (c_int, [_p, _p]),
    "mail_smtp_caps_find": (c_int, [_p, _s, _psz]),
    # conn.h
    "mail_conn_is_compressed": (c_int, [_p]),
    "mail_conn_compress_counts": (c_int, [POINTER(c_uint64), POINTER(c_uint64),
                                          POINTER(c_uint64), POINTER(c_uint64), _p]),
    # imap.h
    "mail_imap_compress": (c_int, [_p]),
    # imap_ext.h
    "mail_imap_getquota": (c_int, [_p, _s]),
    "mail_imap_getquotaroot": (c_int, [_p, _s]),
    "mail_imap_setquota": (c_int, [_p, _s, POINTER(c_char_p), POINTER(c_uint64), _sz]),
    "mail_imap_setacl": (c_int, [_p, _s, _s, _s]),
    "mail_imap_deleteacl": (c_int, [_p, _s, _s]),
    "mail_imap_getacl": (c_int, [_p, _s]),
    "mail_imap_listrights": (c_int, [_p, _s, _s]),
    "mail_imap_myrights": (c_int, [_p, _s]),
    "mail_imap_getmetadata": (c_int, [_p, _s, POINTER(c_char_p), _sz, c_uint64, c_int]),
    "mail_imap_setmetadata": (c_int, [_p, _s, POINTER(c_char_p), POINTER(c_char_p), _psz, _sz]),
    "mail_imap_sort": (c_int, [_p, c_int, _s, _s, _s, POINTER(c_char_p), _sz]),
    "mail_imap_thread": (c_int, [_p, c_int, _s, _s, POINTER(c_char_p), _sz]),
    "mail_imap_create_special_use": (c_int, [_p, _s, POINTER(c_char_p), _sz]),
    "mail_imap_unauthenticate": (c_int, [_p]),
    "mail_imap_multiappend": (c_int, [_p, _s, POINTER(c_char_p), _sz, POINTER(c_uint64), _sz,
                                      READ_FN, _p]),
    "mail_imap_append_limit": (c_int, [POINTER(c_uint64), _p]),
    "mail_imap_throttle": (c_int, [POINTER(c_int64), _p]),
    "mail_imap_store_labels": (c_int, [_p, _p, c_int, c_int, POINTER(c_char_p), _sz, c_int]),
    # imap_parse.h (extensions)
    "mail_imap_response_quota": (c_int, [_p, _sz, _ppc, _psz, POINTER(c_uint64),
                                         POINTER(c_uint64)]),
    "mail_imap_response_acl": (c_int, [_p, _sz, _ppc, _psz, _ppc, _psz]),
    "mail_imap_response_metadata": (c_int, [_p, _sz, _ppc, _psz, _ppc, _psz]),
    "mail_imap_response_metadata_changed": (c_int, [_p]),
    "mail_imap_response_status_mailboxid": (_pc, [_p, _psz]),
    # maildir.h
    "mail_maildir_open": (c_int, [POINTER(_p), _s, c_uint, _p]),
    "mail_maildir_free": (None, [_p]),
    "mail_maildir_path": (_s, [_p]),
    "mail_maildir_last_error": (_s, [_p]),
    "mail_maildir_delivery_begin": (c_int, [POINTER(_p), _p]),
    "mail_maildir_delivery_write": (c_int, [_p, c_void_p, _sz]),
    "mail_maildir_delivery_commit": (c_int, [_s, _sz, _p, _s, c_int64]),
    "mail_maildir_delivery_abort": (None, [_p]),
    "mail_maildir_delivery_tmp_path": (_s, [_p]),
    "mail_maildir_delivery_size": (c_uint64, [_p]),
    "mail_maildir_deliver": (c_int, [_s, _sz, _p, _s, c_int64, READ_FN, c_void_p]),
    "mail_maildir_list": (c_int, [_p, MAILDIR_ENTRY_FN, c_void_p]),
    "mail_maildir_message_path": (c_int, [_s, _sz, _p, _s]),
    "mail_maildir_get_flags": (c_int, [_s, _sz, _p, _s]),
    "mail_maildir_set_flags": (c_int, [_p, _s, _s]),
    "mail_maildir_remove": (c_int, [_p, _s]),
    "mail_maildir_flags_from_imap": (c_int, [_s, _sz, POINTER(c_char_p), _sz]),
    "mail_maildir_map_set": (c_int, [_p, _s, _s, c_int64]),
    "mail_maildir_map_get": (c_int, [_s, _sz, POINTER(c_int64), _p, _s]),
    "mail_maildir_map_remove": (c_int, [_p, _s]),
    "mail_maildir_map_count": (_sz, [_p]),
    "mail_maildir_map_each": (c_int, [_p, MAILDIR_MAP_FN, c_void_p]),
    "mail_maildir_map_save": (c_int, [_p]),
    # imap_sync.h
    "mail_imap_select_qresync": (c_int, [_p, _s, c_int, c_uint32, c_uint64, _p, _p, _p]),
    "mail_imap_fetch_changedsince": (c_int, [_p, _p, c_int, _s, c_uint64, c_int, IMAP_BODY_FN,
                                             c_void_p]),
    "mail_imap_notify_new": (c_int, [POINTER(_p), _p]),
    "mail_imap_notify_free": (None, [_p]),
    "mail_imap_notify_add": (c_int, [_p, c_int, POINTER(_s), _sz, c_uint]),
    "mail_imap_notify_set": (c_int, [_p, _p, c_int]),
    "mail_imap_notify_none": (c_int, [_p]),
    "mail_imap_sync_state_new": (c_int, [POINTER(_p), _p]),
    "mail_imap_sync_state_free": (None, [_p]),
    "mail_imap_sync_state_clear": (None, [_p]),
    "mail_imap_sync_state_set_max_uids": (c_int, [_p, _sz]),
    "mail_imap_sync_state_uidvalidity": (c_uint32, [_p]),
    "mail_imap_sync_state_highestmodseq": (c_uint64, [_p]),
    "mail_imap_sync_state_count": (_sz, [_p]),
    "mail_imap_sync_state_uid": (c_uint32, [_p, _sz]),
    "mail_imap_sync_state_flags": (c_int, [_pc, _sz, _p, c_uint32]),
    "mail_imap_sync_state_save": (c_int, [_p, _s]),
    "mail_imap_sync_state_load": (c_int, [_p, _s]),
    "mail_imap_sync_state_write": (c_int, [_p, MIME_DATA_FN, c_void_p]),
    "mail_imap_sync_state_read": (c_int, [_p, READ_FN, c_void_p]),
    "mail_imap_sync_run": (c_int, [POINTER(c_int), _p, _p, _s, c_int, c_int, IMAP_SYNC_FN,
                                   c_void_p]),
    "mail_imap_sync_wait": (c_int, [_p, _p, _s, c_int, c_int, c_int, c_int, IMAP_SYNC_FN,
                                    c_void_p]),
    "mail_imap_sync_maildir": (c_int, [_psz, _p, _s, _p, c_int]),
    # sasl.h
    "mail_sasl_set_crypto": (c_int, [_p, _p, c_void_p]),
    # smtp.h
    "mail_smtp_batch_new": (c_int, [POINTER(_p), _p]),
    "mail_smtp_batch_free": (None, [_p]),
    "mail_smtp_batch_add": (c_int, [_p, _p, _psz]),
    "mail_smtp_batch_add_mime": (c_int, [_p, _p, _p, _psz]),
    "mail_smtp_batch_set_callback": (c_int, [_p, SMTP_BATCH_FN, c_void_p]),
    "mail_smtp_batch_count": (_sz, [_p]),
    "mail_smtp_batch_result": (c_int, [_p, _sz]),
    "mail_smtp_batch_code": (c_int, [_p, _sz]),
    "mail_smtp_batch_error": (_s, [_p, _sz]),
    "mail_smtp_send_batch": (c_int, [_p, _p]),
    "mail_smtp_retry_init": (c_int, [_p, c_uint]),
    "mail_smtp_send_retry": (c_int, [_p, _p, _p]),
    # nntp.h, nntp_reply.h (no Python class yet: declared so every export is)
    "mail_nntp_article": (c_int, [_p, c_int, c_uint64, CALLBACKS['mail_nntp_body_fn'], _p]),
    "mail_nntp_article_by_id": (c_int, [_p, c_int, _s, CALLBACKS['mail_nntp_body_fn'], _p]),
    "mail_nntp_article_many": (c_int, [_p, c_int, POINTER(c_uint64), _sz, CALLBACKS['mail_nntp_body_fn'], _p]),
    "mail_nntp_auth": (c_int, [_p]),
    "mail_nntp_batch_status": (c_int, [_p, _sz]),
    "mail_nntp_capabilities": (c_int, [_p]),
    "mail_nntp_capability_count": (_sz, [_p]),
    "mail_nntp_capability_keyword": (_s, [_p, _sz]),
    "mail_nntp_capability_param": (_s, [_p, _sz, _sz]),
    "mail_nntp_capability_param_count": (_sz, [_p, _sz]),
    "mail_nntp_caps_known": (c_int, [_p]),
    "mail_nntp_conn": (_p, [_p]),
    "mail_nntp_connect": (c_int, [_p, _s, c_uint, c_int]),
    "mail_nntp_connect_url": (c_int, [_p, _s]),
    "mail_nntp_current_article": (_s, [_p, POINTER(c_uint64)]),
    "mail_nntp_current_group": (_s, [_p]),
    "mail_nntp_date": (c_int, [_p, POINTER(c_int64)]),
    "mail_nntp_compress": (c_int, [_p]),
    # imap-core: the line bound, SEARCH within a set, the wake fd
    "mail_conn_wake_fd": (c_int, [_p]),
    "mail_imap_set_max_line_length": (c_int, [_p, _sz]),
    "mail_imap_max_line_length": (_sz, [_p]),
    "mail_imap_search_within": (c_int, [_p, c_int, _s, _p, _s, POINTER(_s), _sz]),
    "mail_nntp_free": (None, [_p]),
    "mail_nntp_get_state": (c_int, [_p]),
    "mail_nntp_greeting": (_s, [_p]),
    "mail_nntp_group": (c_int, [_p, _s, POINTER(c_uint64), POINTER(c_uint64), POINTER(c_uint64)]),
    "mail_nntp_has_capability": (c_int, [_p, _s]),
    "mail_nntp_has_capability_arg": (c_int, [_p, _s, _s]),
    "mail_nntp_hdr": (c_int, [_p, _s, c_uint64, c_uint64]),
    "mail_nntp_hdr_at": (_pc, [_p, _sz, POINTER(c_uint64), _psz]),
    "mail_nntp_hdr_by_id": (c_int, [_p, _s, _s]),
    "mail_nntp_hdr_count": (_sz, [_p]),
    "mail_nntp_ihave": (c_int, [_p, _s, CALLBACKS['mail_read_fn'], _p]),
    "mail_nntp_is_authenticated": (c_int, [_p]),
    "mail_nntp_last": (c_int, [_p, POINTER(c_uint64)]),
    "mail_nntp_last_reply": (_p, [_p]),
    "mail_nntp_last_reply_command": (_s, [_p]),
    "mail_nntp_list": (c_int, [_p, c_int, _s]),
    "mail_nntp_list_active_at": (_s, [_p, _sz, POINTER(c_uint64), POINTER(c_uint64), POINTER(_s)]),
    "mail_nntp_list_count": (_sz, [_p]),
    "mail_nntp_list_field": (_pc, [_p, _sz, _sz, _psz]),
    "mail_nntp_list_field_count": (_sz, [_p, _sz]),
    "mail_nntp_listgroup": (c_int, [_p, _s, c_uint64, c_uint64]),
    "mail_nntp_listgroup_at": (c_uint64, [_p, _sz]),
    "mail_nntp_listgroup_count": (_sz, [_p]),
    "mail_nntp_new": (c_int, [POINTER(_p), _p]),
    "mail_nntp_newgroups": (c_int, [_p, c_int64]),
    "mail_nntp_newnews": (c_int, [_p, _s, c_int64]),
    "mail_nntp_next": (c_int, [_p, POINTER(c_uint64)]),
    "mail_nntp_over": (c_int, [_p, c_uint64, c_uint64]),
    "mail_nntp_over_at": (_p, [_p, _sz]),
    "mail_nntp_over_by_id": (c_int, [_p, _s]),
    "mail_nntp_over_count": (_sz, [_p]),
    "mail_nntp_over_extra_count": (_sz, [_p]),
    "mail_nntp_over_extra_name": (_s, [_p, _sz]),
    "mail_nntp_overview_bytes": (c_uint64, [_p]),
    "mail_nntp_overview_extra": (_pc, [_p, _sz, _psz]),
    "mail_nntp_overview_field": (_pc, [_p, c_int, _psz]),
    "mail_nntp_overview_lines": (c_uint64, [_p]),
    "mail_nntp_overview_number": (c_uint64, [_p]),
    "mail_nntp_parse_active": (c_int, [_ppc, _psz, POINTER(c_uint64), POINTER(c_uint64), _ppc, _psz, _s, _sz]),
    "mail_nntp_parse_article": (c_int, [POINTER(c_uint64), _ppc, _psz, _s, _sz]),
    "mail_nntp_parse_date": (c_int, [POINTER(c_int64), _s, _sz]),
    "mail_nntp_parse_group": (c_int, [POINTER(c_uint64), POINTER(c_uint64), POINTER(c_uint64), _ppc, _psz, _s, _sz]),
    "mail_nntp_parser_data": (POINTER(c_ubyte), [_p, _psz]),
    "mail_nntp_parser_end": (None, [_p]),
    "mail_nntp_parser_expect": (c_int, [_p, c_int]),
    "mail_nntp_parser_feed": (c_int, [_p, _p, _sz]),
    "mail_nntp_parser_free": (None, [_p]),
    "mail_nntp_parser_new": (c_int, [POINTER(_p), _p]),
    "mail_nntp_parser_next": (c_int, [_p, POINTER(c_int)]),
    "mail_nntp_parser_pending": (_sz, [_p]),
    "mail_nntp_parser_reply": (_p, [_p]),
    "mail_nntp_parser_reset": (None, [_p]),
    "mail_nntp_parser_set_limits": (c_int, [_p, POINTER(mail_limits)]),
    "mail_nntp_post": (c_int, [_p, CALLBACKS['mail_read_fn'], _p]),
    "mail_nntp_post_builder": (c_int, [_p, _p]),
    "mail_nntp_posting_allowed": (c_int, [_p]),
    "mail_nntp_quit": (c_int, [_p]),
    "mail_nntp_reply_clone": (c_int, [POINTER(_p), _p, _p]),
    "mail_nntp_reply_code": (c_int, [_p]),
    "mail_nntp_reply_copy_text": (c_int, [_p, _s, _sz, _psz]),
    "mail_nntp_reply_free": (None, [_p]),
    "mail_nntp_reply_text": (_pc, [_p, _psz]),
    "mail_nntp_sasl": (_p, [_p]),
    "mail_nntp_set_auth": (c_int, [_p, _s, _s]),
    "mail_nntp_set_auth_method": (c_int, [_p, c_int]),
    "mail_nntp_set_mode_reader": (c_int, [_p, c_int]),
    "mail_nntp_set_pipeline_window": (c_int, [_p, c_uint]),
    "mail_nntp_set_security": (c_int, [_p, c_int]),
    "mail_nntp_state_name": (_s, [_p]),
    "mail_nntp_url_group": (_s, [_p]),
    # loop.h: the built-in loop
    "mail_loop_new": (c_int, [POINTER(_p), _p]),
    "mail_loop_new_backend": (c_int, [POINTER(_p), _p, c_int]),
    "mail_loop_free": (None, [_p]),
    "mail_loop_backend_of": (c_int, [_p]),
    "mail_loop_add": (c_int, [POINTER(_p), _p, _p, CALLBACKS["mail_loop_step_fn"],
                              CALLBACKS["mail_loop_done_fn"], _p]),
    "mail_loop_remove": (None, [_p]),
    "mail_loop_add_timer": (c_int, [POINTER(_p), _p, c_int64, CALLBACKS["mail_loop_timer_fn"],
                                    _p]),
    "mail_loop_cancel_timer": (None, [_p]),
    "mail_loop_run_once": (c_int, [_p, c_int]),
    "mail_loop_run": (c_int, [_p]),
    "mail_loop_stop": (None, [_p]),
    "mail_loop_pending": (_sz, [_p]),
}

# Functions that are not there in every build of libmail (optional
# modules, later versions): looked up when present, never required.
OPTIONAL = {"mail_features"}
PROTOTYPES["mail_features"] = (c_uint, [])  # from 0.1.0 on (NEWS); absent before

# Which module a function belongs to, by its prefix: what features() reports
# when the library has no mail_features().
MODULE_PROBES = {
    "smtp": "mail_smtp_new",
    "pop3": "mail_pop3_new",
    "mime": "mail_mime_message_parse",
    "mime_build": "mail_mime_builder_new",
    "tls": "mail_tls_config_new",
    "imap": "mail_imap_new",  # MAIL_FEATURE_IMAP: the parser and the session
    "nntp": "mail_nntp_new",
}


class LibraryNotFound(ImportError):
    """No usable libmail.so.0 was found; .tried lists (path, reason)."""

    def __init__(self, tried: List[Tuple[str, str]]):
        self.tried = tried
        lines = "\n".join("  %s: %s" % t for t in tried)
        super().__init__("libmail: no usable %s; tried, in order:\n%s\n"
                         "Set LIBMAIL_LIBRARY to the library's path." % (SONAME, lines))


class IncompatibleLibrary(ImportError):
    """The library found has a version or feature set this package refuses."""


def candidate_paths() -> List[str]:
    """Where the library is looked for, in order (the system loader last,
    given by its bare name)."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths: List[str] = []
    env = os.environ.get("LIBMAIL_LIBRARY")
    if env:
        paths.append(env)
    paths.append(os.path.join(here, SONAME))
    build = os.environ.get("MAIL_BUILD_DIR")
    if build:
        paths.append(os.path.join(build, "lib", SONAME))
    # bindings/python/libmail -> <repo>/build/lib
    repo = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    paths.append(os.path.join(repo, "build", "lib", SONAME))
    found = ctypes.util.find_library("mail")
    paths.append(found or SONAME)
    return paths


# Functions of a module the library may be built without (meson_options.txt):
# by prefix, the module whose absence from features() excuses them.
MODULE_PREFIXES = {"mail_imap_": "imap", "mail_nntp_": "nntp", "mail_maildir_": "maildir",
                   "mail_smtp_pool_": "smtp_pool"}


def module_of(name: str) -> Optional[str]:
    for prefix, module in MODULE_PREFIXES.items():
        if name.startswith(prefix):
            return module
    return None


def _absent(name: str, module: str) -> object:
    """Stands for a function of a module the library was built without, so
    the package still imports; calling it raises UnsupportedError."""
    def absent(*args: object) -> None:
        from ._errors import UnsupportedError  # not at import: _errors imports this module
        raise UnsupportedError("%s: libmail was built without %s" % (name, module))
    absent.__name__ = name
    return absent


def _declare(lib: ctypes.CDLL, feats: FrozenSet[str]) -> None:
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            if name in OPTIONAL:
                continue
            module = module_of(name)
            if module is not None and module not in feats:
                setattr(lib, name, _absent(name, module))
                continue
            raise
        fn.restype = restype
        fn.argtypes = argtypes


def version_of(lib: ctypes.CDLL) -> Tuple[str, int]:
    """The library's version string and 0xMMmmpp number."""
    lib.mail_version.restype = c_char_p
    lib.mail_version.argtypes = []
    lib.mail_version_number.restype = c_uint
    lib.mail_version_number.argtypes = []
    return lib.mail_version().decode(), int(lib.mail_version_number())


# module -> the C constant of its bit in mail_features() (tests/test_capi.py
# fails when the headers declare MAIL_FEATURE_* constants this table lacks).
# The MIME bit covers the parser and the builder.
FEATURE_BITS: Dict[str, str] = {
    "smtp": "MAIL_FEATURE_SMTP", "pop3": "MAIL_FEATURE_POP3", "imap": "MAIL_FEATURE_IMAP",
    "nntp": "MAIL_FEATURE_NNTP", "mime": "MAIL_FEATURE_MIME", "mime_build": "MAIL_FEATURE_MIME",
    "tls": "MAIL_FEATURE_TLS", "zlib": "MAIL_FEATURE_ZLIB", "saslprep": "MAIL_FEATURE_SASLPREP",
    "idna": "MAIL_FEATURE_IDNA", "maildir": "MAIL_FEATURE_MAILDIR",
    "sockets": "MAIL_FEATURE_SOCKETS",
    "proxy": "MAIL_FEATURE_PROXY",
    "loop": "MAIL_FEATURE_LOOP",
    "smtp_pool": "MAIL_FEATURE_SMTP_POOL",
}


def features(lib: ctypes.CDLL) -> FrozenSet[str]:
    """The modules the library was built with: the one place that decides.
    It asks mail_features() when the library has it and this module knows
    its bits (FEATURE_BITS); until then a module is there when its
    constructor is exported."""
    fn = getattr(lib, "mail_features", None)
    if fn is not None and FEATURE_BITS:
        fn.restype, fn.argtypes = PROTOTYPES["mail_features"]
        bits = fn()
        return frozenset(m for m, c in FEATURE_BITS.items() if bits & CONST[c])
    return frozenset(m for m, name in MODULE_PROBES.items() if hasattr(lib, name))


REQUIRED_FEATURES = frozenset({"smtp", "pop3", "mime", "mime_build"})


def check_library(lib: ctypes.CDLL, path: str) -> Tuple[str, int, FrozenSet[str]]:
    """Refuse a library of another major version, one older than
    MIN_VERSION_NUMBER, or one without the modules the package wraps."""
    try:
        version, number = version_of(lib)
    except AttributeError as e:
        raise IncompatibleLibrary("%s is not libmail (no mail_version): %s" % (path, e))
    if number >> 16 != SUPPORTED_MAJOR or number < MIN_VERSION_NUMBER:
        raise IncompatibleLibrary(
            "%s is libmail %s (0x%06x); this package needs %d.x from 0x%06x"
            % (path, version, number, SUPPORTED_MAJOR, MIN_VERSION_NUMBER))
    feats = features(lib)
    missing = REQUIRED_FEATURES - feats
    if missing:
        raise IncompatibleLibrary("%s (libmail %s) was built without %s"
                                  % (path, version, ", ".join(sorted(missing))))
    return version, number, feats


def load() -> Tuple[ctypes.CDLL, str]:
    """Find, check and declare the library; returns it and its path."""
    tried: List[Tuple[str, str]] = []
    for path in candidate_paths():
        if os.sep in path and not os.path.exists(path):
            tried.append((path, "no such file"))
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append((path, str(e)))
            continue
        _, _, feats = check_library(lib, path)
        _declare(lib, feats)
        return lib, path
    raise LibraryNotFound(tried)


C, LIBRARY_PATH = load()
VERSION, VERSION_NUMBER = version_of(C)
FEATURES = features(C)
C.mail_init()


def status_name(rc: int) -> str:
    return STATUS_NAME.get(rc, "MAIL_ERR_%d" % rc)


def strerror(rc: int) -> str:
    return C.mail_strerror(rc).decode()


def text(ptr: Optional[bytes]) -> Optional[str]:
    """A C string returned through c_char_p as str (None for NULL)."""
    return None if ptr is None else ptr.decode("utf-8", "replace")


def arg(s: Optional[str]) -> Optional[bytes]:
    """A str argument as UTF-8 bytes for a c_char_p parameter. A NUL would
    silently cut the string short in C: refused (InvalidArgument)."""
    if s is None:
        return None
    b = s.encode("utf-8")
    if b"\0" in b:
        from ._errors import InvalidArgument  # not at import: _errors imports this module
        raise InvalidArgument("an argument holds a NUL byte: %r" % s[:40])
    return b


def take_buffer(ptr: c_void_p, n: int) -> bytes:
    """Copy a buffer libmail allocated and free it with mail_free()."""
    try:
        return ctypes.string_at(ptr, n) if n else b""
    finally:
        C.mail_free(ptr)
