import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { RESULTS_DIR, registerSecret, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

/**
 * The web console in a real browser (Debian's chromium driven by playwright-core) against a real
 * server, with credentials made by the real CLI. Screenshots go to test-results/.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const MESSAGE = 'Claim 7731: approved for payment, console test';
const WRONG_PASSWORD = 'definitely-not-the-password';

interface Org {
  org_id: string;
  name: string;
  username: string;
  password: string;
  api_key: string;
  access_key: string;
  secret_key: string;
}

let server: TestServer;
let org: Org;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];
const requestUrls: string[] = [];

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the browser test needs Debian's chromium. Install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does this).`,
    );
  }
  const dataDir = tempDataDir();
  const { stdout } = await run('node', [CLI, 'org', 'create', '--name', 'Console Test Org', '--json'], { env: { ...process.env, DATA_DIR: dataDir } });
  org = JSON.parse(stdout) as Org;
  registerSecret(org.password, org.secret_key, MESSAGE);
  server = await startTestServer({ dataDir });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context = await browser.newContext({
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 2,
    colorScheme: 'light',
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  // CI runs this tier beside the integration tier on two cores: waits get room beyond playwright's 30 s.
  context.setDefaultTimeout(90_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = await context.newPage();
  page.on('console', (message) => {
    // Error answers (401, 400) are expected in this test; the browser logs each as a failed load.
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) return;
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('request', (request) => requestUrls.push(request.url()));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(RESULTS_DIR, name), fullPage: true });
const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

/** Empties the result, presses the button (or key), and waits for the new result. */
async function perform(action: () => Promise<void>): Promise<void> {
  await page.evaluate(() => document.getElementById('result')?.replaceChildren());
  await action();
  await page.locator('#result > *').first().waitFor();
}
const press = (name: string) => perform(() => page.getByRole('button', { name, exact: true }).click());

async function fillCredentials(values: Pick<Org, 'username' | 'password' | 'api_key' | 'access_key' | 'secret_key'>): Promise<void> {
  await page.getByLabel('Username', { exact: true }).fill(values.username);
  await page.getByLabel('Password', { exact: true }).fill(values.password);
  await page.getByLabel('API key', { exact: true }).fill(values.api_key);
  await page.getByLabel('Access key', { exact: true }).fill(values.access_key);
  await page.getByLabel('Secret key', { exact: true }).fill(values.secret_key);
}

describe('web console: served safely', () => {
  test('GET / redirects to /console; POST / is still InitiateAuth', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/console');
    const initiate = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
      body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: org.username, PASSWORD: org.password } }),
    });
    assert.equal(initiate.status, 200);
    assert.ok(((await initiate.json()) as { AuthenticationResult?: unknown }).AuthenticationResult);
  });

  test('the page and its assets carry a strict CSP and the usual security headers; the JSON API does not get the CSP', async () => {
    for (const path of ['/console', '/console/console.js', '/console/console.css']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ]) {
        assert.ok(
          csp
            .split(';')
            .map((d) => d.trim())
            .includes(directive),
          `${path}: CSP lacks ${directive}: ${csp}`,
        );
      }
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      assert.match(res.headers.get('permissions-policy') ?? '', /camera=\(\)/, path);
      assert.ok(res.headers.get('x-request-id'), path);
    }
    const page = await fetch(`${server.url}/console`);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, 'the page loads nothing from another origin');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /\sstyle=|<style/, 'no inline style');
    assert.doesNotMatch(html, /<(input|textarea|select)\b[^>]*\sname=/, 'fields have no names, so a submitted form could carry nothing');
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.headers.get('content-security-policy'), null);
  });
});

describe('web console: the SDK it runs on', () => {
  test("the SDK's compiled modules are served at /console/sdk/ (JavaScript only, with the console's CSP)", async () => {
    for (const file of ['client.js', 'auth.js', 'errors.js', 'transport.js']) {
      const res = await fetch(`${server.url}/console/sdk/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(res.headers.get('content-type') ?? '', /javascript/, file);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/, file);
      // No bare specifiers: the page has no import map (an inline script, which the CSP forbids).
      assert.doesNotMatch(await res.text(), /\bfrom\s+'(?![./])/, file);
    }
    for (const path of ['/console/sdk/client.d.ts', '/console/sdk/client.js.map', '/console/sdk/../package.json', '/console/sdk/%2e%2e/package.json']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
    }
  });
});

describe('web console: in a browser', () => {
  test('opens from /, with no CSP violations', async () => {
    const response = await page.goto(`${server.url}/`);
    assert.ok(response);
    assert.equal(new URL(page.url()).pathname, '/console');
    assert.match(response.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    await page.locator('html[data-ready="true"]').waitFor();
    await assert.doesNotReject(page.getByRole('heading', { name: 'Try the Managed API' }).waitFor());
    assert.equal(await page.title(), 'pqseal console · try the Managed API');
    await page.locator('#server-status-text', { hasText: /· ready$/ }).waitFor();
  });

  test('secrets are masked in the curl command until revealed', async () => {
    await fillCredentials(org);
    await page.locator('#data').fill(MESSAGE);
    const curl = await text('#curl-command');
    assert.match(curl, new RegExp(`^curl -X POST ${server.url}/v1/sign-encrypt`));
    assert.ok(curl.includes(`username: ${org.username}`));
    for (const secret of [org.password, org.api_key, org.access_key, org.secret_key])
      assert.equal(curl.includes(secret), false, 'a secret shows in the curl command');
    assert.ok(curl.includes('password: ••••••••'));
    assert.ok(curl.includes('secret_key: sk_••••••••'));
    assert.equal(await page.locator('#cred-password').getAttribute('type'), 'password');
    assert.equal(await page.locator('#cred-secret-key').getAttribute('type'), 'password');
    for (const id of ['#cred-password', '#cred-secret-key', '#cred-api-key', '#cred-access-key', '#cred-username']) {
      assert.equal(await page.locator(id).getAttribute('autocomplete'), 'off', id);
    }

    const reveal = page.getByRole('button', { name: 'Reveal secrets' });
    await reveal.click();
    const revealed = await text('#curl-command');
    for (const secret of [org.password, org.api_key, org.access_key, org.secret_key]) assert.ok(revealed.includes(secret));
    assert.equal(await page.locator('#reveal-secrets').getAttribute('aria-pressed'), 'true');

    // The revealed command is runnable as shown: run it in a shell.
    const { stdout } = await run('bash', ['-c', `${revealed} -s`]);
    const answer = JSON.parse(stdout) as { statusCode: number; body: { encrypted_data: string } };
    assert.equal(answer.statusCode, 200);
    assert.match(answer.body.encrypted_data, /^[A-Za-z0-9_-]+$/);

    await page.getByRole('button', { name: 'Hide secrets' }).click();
    assert.equal((await text('#curl-command')).includes(org.password), false);
  });

  test('Sign & Encrypt, then Decrypt & Verify: the badge shows the organisation and "valid"', async () => {
    await press('Sign & Encrypt');
    assert.equal(await text('#verification-badge'), 'Signed & encrypted');
    const envelope = await page.locator('#encrypted-data').inputValue();
    assert.match(envelope, /^[A-Za-z0-9_-]{100,}$/);
    assert.match(await text('#meta-status'), /^200\b/);
    assert.match(await text('#meta-request-id'), /^[0-9a-f-]{36}$/);
    assert.match(await text('#meta-time'), /^\d[\d,]* ms$/);
    assert.equal(JSON.parse(await text('#raw-response')).body.encrypted_data, envelope);

    await press('Decrypt & Verify');
    assert.equal(await text('#verification-badge'), 'Signature valid');
    assert.equal(await text('#signed-by'), 'Console Test Org');
    assert.equal(await text('#decrypted-data'), MESSAGE);
    // The calls went through the SDK's client, loaded from this server.
    assert.ok(requestUrls.includes(`${server.url}/console/sdk/client.js`), 'the console loaded the SDK client');
    const raw = JSON.parse(await text('#raw-response'));
    assert.equal(raw.statusCode, 200);
    assert.equal(raw.body.is_valid_signature, true);
    assert.equal(raw.body.signed_by, 'Console Test Org');
    assert.equal(await page.locator('#result').getAttribute('aria-live'), 'polite');
    const curl = await text('#curl-command');
    assert.match(curl, /\/v1\/decrypt-verify/);
    assert.ok(curl.includes(envelope));
    await page.locator('#result').scrollIntoViewIfNeeded();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await shot('console-signed.png');
  });

  test('copy buttons copy the text as shown, with the clipboard API or the fallback', async () => {
    // The page's Permissions-Policy forbids reading the clipboard (clipboard-read=()), so watch the writes.
    await page.evaluate(() => {
      const w = window as unknown as { copied: string[] };
      w.copied = [];
      const write = navigator.clipboard.writeText.bind(navigator.clipboard);
      navigator.clipboard.writeText = async (value: string) => {
        w.copied.push(value);
        return write(value);
      };
    });
    await page.getByRole('button', { name: 'Copy the curl command' }).click();
    await page.locator('#announcer', { hasText: 'Copied to the clipboard.' }).waitFor();
    const copied = await page.evaluate(() => (window as unknown as { copied: string[] }).copied);
    assert.deepEqual(copied, [await text('#curl-command')]);
    assert.equal(copied[0]?.includes(org.secret_key), false, 'the masked command was copied');
    assert.equal(await page.getByRole('button', { name: 'Copy the curl command' }).textContent(), 'Copied');

    // Without the clipboard API (plain http on a LAN address is not a secure context): the fallback.
    await page.evaluate(() => {
      navigator.clipboard.writeText = () => Promise.reject(new Error('not allowed'));
    });
    await page.evaluate(() => (document.getElementById('announcer') as HTMLElement).replaceChildren());
    await page.getByRole('button', { name: 'Copy the request id' }).click();
    await page.locator('#announcer', { hasText: /Copied to the clipboard|the text is selected/ }).waitFor();
  });

  test('keyboard only: Tab from the envelope box reaches Decrypt & Verify, Enter runs it; Ctrl+Enter in the data box signs', async () => {
    await page.locator('#encrypted-data').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'op-decrypt-verify');
    await perform(() => page.keyboard.press('Enter'));
    assert.equal(await text('#verification-badge'), 'Signature valid');

    const before = await page.locator('#encrypted-data').inputValue();
    await page.locator('#data').focus();
    await perform(() => page.keyboard.press('Control+Enter'));
    assert.equal(await text('#verification-badge'), 'Signed & encrypted');
    assert.notEqual(await page.locator('#encrypted-data').inputValue(), before);

    // Enter in a credential field does not submit anything anywhere.
    await page.locator('#cred-username').focus();
    await page.keyboard.press('Enter');
    assert.equal(new URL(page.url()).pathname, '/console');
    assert.equal(new URL(page.url()).search, '');
  });

  test('Encrypt, then Decrypt: no signature involved', async () => {
    await press('Encrypt');
    assert.equal(await text('#verification-badge'), 'Encrypted');
    await press('Decrypt');
    assert.equal(await text('#verification-badge'), 'Decrypted');
    assert.equal(await text('#decrypted-data'), MESSAGE);
    assert.match(await text('#decrypt-origin'), /not signed: anyone with the organisation's public key could have made it/);
  });

  test('no credential ends up in storage, cookies, the URL or a request URL; nothing is fetched from elsewhere', async () => {
    const seen = await page.evaluate(async () => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookie: document.cookie,
      url: location.href,
      databases: JSON.stringify(await indexedDB.databases()),
    }));
    const cookies = await context.cookies();
    assert.equal(seen.local, '{}');
    assert.equal(seen.session, '{}');
    assert.equal(seen.cookie, '');
    assert.equal(seen.databases, '[]');
    assert.deepEqual(cookies, []);
    for (const secret of [org.username, org.password, org.api_key, org.access_key, org.secret_key, MESSAGE]) {
      for (const [where, value] of Object.entries(seen)) assert.equal(value.includes(secret), false, `a credential is in ${where}`);
      for (const url of requestUrls) assert.equal(decodeURIComponent(url).includes(secret), false, `a credential is in a request URL: ${url}`);
    }
    const origins = new Set(requestUrls.map((u) => new URL(u).origin));
    assert.deepEqual([...origins], [server.url]);
  });

  test('a wrong password shows the error in plain words with its code', async () => {
    await page.getByLabel('Password', { exact: true }).fill(WRONG_PASSWORD);
    await press('Sign & Encrypt');
    assert.equal(await text('#error-code'), '401 NOT_AUTHORIZED');
    assert.equal(await text('#error-title'), 'The username or password is wrong.');
    assert.match(await text('#meta-status'), /^401\b/);
    const raw = JSON.parse(await text('#raw-response'));
    assert.deepEqual(raw, { statusCode: 401, body: { error: { code: 'NOT_AUTHORIZED', message: 'Username and/or Password Incorrect' } } });
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await shot('console-error.png');
  });

  test('a tampered envelope is refused cleanly; missing credentials are caught before sending', async () => {
    await page.getByLabel('Password', { exact: true }).fill(org.password);
    const envelope = await page.locator('#encrypted-data').inputValue();
    const middle = Math.floor(envelope.length / 2);
    const flipped = envelope[middle] === 'A' ? 'B' : 'A';
    await page.locator('#encrypted-data').fill(`${envelope.slice(0, middle)}${flipped}${envelope.slice(middle + 1)}`);
    await press('Decrypt');
    assert.match(await text('#error-code'), /^400 ENVELOPE_/);
    assert.equal(await page.locator('#decrypted-data').count(), 0);

    const sent = requestUrls.length;
    await page.getByRole('button', { name: 'Clear' }).click();
    await press('Sign & Encrypt');
    assert.equal(await text('#error-code'), 'MISSING_CREDENTIALS');
    assert.equal(requestUrls.length, sent, 'nothing was sent');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'cred-username');
    assert.equal(await page.locator('#cred-username').getAttribute('aria-invalid'), 'true');
  });

  test('the JSON from `pqseal org create --json` can be pasted to fill the fields (and is not kept)', async () => {
    await page.getByText('Paste the JSON from').click();
    await page.getByLabel('JSON with username, password, api_key, access_key and secret_key').fill(JSON.stringify(org, null, 2));
    await page.getByRole('button', { name: 'Fill the fields' }).click();
    assert.equal(await text('#paste-message'), 'Filled 5 of 5 fields for Console Test Org.');
    assert.equal(await page.locator('#paste-json').inputValue(), '');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), org.password);
    assert.equal(await page.getByLabel('Secret key', { exact: true }).inputValue(), org.secret_key);
    assert.equal(await page.locator('#cred-username').getAttribute('aria-invalid'), null);
  });

  test('dark mode and a narrow screen render (screenshots)', async () => {
    await page.locator('#data').fill(MESSAGE);
    await press('Sign & Encrypt');
    await press('Decrypt & Verify');
    assert.equal(await text('#verification-badge'), 'Signature valid');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('console-dark.png');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('console-mobile.png');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways on a phone by ${overflow}px`);
  });

  test('the browser reported no CSP violation or script error', () => {
    assert.deepEqual(problems, []);
  });

  test('the browser enforces the CSP: other origins, inline script and HTML strings are refused', async () => {
    const messages: string[] = [];
    page.on('console', (message) => messages.push(message.text()));
    const outcome = await page.evaluate(async () => {
      const results: Record<string, string> = {};
      try {
        await fetch('https://example.com/collect');
        results.fetch = 'sent';
      } catch {
        results.fetch = 'refused';
      }
      try {
        document.body.insertAdjacentHTML('beforeend', '<b>injected</b>');
        results.html = 'inserted';
      } catch (e) {
        results.html = (e as Error).name;
      }
      try {
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.body.append(script);
      } catch {
        // Trusted Types refuse the string before CSP gets to refuse the script
      }
      results.inline = String((window as unknown as { inlineRan?: boolean }).inlineRan === true);
      return results;
    });
    assert.deepEqual(outcome, { fetch: 'refused', html: 'TypeError', inline: 'false' });
    await page.waitForTimeout(100);
    assert.ok(
      messages.some((m) => /Refused to connect.*Content Security Policy/s.test(m)),
      messages.join('\n'),
    );
  });
});
