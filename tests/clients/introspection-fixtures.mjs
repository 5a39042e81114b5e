// Writes tests/fixtures/introspection/*.graphql: the exact documents that
// graphql-js's getIntrospectionQuery() builds (the query GraphiQL,
// graphql-codegen, Apollo tooling, Postman and Insomnia send), for each of
// its options on and off. `node introspection-fixtures.mjs --check` fails
// when the files differ from what the installed graphql package builds.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { getIntrospectionQuery } from 'graphql';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.resolve(here, '../fixtures/introspection');
const version = createRequire(import.meta.url)('graphql/package.json').version;

export const spec = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
};
export const fixtures = {
  default: {},
  'all-off': {
    descriptions: false,
    specifiedByUrl: false,
    directiveIsRepeatable: false,
    schemaDescription: false,
    inputValueDeprecation: false,
    experimentalDirectiveDeprecation: false,
    oneOf: false,
  },
  'all-spec-options-on': spec,
  'specified-by-url': { specifiedByUrl: true },
  'directive-is-repeatable': { directiveIsRepeatable: true },
  'schema-description': { schemaDescription: true },
  'input-value-deprecation': { inputValueDeprecation: true },
  'one-of': { oneOf: true },
  // Not in the GraphQL spec: `directives(includeDeprecated:)` and
  // `__Directive.isDeprecated` are graphql-js experiments that devgraph
  // (async-graphql) does not serve; the server must refuse it clearly.
  'experimental-directive-deprecation': { ...spec, experimentalDirectiveDeprecation: true },
};

// Run as a script it writes (or checks) the files; imported, it only
// lends its option sets.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exit(writeOrCheck(process.argv.includes('--check')));
}

function writeOrCheck(check) {
  let stale = 0;
  for (const [name, options] of Object.entries(fixtures)) {
    const text =
      `# getIntrospectionQuery(${JSON.stringify(options)}) from graphql@${version}, ` +
      `written by tests/clients/introspection-fixtures.mjs\n` +
      getIntrospectionQuery(options);
    const file = path.join(dir, `${name}.graphql`);
    if (check) {
      let old = '';
      try {
        old = readFileSync(file, 'utf8');
      } catch {}
      if (old !== text) {
        console.error(`stale: ${file}`);
        stale++;
      }
    } else {
      writeFileSync(file, text);
    }
  }
  return stale ? 1 : 0;
}
