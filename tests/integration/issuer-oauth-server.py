#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Token servers for test-issuers.sh and bench/issuers.sh, over real TLS (the test makes
its CA and the server's certificate with the openssl CLI at test time).

  issuer-oauth-server.py ADDR TLS_PORT HTTP_PORT CERT KEY LOG

On ADDR:TLS_PORT (HTTPS):
  POST /token          RFC 6749 4.4 (client "airlock", secret "s3cret", HTTP Basic)
  POST /token-short    the same, expires_in 2
  POST /token-5s       the same, expires_in 5
  POST /token-500      HTTP 500
  POST /token-slow     answers 503 after 5 s (minting nothing)
  POST /token-bad      200 with a body that is not JSON
  POST /token-big      200 with 200 KB of JSON
  POST /revoke         RFC 7009 (HTTP Basic), 200
  POST /revoke-500     HTTP 500, revoking nothing (logged "revoke-failed <token>")
  POST /revoke-gated   logs "revoke-start <token>", then answers as /revoke once the file
                       LOG.gate exists (at most 60 s on)
  POST /v1/token       Vault-style, header X-Vault-Token "root-vault": {"auth": {...}}
  POST /v1/revoke      Vault-style {"accessor": ...}, 204
On ADDR:HTTP_PORT (plain HTTP, what the task calls):
  GET /protected       200 "ok <scope>" for a live token (Bearer), else 401

Every mint, revocation and use is appended to LOG, one line each:
"mint <token> <scope>", "revoke <token>", "use <token> <status>". Prints "ready".
"""
import base64
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ADDR, TLS_PORT, HTTP_PORT, CERT, KEY, LOG = sys.argv[1:7]
CLIENT = ('airlock', 's3cret')
VAULT_TOKEN = 'root-vault'
lock = threading.Lock()
live = {}  # token -> scope
accessors = {}  # accessor -> token


def log(line):
    with lock, open(LOG, 'a') as f:
        f.write(line + '\n')


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def reply(self, status, body=b'', ctype='application/json'):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def basic_ok(self):
        h = self.headers.get('Authorization', '')
        if not h.startswith('Basic '):
            return False
        user, _, pw = base64.b64decode(h[6:]).decode().partition(':')
        return (urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(pw)) == CLIENT

    def mint(self, scope, expires):
        token = 'tok-' + os.urandom(12).hex()
        with lock:
            live[token] = scope
        log('mint %s %s' % (token, scope or '-'))
        return token

    def token(self, path):
        if path == '/token-500':
            return self.reply(500, b'{"error": "server_error"}')
        if path == '/token-slow':  # airlock gave up long before: mint nothing
            time.sleep(5)
            return self.reply(503, b'{"error": "temporarily_unavailable"}')
        if path == '/token-bad':
            return self.reply(200, b'<html>not json</html>', 'text/html')
        if path == '/token-big':
            return self.reply(200, json.dumps({'access_token': 'x', 'pad': 'p' * 200000}).encode())
        if not self.basic_ok():
            return self.reply(401, b'{"error": "invalid_client"}')
        form = urllib.parse.parse_qs(self.body().decode())
        if form.get('grant_type') != ['client_credentials']:
            return self.reply(400, b'{"error": "unsupported_grant_type"}')
        scope = form.get('scope', [''])[0]
        # /token-forever: a lifetime no clock can add (2^63 - 1 seconds).
        expires = {'/token-short': 2, '/token-5s': 5,
                   '/token-forever': 2**63 - 1}.get(path, 3600)
        token = self.mint(scope, expires)
        self.reply(200, json.dumps({'access_token': token, 'token_type': 'Bearer',
                                    'expires_in': expires, 'scope': scope}).encode())

    def revoke(self, path):
        if not self.basic_ok():
            return self.reply(401, b'{"error": "invalid_client"}')
        token = urllib.parse.parse_qs(self.body().decode()).get('token', [''])[0]
        if path == '/revoke-500':
            log('revoke-failed %s' % token)
            return self.reply(500, b'{"error": "server_error"}')
        if path == '/revoke-gated':  # held until the test opens the gate
            log('revoke-start %s' % token)
            for _ in range(600):
                if os.path.exists(LOG + '.gate'):
                    break
                time.sleep(0.1)
        with lock:
            live.pop(token, None)
        log('revoke %s' % token)
        self.reply(200)

    def vault(self, path):
        if self.headers.get('X-Vault-Token') != VAULT_TOKEN:
            return self.reply(403, b'{"errors": ["permission denied"]}')
        req = json.loads(self.body() or b'{}')
        if path == '/v1/revoke':
            token = accessors.pop(req.get('accessor'), None)
            with lock:
                live.pop(token, None)
            log('revoke %s' % token)
            return self.reply(204)
        policies = req.get('policies') or []
        token = self.mint(','.join(policies), req.get('ttl'))
        accessor = 'acc-' + os.urandom(6).hex()
        accessors[accessor] = token
        ttl = int(str(req.get('ttl', '60')).rstrip('s'))
        self.reply(200, json.dumps({'auth': {'client_token': token, 'accessor': accessor,
                                             'lease_duration': ttl,
                                             'policies': policies}}).encode())

    def do_POST(self):
        path = self.path.split('?')[0]
        if path.startswith('/token'):
            return self.token(path)
        if path in ('/revoke', '/revoke-500', '/revoke-gated'):
            return self.revoke(path)
        if path.startswith('/v1/'):
            return self.vault(path)
        self.reply(404)

    def do_GET(self):
        token = self.headers.get('Authorization', '')[len('Bearer '):]
        with lock:
            scope = live.get(token)
        status = 200 if scope is not None else 401
        log('use %s %d' % (token, status))
        self.reply(status, ('ok %s\n' % scope if scope is not None else 'denied\n').encode(),
                   'text/plain')


def serve(port, tls):
    srv = ThreadingHTTPServer((ADDR, int(port)), Handler)
    srv.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(CERT, KEY)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


serve(TLS_PORT, True)
serve(HTTP_PORT, False)
print('ready', flush=True)
try:
    sys.stdin.read()  # until the test closes our stdin (or kills us)
except KeyboardInterrupt:
    pass
