#!/usr/bin/env python3
"""Verifies outbound webhooks with the Standard Webhooks reference library (the
`standardwebhooks` package from PyPI), for the tests: reads one JSON object per line on
stdin, {"secret": "whsec_...", "headers": {...}, "body": "..."}, and prints one per line,
{"ok": true} or {"ok": false, "error": "..."}. The library checks the signature and that
the timestamp is within five minutes of now."""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

for line in sys.stdin:
    if not line.strip():
        continue
    case = json.loads(line)
    try:
        Webhook(case["secret"]).verify(case["body"], case["headers"])
        print(json.dumps({"ok": True}))
    except WebhookVerificationError as e:
        print(json.dumps({"ok": False, "error": str(e)}))
    sys.stdout.flush()
