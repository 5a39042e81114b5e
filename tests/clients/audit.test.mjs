// graphql-http's server audits (the GraphQL-over-HTTP spec's conformance
// checks) against a running devgraph: once with the demo owner's token on
// every request (all must pass), once anonymously (the audits mostly send
// `{ __typename }`, which devgraph answers without credentials while
// introspection is on, as it is by default). Each run prints a summary line:
// `graphql-http audit (with token): N ok, 0 warn, 0 error of N`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { serverAudits } from 'graphql-http';
import { startServer } from './server.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

/** Runs every audit one after the other; returns the results and a summary line. */
async function audit(label, fetchFn) {
  const results = [];
  for (const { id, name, fn } of serverAudits({ url: server.graphql, fetchFn })) {
    try {
      results.push(await fn());
    } catch (error) {
      // The audit itself threw: a fatal failure, counted as an error.
      results.push({ id, name, status: 'error', reason: `audit threw: ${error?.stack ?? error}` });
    }
  }
  const count = (status) => results.filter((r) => r.status === status).length;
  const notice = count('notice');
  const summary =
    `graphql-http audit (${label}): ${count('ok')} ok, ${count('warn')} warn, ${count('error')} error` +
    `${notice ? `, ${notice} notice` : ''} of ${results.length}`;
  console.log(summary);
  const failing = [];
  for (const r of results.filter((r) => r.status !== 'ok')) {
    let body = '';
    try {
      body = r.response ? `\n    response ${r.response.status}: ${await r.response.clone().text()}` : '';
    } catch {}
    failing.push(`  [${r.status}] ${r.id} ${r.name}: ${r.reason}${body}`);
  }
  if (failing.length) console.log(failing.join('\n'));
  return { results, summary, failing };
}

test('every graphql-http server audit passes with the demo token', { timeout: 120_000 }, async () => {
  const authorization = `Bearer ${server.token}`;
  const withToken = (input, init = {}) => {
    const headers = new Headers(init.headers); // keeps the audit's own headers
    headers.set('authorization', authorization);
    return fetch(input, { ...init, headers });
  };
  const { results, summary, failing } = await audit('with token', withToken);
  assert.ok(results.length > 0, 'graphql-http ran no audits');
  assert.deepEqual(failing, [], `${summary}\n${failing.join('\n')}`);
});

// Anonymous requests: every MUST audit passes. A few SHOULD audits send a
// document that does not parse or validate; devgraph cannot tell that it is
// introspection, so without credentials it answers 401 UNAUTHENTICATED
// instead of the status the audit expects. Those, and only those, may warn.
test('graphql-http server audits anonymously: every MUST passes, only unauthenticated SHOULDs warn', { timeout: 120_000 }, async () => {
  const anonymous = (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.delete('authorization');
    return fetch(input, { ...init, headers });
  };
  const { results, summary, failing } = await audit('anonymous', anonymous);
  assert.ok(results.length > 0, 'graphql-http ran no audits');
  const unexpected = [];
  for (const r of results) {
    if (r.status === 'ok') continue;
    let unauthenticated = false;
    if (r.status === 'warn' && r.name.startsWith('SHOULD ') && r.response?.status === 401) {
      try {
        const body = JSON.parse(await r.response.clone().text());
        unauthenticated = body.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false;
      } catch {}
    }
    if (!unauthenticated) unexpected.push(`[${r.status}] ${r.id} ${r.name}: ${r.reason}`);
  }
  assert.deepEqual(unexpected, [], `${summary}\n${failing.join('\n')}`);
});
