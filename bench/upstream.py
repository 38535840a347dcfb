"""An HTTP upstream that records every request it processes (method, path, Early-Data header,
body) as JSON lines, so a benchmark can show what reached the application and what did not.
Bounded: exits after ``--max-seconds``.

    python -m bench.upstream HOST:PORT LOGFILE --max-seconds 300
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Recorder(BaseHTTPRequestHandler):
    log_path: Path
    lock = threading.Lock()

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        entry = {
            "method": self.command,
            "path": self.path,
            "early_data": self.headers.get("Early-Data"),
            "body": body,
        }
        with self.lock, self.log_path.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
        payload = b"processed\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _record

    def log_message(self, format: str, *args: object) -> None:
        return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.upstream")
    parser.add_argument("listen")
    parser.add_argument("log", type=Path)
    parser.add_argument("--max-seconds", type=float, default=300)
    args = parser.parse_args(argv)
    host, port = args.listen.rsplit(":", 1)
    _Recorder.log_path = args.log
    server = ThreadingHTTPServer((host, int(port)), _Recorder)
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    print("ready", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
