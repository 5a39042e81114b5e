// Starts the real devgraph binary in dev mode (embedded SQLite in a fresh
// temporary folder, demo data seeded, port chosen by the OS) and reads its
// URL and the demo owner's token from the banner it prints. The binary is
// the one `cargo test` already built, in CARGO_TARGET_DIR when that is set
// (DEVGRAPH_BIN overrides the path).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Cargo reads a relative CARGO_TARGET_DIR from where it runs: run.sh runs it at the root.
const targetDir = path.resolve(repo, process.env.CARGO_TARGET_DIR || 'target');
export const devgraphBin = process.env.DEVGRAPH_BIN ?? path.join(targetDir, 'debug', 'devgraph');

/** @returns {Promise<{url: string, graphql: string, token: string, databaseUrl: string, stop: () => Promise<void>}>} */
export async function startServer({ env = {}, timeoutMs = 120_000 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'devgraph-clients-'));
  const databaseUrl = env.DATABASE_URL ?? `sqlite://${dir}/devgraph.db?mode=rwc`;
  const child = spawn(devgraphBin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      DEVGRAPH_ADDR: '127.0.0.1:0',
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`devgraph did not start within ${timeoutMs} ms:\n${out}\n${err}`)),
      timeoutMs,
    );
    child.stdout.on('data', (d) => {
      out += d;
      const url = out.match(/devgraph listening on (http:\/\/\S+)/)?.[1];
      const token = out.match(/Authorization: Bearer (\S+)/)?.[1];
      if (url && token) {
        clearTimeout(timer);
        resolve({ url, token });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devgraph exited with ${code}:\n${out}\n${err}`));
    });
  });
  const { url, token } = await ready;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    graphql: `${url}/graphql`,
    token,
    // For `devgraph` commands against the same database (and dev secret).
    databaseUrl,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
