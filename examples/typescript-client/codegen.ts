// Generates typed operations twice with the same plugins: from the live
// server at DEVGRAPH_URL (introspection) and from the committed SDL.
// DEVGRAPH_TOKEN, when set, is sent as `Authorization: Bearer <token>`.
import type { CodegenConfig } from '@graphql-codegen/cli';
import fileConfig, { output } from './codegen.file';

const url = process.env.DEVGRAPH_URL;
if (!url) {
  throw new Error(
    'Set DEVGRAPH_URL to the GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql ' +
      '(or run `npm run codegen:file` to generate from ../../schema.graphql only).',
  );
}
const token = process.env.DEVGRAPH_TOKEN;
const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};

const config: CodegenConfig = {
  ...fileConfig,
  generates: {
    'generated/from-url.ts': { schema: [{ [url]: { headers } }], ...output },
    ...fileConfig.generates,
  },
};

export default config;
