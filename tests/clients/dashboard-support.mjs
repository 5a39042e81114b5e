// What the dashboard's browser tests share: Chromium with its problems
// collected, GraphQL and /v1/events calls, and an organization seeded with
// figures known by construction (team spaces, developers, events, and
// deployments and incidents for the DORA keys).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { devgraphBin } from './server.mjs';

const run = promisify(execFile);
export const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const TIMEOUT = 30_000;

/**
 * Headless Chromium. `hostAlias` resolves to 127.0.0.1, so a page can be
 * loaded under a name that is not a loopback name (as a DNS-rebinding
 * attacker's would be) without any DNS.
 */
export async function launchBrowser({ hostAlias } = {}) {
  assert.ok(
    existsSync(executablePath),
    `${executablePath} is missing: install Chromium (apt-get install chromium) or run tests/clients/run.sh`,
  );
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    // Keep Chromium from dialling out at start (only loopback is reachable).
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  if (hostAlias) args.push(`--host-resolver-rules=MAP ${hostAlias} 127.0.0.1`);
  return chromium.launch({ executablePath, timeout: 60_000, args });
}

/**
 * A page whose requests, CSP violations, page errors and console errors are
 * recorded. A refused WebSocket is not a problem: the page must cope with a
 * server that has no /graphql/ws (it says "live: off").
 */
export async function watchedPage(browser) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(TIMEOUT);
  const seen = { requests: [], sockets: [], problems: [], violations: [] };
  await page.exposeFunction('__cspViolation', (text) => seen.violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolation(`${e.effectiveDirective} ${e.blockedURI || '(inline)'} (${e.sourceFile}:${e.lineNumber})`),
    );
  });
  page.on('request', (request) => seen.requests.push({ method: request.method(), url: request.url(), headers: request.headers() }));
  page.on('websocket', (socket) => seen.sockets.push(socket.url()));
  page.on('requestfailed', (request) =>
    seen.problems.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on('pageerror', (error) => seen.problems.push(`page error: ${error.stack ?? error}`));
  page.on('console', (message) => {
    const text = message.text();
    if (/^WebSocket connection to '.*\/graphql\/ws' failed/.test(text)) return;
    if (message.type() === 'error' || /Refused to /.test(text)) {
      const where = message.location();
      seen.problems.push(`console ${message.type()}: ${text} (${where.url}:${where.lineNumber})`);
    }
  });
  return { page, seen };
}

export async function gql(server, token, query, variables = {}) {
  const response = await fetch(server.graphql, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, `GraphQL errors: ${JSON.stringify(body.errors)}\n${query}`);
  return body.data;
}

export async function sendEvents(server, apiKey, events) {
  const response = await fetch(`${server.url}/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ events }),
  });
  const text = await response.text();
  assert.equal(response.status, 202, `POST /v1/events: ${response.status} ${text}`);
  return JSON.parse(text);
}

async function devgraph(server, ...args) {
  const { stdout } = await run(devgraphBin, args, {
    env: { PATH: process.env.PATH, DATABASE_URL: server.databaseUrl, RUST_LOG: 'warn' },
  });
  return stdout;
}

/** A calendar day `daysAgo` days before today (UTC, the new organization's zone) at `hour`. */
export function at(daysAgo, hour = 12) {
  const day = new Date();
  day.setUTCHours(hour, 0, 0, 0);
  day.setUTCDate(day.getUTCDate() - daysAgo);
  return day.toISOString();
}

export const EVENT_NAMES = [
  'commit', 'review', 'build', 'deploy', 'comment', 'merge',
  'issue', 'release', 'test-run', 'lint', 'docs', 'chore',
];

/**
 * A new organization, its owner's token, and activity whose figures follow
 * from the construction: team space "Delta" has nobody; "Alpha" has ada and
 * cy, "Beta" bob, "Gamma" cy (cy counts in both); EVENT_NAMES[i] happens
 * 13 - i times (12 names, so the top 10 leaves two out), spread over the
 * developers, a developer the organization does not know, and the last two
 * weeks. The DORA keys come from six production deployments (one failed)
 * and two resolved incidents.
 */
export async function seedOrganization(server, slug = 'dash-test') {
  const owner = `owner@${slug}.test`;
  await devgraph(server, 'org', 'create', '--slug', slug, '--name', 'Dashboard Test', '--owner-email', owner);
  const token = (await devgraph(server, 'token', '--org', slug, '--developer', owner)).trim().split('\n').pop().trim();

  const spaces = {};
  for (const name of ['Alpha', 'Beta', 'Gamma', 'Delta']) {
    const data = await gql(server, token,
      'mutation($input: CreateTeamSpaceInput!) { createTeamSpace(input: $input) { teamSpace { id name } } }',
      { input: { name, slug: name.toLowerCase() } });
    spaces[name] = data.createTeamSpace.teamSpace.id;
  }
  const membership = { ada: ['Alpha'], bob: ['Beta'], cy: ['Alpha', 'Gamma'] };
  const developers = {};
  for (const [name, inSpaces] of Object.entries(membership)) {
    const data = await gql(server, token,
      'mutation($input: CreateDeveloperInput!) { createDeveloper(input: $input) { developer { id } } }',
      { input: { email: `${name}@${slug}.test`, name } });
    developers[name] = data.createDeveloper.developer.id;
    for (const space of inSpaces) {
      await gql(server, token,
        'mutation($input: AddTeamSpaceMemberInput!) { addTeamSpaceMember(input: $input) { __typename } }',
        { input: { teamSpaceId: spaces[space], developerId: developers[name] } });
    }
  }
  const project = (await gql(server, token,
    'mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }',
    { input: { name: 'Web', slug: 'web', teamSpaceId: spaces.Alpha } })).createProject.project.id;
  const apiKey = (await gql(server, token,
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    { input: { name: 'dashboard test', scopes: ['EVENTS_WRITE'], projectId: project } })).createApiKey.secret;

  // Who sends each event, in turn; "nobody" is unknown to the organization.
  const senders = ['ada', 'bob', 'cy', 'nobody'];
  const events = [];
  EVENT_NAMES.forEach((name, i) => {
    for (let n = 0; n < 13 - i; n++) {
      const k = events.length;
      events.push({
        id: `seed-${k}`,
        name,
        developer: `${senders[k % senders.length]}@${slug}.test`,
        occurredAt: at(1 + (k % 14)),
        properties: {},
      });
    }
  });
  await sendEvents(server, apiKey, events);

  const deployments = [
    { status: 'SUCCESS', daysAgo: 2 }, { status: 'SUCCESS', daysAgo: 3 }, { status: 'FAILURE', daysAgo: 4 },
    { status: 'SUCCESS', daysAgo: 6 }, { status: 'SUCCESS', daysAgo: 8 }, { status: 'SUCCESS', daysAgo: 10 },
  ];
  for (const [i, d] of deployments.entries()) {
    await gql(server, token,
      'mutation($input: RecordDeploymentInput!) { recordDeployment(input: $input) { __typename } }',
      { input: {
        projectId: project, externalId: `deploy-${i}`, environment: 'production', tier: 'PRODUCTION',
        status: d.status, startedAt: at(d.daysAgo, 10), finishedAt: at(d.daysAgo, 11),
      } });
  }
  const incidents = [{ daysAgo: 5, hours: 2 }, { daysAgo: 9, hours: 6 }];
  for (const [i, incident] of incidents.entries()) {
    await gql(server, token,
      'mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { __typename } }',
      { input: {
        projectId: project, externalId: `incident-${i}`, title: `Incident ${i}`,
        openedAt: at(incident.daysAgo, 8), resolvedAt: at(incident.daysAgo, 8 + incident.hours),
      } });
  }

  return { slug, token, apiKey, spaces, membership, events, deployments, incidents };
}

/** What the seeded activity adds up to, from the events alone. */
export function expectedFigures(seed, events = seed.events) {
  const perSpace = Object.fromEntries(Object.keys(seed.spaces).map((name) => [name, 0]));
  const perName = {};
  for (const event of events) {
    perName[event.name] = (perName[event.name] ?? 0) + 1;
    const who = event.developer.split('@')[0];
    for (const space of seed.membership[who] ?? []) perSpace[space] += 1;
  }
  const top = Object.entries(perName)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, 10)
    .map(([name, count]) => ({ name, count }));
  return { perSpace, top };
}

/** Resolves once the page has drawn its figures `refreshes` times or more. */
export async function waitUntilDrawn(page, refreshes = 1) {
  await page.waitForFunction(
    (n) => document.body.dataset.state === 'ready' && Number(document.body.dataset.refreshes) >= n,
    refreshes,
    { timeout: TIMEOUT },
  );
}

/** Everything the page wrote down about what it drew. */
export async function drawnFigures(page) {
  return page.evaluate(() => {
    const activity = document.getElementById('activity');
    const chart = document.getElementById('activity-chart');
    const canvases = [...chart.querySelectorAll('canvas')];
    // Pixels near each team space's colour: its line was drawn.
    const near = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const painted = (canvas, rgb) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) + Math.abs(data[i + 1] - rgb[1]) + Math.abs(data[i + 2] - rgb[2]) < 60) n++;
      }
      return n;
    };
    const hex = (css) => '#' + css.match(/\d+/g).slice(0, 3).map((v) => Number(v).toString(16).padStart(2, '0')).join('');
    return {
      state: document.body.dataset.state,
      organization: document.getElementById('org-name').textContent,
      from: activity.dataset.from,
      to: activity.dataset.to,
      plotSeries: Number(chart.dataset.series),
      plotPoints: Number(chart.dataset.points),
      canvases: canvases.map((c) => ({ width: c.width, height: c.height, shownWidth: c.getBoundingClientRect().width })),
      spaces: [...document.querySelectorAll('#activity-table tbody tr')].map((tr) => {
        const colour = hex(getComputedStyle(tr.querySelector('.swatch')).backgroundColor);
        return {
          id: tr.dataset.teamSpaceId, name: tr.dataset.teamSpace, total: Number(tr.dataset.total),
          colour, pixels: canvases[0] ? painted(canvases[0], near(colour)) : 0,
        };
      }),
      events: [...document.querySelectorAll('#events-list li')].map((li) => ({
        name: li.dataset.eventName, count: Number(li.dataset.count),
        bar: li.querySelector('.fill').getBoundingClientRect().width,
      })),
      dora: Object.fromEntries([...document.querySelectorAll('#dora-keys .key')].map((key) => [
        key.dataset.key, { value: key.dataset.value === '' ? null : Number(key.dataset.value), level: key.dataset.level || null },
      ])),
      live: document.getElementById('live').dataset.state,
    };
  });
}

export const DELIVERY_QUERY = `query($from: Date!, $to: Date!) { organization { delivery(from: $from, to: $to, interval: ALL) { dora {
  deployments deploymentsPerDay deploymentFrequencyLevel leadTime { p50 } leadTimeLevel
  failedDeployments changeFailureRate changeFailureRateLevel timeToRestore { count p50 } timeToRestoreLevel } } } }`;

/** The DORA keys as the dashboard shows them, from the API directly. */
export function doraFigures(dora) {
  return {
    deploymentFrequency: { value: dora.deploymentsPerDay, level: dora.deploymentFrequencyLevel },
    leadTime: { value: dora.leadTime.p50, level: dora.leadTimeLevel },
    changeFailureRate: { value: dora.changeFailureRate, level: dora.changeFailureRateLevel },
    timeToRestore: { value: dora.timeToRestore.p50, level: dora.timeToRestoreLevel },
  };
}
