"""moto_server, plus a clock the tests can move forward.

Runs moto's own server application unchanged, with one addition: moto reads the time
through ``moto.core.utils.utcnow``, which this launcher replaces by the real time plus an
offset, and ``POST /__atende/clock/advance?seconds=N`` adds N seconds to that offset. The
AWS contract tests use it to see SQS delays, visibility timeouts and deduplication windows
expire without sleeping. ``GET /__atende/sqs/next-visible?queue_url=URL&queue_url=...`` answers,
for each queue in the order asked (``each``), how many seconds remain until its soonest
message becomes visible (a millisecond for one visible already; ``null`` when it is empty): the end-to-end tests on moto move the
clock by exactly that, as they do on the embedded queue. DynamoDB requests are served one at
a time: moto checks a write's condition and writes without a lock, where DynamoDB applies
each conditional write atomically.

Usage: python3 tools/moto_server.py --port 5000
"""

import argparse
import datetime
import json
import threading
from urllib.parse import parse_qs

import moto.core.utils as moto_utils

_real_utcnow = moto_utils.utcnow
_offset = [0.0]
_lock = threading.Lock()
_dynamodb_lock = threading.Lock()


def _shifted_utcnow():
    with _lock:
        offset = _offset[0]
    return _real_utcnow() + datetime.timedelta(seconds=offset)


moto_utils.utcnow = _shifted_utcnow

# Imported after the patch, so every backend module binds the shifted clock.
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import run_simple  # noqa: E402


def _next_visible_in(queue_url):
    """Seconds until the soonest hidden message of the queue at ``queue_url`` shows."""
    from moto.sqs.models import sqs_backends

    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    now = moto_utils.unix_time_millis()
    soonest = None
    for regions in sqs_backends.values():
        for backend in regions.values():
            queue = backend.queues.get(name)
            if queue is None:
                continue
            messages = list(queue._messages)
            # A FIFO group with a message in flight waits for that message.
            held = {
                m.group_id
                for m in messages
                if m.group_id is not None and m in queue._pending_messages and m.visible_at >= now
            }
            for message in messages:
                at = max(message.visible_at, message.delayed_until)
                if message.group_id in held and at < now:
                    continue
                # A message visible already counts too (a millisecond): it may have shown
                # between the caller's last receive and this call, real time passing.
                wait = max(at - now, 0.0) / 1000.0 + 0.001
                soonest = wait if soonest is None else min(soonest, wait)
    return soonest


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
        if environ.get("PATH_INFO") == "/__atende/sqs/next-visible":
            urls = parse_qs(environ.get("QUERY_STRING", "")).get("queue_url", [])
            body = json.dumps({"each": [_next_visible_in(url) for url in urls]}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("PATH_INFO") == "/__atende/ready":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ready"]
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            # DynamoDB applies each conditional write and transaction atomically; moto
            # checks a condition and then writes without a lock, so two requests racing on
            # one item could both pass. One DynamoDB request at a time restores the
            # guarantee the product relies on (the body is read inside the lock).
            with _dynamodb_lock:
                return list(moto_app(environ, start_response))
        return moto_app(environ, start_response)

    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
