// Trusted-documents mode with the manifest GraphQL Code Generator's client
// preset writes: the example in examples/typescript-client generates
// generated/client/persisted-documents.json from its src/*.graphql, devgraph
// starts with DEVGRAPH_TRUSTED_DOCUMENTS pointing at it, and every listed
// document is sent by the hash the generated code carries (`__meta__.hash`,
// in `extensions.persistedQuery.sha256Hash`, as the preset's docs send it),
// over POST and, for queries, over GET with its ETag. Anything else is
// refused, but codegen's introspection still runs. CI runs `npm ci` in the
// example first.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kind, parse } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startServer } from './server.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const example = path.join(repo, 'examples', 'typescript-client');
const client = path.join(example, 'generated', 'client');
const manifestPath = path.join(client, 'persisted-documents.json');

/** Runs an npm script in the example; resolves with its exit code and output. */
function npmRun(script, env = process.env) {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', script],
      { cwd: example, env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : String(error)) : 0;
        resolve({ code, output: `$ npm run ${script}\n${stdout}\n${stderr}` });
      },
    );
  });
}

let server;
/** @type {Record<string, string>} hash → document, as the preset wrote it. */
let manifest;

before(async () => {
  assert.ok(
    existsSync(path.join(example, 'node_modules', '.bin', 'graphql-codegen')),
    `${example}/node_modules is missing: run \`npm ci\` in examples/typescript-client first`,
  );
  const codegen = await npmRun('codegen:file');
  assert.equal(codegen.code, 0, codegen.output);
  manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  server = await startServer({ env: { DEVGRAPH_TRUSTED_DOCUMENTS: manifestPath } });
});

after(async () => {
  await server?.stop();
});

/** The one operation of a listed document, and values for its Date variables. */
function operationOf(document) {
  const op = parse(document).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const today = new Date().toISOString().slice(0, 10);
  const variables = {};
  let complete = true;
  for (const def of op.variableDefinitions ?? []) {
    let type = def.type;
    while (type.kind !== Kind.NAMED_TYPE) type = type.type;
    if (type.name.value === 'Date') variables[def.variable.name.value] = today;
    else if (def.type.kind === Kind.NON_NULL_TYPE && !def.defaultValue) complete = false;
  }
  return { kind: op.operation, name: op.name?.value, variables, complete };
}

function post(body, { token = server.token } = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(server.graphql, { method: 'POST', headers, body: JSON.stringify(body) });
}

const byHash = (hash) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const codes = (body) => (body.errors ?? []).map((e) => e.extensions?.code);

test('the generated documents carry the hashes the manifest lists', () => {
  const hashes = Object.keys(manifest);
  assert.ok(hashes.length > 0, 'the manifest lists no document');
  for (const hash of hashes) assert.match(hash, /^sha256:[0-9a-f]{64}$/);
  const generated = readFileSync(path.join(client, 'graphql.ts'), 'utf8');
  const carried = [...generated.matchAll(/\{"hash":"([^"]+)"\}/g)].map((m) => m[1]);
  assert.deepEqual([...carried].sort(), [...hashes].sort());
});

test('every listed document runs by the hash the generated client sends', { timeout: 60_000 }, async () => {
  for (const [hash, document] of Object.entries(manifest)) {
    const op = operationOf(document);
    const label = `${op.kind} ${op.name} (${hash})`;
    const variables = op.kind === 'mutation' ? {} : op.variables;
    const resp = await post({ variables, extensions: byHash(hash) });
    const body = await resp.json();
    assert.ok(
      !codes(body).some((c) => c === 'PERSISTED_QUERY_NOT_FOUND' || c === 'FORBIDDEN'),
      `${label}: ${JSON.stringify(body)}`,
    );
    if (op.kind !== 'query' || !op.complete) continue;
    assert.equal(resp.status, 200, `${label}: ${JSON.stringify(body)}`);
    assert.equal(body.errors, undefined, `${label}: ${JSON.stringify(body)}`);
    assert.ok(body.data, label);

    // By GET, with the hash alone: cacheable, and revalidated to a 304.
    const url = new URL(server.graphql);
    url.searchParams.set('variables', JSON.stringify(variables));
    url.searchParams.set('extensions', JSON.stringify(byHash(hash)));
    const headers = { authorization: `Bearer ${server.token}` };
    const get = await fetch(url, { headers });
    assert.equal(get.status, 200, label);
    const etag = get.headers.get('etag');
    assert.ok(etag, `${label}: no ETag`);
    assert.deepEqual((await get.json()).data, body.data, label);
    const again = await fetch(url, { headers: { ...headers, 'if-none-match': etag } });
    assert.equal(again.status, 304, label);
  }
});

test('documents not in the manifest are refused', async () => {
  const unknown = `sha256:${'0'.repeat(64)}`;
  const miss = await (await post({ extensions: byHash(unknown) })).json();
  assert.deepEqual(codes(miss), ['PERSISTED_QUERY_NOT_FOUND']);
  assert.equal(miss.errors[0].message, 'PersistedQueryNotFound');
  const freeForm = await post({ query: '{ viewer { id name email } }' });
  assert.equal(freeForm.status, 403);
  assert.deepEqual(codes(await freeForm.json()), ['FORBIDDEN']);
});

/** The first message of a subscription over /graphql/ws, with the graphql-ws client. */
async function firstMessage(payload) {
  const client = createClient({
    url: server.graphql.replace(/^http/, 'ws') + '/ws',
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${server.token}` },
    retryAttempts: 0,
  });
  try {
    const messages = client.iterate(payload);
    const { value } = await messages.next();
    await messages.return?.();
    return value;
  } finally {
    await client.dispose();
  }
}

test('a listed subscription runs over /graphql/ws by its hash, with the graphql-ws client', { timeout: 60_000 }, async () => {
  const listed = Object.entries(manifest).map(([hash, document]) => ({ hash, op: operationOf(document) }));
  // The organization's id, through a listed query.
  const dashboard = listed.find(({ op }) => op.name === 'Dashboard');
  assert.ok(dashboard, 'the Dashboard query is listed');
  const answer = await (await post({ variables: dashboard.op.variables, extensions: byHash(dashboard.hash) })).json();
  const org = answer.data?.organization?.id;
  assert.ok(org, JSON.stringify(answer));
  const subscriptions = listed.filter(({ op }) => op.kind === 'subscription');
  assert.ok(subscriptions.length > 0, 'the manifest lists a subscription');
  for (const { hash, op } of subscriptions) {
    // As examples/typescript-client/src/live.ts sends it: no text, the hash.
    const variables = { ...op.variables, scope: org };
    const message = await firstMessage({ query: '', variables, extensions: byHash(hash) });
    assert.equal(message.errors, undefined, `${op.name}: ${JSON.stringify(message)}`);
    const field = Object.values(message.data ?? {})[0];
    assert.equal(field?.scope, org, `${op.name}: ${JSON.stringify(message)}`);
  }
  // A subscription the manifest does not list is refused there too.
  const unlisted = 'subscription($s: ID!) { metricsChanged(scope: $s) { scope } }';
  await assert.rejects(
    firstMessage({ query: unlisted, variables: { s: org } }),
    (errors) => Array.isArray(errors) && errors[0]?.extensions?.code === 'FORBIDDEN',
  );
});

test('codegen still introspects a server in trusted mode', { timeout: 300_000 }, async () => {
  const env = { ...process.env, DEVGRAPH_URL: server.graphql };
  delete env.DEVGRAPH_TOKEN;
  const codegen = await npmRun('codegen', env);
  assert.equal(codegen.code, 0, codegen.output);
  assert.match(readFileSync(path.join(example, 'generated', 'from-url.ts'), 'utf8'), /DashboardQuery/);
});
