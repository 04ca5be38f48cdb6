"""Blocking calls release the GIL: another Python thread runs while the
main thread waits inside libmail."""
import threading
import time
import unittest

from support import ScriptedServer

import libmail

SPINS = 200000


class TestGIL(unittest.TestCase):
    def test_other_thread_runs_during_blocking_connect(self):
        state = {}
        call_started = threading.Event()

        def server(sock):
            # Only Python code runs here, and the client is blocked inside
            # mail_pop3_connect_url() waiting for this greeting: were the GIL
            # held by that call, this loop could never finish (the client
            # would time out instead).
            state["accepted_during_call"] = call_started.is_set()
            n = 0
            for _ in range(SPINS):
                n += 1
            state["spins"] = n
            state["spun_at"] = time.monotonic()
            sock.sendall(b"+OK ready\r\n")
            f = sock.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    return
                if line.upper().startswith(b"CAPA"):
                    sock.sendall(b"-ERR no capabilities\r\n")
                elif line.upper().startswith(b"QUIT"):
                    sock.sendall(b"+OK bye\r\n")
                    return
        srv = ScriptedServer(server)
        pop = libmail.POP3("pop3://127.0.0.1:%d" % srv.port, tls="none-insecure",
                           timeout=20, connect=False)
        call_started.set()
        t0 = time.monotonic()
        pop.connect()
        returned = time.monotonic()
        self.assertEqual(pop.greeting, "ready")
        self.assertFalse(pop.quit())  # QUIT before login: nothing committed
        pop.close()
        srv.join()
        self.assertTrue(state["accepted_during_call"])
        self.assertEqual(state["spins"], SPINS)
        self.assertTrue(t0 <= state["spun_at"] <= returned)


if __name__ == "__main__":
    unittest.main()
