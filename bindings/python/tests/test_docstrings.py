"""Every public name of the libmail package has a docstring: each class and
function in libmail.__all__, and every public method and property those
classes define (construction is documented by the class's own docstring;
dunder methods follow Python's protocols). help(libmail.SMTP) is the Python
user's reference, as the header comments are the C user's."""
import inspect
import unittest

import libmail


def undocumented():
    missing = []
    for name in libmail.__all__:
        obj = getattr(libmail, name)
        if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for attr, value in vars(obj).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, property):
                fn = value.fget
            elif isinstance(value, (staticmethod, classmethod)):
                fn = value.__func__
            elif inspect.isfunction(value):
                fn = value
            else:
                continue
            if fn is not None and not (fn.__doc__ or "").strip():
                missing.append("%s.%s" % (name, attr))
    return missing


class TestDocstrings(unittest.TestCase):
    def test_public_surface_documented(self):
        self.assertEqual(undocumented(), [])

    def test_surface_is_not_empty(self):
        # The check means something: the package exports classes with methods.
        self.assertIn("SMTP", libmail.__all__)
        self.assertTrue(inspect.isclass(libmail.SMTP))


if __name__ == "__main__":
    unittest.main()
