#!/usr/bin/env python3
"""Local stand-ins for the notification services drctl sends to, for tests: each checks
a request exactly as its provider documents it, and records it (one JSON line each, with
its verdict) in --log.

  POST /webhook    drctl's generic webhook: JSON with the documented fields; when --secret
                   is given, X-Drctl-Signature must be sha256=HEX(HMAC-SHA256(secret,
                   TIMESTAMP + "." + BODY)) with X-Drctl-Timestamp within 5 minutes
                   (recomputed here with Python's hmac, independently of drctl).
  POST /slack/...  a Slack incoming webhook: JSON with a non-empty "text"; "blocks", when
                   present, a list of blocks with a "type". Answers "ok", as Slack does.
  POST /pagerduty  PagerDuty Events API v2 (/v2/enqueue): routing_key must equal
                   --routing-key, event_action trigger|acknowledge|resolve, dedup_key <= 255
                   characters; a trigger needs payload.summary (<= 1024), payload.source and
                   payload.severity in critical|error|warning|info. Answers 202 with
                   {"status": "success", "message": "Event processed", "dedup_key": ...}.

--fail-first N answers the first N requests to each path with 500 (a provider's outage),
so the sender's retries show.

Usage: notify-server.py --port P --log FILE [--secret S] [--routing-key K] [--fail-first N]
"""
import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--secret")
parser.add_argument("--routing-key", default="")
parser.add_argument("--fail-first", type=int, default=0)
args = parser.parse_args()
lock = threading.Lock()
seen = {}

WEBHOOK_FIELDS = {"source", "kind", "severity", "cluster", "node", "summary", "details", "dedup_key", "resolves", "at"}


def check_webhook(headers, body, data):
    if set(data) != WEBHOOK_FIELDS:
        return f"fields {sorted(data)} are not {sorted(WEBHOOK_FIELDS)}"
    if args.secret:
        stamp, signature = headers.get("X-Drctl-Timestamp", ""), headers.get("X-Drctl-Signature", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return f"X-Drctl-Timestamp {stamp!r} is not within 5 minutes"
        expected = "sha256=" + hmac.new(args.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "X-Drctl-Signature does not match the body"
    return None


def check_slack(headers, body, data):
    if not isinstance(data.get("text"), str) or not data["text"]:
        return "no text"
    blocks = data.get("blocks", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        return "blocks must be a list of objects with a type"
    return None


def check_pagerduty(headers, body, data):
    if data.get("routing_key") != args.routing_key:
        return "wrong routing_key"
    if data.get("event_action") not in ("trigger", "acknowledge", "resolve"):
        return f"event_action {data.get('event_action')!r}"
    dedup = data.get("dedup_key", "")
    if not isinstance(dedup, str) or not dedup or len(dedup) > 255:
        return "dedup_key missing or longer than 255"
    if data["event_action"] == "trigger":
        payload = data.get("payload") or {}
        if not payload.get("summary") or len(payload["summary"]) > 1024:
            return "payload.summary missing or longer than 1024"
        if not payload.get("source"):
            return "payload.source missing"
        if payload.get("severity") not in ("critical", "error", "warning", "info"):
            return f"payload.severity {payload.get('severity')!r}"
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = self.path
        kind = "webhook" if path == "/webhook" else "slack" if path.startswith("/slack/") else "pagerduty" if path == "/pagerduty" else None
        with lock:
            count = seen.get(kind, 0) + 1
            seen[kind] = count
        verdict, data = "ok", None
        if kind is None:
            verdict = f"unknown path {path}"
        elif self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            verdict = "Content-Type is not application/json"
        else:
            try:
                data = json.loads(body)
                verdict = {"webhook": check_webhook, "slack": check_slack, "pagerduty": check_pagerduty}[kind](self.headers, body, data) or "ok"
            except ValueError as error:
                verdict = f"not JSON: {error}"
        status = 500 if verdict == "ok" and count <= args.fail_first else (202 if kind == "pagerduty" else 200) if verdict == "ok" else 400
        with lock, open(args.log, "a") as log:
            log.write(json.dumps({"kind": kind, "status": status, "verdict": verdict, "body": data}) + "\n")
        if status == 202:
            answer = json.dumps({"status": "success", "message": "Event processed", "dedup_key": data.get("dedup_key")}).encode()
        else:
            answer = b"ok" if status == 200 else verdict.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
print(f"listening on 127.0.0.1:{args.port}", flush=True)
server.serve_forever()
