// A real OpenID provider for madoguchi's relying-party integration tests.
//
// Two instances of the npm package `oidc-provider` (pinned in package-lock.json)
// run behind one HTTP server on 127.0.0.1, each mounted under its own path
// prefix, configured like the services madoguchi signs residents and
// businesses in with:
//
//   /api/realms/main  デジタル認証アプリ (My Number card sign-in; Keycloak-style paths,
//                     private_key_jwt client authentication, ES256 ID tokens)
//   /gbizid           gBizID (business sign-in; client_secret_basic, RS256 ID tokens)
//
// Usage: node tests/oidc/provider.mjs <config.json>
// Prints `listening http://127.0.0.1:PORT` on stdout once ready; exits when
// stdin closes or on SIGTERM. See README.md in this directory.
//
// Everything protocol-related (authorization, PKCE, client authentication,
// tokens, userinfo, discovery, keys, logout) is oidc-provider's own code. This
// script only supplies configuration, an account store, a form-based login
// step, and a clearly separated test-only tamper layer (see "TEST
// INFRASTRUCTURE" below).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import {
  CompactSign,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
} from 'jose';
import { Provider } from 'oidc-provider';

// oidc-provider prints its notices with console.info (stdout). stdout carries
// exactly one line for the parent (the `listening` line), so everything else
// goes to stderr.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

const HOST = '127.0.0.1';

const KEYCLOAK_ROUTES = {
  authorization: '/protocol/openid-connect/auth',
  token: '/protocol/openid-connect/token',
  userinfo: '/protocol/openid-connect/userinfo',
  jwks: '/protocol/openid-connect/certs',
  end_session: '/protocol/openid-connect/logout',
  pushed_authorization_request: '/protocol/openid-connect/ext/par/request',
  revocation: '/protocol/openid-connect/revoke',
  introspection: '/protocol/openid-connect/token/introspect',
};

const ACR_VALUES = ['aal1', 'aal2', 'aal3'];

// oidc-provider puts acr and auth_time into an ID token only when the request
// asks for them (acr_values, max_age, the claims parameter); Keycloak, which
// both services are built like, always sends them. Tying them to the openid
// scope does that. (They are session facts, not account claims, so userinfo
// still carries only sub and the scope claims.)
const ID_TOKEN_SESSION_CLAIMS = ['sub', 'acr', 'auth_time'];

// The two services. `prefix` is the mount path and the issuer's path.
const SERVICES = {
  mynumber: {
    prefix: '/api/realms/main',
    title: 'デジタル認証アプリ（テスト用）',
    signingAlg: 'ES256',
    keyAlg: { alg: 'ES256', options: { crv: 'P-256', extractable: true } },
    scopes: ['openid', 'sign'],
    claims: {
      openid: ID_TOKEN_SESSION_CLAIMS,
      name: ['name'],
      address: ['address'],
      birthdate: ['birthdate'],
      gender: ['gender'],
    },
    defaultClaims: {
      name: 'デジタル 太郎',
      address: '三重県津市広明町13番地',
      birthdate: '1990-01-01',
      gender: '1',
    },
    client: (cfg) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      id_token_signed_response_alg: 'ES256',
      ...cfg,
    }),
  },
  gbizid: {
    prefix: '/gbizid',
    title: 'gBizID（テスト用）',
    signingAlg: 'RS256',
    keyAlg: { alg: 'RS256', options: { modulusLength: 2048, extractable: true } },
    scopes: ['openid'],
    claims: {
      openid: ID_TOKEN_SESSION_CLAIMS,
      profile: ['name', 'account_type', 'corporate_number', 'corporate_name', 'email'],
      email: ['email'],
    },
    defaultClaims: {
      name: '法人 花子',
      account_type: 'prime',
      corporate_number: '7000012050002',
      corporate_name: '株式会社テスト',
      email: 'hanako@corp.example.jp',
    },
    client: (cfg) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      ...cfg,
    }),
  },
};

function fail(message) {
  process.stderr.write(`oidc test provider: ${message}\n`);
  process.exit(1);
}

function readConfig(path) {
  if (!path) fail('usage: node provider.mjs <config.json>');
  let config;
  try {
    config = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    fail(`cannot read ${path}: ${err.message}`);
  }
  for (const name of Object.keys(SERVICES)) {
    const c = config[name];
    if (!c || typeof c.client_id !== 'string' || !Array.isArray(c.redirect_uris)) {
      fail(`config.${name} needs client_id and redirect_uris`);
    }
  }
  if (!config.mynumber.jwks?.keys?.length) fail('config.mynumber.jwks.keys is required');
  if (typeof config.gbizid.client_secret !== 'string') fail('config.gbizid.client_secret is required');
  return config;
}

async function generateSigningKey(keyAlg) {
  const { privateKey } = await generateKeyPair(keyAlg.alg, keyAlg.options);
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = keyAlg.alg;
  jwk.use = 'sig';
  return jwk;
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------
// TEST INFRASTRUCTURE: tamper layer. Not part of either real service.
//
// POST /__test/tamper {"mode": M} arms a one-shot mode; the next successful
// token response (either provider) that carries an id_token has that id_token
// altered, then the mode resets to none. It lets the relying party's tests
// check that bad ID tokens are rejected.
// ---------------------------------------------------------------------------
const TAMPER_MODES = new Set(['none', 'forged', 'expired', 'issuer', 'no_nonce', 'replay']);
let tamperMode = 'none';

async function resign(idToken, key, change) {
  const header = decodeProtectedHeader(idToken);
  const payload = decodeJwt(idToken);
  change(payload);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(key);
}

function tamperMiddleware(service) {
  return async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== KEYCLOAK_ROUTES.token) return;
    if (ctx.status !== 200 || !ctx.body || typeof ctx.body.id_token !== 'string') return;

    const genuine = ctx.body.id_token;
    const previous = service.lastIdToken;
    service.lastIdToken = genuine;

    const mode = tamperMode;
    if (mode === 'none') return;
    tamperMode = 'none';

    const alg = service.signingJwk.alg;
    const realKey = await importJWK(service.signingJwk, alg);
    const now = Math.floor(Date.now() / 1000);
    let tampered;
    switch (mode) {
      case 'forged': {
        const { privateKey } = await generateKeyPair(alg, service.keyAlg.options);
        tampered = await resign(genuine, privateKey, () => {});
        break;
      }
      case 'expired':
        tampered = await resign(genuine, realKey, (p) => {
          p.iat = now - 1200;
          p.exp = now - 600;
        });
        break;
      case 'issuer':
        tampered = await resign(genuine, realKey, (p) => {
          const last = p.iss.slice(-1);
          p.iss = p.iss.slice(0, -1) + (last === 'x' ? 'y' : 'x');
        });
        break;
      case 'no_nonce':
        tampered = await resign(genuine, realKey, (p) => {
          delete p.nonce;
        });
        break;
      case 'replay':
        if (!previous) {
          process.stderr.write('oidc test provider: tamper replay: no earlier id_token from this provider, left unchanged\n');
          return;
        }
        tampered = previous;
        break;
      default:
        return;
    }
    ctx.body = { ...ctx.body, id_token: tampered };
  };
}
// --------------------------------------------------------------------------- end of tamper layer

// The login step: GET shows a form, POST signs in (or denies) and grants
// consent in the same step.
function interactionPage(service, details, action) {
  const { params, prompt, uid } = details;
  return `<!DOCTYPE html>
<html lang="ja">
<head><meta charset="utf-8"><title>${escapeHtml(service.title)}</title></head>
<body>
<h1>${escapeHtml(service.title)}</h1>
<p>client_id: <code>${escapeHtml(params.client_id)}</code>, scope: <code>${escapeHtml(params.scope ?? '')}</code>, prompt: <code>${escapeHtml(prompt.name)}</code>, interaction: <code>${escapeHtml(uid)}</code></p>
<form method="post" action="${escapeHtml(action)}">
<p><label>account (sub) <input name="account" value="user-0001"></label></p>
<p><label>acr <input name="acr" value="${escapeHtml(service.name === 'mynumber' ? 'aal2' : '')}"></label></p>
<p><label>claims (JSON) <textarea name="claims" rows="6" cols="60">{}</textarea></label></p>
<p><button type="submit">ログイン</button> <button type="submit" name="deny" value="1">拒否</button></p>
</form>
</body>
</html>
`;
}

async function grantFor(provider, details, accountId) {
  const { params, prompt, grantId } = details;
  let grant;
  if (grantId) {
    grant = await provider.Grant.find(grantId);
    if (grant && grant.accountId !== accountId) grant = undefined;
  }
  grant ??= new provider.Grant({ accountId, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

function interactionMiddleware(service) {
  const { provider, prefix } = service;
  return async (ctx, next) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(ctx.path);
    if (!m) return next();
    const action = `${prefix}/interaction/${m[1]}`;
    ctx.set('Cache-Control', 'no-store');

    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      ctx.status = 400;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `interaction not found: ${err.error_description ?? err.message}\n`;
      return;
    }
    if (details.uid !== m[1]) {
      ctx.status = 400;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'interaction cookie does not match this URL\n';
      return;
    }

    const finish = async (result) => {
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: false,
      });
      ctx.status = 303;
      ctx.redirect(returnTo);
    };

    // A second interaction for consent only (the account is already signed
    // in): grant automatically.
    if (details.prompt.name === 'consent' && details.session?.accountId) {
      const grantId = await grantFor(provider, details, details.session.accountId);
      await finish({ consent: { grantId } });
      return;
    }

    if (ctx.method === 'GET') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = interactionPage(service, details, action);
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      return;
    }

    const form = new URLSearchParams(await readBody(ctx.req));
    if (form.get('deny')) {
      await finish({ error: 'access_denied', error_description: 'End-User denied the sign-in' });
      return;
    }
    const account = form.get('account');
    if (!account) {
      ctx.status = 400;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'account is required\n';
      return;
    }
    let claims = {};
    const rawClaims = form.get('claims');
    if (rawClaims && rawClaims.trim()) {
      try {
        claims = JSON.parse(rawClaims);
      } catch (err) {
        claims = undefined;
      }
      if (!claims || typeof claims !== 'object' || Array.isArray(claims)) {
        ctx.status = 400;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = 'claims must be a JSON object\n';
        return;
      }
    }
    // Each sign-in defines the account's claims: the defaults with the posted
    // ones on top.
    service.accounts.set(account, claims);

    // Signing in as a different account than the browser's current session
    // (prompt=login, max_age): oidc-provider would answer with a
    // self-submitting logout form, which needs JavaScript. Keycloak replaces
    // the session instead; do the same by ending the old session here.
    if (details.session?.accountId && details.session.accountId !== account) {
      const old = await provider.Session.findByUid(details.session.uid);
      await old?.destroy();
      details.session = undefined;
      details.grantId = undefined;
      await details.save(details.exp - Math.floor(Date.now() / 1000));
    }

    const acr = form.get('acr') || undefined;
    const grantId = await grantFor(provider, details, account);
    await finish({
      login: { accountId: account, acr, amr: ['pwd'], remember: true },
      consent: { grantId },
    });
  };
}

async function buildProvider(name, spec, config, origin) {
  const service = {
    name,
    ...spec,
    accounts: new Map(),
    lastIdToken: undefined,
    signingJwk: await generateSigningKey(spec.keyAlg),
  };
  const issuer = `${origin}${spec.prefix}`;

  const provider = new Provider(issuer, {
    clients: [spec.client(config[name])],
    jwks: { keys: [service.signingJwk] },
    routes: KEYCLOAK_ROUTES,
    scopes: spec.scopes,
    claims: spec.claims,
    acrValues: ACR_VALUES,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
    },
    interactions: {
      // Absolute, under the mount path (a bare path would resolve against the
      // host root, outside the prefix).
      url: (ctx, interaction) => `${issuer}/interaction/${interaction.uid}`,
    },
    cookies: {
      names: {
        session: `${name}_session`,
        interaction: `${name}_interaction`,
        resume: `${name}_interaction_resume`,
      },
      keys: [crypto.randomBytes(32).toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { ...spec.defaultClaims, ...(service.accounts.get(sub) ?? {}), sub };
        },
      };
    },
    async renderError(ctx, out) {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>error</title></head><body><h1>error</h1>${
        Object.entries(out).map(([k, v]) => `<p><b>${escapeHtml(k)}</b>: ${escapeHtml(v)}</p>`).join('')
      }</body></html>\n`;
    },
  });
  service.provider = provider;

  provider.on('server_error', (ctx, err) => {
    process.stderr.write(`oidc test provider (${name}): server_error: ${err.stack ?? err}\n`);
  });

  provider.use(interactionMiddleware(service));
  provider.use(tamperMiddleware(service));

  service.handler = provider.callback();
  return service;
}

async function main() {
  const config = readConfig(process.argv[2]);

  let services = [];
  const server = http.createServer(async (req, res) => {
    try {
      const path = new URL(req.url, 'http://x').pathname;

      if (path === '/__test/health' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      // TEST INFRASTRUCTURE: arm the tamper layer (see above).
      if (path === '/__test/tamper' && req.method === 'POST') {
        let mode;
        try {
          ({ mode } = JSON.parse(await readBody(req)));
        } catch {
          mode = undefined;
        }
        if (!TAMPER_MODES.has(mode)) {
          res.writeHead(400, { 'content-type': 'text/plain' })
            .end(`mode must be one of ${[...TAMPER_MODES].join(', ')}\n`);
          return;
        }
        tamperMode = mode;
        res.writeHead(204).end();
        return;
      }

      const service = services.find((s) => path === s.prefix || path.startsWith(`${s.prefix}/`));
      if (!service) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      // Mount under the prefix the way oidc-provider expects (as express or
      // koa-mount do): originalUrl keeps the full URL, url is the rest.
      req.originalUrl = req.url;
      req.url = req.url.slice(service.prefix.length) || '/';
      if (req.url.startsWith('?')) req.url = `/${req.url}`;
      service.handler(req, res);
    } catch (err) {
      process.stderr.write(`oidc test provider: ${err.stack ?? err}\n`);
      if (!res.headersSent) res.writeHead(err.status ?? 500).end();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const origin = `http://${HOST}:${server.address().port}`;

  services = await Promise.all(
    Object.entries(SERVICES).map(([name, spec]) => buildProvider(name, spec, config, origin)),
  );

  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The parent test process holds our stdin; when it goes away, so do we.
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();

  process.stdout.write(`listening ${origin}\n`);
}

main().catch((err) => fail(err.stack ?? String(err)));
