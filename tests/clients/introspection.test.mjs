// graphql-js's own introspection query, as every tool built on graphql-js
// sends it, answered anonymously by a running devgraph: the schema a client
// builds from the answer must print exactly as the committed schema.graphql.
// Also checks that the committed introspection fixtures (used by the Rust
// tests) are what the installed graphql package builds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { fixtures } from './introspection-fixtures.mjs';
import { startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const schemaFile = path.resolve(here, '../../schema.graphql');

let server;
let expected;

before(async () => {
  expected = printSchema(lexicographicSortSchema(buildSchema(readFileSync(schemaFile, 'utf8'))));
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

/** The lines that differ between two texts, with a little context (an LCS diff). */
function lineDiff(a, b, context = 2) {
  const x = a.split('\n');
  const y = b.split('\n');
  const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) ops.push([' ', x[i++], j++]);
    else if (j < y.length && (i === x.length || lcs[i][j + 1] >= lcs[i + 1][j])) ops.push(['+', y[j++]]);
    else ops.push(['-', x[i++]]);
  }
  const keep = ops.map((op, k) => ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o[0] !== ' '));
  const out = [];
  ops.forEach((op, k) => {
    if (keep[k]) out.push(`${op[0]} ${op[1]}`);
    else if (keep[k - 1]) out.push('  ...');
  });
  return out.join('\n');
}

const variants = {
  'default options': fixtures.default,
  'every spec option on': fixtures['all-spec-options-on'],
};

for (const [label, options] of Object.entries(variants)) {
  test(`getIntrospectionQuery(${JSON.stringify(options)}) anonymously rebuilds schema.graphql (${label})`, { timeout: 60_000 }, async () => {
    const res = await fetch(server.graphql, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
      },
      body: JSON.stringify({ query: getIntrospectionQuery(options), operationName: 'IntrospectionQuery' }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `POST /graphql answered ${res.status}: ${text}`);
    assert.match(
      res.headers.get('content-type') ?? '',
      /^application\/graphql-response\+json/,
      `content type: ${res.headers.get('content-type')}`,
    );
    const body = JSON.parse(text);
    assert.equal(body.errors, undefined, `introspection answered with errors: ${JSON.stringify(body.errors)}`);
    assert.ok(body.data?.__schema, `no __schema in the answer: ${text.slice(0, 500)}`);
    const actual = printSchema(lexicographicSortSchema(buildClientSchema(body.data)));
    // A query that does not ask for `specifiedByURL` cannot rebuild it.
    const want = options.specifiedByUrl ? expected : expected.replace(/ @specifiedBy\(url: "[^"]*"\)/g, '');
    assert.ok(
      actual === want,
      `the schema built from the live introspection differs from schema.graphql ` +
        `(- schema.graphql, + live server):\n${lineDiff(want, actual)}`,
    );
  });
}

test('tests/fixtures/introspection is what the installed graphql builds (introspection-fixtures.mjs --check)', { timeout: 60_000 }, async () => {
  const { code, output } = await new Promise((resolve) => {
    execFile(process.execPath, ['introspection-fixtures.mjs', '--check'], { cwd: here }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code ?? String(error)) : 0, output: `${stdout}${stderr}` }),
    );
  });
  assert.equal(code, 0, `introspection fixtures are stale (run \`npm run fixtures\` in tests/clients):\n${output}`);
});
