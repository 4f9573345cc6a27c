"""A webhook receiver for the scenario's Alertmanager, standing for the user's own alert endpoint:
keeps every alert of every notification it gets (Alertmanager's webhook JSON), with the time it got
it and the notification's receiver, and lists them on GET."""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECEIVED = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        notification = json.loads(body or b"{}")
        for alert in notification.get("alerts", []):
            RECEIVED.append({"received_at": time.time(), "receiver": notification.get("receiver"), "alert": alert})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        out = json.dumps(RECEIVED).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
