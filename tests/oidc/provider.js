// A real OpenID provider for the single sign-on tests (tests/oidc.rs):
// oidc-provider on 127.0.0.1 (port: argv[2], 0 for any) with one client and
// a non-interactive log-in. It prints `listening PORT` once it serves.
//
// Set by the test through the environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET  the one client
//   OIDC_REDIRECT_URI                   its redirect URI (the app's callback)
//   OIDC_ACCOUNTS                       {"id": {claims…}, …}: the accounts that
//                                       exist, each id being its subject
//   OIDC_SIGNING_ALG                    RS256 (default) or ES256: how ID tokens
//                                       are signed
//
// Log-in without a browser: GET /test/log-in-as/ID sets a cookie naming the
// account; the interaction page then logs that account in and grants consent
// to the scopes asked for, answering with redirects only, so a client that
// keeps cookies and follows redirects completes the flow.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const signingAlg = process.env.OIDC_SIGNING_ALG || 'RS256';
// A new key, with a new key id, at every start: a restart is a key rotation.
const signingKey = (signingAlg === 'ES256'
  ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })).privateKey;

let provider;

function cookie(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    const accountId = cookie(req, 'test_account');
    if (!accountId || !(accountId in accounts)) {
      res.statusCode = 400;
      res.end(`no known account chosen (GET /test/log-in-as/ID first): ${accountId}`);
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  if (details.prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 400;
  res.end(`unexpected prompt ${details.prompt.name}`);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const logInAs = url.pathname.match(/^\/test\/log-in-as\/([^/]+)$/);
  if (logInAs) {
    res.setHeader('Set-Cookie', `test_account=${logInAs[1]}; Path=/; HttpOnly`);
    res.end('ok');
    return;
  }
  if (url.pathname.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  provider.callback()(req, res);
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  const { port } = server.address();
  provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [{
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: [process.env.OIDC_REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: signingAlg,
    }],
    async findAccount(_ctx, id) {
      if (!(id in accounts)) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...accounts[id] }; } };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups'],
    },
    // Every client must send a PKCE challenge (S256): the app is tested to.
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    jwks: { keys: [{ ...signingKey.export({ format: 'jwk' }), kid: crypto.randomBytes(8).toString('hex'), alg: signingAlg, use: 'sig' }] },
  });
  provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error: ${error.stack}\n`));
  process.stdout.write(`listening ${port}\n`);
});
