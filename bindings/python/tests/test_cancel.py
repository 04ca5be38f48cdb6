"""Session.cancel() from another thread: a blocking connect waiting for a
greeting that never ends is cancelled at once and raises CallbackError
(MAIL_ERR_CANCELLED) in its own thread; the session connects again."""
import socket
import threading
import unittest

import libmail


class TestCancel(unittest.TestCase):
    def test_cancel_blocking_connect_from_another_thread(self):
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(4)
        port = ls.getsockname()[1]
        accepted = threading.Event()
        conns = []

        def serve():
            c, _ = ls.accept()
            conns.append(c)
            accepted.set()
            c.sendall(b"220-a greeting that never ends\r\n")

        srv = threading.Thread(target=serve)
        srv.start()
        s = libmail.SMTP("smtp://127.0.0.1:%d" % port, tls="none-insecure", timeout=60,
                         connect=False)
        errors = []

        def run():
            try:
                s.connect()
            except libmail.Error as e:
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()
        self.assertTrue(accepted.wait(30))
        s.cancel()
        t.join(30)
        self.assertFalse(t.is_alive(), "the cancelled connect did not return")
        srv.join()
        for c in conns:
            c.close()
        ls.close()
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0], libmail.CallbackError)
        self.assertEqual(errors[0].status, -13)  # MAIL_ERR_CANCELLED
        self.assertIn("cancelled", str(errors[0]))
        s.cancel()  # nothing under way: nothing happens
        s.close()


if __name__ == "__main__":
    unittest.main()
