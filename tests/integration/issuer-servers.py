#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Credential issuers of the tests, over real TLS (a test CA: issuer-ca.sh), all served on
every address given, told apart by path:

  GitHub App API    POST   /app/installations/{id}/access_tokens   (JWT, RS256, verified)
                    DELETE /installation/token                      (the token revokes itself)
  git smart HTTP    GET    /{owner}/{repo}.git/info/refs?service=git-upload-pack
                    POST   /{owner}/{repo}.git/git-upload-pack      (git http-backend, CGI)
                    Basic x-access-token:<installation token>, scoped to its repositories
  OAuth2            POST   /oauth2/token    grant_type=client_credentials (RFC 6749 4.4)
                    POST   /oauth2/revoke   RFC 7009
  Vault-style JSON  POST   /v1/creds/{role}  (X-Vault-Token), PUT /v1/sys/leases/revoke
  Resource check    GET    /resource        Bearer <any token minted above>: 200 or 401

Every mint, revocation, refusal and use is one JSON line in the log (--log); a test reads
it. A token's value is in the log (the test needs it to search for leftovers), so the log
lives in the test's own directory.

Misbehaviour, per path: the fault file (--faults, re-read at each request) is a JSON object
{"<path prefix>|*": "500" | "slow" | "slow:SECONDS" | "malformed" | "oversized" | "drop" |
"message-esc" | "message-big" | "lease=LEASE" | "bigscope" | "bigscope-esc"}: message-esc
and message-big refuse with 403 and a "message" holding terminal escape sequences or 10 KB;
lease=LEASE, bigscope and bigscope-esc mint a Vault-style token all the same, with that
lease id, with 300 policy names of 100 bytes at /data/policies, or with one string of 4000
control characters there (each 6 bytes as JSON). A request no route takes is logged ("not_found").

usage: issuer-servers.py --config FILE  (JSON: see CONFIG below); prints "ready".
"""
import base64
import hashlib
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

CONFIG_EXAMPLE = {
    'listen': ['11.1.0.60:443'],
    'cert': 'server.pem', 'key': 'server.key',
    'log': 'issuers.jsonl', 'faults': 'faults.json',
    'github': {'app_id': '4242', 'public_key': 'app.pub.pem',
               'installations': {'77': {'account': 'org',
                                        'repositories': ['a', 'b'],
                                        'permissions': {'contents': 'write', 'metadata': 'read',
                                                        'issues': 'write'}}},
               'git_root': 'repos', 'token_lifetime': 3600},
    'oauth2': {'clients': {'cid': 'csecret'}, 'scopes': ['read', 'write'], 'lifetime': 3600},
    'vault': {'token': 'vault-admin', 'roles': ['deploy'], 'max_ttl': 3600},
}
OVERSIZED = 4 * 1024 * 1024
LOCK = threading.Lock()
TOKENS = {}  # value -> {kind, repositories, permissions, expires, revoked, ...}
CFG = {}


def log(event, **kw):
    kw = {'event': event, 'time': round(time.time(), 3), **kw}
    with LOCK, open(CFG['log'], 'a') as f:
        f.write(json.dumps(kw, sort_keys=True) + '\n')


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def iso(t):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


def fault_for(path):
    try:
        with open(CFG['faults']) as f:
            faults = json.load(f)
    except (OSError, ValueError, KeyError):
        return None
    for prefix, kind in faults.items():
        if prefix == '*' or path.startswith(prefix):
            return kind
    return None


def verify_jwt(auth):
    """The claims of a valid GitHub App JWT, or raise ValueError naming what is wrong."""
    gh = CFG['github']
    if not auth.startswith('Bearer '):
        raise ValueError('no Bearer JWT')
    parts = auth[7:].strip().split('.')
    if len(parts) != 3:
        raise ValueError('not a compact JWS')
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    if header.get('alg') != 'RS256':
        raise ValueError(f'alg {header.get("alg")!r}, not RS256')
    with open(gh['public_key'], 'rb') as f:
        pub = serialization.load_pem_public_key(f.read())
    try:
        pub.verify(b64url_decode(parts[2]), f'{parts[0]}.{parts[1]}'.encode(),
                   padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise ValueError('signature does not verify with the app key') from None
    now = time.time()
    iat, exp = claims.get('iat'), claims.get('exp')
    if not isinstance(iat, int) or not isinstance(exp, int):
        raise ValueError('iat/exp missing')
    if iat > now + 60 or exp <= now or exp - now > 600 or exp - iat > 660:
        raise ValueError(f'times out of range (iat {iat}, exp {exp}, now {int(now)})')
    if str(claims.get('iss')) != str(gh['app_id']):
        raise ValueError(f'iss {claims.get("iss")!r} is not the app')
    return claims


def github_scope(inst, body):
    """(repositories, permissions) for the request body, or raise ValueError (422)."""
    repos = body.get('repositories')
    if repos is None:
        repos = list(inst['repositories'])
    if not isinstance(repos, list) or not all(isinstance(r, str) for r in repos):
        raise ValueError('repositories must be a list of names')
    for r in repos:
        if r not in inst['repositories']:
            raise ValueError(f'There is at least one repository that does not exist or is not '
                             f'accessible to the parent installation: {r}')
    perms = body.get('permissions')
    have = inst['permissions']
    if perms is None:
        perms = dict(have)
    if not isinstance(perms, dict):
        raise ValueError('permissions must be an object')
    rank = {'read': 1, 'write': 2, 'admin': 3}
    for k, v in perms.items():
        if k not in have or rank.get(v, 9) > rank.get(have[k], 0):
            raise ValueError(f'The permissions requested are not granted to this installation: '
                             f'{k}:{v}')
    perms = {**perms, 'metadata': 'read'}
    return repos, perms


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'issuer-test/1'

    def setup(self):  # the TLS handshake here, on the request's thread, within 10 s
        self.request.settimeout(10)
        self.request.do_handshake()
        self.request.settimeout(None)
        super().setup()

    def log_message(self, fmt, *args):  # the JSON log is ours; stderr stays quiet
        pass

    def reply(self, status, obj=None, raw=None, headers=()):
        body = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b'')
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if obj is not None:
            self.send_header('Content-Type', 'application/json; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            data = b''
            while True:
                size = int(self.rfile.readline().split(b';')[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(n) if n else b''

    def json_body(self):
        raw = self.body()
        return json.loads(raw) if raw else {}

    def misbehave(self, path):
        """Applies the fault for path; True when the request was answered by it."""
        kind = fault_for(path)
        if not kind:
            return False
        log('fault', path=path, kind=kind)
        if kind == '500':
            self.reply(500, {'message': 'Internal Server Error (test fault)'})
        elif kind.startswith('slow'):
            time.sleep(float(kind.split(':')[1]) if ':' in kind else 30)
            return False
        elif kind == 'malformed':
            self.reply(200, raw=b'{"token": "unterminated', headers=[('Content-Type',
                                                                        'application/json')])
        elif kind == 'oversized':
            filler = 'x' * OVERSIZED
            self.reply(200, raw=json.dumps({'token': 'big', 'filler': filler}).encode())
        elif kind == 'drop':
            self.close_connection = True
            self.connection.shutdown(2)
        elif kind == 'message-esc':
            self.body()
            self.reply(403, {'message': 'denied \x1b[2J\x1b]0;owned\x07\x1b[31mred\r\nX-Fake: 1'})
        elif kind == 'message-big':
            self.body()
            self.reply(403, {'message': 'big ' + 'm' * 10240})
        else:
            return False
        return True

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if self.misbehave(path):
            return
        for m, pattern, fn in ROUTES:
            match = re.fullmatch(pattern, path)
            if m == method and match:
                try:
                    return fn(self, url, *match.groups())
                except (ValueError, KeyError, json.JSONDecodeError) as e:
                    log('bad_request', path=path, error=str(e))
                    return self.reply(400, {'message': str(e)})
        log('not_found', method=method, path=self.path)
        self.reply(404, {'message': 'Not Found'})

    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def do_PUT(self):
        self.dispatch('PUT')

    def do_DELETE(self):
        self.dispatch('DELETE')

    # GitHub App API -----------------------------------------------------------------------
    def gh_access_tokens(self, url, inst_id):
        try:
            claims = verify_jwt(self.headers.get('Authorization', ''))
        except (ValueError, OSError) as e:
            log('jwt_refused', installation=inst_id, error=str(e))
            self.body()
            return self.reply(401, {'message': f'A JSON web token could not be decoded: {e}'})
        inst = CFG['github']['installations'].get(inst_id)
        body = self.json_body()
        if inst is None:
            return self.reply(404, {'message': 'Not Found'})
        try:
            repos, perms = github_scope(inst, body)
        except ValueError as e:
            log('mint_refused', kind='github', installation=inst_id, error=str(e))
            return self.reply(422, {'message': str(e)})
        token = 'ghs_' + secrets.token_urlsafe(27)
        expires = int(time.time()) + int(CFG['github'].get('token_lifetime', 3600))
        full = [f'{inst["account"]}/{r}' for r in repos]
        with LOCK:
            TOKENS[token] = {'kind': 'github', 'repositories': full, 'permissions': perms,
                             'expires': expires, 'revoked': False}
        log('mint', kind='github', token=token, installation=inst_id, claims=claims,
            repositories=full, permissions=perms, request=body)
        self.reply(201, {'token': token, 'expires_at': iso(expires), 'permissions': perms,
                         'repository_selection': 'selected',
                         'repositories': [{'id': 1000 + i, 'name': r, 'full_name': f,
                                           'private': True}
                                          for i, (r, f) in enumerate(zip(repos, full))]})

    def gh_revoke(self, url):
        auth = self.headers.get('Authorization', '')
        token = auth.split(' ', 1)[1].strip() if ' ' in auth else ''
        with LOCK:
            t = TOKENS.get(token)
            ok = t is not None and t['kind'] == 'github' and not t['revoked']
            if ok:
                t['revoked'] = True
        log('revoke', kind='github', token=token, result='revoked' if ok else 'unknown')
        if ok:
            self.reply(204)
        else:
            self.reply(401, {'message': 'Bad credentials'})

    # git smart HTTP -----------------------------------------------------------------------
    def git(self, url, owner, repo, rest):
        full = f'{owner}/{repo}'
        auth = self.headers.get('Authorization', '')
        token = None
        if auth.startswith('Basic '):
            user, _, token = base64.b64decode(auth[6:]).decode(errors='replace').partition(':')
            if user != 'x-access-token':
                token = None
        service = urllib.parse.parse_qs(url.query).get('service', [''])[0]
        if rest == 'git-receive-pack' or service == 'git-receive-pack':
            need = 'write'
        else:
            need = 'read'
        with LOCK:
            t = TOKENS.get(token) if token else None
            t = dict(t) if t else None
        if not t or t['kind'] != 'github' or t['revoked'] or t['expires'] < time.time():
            log('git_refused', repo=full, status=401, token=token,
                reason='no token' if not token else 'token not valid')
            self.body()
            return self.reply(401, raw=b'Authentication required\n',
                              headers=[('WWW-Authenticate', 'Basic realm="git"')])
        rank = {'read': 1, 'write': 2}
        if full not in t['repositories'] or rank.get(t['permissions'].get('contents'), 0) < rank[need]:
            log('git_refused', repo=full, status=403, token=token, reason='out of scope')
            self.body()
            return self.reply(403, raw=b'Permission denied: repository out of scope\n')
        log('git', repo=full, token=token, service=service or rest)
        self.git_cgi(url, f'/{owner}/{repo}.git/{rest}')

    def git_cgi(self, url, path_info):
        body = self.body()
        env = {'GIT_PROJECT_ROOT': CFG['github']['git_root'], 'GIT_HTTP_EXPORT_ALL': '1',
               'PATH_INFO': path_info, 'QUERY_STRING': url.query,
               'REQUEST_METHOD': self.command, 'REMOTE_USER': 'x-access-token',
               'CONTENT_TYPE': self.headers.get('Content-Type', ''),
               'CONTENT_LENGTH': str(len(body)), 'PATH': os.environ.get('PATH', '/usr/bin'),
               'GIT_PROTOCOL': self.headers.get('Git-Protocol', '')}
        out = subprocess.run(['git', 'http-backend'], input=body, env=env, capture_output=True,
                             check=False).stdout
        head, _, payload = out.partition(b'\r\n\r\n')
        status, headers = 200, []
        for line in head.decode(errors='replace').split('\r\n'):
            k, _, v = line.partition(':')
            if k.lower() == 'status':
                status = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.reply(status, raw=payload, headers=headers)

    # OAuth2 client credentials ------------------------------------------------------------
    def oauth2_client(self, form):
        auth = self.headers.get('Authorization', '')
        if auth.startswith('Basic '):
            cid, _, sec = base64.b64decode(auth[6:]).decode(errors='replace').partition(':')
            cid, sec = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(sec)
        else:
            cid, sec = form.get('client_id', ''), form.get('client_secret', '')
        ok = CFG['oauth2']['clients'].get(cid) == sec and sec != ''
        return cid if ok else None

    def oauth2_token(self, url):
        form = dict(urllib.parse.parse_qsl(self.body().decode(errors='replace')))
        cid = self.oauth2_client(form)
        if cid is None:
            log('mint_refused', kind='oauth2', error='invalid_client')
            return self.reply(401, {'error': 'invalid_client'},
                              headers=[('WWW-Authenticate', 'Basic realm="oauth2"')])
        if form.get('grant_type') != 'client_credentials':
            return self.reply(400, {'error': 'unsupported_grant_type'})
        scope = form.get('scope', ' '.join(CFG['oauth2']['scopes'])).split()
        if any(s not in CFG['oauth2']['scopes'] for s in scope):
            log('mint_refused', kind='oauth2', error='invalid_scope', scope=scope)
            return self.reply(400, {'error': 'invalid_scope'})
        token = 'oat_' + secrets.token_urlsafe(27)
        life = int(CFG['oauth2'].get('lifetime', 3600))
        with LOCK:
            TOKENS[token] = {'kind': 'oauth2', 'client': cid, 'scope': scope,
                             'expires': time.time() + life, 'revoked': False}
        log('mint', kind='oauth2', token=token, client=cid, scope=scope,
            audience=form.get('audience'))
        self.reply(200, {'access_token': token, 'token_type': 'Bearer', 'expires_in': life,
                         'scope': ' '.join(scope)}, headers=[('Cache-Control', 'no-store')])

    def oauth2_revoke(self, url):
        form = dict(urllib.parse.parse_qsl(self.body().decode(errors='replace')))
        cid = self.oauth2_client(form)
        if cid is None:
            log('revoke_refused', kind='oauth2', error='invalid_client')
            return self.reply(401, {'error': 'invalid_client'})
        token = form.get('token', '')
        with LOCK:
            t = TOKENS.get(token)
            ok = t is not None and t['kind'] == 'oauth2' and t['client'] == cid
            if ok:
                t['revoked'] = True
        # RFC 7009 2.2: 200 also for a token the server does not know.
        log('revoke', kind='oauth2', token=token, result='revoked' if ok else 'unknown',
            hint=form.get('token_type_hint'))
        self.reply(200)

    # Vault-style leases -------------------------------------------------------------------
    def vault_creds(self, url, role):
        if self.headers.get('X-Vault-Token') != CFG['vault']['token']:
            self.body()
            log('mint_refused', kind='vault', role=role, error='permission denied')
            return self.reply(403, {'errors': ['permission denied']})
        body = self.json_body()
        if role not in CFG['vault']['roles']:
            return self.reply(400, {'errors': [f'unknown role {role}']})
        ttl = int(body.get('ttl', CFG['vault']['max_ttl']))
        ttl = max(1, min(ttl, int(CFG['vault']['max_ttl'])))
        token = 'hvs_' + secrets.token_urlsafe(27)
        lease = f'creds/{role}/{secrets.token_hex(8)}'
        fault = fault_for(url.path) or ''
        if fault.startswith('lease='):
            lease = fault[len('lease='):]
        data = {'token': token, 'role': role}
        if fault == 'bigscope':
            data['policies'] = [f'{i:03d}' + 'p' * 97 for i in range(300)]
        if fault == 'bigscope-esc':
            data['policies'] = '\x01' * 4000
        with LOCK:
            TOKENS[token] = {'kind': 'vault', 'lease_id': lease, 'expires': time.time() + ttl,
                             'revoked': False}
        log('mint', kind='vault', token=token, lease_id=lease, role=role, request=body,
            lease_duration=ttl)
        self.reply(200, {'request_id': secrets.token_hex(8), 'lease_id': lease,
                         'lease_duration': ttl, 'renewable': False,
                         'data': data})

    def vault_revoke(self, url, in_path=None):
        if self.headers.get('X-Vault-Token') != CFG['vault']['token']:
            self.body()
            log('revoke_refused', kind='vault', error='permission denied')
            return self.reply(403, {'errors': ['permission denied']})
        lease = self.json_body().get('lease_id', '')
        if in_path is not None:  # PUT /v1/sys/leases/revoke/{lease_id}, Vault's path form
            lease = urllib.parse.unquote(in_path)
        found = None
        with LOCK:
            for v, t in TOKENS.items():
                if t['kind'] == 'vault' and t['lease_id'] == lease and not t['revoked']:
                    t['revoked'] = True
                    found = v
        log('revoke', kind='vault', lease_id=lease, token=found,
            result='revoked' if found else 'unknown')
        self.reply(204)

    # Using a token ------------------------------------------------------------------------
    def resource(self, url):
        auth = self.headers.get('Authorization', '')
        token = auth[7:].strip() if auth.startswith('Bearer ') else ''
        with LOCK:
            t = TOKENS.get(token)
            ok = t is not None and not t['revoked'] and t['expires'] > time.time()
            kind = t['kind'] if t else None
        log('use', token=token, kind=kind, status=200 if ok else 401)
        if ok:
            self.reply(200, {'ok': True, 'kind': kind})
        else:
            self.reply(401, {'message': 'Bad credentials'})


ROUTES = [
    ('POST', r'/app/installations/([0-9]+)/access_tokens', Handler.gh_access_tokens),
    ('DELETE', r'/installation/token', Handler.gh_revoke),
    ('GET', r'/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)\.git/(info/refs)', Handler.git),
    ('POST', r'/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)\.git/(git-upload-pack|git-receive-pack)',
     Handler.git),
    ('POST', r'/oauth2/token', Handler.oauth2_token),
    ('POST', r'/oauth2/revoke', Handler.oauth2_revoke),
    ('POST', r'/v1/creds/([A-Za-z0-9_-]+)', Handler.vault_creds),
    ('PUT', r'/v1/sys/leases/revoke', Handler.vault_revoke),
    ('POST', r'/v1/sys/leases/revoke', Handler.vault_revoke),
    ('PUT', r'/v1/sys/leases/revoke/(creds/.+)', Handler.vault_revoke),
    ('GET', r'/resource', Handler.resource),
]


def serve(addr, ctx):
    host, port = addr.rsplit(':', 1)
    srv = ThreadingHTTPServer((host.strip('[]'), int(port)), Handler)
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def main(argv):
    if len(argv) != 2 or argv[0] != '--config':
        sys.exit(__doc__)
    with open(argv[1]) as f:
        CFG.update(json.load(f))
    CFG.setdefault('faults', os.devnull)
    CFG.setdefault('github', {'installations': {}})
    CFG.setdefault('oauth2', {'clients': {}, 'scopes': []})
    CFG.setdefault('vault', {'token': secrets.token_hex(16), 'roles': [], 'max_ttl': 60})
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CFG['cert'], CFG['key'])
    for addr in CFG['listen']:
        serve(addr, ctx)
    print('ready', flush=True)
    sys.stdin.read()  # runs until the test closes our stdin or kills us


if __name__ == '__main__':
    main(sys.argv[1:])
