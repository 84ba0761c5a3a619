// @ts-check
// pqseal console: calls this server's Managed API (/v1/*) from the browser through the SDK's client.
//
// Credentials live only in the inputs and in local variables of these functions: nothing is written
// to localStorage, sessionStorage, cookies, IndexedDB or the URL. The page's CSP forbids inline
// script, other origins and form submission, and requires Trusted Types, so this module builds the
// DOM with textContent / createElement only (never innerHTML).

// The SDK's modules, served from packages/sdk/dist by src/web/plugin.ts. Not its index: offline
// verification there imports @noble/* by bare name, which needs an import map, an inline script the
// CSP forbids. The types are the package's own (type-checked by tsconfig.console.json).
const SDK = '/console/sdk/';
/** @type {Pick<typeof import('@pqseal/sdk'), 'Client'>} */
const { Client } = await import(`${SDK}client.js`);
/** @type {Pick<typeof import('@pqseal/sdk'), 'managed'>} */
const { managed } = await import(`${SDK}auth.js`);
/** @type {Pick<typeof import('@pqseal/sdk'), 'PqsealError'>} */
const { PqsealError } = await import(`${SDK}errors.js`);
/** @type {Pick<typeof import('@pqseal/sdk'), 'errorSpec' | 'isErrorCode'>} */
const { errorSpec, isErrorCode } = await import(`${SDK}catalogue.js`);

const CREDENTIALS = /** @type {const} */ ([
  { header: 'username', input: 'cred-username', label: 'Username', secret: false },
  { header: 'password', input: 'cred-password', label: 'Password', secret: true },
  { header: 'api_key', input: 'cred-api-key', label: 'API key', secret: true },
  { header: 'access_key', input: 'cred-access-key', label: 'Access key', secret: true },
  { header: 'secret_key', input: 'cred-secret-key', label: 'Secret key', secret: true },
]);

const OPERATIONS = {
  'sign-encrypt': { label: 'Sign & Encrypt', seals: true },
  encrypt: { label: 'Encrypt', seals: true },
  decrypt: { label: 'Decrypt', seals: false },
  'decrypt-verify': { label: 'Decrypt & Verify', seals: false },
};
/** @typedef {keyof typeof OPERATIONS} Operation */
/** @typedef {{ data?: string, encrypted_data?: string }} RequestBody */

/**
 * What an error code means, in plain words, and what to do about it: codes of the server's catalogue
 * (a renamed or removed code fails the console's type check) and the page's and SDK's own. Codes not
 * listed fall back to the catalogue's description.
 * @typedef {'NETWORK_ERROR' | 'MISSING_CREDENTIALS' | 'MISSING_ENVELOPE' | 'INVALID_HEADER_VALUE'} LocalCode
 * @type {Readonly<Partial<Record<import('@pqseal/sdk').ErrorCode | LocalCode, readonly [title: string, advice: string]>>>}
 */
const PLAIN_ERRORS = {
  NOT_AUTHORIZED: ['The username or password is wrong.', 'Check both; they are the ones printed by pqseal org create or on the first start.'],
  LOGIN_THROTTLED: ['Too many wrong passwords for this user.', 'Wait a little, then try again with the right password.'],
  TOKEN_INVALID: ['The sign-in token was not accepted.', 'Try again; if it persists, the server’s signing keys may have changed.'],
  TOKEN_EXPIRED: ['The sign-in token has expired.', 'Try again.'],
  PARTNER_CREDENTIALS_INVALID: ['The API key, access key or secret key is wrong.', 'Check all three; they may also have been revoked.'],
  PARTNER_CREDENTIALS_MISMATCH: ['The partner keys belong to a different organisation than the user.', 'Use the user and keys of the same organisation.'],
  VALIDATION_ERROR: ['The request is incomplete or malformed.', ''],
  INVALID_JSON: ['The request body is not valid JSON.', ''],
  UNSUPPORTED_MEDIA_TYPE: ['The request was not sent as JSON.', ''],
  BODY_TOO_LARGE: ['The data is larger than this server accepts.', 'Send less data, or raise PQSEAL_BODY_LIMIT on the server.'],
  ENVELOPE_TOO_LARGE: ['The envelope is larger than this server accepts.', ''],
  RATE_LIMITED: ['Too many requests in a short time.', 'Slow down and try again in a moment.'],
  SERVICE_BUSY: ['The server is busy.', 'Try again in a moment.'],
  CRYPTO_TIMEOUT: ['The server took too long to encrypt or decrypt.', 'Try again in a moment.'],
  STORE_UNAVAILABLE: ['The server cannot reach its data store right now.', 'Try again shortly; an operator should check the server.'],
  ENVELOPE_MALFORMED: ['This is not a valid envelope.', 'It may be damaged or truncated: paste the complete encrypted_data.'],
  ENVELOPE_AUTH_FAILED: ['The envelope failed its integrity check: it was altered or damaged.', 'Nothing was decrypted.'],
  ENVELOPE_UNSUPPORTED_VERSION: ['This envelope uses a format version this server does not support.', ''],
  ENVELOPE_UNSUPPORTED_SUITE: ['This envelope uses algorithms this server does not support.', ''],
  ENVELOPE_NOT_SIGNED: ['This envelope is not signed.', 'It was made with Encrypt, not Sign & Encrypt: use Decrypt instead.'],
  ENVELOPE_ACCESS_DENIED: ['Your organisation may not open this envelope.', 'It was made for another organisation, or access was not shared with yours.'],
  KEY_NOT_FOUND: ['The key this envelope was made with is unknown to this server.', ''],
  NOT_FOUND: ['This server has no such endpoint.', ''],
  INTERNAL_ERROR: ['Something went wrong on the server.', 'The request id below identifies the failure in the server log.'],
  NETWORK_ERROR: ['The server could not be reached.', 'Check that it is running and that you are online.'],
  MISSING_CREDENTIALS: ['Some credentials are missing.', 'All five headers are required by the Managed API.'],
  MISSING_ENVELOPE: ['There is nothing to decrypt yet.', 'Press Sign & Encrypt or Encrypt first, or paste an encrypted_data into the Envelope box.'],
  INVALID_HEADER_VALUE: [
    'A credential contains characters that cannot be sent in an HTTP header.',
    'Check for pasted spaces, line breaks or non-ASCII characters.',
  ],
};

const SIGNATURE_REASONS = {
  SIGNATURE_MISMATCH: 'the signature does not match the data or the claimed signer',
  SIGNER_KEY_UNKNOWN: 'the claimed signer’s key is not known to this server',
};

const MASK = '••••••••';
/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  /** Show the secrets in the curl command. */
  reveal: false,
  /** @type {Operation} The operation the curl command shows: the last one run, or Sign & Encrypt before any. */
  op: 'sign-encrypt',
  busy: false,
};

// ---------------------------------------------------------------- credentials

function credentialInputs() {
  return CREDENTIALS.map((c) => ({ ...c, element: /** @type {HTMLInputElement} */ ($(c.input)) }));
}

function readCredentials() {
  /** @type {Record<string, string>} */
  const values = {};
  for (const c of credentialInputs()) values[c.header] = c.element.value.trim();
  return values;
}

function clearCredentials() {
  for (const c of credentialInputs()) {
    c.element.value = '';
    c.element.removeAttribute('aria-invalid');
  }
  /** @type {HTMLTextAreaElement} */ ($('paste-json')).value = '';
  $('paste-message').textContent = '';
  setReveal(false);
  renderCurl();
  announce('Credentials cleared.');
}

/** Accepts the output of `pqseal org create --json`, camelCase keys or PQSEAL_* environment names. */
function fillFromJson() {
  const area = /** @type {HTMLTextAreaElement} */ ($('paste-json'));
  const message = $('paste-message');
  let parsed;
  try {
    parsed = JSON.parse(area.value);
  } catch {
    message.textContent = 'That is not valid JSON.';
    return;
  }
  if (!parsed || typeof parsed !== 'object') {
    message.textContent = 'Expected a JSON object.';
    return;
  }
  const aliases = {
    username: ['username', 'PQSEAL_USERNAME'],
    password: ['password', 'PQSEAL_PASSWORD'],
    api_key: ['api_key', 'apiKey', 'PQSEAL_API_KEY'],
    access_key: ['access_key', 'accessKey', 'PQSEAL_ACCESS_KEY'],
    secret_key: ['secret_key', 'secretKey', 'PQSEAL_SECRET_KEY'],
  };
  let filled = 0;
  for (const c of credentialInputs()) {
    const key = aliases[c.header].find((k) => typeof parsed[k] === 'string');
    if (key) {
      c.element.value = parsed[key];
      c.element.removeAttribute('aria-invalid');
      filled += 1;
    }
  }
  area.value = '';
  const name = typeof parsed.name === 'string' ? ` for ${parsed.name}` : '';
  message.textContent = filled ? `Filled ${filled} of 5 fields${name}.` : 'No credential fields found in that JSON.';
  if (filled) /** @type {HTMLDetailsElement} */ ($('paste-json').closest('details')).open = filled < 5;
  renderCurl();
  announce(message.textContent);
}

// ---------------------------------------------------------------- curl

/** @param {string} text */
function shellSingleQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** @param {string} text */
function shellDoubleQuote(text) {
  return `"${text.replace(/([\\"$`])/g, '\\$1')}"`;
}

/** @param {string} value */
function maskValue(value) {
  const prefix = /^(pk_|ak_|sk_)/.exec(value);
  return `${prefix ? prefix[1] : ''}${MASK}`;
}

/**
 * @param {Operation} op
 * @returns {RequestBody}
 */
function requestBody(op) {
  return OPERATIONS[op].seals
    ? { data: /** @type {HTMLTextAreaElement} */ ($('data')).value }
    : { encrypted_data: /** @type {HTMLTextAreaElement} */ ($('encrypted-data')).value.trim() };
}

/** @param {Operation} op */
function curlCommand(op) {
  const creds = readCredentials();
  const lines = [`curl -X POST ${location.origin}/v1/${op}`, `-H "Content-Type: application/json"`];
  for (const c of CREDENTIALS) {
    const value = creds[c.header];
    const shown = !value ? `<${c.header}>` : c.secret && !state.reveal ? maskValue(value) : value;
    lines.push(`-H ${shellDoubleQuote(`${c.header}: ${shown}`)}`);
  }
  const body = requestBody(op);
  if (!OPERATIONS[op].seals && !body.encrypted_data) body.encrypted_data = '<encrypted_data>';
  lines.push(`-d ${shellSingleQuote(JSON.stringify(body))}`);
  return lines.join(' \\\n  ');
}

function renderCurl() {
  $('curl-command').textContent = curlCommand(state.op);
}

/** @param {boolean} reveal */
function setReveal(reveal) {
  state.reveal = reveal;
  const button = $('reveal-secrets');
  button.setAttribute('aria-pressed', String(reveal));
  button.textContent = reveal ? 'Hide secrets' : 'Reveal secrets';
  renderCurl();
}

// ---------------------------------------------------------------- requests

/** @param {Operation} op */
async function run(op) {
  if (state.busy) return;
  state.op = op;
  renderCurl();

  const creds = readCredentials();
  const inputs = credentialInputs();
  const missing = inputs.filter((c) => !creds[c.header]);
  for (const c of inputs) {
    if (missing.includes(c)) c.element.setAttribute('aria-invalid', 'true');
    else c.element.removeAttribute('aria-invalid');
  }
  if (missing.length) {
    showLocalError('MISSING_CREDENTIALS', `Missing: ${missing.map((c) => c.label).join(', ')}.`);
    missing[0]?.element.focus();
    return;
  }
  const body = requestBody(op);
  const envelopeBox = $('encrypted-data');
  if (!OPERATIONS[op].seals && !body.encrypted_data) {
    envelopeBox.setAttribute('aria-invalid', 'true');
    showLocalError('MISSING_ENVELOPE', '');
    return;
  }
  envelopeBox.removeAttribute('aria-invalid');

  setBusy(op, true);
  const started = performance.now();
  /** @type {Response | undefined} The answer as it came over the wire, for the status line and the raw view. */
  let answer;
  const client = new Client({
    baseUrl: location.origin,
    credentials: { apiKey: creds.api_key ?? '', accessKey: creds.access_key ?? '', secretKey: creds.secret_key ?? '' },
    auth: managed({ username: creds.username ?? '', password: creds.password ?? '' }),
    // A 16 MiB payload takes a while on a busy server; the console waits rather than give up.
    timeoutMs: 120_000,
    fetch: async (input, init) => {
      const response = await fetch(input, { ...init, cache: 'no-store', credentials: 'omit', redirect: 'error', referrerPolicy: 'no-referrer' });
      answer = response.clone();
      return response;
    },
  });
  /** @type {Outcome | undefined} */
  let result;
  /** @type {unknown} */
  let failure;
  try {
    result = await call(client, op, body);
  } catch (error) {
    failure = error;
  }
  const elapsed = performance.now() - started;
  setBusy(op, false);

  if (!answer) {
    // Nothing came back: the server is unreachable, or the browser refused to send a header value.
    const cause = failure instanceof PqsealError ? failure.cause : failure;
    const detail = cause instanceof Error ? cause.message : String(cause);
    const headerProblem = cause instanceof TypeError && /header|invalid value/i.test(detail);
    showLocalError(headerProblem ? 'INVALID_HEADER_VALUE' : 'NETWORK_ERROR', detail);
    return;
  }
  const text = await answer.text();
  /** @type {unknown} */
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  renderMeta(answer, elapsed);
  $('raw-block').hidden = false;
  $('raw-response').textContent = json === undefined ? text || '(empty body)' : JSON.stringify(json, null, 2);

  if (result) {
    renderSuccess(result);
  } else if (failure instanceof PqsealError) {
    renderError(failure.code, failure.status ?? answer.status, failure.message, answer.headers.get('retry-after'));
  } else {
    renderError(`HTTP_${answer.status}`, answer.status, String(failure), null);
  }
}

/**
 * @typedef {import('@pqseal/sdk').SealResult} SealResult
 * @typedef {import('@pqseal/sdk').DecryptResult} DecryptResult
 * @typedef {import('@pqseal/sdk').DecryptVerifyResult} DecryptVerifyResult
 * @typedef {{ op: 'sign-encrypt', sealed: SealResult } | { op: 'encrypt', sealed: SealResult } | { op: 'decrypt', opened: DecryptResult } | { op: 'decrypt-verify', verified: DecryptVerifyResult }} Outcome
 */

/**
 * One Managed API call through the SDK.
 * @param {InstanceType<typeof Client>} client
 * @param {Operation} op
 * @param {RequestBody} body
 * @returns {Promise<Outcome>}
 */
async function call(client, op, body) {
  switch (op) {
    case 'sign-encrypt':
      return { op, sealed: await client.signEncrypt({ data: body.data ?? '' }) };
    case 'encrypt':
      return { op, sealed: await client.encrypt({ data: body.data ?? '' }) };
    case 'decrypt':
      return { op, opened: await client.decrypt({ encryptedData: body.encrypted_data ?? '' }) };
    default:
      return { op, verified: await client.decryptVerify({ encryptedData: body.encrypted_data ?? '' }) };
  }
}

/**
 * @param {Operation} op
 * @param {boolean} busy
 */
function setBusy(op, busy) {
  state.busy = busy;
  for (const button of document.querySelectorAll('[data-op]')) {
    if (busy) button.setAttribute('aria-disabled', 'true');
    else button.removeAttribute('aria-disabled');
    if (busy && button.getAttribute('data-op') === op) button.setAttribute('aria-busy', 'true');
    else button.removeAttribute('aria-busy');
  }
  if (busy) {
    const result = $('result');
    result.setAttribute('aria-busy', 'true');
  } else {
    $('result').removeAttribute('aria-busy');
  }
}

// ---------------------------------------------------------------- rendering

/** @typedef {Node | string | null | undefined | false} Child */

/**
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {...Child} children
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

const ICONS = {
  ok: 'M5 12.5l4.2 4.2L19 7',
  bad: 'M6.5 6.5l11 11M17.5 6.5l-11 11',
  lock: 'M7 10V7.5a5 5 0 0 1 10 0V10M5.5 10h13v10h-13z',
  unlock: 'M7 10V7.5a5 5 0 0 1 9.6-2M5.5 10h13v10h-13z',
  warn: 'M12 4l9 16H3zM12 10v4.5M12 17.2v.3',
};

/** @param {keyof typeof ICONS} kind */
function icon(kind) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'badge-icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[kind]);
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2.4');
  path.setAttribute('stroke-linecap', 'round');
  path.setAttribute('stroke-linejoin', 'round');
  svg.append(path);
  return svg;
}

/** @param {[string, Child][]} rows */
function facts(rows) {
  const list = el('dl', { class: 'facts' });
  for (const [term, value] of rows) {
    if (value === undefined || value === null || value === false || value === '') continue;
    list.append(el('dt', {}, term), el('dd', {}, value));
  }
  return list;
}

/**
 * @param {string} label
 * @param {string} text
 */
function plaintextBlock(label, text) {
  return [el('span', { class: 'plaintext-label' }, label), el('div', { class: 'plaintext', id: 'decrypted-data', tabindex: '0' }, text)];
}

/** @param {string | undefined} iso */
function formatTimestamp(iso) {
  if (typeof iso !== 'string' || iso === '') return undefined;
  // Microsecond timestamps (…27.659100+00:00): keep milliseconds for Date, show the original too.
  const date = new Date(iso.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(date.getTime())) return el('span', { class: 'mono' }, iso);
  const local = date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'long' });
  return el('span', {}, local, el('br'), el('span', { class: 'mono muted' }, iso));
}

/**
 * @param {'ok' | 'bad' | 'info'} kind
 * @param {{ text: string, icon?: keyof typeof ICONS }} badge
 * @param {string | null} title
 * @param {...Child} content
 */
function outcome(kind, badge, title, ...content) {
  /** @type {Record<typeof kind, keyof typeof ICONS>} */
  const icons = { ok: 'ok', bad: 'bad', info: 'lock' };
  return el(
    'div',
    { class: `outcome ${kind}` },
    el(
      'div',
      { class: 'outcome-head' },
      el('span', { class: `badge badge-${kind}`, id: 'verification-badge' }, icon(badge.icon ?? icons[kind]), badge.text),
      title ? el('p', { class: 'outcome-title' }, title) : null,
    ),
    ...content,
  );
}

/** #result is itself the aria-live region: replacing its content announces it. */
/** @param {Node} node */
function showResult(node) {
  $('result').replaceChildren(node);
}

/** @param {Outcome} result */
function renderSuccess(result) {
  if (result.op === 'sign-encrypt' || result.op === 'encrypt') {
    const { encryptedData, envelopeId } = result.sealed;
    /** @type {HTMLTextAreaElement} */ ($('encrypted-data')).value = encryptedData;
    const signed = result.op === 'sign-encrypt';
    showResult(
      outcome(
        signed ? 'ok' : 'info',
        { text: signed ? 'Signed & encrypted' : 'Encrypted', icon: 'lock' },
        null,
        el(
          'p',
          { class: 'outcome-text' },
          signed
            ? 'Signed with your organisation’s post-quantum key and encrypted to it. The envelope is in the Envelope box: press Decrypt & Verify to check it.'
            : 'Encrypted to your organisation, without a signature. The envelope is in the Envelope box: press Decrypt to open it.',
        ),
        facts([
          ['Envelope id', el('span', { class: 'mono' }, envelopeId || '–')],
          ['Size', `${encryptedData.length.toLocaleString()} characters`],
        ]),
      ),
    );
    return;
  }
  if (result.op === 'decrypt') {
    const opened = result.opened;
    showResult(
      outcome(
        'info',
        { text: 'Decrypted', icon: 'unlock' },
        null,
        el(
          'p',
          { class: 'outcome-text', id: 'decrypt-origin' },
          opened.signed
            ? 'This envelope carries a signature, which Decrypt does not check. Use Decrypt & Verify to see who signed it.'
            : "This envelope is not signed: anyone with the organisation's public key could have made it, so its origin is unknown.",
        ),
        ...plaintextBlock(opened.dataEncoding === 'base64' ? 'Decrypted data (base64)' : 'Decrypted data', opened.decryptedData),
      ),
    );
    return;
  }
  const verified = result.verified;
  const signedAt = formatTimestamp(verified.signedTimestamp);
  if (verified.isValidSignature) {
    showResult(
      outcome(
        'ok',
        { text: 'Signature valid' },
        null,
        facts([
          ['Signed by', el('strong', { id: 'signed-by' }, verified.signedBy)],
          ['Signed at', signedAt],
          ['Organisation id', verified.signerOrgId ? el('span', { class: 'mono' }, verified.signerOrgId) : undefined],
          ['Signing key', verified.signerKeyId ? el('span', { class: 'mono' }, verified.signerKeyId) : undefined],
        ]),
        ...plaintextBlock(verified.dataEncoding === 'base64' ? 'Decrypted data (base64)' : 'Decrypted data', verified.decryptedData),
      ),
    );
  } else {
    const code = verified.signatureError;
    const reason = code === undefined ? undefined : (SIGNATURE_REASONS[/** @type {keyof typeof SIGNATURE_REASONS} */ (code)] ?? code);
    showResult(
      outcome(
        'bad',
        { text: 'Signature invalid' },
        null,
        el('p', { class: 'outcome-text' }, 'Do not trust this data: its origin cannot be proven.'),
        facts([
          ['Repudiator', el('strong', { id: 'repudiator' }, verified.repudiator ?? verified.signedBy)],
          ['Reason', reason ? `${reason}${code ? ` (${code})` : ''}` : undefined],
          ['Claimed time', signedAt],
          ['Signing key', verified.signerKeyId ? el('span', { class: 'mono' }, verified.signerKeyId) : undefined],
        ]),
        ...plaintextBlock('Decrypted data (unverified)', verified.decryptedData),
      ),
    );
  }
}

/**
 * @param {string} code
 * @param {string | undefined} fallback
 */
function plainWords(code, fallback) {
  const known = /** @type {Readonly<Record<string, readonly [string, string] | undefined>>} */ (PLAIN_ERRORS)[code];
  if (known) return { title: known[0], advice: known[1] };
  // Any other code of the server's catalogue: its documented meaning, and whether trying again helps.
  if (isErrorCode(code)) {
    const spec = errorSpec(code);
    return { title: sentence(spec.message), advice: spec.retryable ? `${spec.description} Try again shortly.` : spec.description };
  }
  return { title: sentence(fallback || 'The request failed.'), advice: '' };
}

/** @param {string} text */
function sentence(text) {
  text = text.trim();
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}

/**
 * @param {string} code
 * @param {number | undefined} status
 * @param {string} serverMessage
 * @param {string | null} retryAfter
 */
function renderError(code, status, serverMessage, retryAfter) {
  const { title, advice } = plainWords(code, serverMessage);
  const retry = retryAfter ? ` Retry in ${retryAfter} s.` : '';
  const codeText = status ? `${status} ${code}` : code;
  showResult(
    el(
      'div',
      { class: 'outcome bad', id: 'error' },
      el(
        'div',
        { class: 'outcome-head' },
        el('span', { class: 'badge badge-bad' }, icon('warn'), 'Error'),
        el('code', { class: 'code-chip', id: 'error-code' }, codeText),
      ),
      el('p', { class: 'outcome-title', id: 'error-title' }, title),
      advice || retry ? el('p', { class: 'outcome-text' }, `${advice}${retry}`.trim()) : null,
      serverMessage && serverMessage !== title ? el('p', { class: 'outcome-detail' }, `Server message: ${serverMessage}`) : null,
    ),
  );
}

/**
 * @param {string} code
 * @param {string} detail
 */
function showLocalError(code, detail) {
  $('meta').hidden = true;
  $('raw-block').hidden = true;
  $('raw-response').textContent = '';
  const { title, advice } = plainWords(code, detail);
  showResult(
    el(
      'div',
      { class: 'outcome bad', id: 'error' },
      el(
        'div',
        { class: 'outcome-head' },
        el('span', { class: 'badge badge-bad' }, icon('warn'), 'Not sent'),
        el('code', { class: 'code-chip', id: 'error-code' }, code),
      ),
      el('p', { class: 'outcome-title', id: 'error-title' }, title),
      advice ? el('p', { class: 'outcome-text' }, advice) : null,
      detail ? el('p', { class: 'outcome-detail' }, detail) : null,
    ),
  );
}

/**
 * @param {Response} response
 * @param {number} elapsed
 */
function renderMeta(response, elapsed) {
  $('meta').hidden = false;
  const status = $('meta-status');
  status.textContent = `${response.status} ${response.statusText || ''}`.trim();
  status.className = response.ok ? 'status-ok' : 'status-bad';
  $('meta-time').textContent = `${Math.round(elapsed).toLocaleString()} ms`;
  $('meta-request-id').textContent = response.headers.get('x-request-id') ?? '(none)';
}

// ---------------------------------------------------------------- copy & announce

/** @type {ReturnType<typeof setTimeout> | undefined} */
let announceTimer;
/** @param {string} text */
function announce(text) {
  const region = $('announcer');
  region.textContent = '';
  // A fresh text node after a tick is announced even when the text repeats.
  setTimeout(() => {
    region.textContent = text;
  }, 30);
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => (region.textContent = ''), 4000);
}

/** @param {string} text */
async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the legacy path
  }
  const scratch = /** @type {HTMLTextAreaElement} */ (el('textarea', { class: 'visually-hidden', readonly: '', 'aria-hidden': 'true', tabindex: '-1' }));
  scratch.value = text;
  document.body.append(scratch);
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  scratch.select();
  let ok;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  scratch.remove();
  active?.focus();
  return ok;
}

/** @param {Node} node */
function selectContents(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
}

/** @param {Element} button */
async function onCopy(button) {
  const source = $(button.getAttribute('data-copy-from') ?? '');
  const text = source.textContent ?? '';
  const ok = await copyText(text);
  if (!ok) {
    selectContents(source);
    announce('Could not copy automatically: the text is selected, press Ctrl+C (or ⌘C).');
    return;
  }
  const original = button.textContent;
  button.textContent = 'Copied';
  button.classList.add('copied');
  announce('Copied to the clipboard.');
  setTimeout(() => {
    button.textContent = original;
    button.classList.remove('copied');
  }, 1500);
}

// ---------------------------------------------------------------- wiring

/** The pill in the header: this server's address and whether its store is reachable (/readyz). */
async function checkServer() {
  const pill = $('server-status');
  const label = $('server-status-text');
  let ready;
  try {
    const response = await fetch('/readyz', { cache: 'no-store', credentials: 'omit' });
    ready = response.ok;
  } catch {
    ready = false;
  }
  pill.classList.toggle('ok', ready);
  pill.classList.toggle('bad', !ready);
  label.textContent = `${location.host} · ${ready ? 'ready' : 'not ready'}`;
  pill.title = ready ? 'The server and its data store are up' : 'The server or its data store is not answering';
  pill.hidden = false;
}

function init() {
  const form = /** @type {HTMLFormElement} */ ($('console-form'));
  // Never submit: the inputs have no names, the CSP says form-action 'none', and we cancel it here.
  form.addEventListener('submit', (event) => event.preventDefault());

  for (const button of document.querySelectorAll('[data-op]')) {
    button.addEventListener('click', () => void run(/** @type {keyof typeof OPERATIONS} */ (button.getAttribute('data-op'))));
  }
  for (const button of document.querySelectorAll('button.copy')) {
    button.addEventListener('click', () => void onCopy(button));
  }
  $('reveal-secrets').addEventListener('click', () => setReveal(!state.reveal));
  $('clear-credentials').addEventListener('click', clearCredentials);
  $('fill-from-json').addEventListener('click', fillFromJson);
  $('show-secrets').addEventListener('change', (event) => {
    const show = /** @type {HTMLInputElement} */ (event.target).checked;
    for (const c of credentialInputs()) if (c.element.hasAttribute('data-secret')) c.element.type = show ? 'text' : 'password';
  });

  for (const c of credentialInputs()) c.element.addEventListener('input', renderCurl);
  $('data').addEventListener('input', () => {
    if (OPERATIONS[state.op].seals) renderCurl();
  });
  $('encrypted-data').addEventListener('input', () => {
    if (!OPERATIONS[state.op].seals) renderCurl();
  });

  /**
   * @param {string} id
   * @param {Operation} op
   */
  const shortcut = (id, op) =>
    $(id).addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void run(op);
      }
    });
  shortcut('data', 'sign-encrypt');
  shortcut('encrypted-data', 'decrypt-verify');

  renderCurl();
  void checkServer();
  document.documentElement.setAttribute('data-ready', 'true');
}

init();
