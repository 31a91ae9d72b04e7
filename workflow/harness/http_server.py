"""The small HTTP server the fake Lambda APIs (the Runtime API and the Invoke
API) are built on: threaded, quiet, HTTP/1.1 with keep-alive, JSON replies."""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A Lambda process killed at shutdown drops its connection: not news.
        pass


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, quiet, and a JSON reply helper. Nagle's
    algorithm is off: headers and body go out as separate writes, and with it
    on, a client's delayed ACK would hold each reply back by up to 40 ms."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"{}", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
