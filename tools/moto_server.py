"""moto_server, plus a clock the tests can move forward.

Runs moto's own server application unchanged, with one addition: moto reads the time
through ``moto.core.utils.utcnow``, which this launcher replaces by the real time plus an
offset, and ``POST /__atende/clock/advance?seconds=N`` adds N seconds to that offset. The
AWS contract tests use it to see SQS delays, visibility timeouts and deduplication windows
expire without sleeping.

Usage: python3 tools/moto_server.py --port 5000
"""

import argparse
import datetime
import threading
from urllib.parse import parse_qs

import moto.core.utils as moto_utils

_real_utcnow = moto_utils.utcnow
_offset = [0.0]
_lock = threading.Lock()


def _shifted_utcnow():
    with _lock:
        offset = _offset[0]
    return _real_utcnow() + datetime.timedelta(seconds=offset)


moto_utils.utcnow = _shifted_utcnow

# Imported after the patch, so every backend module binds the shifted clock.
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import run_simple  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/__atende/clock/advance":
            seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("seconds", ["0"])[0])
            with _lock:
                _offset[0] += max(seconds, 0.0)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if environ.get("PATH_INFO") == "/__atende/ready":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ready"]
        return moto_app(environ, start_response)

    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
