// GraphQL Code Generator against a running devgraph: the example in
// examples/typescript-client generates its operation types from the live
// server (by introspection, sending no token) and from the committed
// schema.graphql; both outputs must be identical, and the example must
// type-check against them. CI runs `npm ci` in the example first.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const example = path.join(repo, 'examples', 'typescript-client');
const generated = path.join(example, 'generated');

/** Runs a command in the example; resolves with its exit code and output. */
function run(command, args, env) {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: example, env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : String(error)) : 0;
        resolve({ code, output: `$ ${command} ${args.join(' ')}\n${stdout}\n${stderr}` });
      },
    );
  });
}

let server;

before(async () => {
  assert.ok(
    existsSync(path.join(example, 'node_modules', '.bin', 'graphql-codegen')),
    `${example}/node_modules is missing: run \`npm ci\` in examples/typescript-client first`,
  );
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

test('codegen from the live server equals codegen from schema.graphql, and type-checks', { timeout: 600_000 }, async () => {
  rmSync(generated, { recursive: true, force: true });
  // Anonymous introspection: no DEVGRAPH_TOKEN, whatever the caller's environment holds.
  const env = { ...process.env, DEVGRAPH_URL: server.graphql };
  delete env.DEVGRAPH_TOKEN;

  const codegen = await run('npm', ['run', 'codegen'], env);
  assert.equal(codegen.code, 0, codegen.output);

  const fromUrl = path.join(generated, 'from-url.ts');
  const fromFile = path.join(generated, 'from-file.ts');
  assert.ok(existsSync(fromUrl), `${fromUrl} was not generated\n${codegen.output}`);
  assert.ok(existsSync(fromFile), `${fromFile} was not generated\n${codegen.output}`);
  const live = readFileSync(fromUrl, 'utf8');
  assert.match(live, /export type DashboardQuery = /);
  assert.equal(
    live,
    readFileSync(fromFile, 'utf8'),
    'types generated from the live server differ from those generated from schema.graphql ' +
      '(is schema.graphql up to date with the server?)',
  );

  const typecheck = await run('npm', ['run', 'typecheck'], env);
  assert.equal(typecheck.code, 0, typecheck.output);
});
