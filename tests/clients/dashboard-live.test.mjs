// The dashboard updates live (pending: needs the graphql-transport-ws
// endpoint at /graphql/ws; rename to dashboard-live.test.mjs once it is
// merged, and `npm test` runs it). The page, loaded once with the token of
// an organization this test seeded, goes "live: on"; then more events
// arrive through POST /v1/events, and the page shows the new figures
// without a reload: the metricsChanged subscription told it to re-read.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  EVENT_NAMES, TIMEOUT, at, drawnFigures, expectedFigures, launchBrowser, seedOrganization,
  sendEvents, waitUntilDrawn, watchedPage,
} from './dashboard-support.mjs';
import { startServer } from './server.mjs';

let server;
let browser;
let seed;

before(async () => {
  server = await startServer();
  seed = await seedOrganization(server, 'dash-live');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the dashboard shows newly ingested events without a reload', { timeout: 180_000 }, async () => {
  const { page, seen } = await watchedPage(browser);
  // This organization's token, as if pasted earlier in this tab.
  await page.addInitScript((token) => sessionStorage.setItem('devgraph.dashboard.token', token), seed.token);
  await page.goto(`${server.url}/dashboard`, { waitUntil: 'load' });
  await waitUntilDrawn(page);
  await page.waitForFunction(() => document.getElementById('live').dataset.state === 'on', null, { timeout: TIMEOUT });
  const before = await drawnFigures(page);
  assert.deepEqual(
    Object.fromEntries(before.spaces.map((s) => [s.name, s.total])),
    expectedFigures(seed).perSpace,
  );
  // Survives only as long as the document does: gone after a reload.
  await page.evaluate(() => { window.__sameDocument = true; });

  // bob (Beta) sends the least frequent name often enough to lead the list.
  const more = Array.from({ length: 20 }, (_, i) => ({
    id: `live-${i}`,
    name: EVENT_NAMES.at(-1),
    developer: `bob@${seed.slug}.test`,
    occurredAt: at(0, 0),
    properties: {},
  }));
  await sendEvents(server, seed.apiKey, more);
  const expected = expectedFigures(seed, [...seed.events, ...more]);

  await page.waitForFunction(
    (total) => document.querySelector('#activity-table tr[data-team-space="Beta"]')?.dataset.total === String(total),
    expected.perSpace.Beta,
    { timeout: TIMEOUT },
  );
  const after = await drawnFigures(page);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
  assert.deepEqual(Object.fromEntries(after.spaces.map((s) => [s.name, s.total])), expected.perSpace);
  assert.deepEqual(after.events.map(({ name, count }) => ({ name, count })), expected.top);
  assert.equal(after.events[0].name, EVENT_NAMES.at(-1));
  assert.equal(after.live, 'on');
  assert.ok(seen.sockets.length > 0, 'no WebSocket was opened');
  assert.deepEqual(seen.violations, [], 'CSP violations');
  assert.deepEqual(seen.problems, [], 'page errors or console errors');
  await page.close();
});
