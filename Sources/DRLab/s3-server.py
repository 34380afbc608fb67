#!/usr/bin/env python3
"""A local S3 for drctl's tests, lab and benchmarks.

moto's S3 (the storage: buckets, objects, multipart uploads, listings) behind a gate that
checks every request the way S3 does before moto sees it:

- the SigV4 signature is recomputed with botocore's signer (an implementation independent
  of drctl's), from the request as it arrived: method, path re-encoded per AWS's rules,
  query, the headers named in SignedHeaders, x-amz-date; any difference is refused with
  403 SignatureDoesNotMatch, as S3 would;
- the credential scope's access key, region and service must be ours (GetBucketLocation
  excepted for the region, as on AWS);
- x-amz-content-sha256 must be the body's SHA-256 (or one of S3's unsigned markers);
- x-amz-date must be within 15 minutes of now; the session token, when one is configured,
  must be sent and signed.

Each request is appended to the log as one JSON line (method, path, query, verdict), so a
test can assert that every request drctl made was checked and accepted.

With --fault-seed, the gate also behaves as S3 under load, from a seeded generator (the
same seed, the same faults for the same requests): a share of accepted requests
(--slow-down, 0..1) is answered 503 SlowDown before moto sees it, and a share of object
downloads (--cut-body) sends its headers and half the body, then drops the connection.
Verdicts "fault: SlowDown" and "fault: body cut" are logged.

Usage: s3-server.py --port P --access-key K --secret-key S --region R --log FILE
       [--session-token T] [--bucket NAME]...   (buckets created in R at start)
       [--fault-seed N --slow-down 0.1 --cut-body 0.05]
"""
import argparse
import datetime
import hashlib
import io
import json
import random
import re
import sys
import threading
import time
from urllib.parse import parse_qsl, quote, unquote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import create_backend_app
from werkzeug.serving import make_server

UNSIGNED = {"UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}


def header(environ, name):
    key = name.lower()
    if key == "content-type":
        return environ.get("CONTENT_TYPE")
    if key == "content-length":
        return environ.get("CONTENT_LENGTH")
    return environ.get("HTTP_" + key.upper().replace("-", "_"))


class Gate:
    def __init__(self, args, app):
        self.args = args
        self.app = app
        self.lock = threading.Lock()
        self.log = open(args.log, "a", buffering=1)
        self.started = {}
        self.faults = random.Random(args.fault_seed) if args.fault_seed is not None else None

    def draw(self, share):
        if self.faults is None or share <= 0:
            return False
        with self.lock:
            return self.faults.random() < share

    def verify(self, environ, body):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return "no SigV4 Authorization header"
        fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        scope = fields.get("Credential", "").split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            return "malformed credential scope"
        key, day, region, service = scope[0], scope[1], scope[2], scope[3]
        if key != self.args.access_key:
            return "unknown access key"
        # GetBucketLocation answers a request signed for any region, as AWS's does: it is how
        # a client finds out where a bucket is (and how drctl checks data residency).
        location_query = environ.get("QUERY_STRING", "") in ("location", "location=")
        if service != "s3" or (region != self.args.region and not location_query):
            return f"scope names {region}/{service}, expected {self.args.region}/s3"
        amz_date = header(environ, "x-amz-date") or ""
        if not amz_date.startswith(day):
            return "x-amz-date and the scope's day differ"
        try:
            sent = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return "x-amz-date is not YYYYMMDDTHHMMSSZ"
        if abs((datetime.datetime.now(datetime.timezone.utc) - sent).total_seconds()) > 900:
            return "RequestTimeTooSkewed"
        signed = fields.get("SignedHeaders", "").split(";")
        for required in ("host", "x-amz-date", "x-amz-content-sha256"):
            if required not in signed:
                return f"{required} is not signed"
        if self.args.session_token:
            if "x-amz-security-token" not in signed or header(environ, "x-amz-security-token") != self.args.session_token:
                return "the session token is missing, wrong or unsigned"
        content = header(environ, "x-amz-content-sha256") or ""
        if content not in UNSIGNED and content != hashlib.sha256(body).hexdigest():
            return "x-amz-content-sha256 is not the body's SHA-256"

        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        raw_path, _, raw_query = raw.partition("?")
        # AWS's canonical URI for S3: the path, URI-encoded once (unreserved characters and '/' kept).
        path = quote(unquote(raw_path), safe="/~")
        params = parse_qsl(raw_query, keep_blank_values=True)
        headers = {name: header(environ, name) or "" for name in signed}
        request = AWSRequest(method=environ["REQUEST_METHOD"], url=f"http://{headers['host']}{path}", headers=headers, params=params, data=body)
        request.context["timestamp"] = amz_date
        signer = S3SigV4Auth(Credentials(key, self.args.secret_key, self.args.session_token), "s3", region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != fields.get("Signature"):
            return "SignatureDoesNotMatch; botocore's canonical request:\n" + canonical
        return None

    def __call__(self, environ, start_response):
        started = time.time()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        received = time.time()
        problem = self.verify(environ, body)
        entry = {
            "at": round(started, 3),
            "receive_ms": round((received - started) * 1000),
            "method": environ["REQUEST_METHOD"],
            "host": environ.get("HTTP_HOST"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING", ""),
            "bytes": len(body),
            "verdict": "ok" if problem is None else problem,
        }
        if problem is not None:
            self.write(entry, started)
            code = "RequestTimeTooSkewed" if problem == "RequestTimeTooSkewed" else "SignatureDoesNotMatch"
            text = problem.replace("&", "&amp;").replace("<", "&lt;")
            payload = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{text}</Message></Error>".encode()
            start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))])
            return [payload]
        if self.draw(self.args.slow_down):
            entry["verdict"] = "fault: SlowDown"
            self.write(entry, started)
            payload = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            start_response("503 Slow Down", [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))])
            return [payload] if environ["REQUEST_METHOD"] != "HEAD" else []
        environ["wsgi.input"] = io.BytesIO(body)
        if environ["REQUEST_METHOD"] == "GET" and environ.get("QUERY_STRING", "") == "" and self.draw(self.args.cut_body):
            return self.cut(environ, start_response, entry, started)
        response = self.app(environ, start_response)
        self.write(entry, started)
        keys = {name for name, _ in parse_qsl(entry["query"], keep_blank_values=True)}
        if "uploads" in keys:
            response = self.initiated(environ["REQUEST_METHOD"], b"".join(response))
        return response

    def cut(self, environ, start_response, entry, started):
        """moto's whole answer, headers and all, but only half its body; then the
        connection is dropped (as a reset mid-transfer looks to the client)."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        payload = b"".join(self.app(environ, capture))
        entry["verdict"] = "fault: body cut" if payload else "ok"
        self.write(entry, started)
        start_response(captured["status"], captured["headers"])
        if len(payload) < 2:
            return [payload]

        def halves():
            yield payload[: len(payload) // 2]
            raise ConnectionResetError("fault: body cut")

        return halves()

    def initiated(self, method, payload):
        """moto answers ListMultipartUploads with one fixed Initiated time for every upload
        (2010-11-10); S3 gives each upload's own. The gate notes when CreateMultipartUpload
        answered and puts that time into the listings, so an age check can be tested."""
        if method == "POST":
            for upload_id in re.findall(rb"<UploadId>([^<]+)</UploadId>", payload):
                self.started[upload_id] = datetime.datetime.now(datetime.timezone.utc)
            return [payload]

        def fix(match):
            block = match.group(0)
            found = re.search(rb"<UploadId>([^<]+)</UploadId>", block)
            when = self.started.get(found.group(1)) if found else None
            if when is None:
                return block
            stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
            return re.sub(rb"<Initiated>[^<]*</Initiated>", b"<Initiated>" + stamp.encode() + b"</Initiated>", block)

        fixed = re.sub(rb"<Upload>.*?</Upload>", fix, payload, flags=re.DOTALL)
        # Same length as moto's stamp, so its Content-Length still holds.
        return [fixed] if len(fixed) == len(payload) else [payload]

    def write(self, entry, started):
        """Logs the request with its time in the gate and moto (the response not yet sent)."""
        entry["ms"] = round((time.time() - started) * 1000)
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--session-token")
    parser.add_argument("--region", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--bucket", action="append", default=[])
    parser.add_argument("--fault-seed", type=int)
    parser.add_argument("--slow-down", type=float, default=0.0)
    parser.add_argument("--cut-body", type=float, default=0.0)
    args = parser.parse_args()

    app = create_backend_app("s3")
    if args.bucket:
        from moto.s3.models import s3_backends

        backend = s3_backends["123456789012"]["global"]
        for name in args.bucket:
            backend.create_bucket(name, args.region)
    server = make_server("127.0.0.1", args.port, Gate(args, app), threaded=True)
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
