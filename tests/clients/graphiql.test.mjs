// GraphiQL in a real headless browser (Debian's Chromium, driven by
// playwright-core): the page devgraph serves at /graphql must load every
// script and style from devgraph itself (no CDN), run under its strict
// Content-Security-Policy without a single violation or page error, load the
// schema by introspection (the documentation explorer lists the root types),
// and run its pre-filled query with the dev token it was given. Leaves a
// screenshot in out/graphiql.png (or $GRAPHIQL_SCREENSHOT).
// Chromium is installed by run.sh (`apt-get install chromium`) and launched
// as the dashboard test launches it (dashboard-support.mjs).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './dashboard-support.mjs';
import { startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const screenshot = path.resolve(
  process.env.GRAPHIQL_SCREENSHOT ?? path.join(here, 'out', 'graphiql.png'),
);
const TIMEOUT = 30_000;

let server;
let browser;
let page;
const requests = [];
const problems = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(TIMEOUT);
  // CSP violations also as events, in case a browser stops logging them.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: Refused ${e.effectiveDirective} ${e.blockedURI || '(inline)'} (${e.sourceFile}:${e.lineNumber})`),
    );
  });
  page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error}`));
  page.on('console', (message) => {
    // CSP violations ("Refused to load/execute/apply ...") arrive as console errors.
    if (message.type() === 'error' || /Refused to /.test(message.text())) {
      const where = message.location();
      problems.push(`console ${message.type()}: ${message.text()} (${where.url}:${where.lineNumber})`);
    }
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The response pane's text (CodeMirror's own value when it is there). */
async function responseText() {
  return page.evaluate(() => {
    const pane = document.querySelector('.graphiql-response');
    if (!pane) return '';
    const cm = pane.querySelector('.CodeMirror');
    return cm?.CodeMirror?.getValue?.() ?? pane.innerText;
  });
}

test('GraphiQL loads from devgraph alone, under its CSP, and runs the pre-filled query', { timeout: 180_000 }, async () => {
  const origin = new URL(server.url).origin;

  const response = await page.goto(`${server.url}/graphql`, { waitUntil: 'load' });
  assert.equal(response.status(), 200, 'GET /graphql (Accept: text/html) status');
  assert.match(response.headers()['content-type'] ?? '', /^text\/html/, 'content type of the GraphiQL page');
  assert.ok(response.headers()['content-security-policy'], 'the GraphiQL page has no Content-Security-Policy header');

  // GraphiQL rendered: its editor and its execute button are there.
  await page.locator('.graphiql-container').waitFor({ state: 'visible' });
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ state: 'visible' });
  const execute = page.locator('.graphiql-execute-button');
  await execute.waitFor({ state: 'visible' });

  // The pre-filled query from the page's devgraph-config block.
  const query = await page.evaluate(
    () => document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror?.getValue() ?? '',
  );
  assert.match(query, /viewer\s*\{\s*name\s+role\s*\}/, `the query editor is not pre-filled:\n${query}`);

  // The documentation explorer lists the root types: the schema came in
  // through GraphiQL's standard introspection query.
  await page.getByRole('button', { name: /Show Documentation Explorer/i }).click();
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.waitFor({ state: 'visible' });
  await docs.getByText('Root Types').waitFor({ state: 'visible' });
  await docs.locator('a.graphiql-doc-explorer-type-name', { hasText: /^Query$/ }).first().waitFor({ state: 'visible' });
  const docsText = await docs.innerText();
  assert.match(docsText, /query\s*:\s*Query/, `the documentation explorer does not list query: Query:\n${docsText}`);

  // Run the pre-filled query.
  await execute.click();
  await page.waitForFunction(
    () => {
      const pane = document.querySelector('.graphiql-response');
      const cm = pane?.querySelector('.CodeMirror');
      const text = cm?.CodeMirror?.getValue?.() ?? pane?.innerText ?? '';
      return /"(data|errors)"/.test(text);
    },
    null,
    { timeout: TIMEOUT },
  );
  const text = await responseText();
  assert.doesNotMatch(text, /"errors"/, `the query answered with errors:\n${text}`);
  let body;
  assert.doesNotThrow(() => (body = JSON.parse(text)), `the response pane is not JSON:\n${text}`);
  assert.ok(body.data, `no data in the response:\n${text}`);
  assert.match(text, /"viewer"/, `no viewer in the response:\n${text}`);
  assert.match(text, /"OWNER"/, `the demo owner's role OWNER is not in the response:\n${text}`);
  assert.match(text, /"teamSpaces"/, `no teamSpaces in the response:\n${text}`);
  assert.ok(body.data.organization?.teamSpaces?.totalCount > 0, `no team spaces in the demo data:\n${text}`);

  // Screenshot once the response is painted (CodeMirror renders lines lazily).
  await page.waitForFunction(() => {
    const lines = document.querySelector('.graphiql-response .CodeMirror-code')?.innerText ?? '';
    return lines.includes('"totalCount"') && lines.includes('"OWNER"');
  });
  await page.evaluate(() => document.fonts.ready);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });
  console.log(`GraphiQL screenshot: ${screenshot}`);

  // Every request went to devgraph itself, and nothing went wrong on the way.
  assert.ok(requests.length > 0, 'the page made no requests');
  const foreign = requests.filter((r) => new URL(r.slice(r.indexOf(' ') + 1)).origin !== origin);
  assert.deepEqual(foreign, [], `requests to other origins than ${origin}:\n${foreign.join('\n')}`);
  assert.ok(
    requests.some((r) => r.startsWith('POST ') && new URL(r.slice(5)).pathname === '/graphql'),
    `GraphiQL sent no POST /graphql:\n${requests.join('\n')}`,
  );
  assert.deepEqual(problems, [], `page errors, console errors or CSP violations:\n${problems.join('\n')}`);
});
