"""A stand-in payments API over HTTP, for examples/payments_mission.py: it honours the `Idempotency-Key` header.

`POST /charges` with a JSON body `{"amount", "currency", "reference"}` and an
`Idempotency-Key` header charges once per key: a request with a key it has
seen, and the same body, gets the first answer again (with the header
`Idempotent-Replayed: true`) and charges nothing; the same key with another
body is refused with 422; no key is refused with 400. That is how real
payment APIs behave, and why a retried effect must send the same key.

`--drop-first N` makes it lose its first N answers the way a network does:
it charges, then closes the connection without answering. `--log FILE`
appends one line per request. It prints `listening on URL` once it is ready::

    python examples/payments_api.py --port 8080 --drop-first 1 --log api.log
"""

from __future__ import annotations

import argparse
import http.server
import json
import sys
import threading
from pathlib import Path

__all__ = ["PaymentsAPI", "main"]


class PaymentsAPI:
    """The API's memory: each idempotency key with the body it came with and the answer it got."""

    def __init__(self, drop_first: int, log: Path | None) -> None:
        self.answers: dict[str, tuple[object, dict[str, object]]] = {}
        self.drop_left = drop_first
        self.log = log
        self.lock = threading.Lock()

    def note(self, line: str) -> None:
        """Append a line to the log file, if there is one."""
        if self.log is not None:
            with self.log.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def charge(self, key: str, body: object) -> tuple[int, dict[str, object], bool, bool]:
        """(status, answer, replayed, drop): what a POST /charges with this key and body gets."""
        shown = f"POST /charges  Idempotency-Key {key[:16]}…"
        with self.lock:
            if key in self.answers:
                first_body, answer = self.answers[key]
                if first_body != body:
                    self.note(f"{shown}  refused: the key was used with another body")
                    return 422, {"error": "this Idempotency-Key was used with another request body"}, False, False
                self.note(f"{shown}  replayed {answer['id']} (no new charge)")
                return 200, answer, True, False
            if not isinstance(body, dict) or set(body) != {"amount", "currency", "reference"}:
                return 400, {"error": 'expected {"amount", "currency", "reference"}'}, False, False
            answer = {"id": f"ch_{len(self.answers) + 1:04d}", "status": "succeeded", **body}
            self.answers[key] = (body, answer)
            drop = self.drop_left > 0
            self.drop_left -= int(drop)
            lost = "; its answer was lost (connection closed)" if drop else ""
            self.note(
                f"{shown}  charged {answer['id']}: {body['amount']} {body['currency']} for {body['reference']}{lost}"
            )
            return 201, answer, False, drop


def _handler(api: PaymentsAPI) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body_bytes = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key")
            if self.path != "/charges":
                self._answer(404, {"error": f"no such endpoint {self.path}"})
                return
            if not key:
                self._answer(400, {"error": "an Idempotency-Key header is required"})
                return
            try:
                body = json.loads(body_bytes)
            except ValueError:
                self._answer(400, {"error": "the body is not JSON"})
                return
            status, answer, replayed, drop = api.charge(key, body)
            if drop:
                self.close_connection = True  # charged, but the client never hears of it
                return
            self._answer(status, answer, replayed=replayed)

        def _answer(self, status: int, answer: dict[str, object], *, replayed: bool = False) -> None:
            data = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if replayed:
                self.send_header("Idempotent-Replayed", "true")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # the log file says what matters
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--drop-first", type=int, default=0, metavar="N", help="lose the first N answers")
    parser.add_argument("--log", type=Path, help="append one line per request to this file")
    args = parser.parse_args(argv)
    api = PaymentsAPI(args.drop_first, args.log)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), _handler(api))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
