"""libmail/_capi.py against include/mail/*.h: every constant has the
header's value and every prototype names a function the headers declare,
with as many parameters. A rename in the C API fails here."""
import ctypes
import os
import re
import shutil
import subprocess
import unittest

from support import REPO

from libmail import _capi

INCLUDE = os.path.join(os.environ.get("MAIL_TEST_SRCDIR_ROOT", REPO), "include", "mail")


def _headers() -> str:
    text = ""
    for name in sorted(os.listdir(INCLUDE)):
        if name.endswith(".h"):
            with open(os.path.join(INCLUDE, name), encoding="utf-8") as f:
                text += f.read() + "\n"
    # comments out, so documentation never counts as a declaration
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def _value(expr: str, known: dict) -> int:
    expr = expr.strip()
    expr = re.sub(r"(?<=[0-9a-fA-F])[uU]\b", "", expr)
    if expr == "UINT64_MAX":
        return 2 ** 64 - 1
    if re.fullmatch(r"\(?-?\s*(0x[0-9a-fA-F]+|\d+)\)?", expr):
        return int(expr.strip("()").replace(" ", ""), 0)
    if expr in known:
        return known[expr]
    m = re.fullmatch(r"\(?(\w+)\s*<<\s*(\w+)\)?", expr)
    if m:
        return _value(m.group(1), known) << _value(m.group(2), known)
    raise ValueError(expr)


def header_constants() -> dict:
    src = _headers()
    out: dict = {}
    for m in re.finditer(r"^#\s*define\s+(MAIL_\w+)[ \t]+([^\n]+)$", src, re.M):
        try:
            out[m.group(1)] = _value(m.group(2), out)
        except ValueError:
            pass
    for body in re.findall(r"typedef\s+enum\s+\w*\s*\{(.*?)\}", src, re.S):
        for m in re.finditer(r"(MAIL_\w+)\s*=\s*([^,\n]+)", body):
            out[m.group(1)] = _value(m.group(2), out)
    return out


def _split_params(params: str) -> list:
    depth, cur, out = 0, "", []
    for ch in params:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    out = [p.strip() for p in out]
    return [] if out == ["void"] or out == [""] else out


def header_prototypes() -> dict:
    src = _headers()
    out = {}
    for m in re.finditer(r"MAIL_EXTERN\s+([^;{}]*?)\b(mail_\w+)\s*\(((?:[^()]|\([^()]*\))*)\)\s*;",
                         src, re.S):
        out[m.group(2)] = (m.group(1).strip(), _split_params(m.group(3)))
    return out


# C parameter and result types -> the ctypes the declarations may use for
# them. A pointer into C memory may always stay c_void_p; strings that are
# not NUL-terminated (imap_parse.h gives lengths) must.
_SCALARS = {"int": ctypes.c_int, "unsigned": ctypes.c_uint, "unsigned int": ctypes.c_uint,
            "size_t": ctypes.c_size_t, "uint32_t": ctypes.c_uint32, "uint64_t": ctypes.c_uint64,
            "int64_t": ctypes.c_int64}


def _strip_name(param: str) -> str:
    """The type of a parameter declaration ("const char *name" -> "const char *")."""
    star = bool(re.search(r"\[\d*\]$", param.strip()))
    param = re.sub(r"\s*\[\d*\]$", "", param.strip())
    m = re.match(r"(.*?)(\w+)$", param)
    rest = m.group(1).strip() if m else ""
    if not m or not rest or rest in ("unsigned", "const", "const unsigned") and \
            m.group(2) in ("int", "char"):
        return param
    return rest + (" *" if star else "")


def acceptable(ctype: str, enums: set) -> list:
    """The ctypes a C type may be declared as."""
    t = re.sub(r"\bconst\b|\bstruct\b", "", ctype)
    t = re.sub(r"\s+", " ", t).replace(" *", "*").strip()
    if t == "void":
        return [None]
    if t in _SCALARS:
        return [_SCALARS[t]]
    if t in enums:
        return [ctypes.c_int]
    if t.endswith("_fn"):
        return [_capi.CALLBACKS[t]]
    if not t.endswith("*"):
        raise ValueError(ctype)
    base = t[:-1].strip()
    ok = [ctypes.c_void_p]
    if base == "char":
        ok += [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char)]
    elif base in _SCALARS:
        ok.append(ctypes.POINTER(_SCALARS[base]))
    elif base == "unsigned char":
        ok.append(ctypes.POINTER(ctypes.c_ubyte))
    elif base in _capi.STRUCTS:
        ok.append(ctypes.POINTER(_capi.STRUCTS[base]))
    elif base.endswith("*"):  # a pointer to a pointer: out-parameters, string arrays
        ok = [ctypes.POINTER(ctypes.c_void_p)]
        inner = base[:-1].strip()
        if inner == "char":
            ok += [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.POINTER(ctypes.c_char))]
        elif inner == "unsigned char":
            ok.append(ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)))
        elif inner in _capi.STRUCTS:
            ok.append(ctypes.POINTER(ctypes.POINTER(_capi.STRUCTS[inner])))
    return ok


def header_enums() -> set:
    return set(re.findall(r"typedef\s+enum\s+\w*\s*\{[^}]*\}\s*(\w+)\s*;", _headers(), re.S))


def exported_functions(path: str) -> set:
    """The mail_* functions the built library exports (nm -D)."""
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines()
            if len(line.split()) == 3 and line.split()[1] == "T"
            and line.split()[-1].startswith("mail_")}


class TestCapi(unittest.TestCase):
    def test_constants_match_headers(self):
        hdr = header_constants()
        for table in (_capi.STATUS, _capi.CONST):
            for name, value in table.items():
                with self.subTest(name=name):
                    self.assertIn(name, hdr, "%s is not in include/mail" % name)
                    self.assertEqual(hdr[name], value, name)

    def test_every_header_function_is_declared(self):
        # a function added to include/mail without a prototype here fails
        missing = sorted(set(header_prototypes()) - set(_capi.PROTOTYPES))
        self.assertEqual(missing, [], "not declared in libmail/_capi.py")

    @unittest.skipUnless(shutil.which("nm"), "no nm")
    def test_every_exported_function_is_declared(self):
        exported = exported_functions(_capi.LIBRARY_PATH)
        self.assertGreater(len(exported), 200)
        self.assertEqual(sorted(exported - set(_capi.PROTOTYPES)), [],
                         "exported by %s, not declared in libmail/_capi.py" % _capi.LIBRARY_PATH)

    def test_prototype_types_match_headers(self):
        protos, enums = header_prototypes(), header_enums()
        for name, (restype, argtypes) in _capi.PROTOTYPES.items():
            if name not in protos:
                continue
            with self.subTest(name=name):
                ret, params = protos[name]
                self.assertIn(restype, acceptable(ret, enums), "%s returns %s" % (name, ret))
                for i, (p, a) in enumerate(zip(params, argtypes)):
                    self.assertIn(a, acceptable(_strip_name(p), enums),
                                  "%s parameter %d: %s" % (name, i, p))
                # a string that is not NUL-terminated is never read as c_char_p
                if name.startswith("mail_imap_") and "*" in ret and "char" in ret and \
                        params and params[-1].replace(" ", "").endswith("size_t*len"):
                    self.assertIn(restype, (ctypes.c_void_p, ctypes.POINTER(ctypes.c_char)), name)

    def test_every_status_is_known(self):
        hdr = header_constants()
        statuses = {k for k in hdr if k.startswith("MAIL_ERR_") or k == "MAIL_OK"}
        statuses.discard("MAIL_ERR_FATAL_THRESHOLD")
        self.assertEqual(statuses, set(_capi.STATUS))

    def test_prototypes_match_headers(self):
        protos = header_prototypes()
        self.assertGreater(len(protos), 200)
        for name, (restype, argtypes) in _capi.PROTOTYPES.items():
            with self.subTest(name=name):
                if name in _capi.OPTIONAL and name not in protos:
                    continue
                self.assertIn(name, protos, "%s is not declared in include/mail" % name)
                ret, params = protos[name]
                self.assertEqual(len(params), len(argtypes), "%s: %s" % (name, params))
                # a pointer result must never be declared as int (truncation)
                if "*" in ret:
                    self.assertIsNotNone(restype, name)
                    self.assertNotIn(restype, (_capi.c_int, _capi.c_uint), name)
                elif ret.endswith("void"):
                    self.assertIsNone(restype, name)

    def test_callback_shapes_match_headers(self):
        src = _headers()
        for name, cft in _capi.CALLBACKS.items():
            if not name.startswith("mail_"):
                continue
            with self.subTest(name=name):
                m = re.search(r"typedef\s+\w+\s*\(\s*\*\s*%s\s*\)\s*\(([^;]*)\)\s*;" % name, src)
                self.assertIsNotNone(m, name)
                self.assertEqual(len(_split_params(m.group(1))), len(cft._argtypes_), name)

    def test_struct_fields_match_headers(self):
        src = _headers()
        for name, st in _capi.STRUCTS.items():
            with self.subTest(name=name):
                m = re.search(r"typedef\s+struct\s+%s\s*\{(.*?)\}\s*%s\s*;" % (name, name),
                              src, re.S)
                self.assertIsNotNone(m, name)
                fields = re.findall(r"(\w+)\s*;", m.group(1))
                self.assertEqual(fields, [f[0] for f in st._fields_], name)

    def test_feature_bits_follow_the_headers(self):
        # When mail_features() and its MAIL_FEATURE_* bits appear in the
        # headers, _capi.FEATURE_BITS must name every one of them.
        hdr = header_constants()
        bits = {k for k in hdr if k.startswith("MAIL_FEATURE_")}
        if "mail_features" in header_prototypes() or bits:
            self.assertEqual(set(_capi.FEATURE_BITS.values()), bits)
            for c in bits:
                self.assertEqual(_capi.CONST.get(c), hdr[c], c)
        else:
            self.assertEqual(_capi.FEATURE_BITS, {})

    def test_all_declared(self):
        for name, (restype, argtypes) in _capi.PROTOTYPES.items():
            if name in _capi.OPTIONAL and not hasattr(_capi.C, name):
                continue
            if (_capi.module_of(name) or "smtp") not in _capi.FEATURES:
                continue  # a module built out: a stand-in that raises UnsupportedError
            fn = getattr(_capi.C, name)
            self.assertEqual(list(fn.argtypes or []), list(argtypes), name)
            self.assertIs(fn.restype, restype, name)


class TestVersion(unittest.TestCase):
    def test_version(self):
        import libmail
        num = libmail.library_version_number
        self.assertEqual(num >> 16, _capi.SUPPORTED_MAJOR)
        self.assertGreaterEqual(num, _capi.MIN_VERSION_NUMBER)
        self.assertEqual("%d.%d.%d" % (num >> 16, (num >> 8) & 255, num & 255),
                         libmail.library_version)
        with open(os.path.join(REPO, "meson.build"), encoding="utf-8") as f:
            m = re.search(r"version\s*:\s*'([0-9.]+)'", f.read())
        self.assertEqual(m.group(1), libmail.library_version)
        self.assertTrue({"smtp", "pop3", "mime"} <= libmail.features())
        # TLS is an option (-Dtls): the build says whether it must be there
        expect_tls = os.environ.get("MAIL_TEST_EXPECT_TLS")
        if expect_tls is not None:
            self.assertEqual("tls" in libmail.features(), expect_tls == "1")


if __name__ == "__main__":
    unittest.main()
