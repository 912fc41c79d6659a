"""A TCP proxy that can stop forwarding WITHOUT a reset: a dead link as a hall meets it.

    with BlackHole(("127.0.0.1", 5432)) as hole:      # clients connect to hole.port
        hole.stop()     # bytes are accepted (the kernel ACKs them) and go nowhere; nothing is reset
        hole.resume()   # forwarding goes on, buffered bytes included (as TCP retransmission would)
        hole.stop_at(b"wt_call_next_p")   # forward until a command's bytes pass, then hold them

While stopped, new connections are accepted too and hang the same way. The clients' kernel sees a
healthy peer (this proxy's), so TCP keepalives cannot notice: only the program's own deadlines do.
"""

from __future__ import annotations

import select
import socket
import threading


class BlackHole:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.closed = False
        self.marker: bytes | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="blackhole-accept").start()

    def __enter__(self) -> BlackHole:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def stop(self) -> None:
        self.forwarding.clear()

    def stop_at(self, marker: bytes) -> None:
        """Die at the worst moment: forward until a client sends bytes containing ``marker`` (a
        command's text), then stop with those bytes held — delivered, late, by ``resume``."""
        self.marker = marker

    def resume(self) -> None:
        self.forwarding.set()

    def close(self) -> None:
        self.closed = True
        self.forwarding.set()
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                sock.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True, name="blackhole").start()

    def _serve(self, client: socket.socket) -> None:
        self.forwarding.wait()  # a connection made while stopped hangs after the handshake
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        with self.lock:
            self.sockets += [client, server]
        pair = {client: server, server: client}
        try:
            while not self.closed:
                self.forwarding.wait()
                ready, _, _ = select.select(list(pair), [], [], 0.1)
                if not self.forwarding.is_set():
                    continue  # stopped meanwhile: leave the bytes in the kernel's buffers
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client and self.marker is not None and self.marker in data:
                        self.marker = None
                        self.forwarding.clear()  # the link dies with the command in flight …
                        self.forwarding.wait()  # … and delivers it when it comes back
                        if self.closed:
                            return
                    pair[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()
