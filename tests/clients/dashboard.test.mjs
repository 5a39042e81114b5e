// The dashboard in a real headless browser (Debian's Chromium, driven by
// playwright-core), against a real devgraph in dev mode:
// - under a name that is not a loopback name, the page carries no dev token:
//   it asks for one and shows (and requests) no data; with the token of an
//   organization this test seeded, it draws exactly the seeded figures;
// - on a loopback name it uses the dev token and draws the demo
//   organization, figure for figure what the API answers when asked another
//   way (team-space totals from each team space's own metrics).
// Every script and style comes from devgraph itself, under the page's CSP,
// without a violation or a page error. Leaves a screenshot in
// out/dashboard.png (or $DASHBOARD_SCREENSHOT).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DELIVERY_QUERY, doraFigures, drawnFigures, expectedFigures, gql, launchBrowser,
  seedOrganization, waitUntilDrawn, watchedPage,
} from './dashboard-support.mjs';
import { startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const screenshot = path.resolve(
  process.env.DASHBOARD_SCREENSHOT ?? path.join(here, 'out', 'dashboard.png'),
);
// Not a loopback name; Chromium resolves it to 127.0.0.1 itself.
const ALIAS = 'dashboard.test';

let server;
let browser;
let seed;

before(async () => {
  server = await startServer();
  seed = await seedOrganization(server);
  browser = await launchBrowser({ hostAlias: ALIAS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The charts were drawn: a sized canvas, one series per team space, each painted. */
function assertDrawn(drawn, spaceCount) {
  assert.equal(drawn.state, 'ready');
  assert.ok(drawn.canvases.length >= 1, 'no canvas in the activity chart');
  for (const canvas of drawn.canvases) {
    assert.ok(canvas.width > 0 && canvas.height > 0 && canvas.shownWidth > 0, `an empty canvas: ${JSON.stringify(canvas)}`);
  }
  assert.equal(drawn.plotSeries, spaceCount, 'uPlot series ≠ team spaces');
  assert.equal(drawn.spaces.length, spaceCount, 'table rows ≠ team spaces');
  for (const space of drawn.spaces.filter((s) => s.total > 0)) {
    assert.ok(space.pixels > 0, `no pixel of ${space.name}'s colour ${space.colour} on the chart`);
  }
}

function assertClean(seen, origin) {
  const foreign = seen.requests.filter((r) => new URL(r.url).origin !== origin);
  assert.deepEqual(foreign.map((r) => r.url), [], `requests to other origins than ${origin}`);
  assert.deepEqual(seen.violations, [], 'CSP violations');
  assert.deepEqual(seen.problems, [], 'page errors or console errors');
}

test('without the dev token the page asks for one, then draws the seeded figures', { timeout: 180_000 }, async () => {
  const port = new URL(server.url).port;
  const origin = `http://${ALIAS}:${port}`;
  const { page, seen } = await watchedPage(browser);

  const response = await page.goto(`${origin}/dashboard`, { waitUntil: 'load' });
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'] ?? '', /^text\/html/);
  const csp = response.headers()['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(await response.text(), new RegExp(server.token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    'the dev token reached a page under a non-loopback name');

  // The paste field, and no data: nothing drawn, nothing asked of /graphql.
  await page.locator('#token').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'signin');
  assert.equal(await page.locator('#content').isHidden(), true, 'data is shown without a token');
  assert.equal(await page.locator('#activity-chart canvas').count(), 0);
  assert.equal(await page.locator('#events-list li').count(), 0);
  assert.deepEqual(seen.requests.filter((r) => new URL(r.url).pathname === '/graphql'), [],
    'the page asked /graphql for data without a token');

  // A pasted token: kept for this tab, sent only to this origin's /graphql.
  await page.locator('#token').fill(seed.token);
  await page.getByRole('button', { name: 'Show dashboard' }).click();
  await waitUntilDrawn(page);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('devgraph.dashboard.token')), seed.token);
  const authorized = seen.requests.filter((r) => r.headers.authorization);
  assert.ok(authorized.length > 0);
  for (const r of authorized) {
    assert.equal(r.headers.authorization, `Bearer ${seed.token}`);
    assert.equal(new URL(r.url).origin, origin);
    assert.equal(new URL(r.url).pathname, '/graphql', `the token went to ${r.url}`);
  }

  const drawn = await drawnFigures(page);
  const expected = expectedFigures(seed);
  assert.equal(drawn.organization, 'Dashboard Test');
  assertDrawn(drawn, Object.keys(seed.spaces).length);
  assert.equal(drawn.plotPoints, 30, 'the last 30 days, one point a day');
  assert.deepEqual(
    Object.fromEntries(drawn.spaces.map((s) => [s.name, s.total])),
    expected.perSpace,
    'events per team space',
  );
  assert.deepEqual(drawn.events.map(({ name, count }) => ({ name, count })), expected.top, 'top event names');
  const bars = drawn.events.map((e) => e.bar);
  assert.ok(bars[0] > 0 && bars.every((w, i) => i === 0 || w <= bars[i - 1]), `bars not drawn in order: ${bars}`);

  // The DORA keys: what `delivery` answers, which is what was seeded.
  const { organization } = await gql(server, seed.token, DELIVERY_QUERY, { from: drawn.from, to: drawn.to });
  const dora = organization.delivery[0].dora;
  assert.equal(dora.deployments, seed.deployments.length);
  assert.equal(dora.failedDeployments, seed.deployments.filter((d) => d.status === 'FAILURE').length);
  assert.equal(dora.timeToRestore.count, seed.incidents.length);
  assert.deepEqual(drawn.dora, doraFigures(dora), 'DORA keys');

  // The live indicator is there, whatever the server offers; its socket (if
  // the page opened one) went to this origin's /graphql/ws.
  assert.match(drawn.live, /^(on|off|connecting)$/);
  for (const url of seen.sockets) assert.equal(url, `ws://${ALIAS}:${port}/graphql/ws`);
  assertClean(seen, origin);
  await page.close();
});

test('on a loopback name the dev token shows the demo organization as the API counts it', { timeout: 180_000 }, async () => {
  const origin = new URL(server.url).origin;
  const { page, seen } = await watchedPage(browser);
  await page.goto(`${server.url}/dashboard`, { waitUntil: 'load' });
  await waitUntilDrawn(page);
  assert.equal(await page.locator('#signin').isHidden(), true);
  const drawn = await drawnFigures(page);

  // The same figures, asked another way: each team space's own total.
  const { organization } = await gql(server, server.token, `query($from: Date!, $to: Date!) {
    organization { name teamSpaces(first: 50) { totalCount edges { node { id name metrics(from: $from, to: $to) { count } } } }
      metrics(from: $from, to: $to, groupBy: [EVENT_NAME]) { eventName count } } }`, { from: drawn.from, to: drawn.to });
  assert.equal(drawn.organization, organization.name);
  const spaces = organization.teamSpaces.edges.map((e) => e.node);
  assert.ok(spaces.length > 1, 'the demo has several team spaces');
  assertDrawn(drawn, organization.teamSpaces.totalCount);
  assert.deepEqual(
    Object.fromEntries(drawn.spaces.map((s) => [s.id, s.total])),
    Object.fromEntries(spaces.map((s) => [s.id, s.metrics[0].count])),
    'events per team space',
  );
  assert.ok(drawn.spaces.some((s) => s.total > 0), 'the demo has activity');
  const top = organization.metrics
    .map((r) => ({ name: r.eventName, count: r.count }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1))
    .slice(0, 10);
  assert.deepEqual(drawn.events.map(({ name, count }) => ({ name, count })), top, 'top event names');
  const delivery = await gql(server, server.token, DELIVERY_QUERY, { from: drawn.from, to: drawn.to });
  const dora = delivery.organization.delivery[0].dora;
  assert.ok(dora.deployments > 0, 'the demo has deployments');
  assert.deepEqual(drawn.dora, doraFigures(dora), 'DORA keys');

  // The 90-day view draws 90 days, and the same team spaces.
  await page.locator('#range').selectOption('90');
  await page.waitForFunction(() => document.getElementById('activity-chart').dataset.points === '90');
  await waitUntilDrawn(page, 2);
  assertDrawn(await drawnFigures(page), organization.teamSpaces.totalCount);
  await page.locator('#range').selectOption('30');
  await page.waitForFunction(() => document.getElementById('activity-chart').dataset.points === '30');

  await page.evaluate(() => document.fonts.ready);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`dashboard screenshot: ${screenshot}`);
  assertClean(seen, origin);
  await page.close();
});
