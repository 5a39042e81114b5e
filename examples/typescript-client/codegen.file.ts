// Generates typed operations from the repository's committed SDL; needs no
// running server. `codegen.ts` adds the same output from a live server.
import type { CodegenConfig } from '@graphql-codegen/cli';

/** Plugins and settings of every output, so the outputs can be compared. */
export const output = {
  plugins: ['typescript-operations', 'typed-document-node'],
  config: {
    // devgraph's custom scalars travel as strings (`Date` is `YYYY-MM-DD`,
    // `DateTime` is RFC 3339). Any scalar not listed here is an error, never `any`.
    strictScalars: true,
    scalars: { Date: 'string', DateTime: 'string', JSON: 'unknown' },
    enumType: 'string-literal', // enums as unions of string literals
    useTypeImports: true,
    // Each operation also as a string (`DashboardDocument`) typed with its
    // result and variables, ready to send.
    documentMode: 'string',
  },
};

const config: CodegenConfig = {
  documents: ['src/**/*.graphql'],
  generates: {
    'generated/from-file.ts': { schema: '../../schema.graphql', ...output },
    // The client preset, for its persisted documents: each document gets a
    // `__meta__.hash` (`sha256:<hex>`) and generated/client/persisted-documents.json
    // lists them all, the manifest of devgraph's trusted-documents mode
    // (DEVGRAPH_TRUSTED_DOCUMENTS). Every `.graphql` file under src/ is in it.
    'generated/client/': {
      schema: '../../schema.graphql',
      preset: 'client',
      presetConfig: { persistedDocuments: true, fragmentMasking: false },
      // `.js` in relative imports, as `moduleResolution: NodeNext` requires.
      config: { ...output.config, importExtension: '.js' },
    },
  },
};

export default config;
