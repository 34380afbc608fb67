#!/usr/bin/env python3
"""Local stand-ins for the two AWS endpoints drctl's credential chain calls, checking each
request as AWS documents it, for tests:

- STS AssumeRoleWithWebIdentity (POST / with a form body, or GET with a query): Action and
  Version 2011-06-15, a RoleArn of the form arn:aws:iam::ACCOUNT:role/NAME, a RoleSessionName
  of 2-64 characters [\\w+=,.@-], the WebIdentityToken this server was given, an optional
  DurationSeconds of 900-43200, and no Authorization header (the call is unsigned). Anything
  else is answered as STS does: 400 with an ErrorResponse.
- IMDSv2: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds of 1-21600 (and no
  X-Forwarded-For, which IMDS refuses) returns a token; GET
  /latest/meta-data/iam/security-credentials/ and .../ROLE need that token in
  X-aws-ec2-metadata-token, else 401.

Both hand out the keys given on the command line, expiring in an hour. Every request is
appended to --log as one JSON line with its verdict.

Usage: aws-standin.py --port P --access-key K --secret-key S --session-token T
       --web-identity-token W --role ROLE --log FILE
"""
import argparse
import datetime
import json
import re
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def main():
    parser = argparse.ArgumentParser()
    for name in ("--port", "--access-key", "--secret-key", "--session-token", "--web-identity-token", "--role", "--log"):
        parser.add_argument(name, required=True, type=int if name == "--port" else str)
    args = parser.parse_args()
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1)
    tokens = set()
    expiration = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    class Handler(BaseHTTPRequestHandler):
        def note(self, verdict):
            with lock:
                log.write(json.dumps({"method": self.command, "path": self.path, "verdict": verdict}) + "\n")

        def answer(self, status, body, content_type="text/plain"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def sts_error(self, code, message):
            self.note(f"refused: {code}: {message}")
            self.answer(
                400,
                f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code>'
                f"<Message>{message}</Message></Error></ErrorResponse>",
                "text/xml",
            )

        def sts(self, params):
            def one(name):
                values = params.get(name, [])
                return values[0] if len(values) == 1 else None

            if self.headers.get("Authorization"):
                return self.sts_error("InvalidRequest", "AssumeRoleWithWebIdentity is not signed")
            if one("Action") != "AssumeRoleWithWebIdentity":
                return self.sts_error("InvalidAction", f"unknown Action {one('Action')}")
            if one("Version") != "2011-06-15":
                return self.sts_error("InvalidParameterValue", "Version must be 2011-06-15")
            if not re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+", one("RoleArn") or ""):
                return self.sts_error("ValidationError", "RoleArn is not a role's ARN")
            if not re.fullmatch(r"[\w+=,.@-]{2,64}", one("RoleSessionName") or ""):
                return self.sts_error("ValidationError", "RoleSessionName must be 2-64 characters of [\\w+=,.@-]")
            duration = one("DurationSeconds")
            if duration is not None and not (duration.isdigit() and 900 <= int(duration) <= 43200):
                return self.sts_error("ValidationError", "DurationSeconds must be 900-43200")
            if one("WebIdentityToken") != args.web_identity_token:
                return self.sts_error("InvalidIdentityToken", "the web identity token is not valid")
            self.note("ok")
            self.answer(
                200,
                '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>'
                f"<Credentials><AccessKeyId>{args.access_key}</AccessKeyId><SecretAccessKey>{args.secret_key}</SecretAccessKey>"
                f"<SessionToken>{args.session_token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>"
                f"<AssumedRoleUser><Arn>{one('RoleArn')}/{one('RoleSessionName')}</Arn></AssumedRoleUser>"
                "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
                "text/xml",
            )

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            if urlsplit(self.path).path != "/":
                self.note("refused: unknown path")
                return self.answer(404, "not found")
            if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
                return self.sts_error("InvalidRequest", "the body must be application/x-www-form-urlencoded")
            self.sts(parse_qs(body, keep_blank_values=True))

        def do_PUT(self):
            if self.path != "/latest/api/token":
                self.note("refused: unknown path")
                return self.answer(404, "not found")
            if self.headers.get("X-Forwarded-For"):
                self.note("refused: X-Forwarded-For")
                return self.answer(403, "forbidden")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") or ""
            if not (ttl.isdigit() and 1 <= int(ttl) <= 21600):
                self.note("refused: token TTL missing or outside 1-21600")
                return self.answer(400, "bad request")
            token = secrets.token_urlsafe(32)
            tokens.add(token)
            self.note("ok")
            self.answer(200, token)

        def do_GET(self):
            split = urlsplit(self.path)
            if split.path == "/":
                return self.sts(parse_qs(split.query, keep_blank_values=True))
            base = "/latest/meta-data/iam/security-credentials/"
            if not split.path.startswith(base):
                self.note("refused: unknown path")
                return self.answer(404, "not found")
            if self.headers.get("X-aws-ec2-metadata-token") not in tokens:
                self.note("refused: no valid IMDSv2 token (IMDSv1 is off)")
                return self.answer(401, "unauthorized")
            role = split.path[len(base):]
            if role == "":
                self.note("ok")
                return self.answer(200, args.role)
            if role != args.role:
                self.note("refused: unknown role")
                return self.answer(404, "not found")
            self.note("ok")
            self.answer(
                200,
                json.dumps(
                    {
                        "Code": "Success", "LastUpdated": expiration, "Type": "AWS-HMAC", "AccessKeyId": args.access_key,
                        "SecretAccessKey": args.secret_key, "Token": args.session_token, "Expiration": expiration,
                    }
                ),
                "application/json",
            )

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
