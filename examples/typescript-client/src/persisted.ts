// Operations sent by hash instead of by text. GraphQL Code Generator's client
// preset (`generated/client/`, `persistedDocuments: true`) gives every
// document a `__meta__.hash` (`sha256:<hex>`) and writes the same hashes,
// with their documents, to `generated/client/persisted-documents.json`: the
// manifest devgraph runs in trusted-documents mode
// (`DEVGRAPH_TRUSTED_DOCUMENTS`), where only its documents execute.
import { DashboardDocument, type TypedDocumentString } from '../generated/client/graphql.js';
import { dashboardVariables } from './dashboard.js';

/** The hash the client preset gave a document. */
export function persistedHash<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
): string {
  const hash: unknown = document.__meta__?.['hash'];
  if (typeof hash !== 'string') {
    throw new Error('no __meta__.hash: generate with `persistedDocuments: true`');
  }
  return hash;
}

/**
 * The request that runs `document` by its hash alone, in the `persistedQuery`
 * extension Apollo Client and urql also send. A GET (queries only) is
 * answered with an `ETag` that the browser's cache revalidates.
 */
export function persistedRequest<TResult, TVariables>(
  endpoint: string,
  token: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  method: 'GET' | 'POST' = 'POST',
): Request {
  const extensions = { persistedQuery: { version: 1, sha256Hash: persistedHash(document) } };
  const headers = {
    Authorization: `Bearer ${token}`,
    Accept: 'application/graphql-response+json, application/json',
  };
  if (method === 'GET') {
    const url = new URL(endpoint);
    url.searchParams.set('variables', JSON.stringify(variables));
    url.searchParams.set('extensions', JSON.stringify(extensions));
    return new Request(url, { method, headers });
  }
  return new Request(endpoint, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ variables, extensions }),
  });
}

/** Runs `document` by hash; its generated types type the answer. */
export async function executePersisted<TResult, TVariables>(
  endpoint: string,
  token: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  method: 'GET' | 'POST' = 'POST',
): Promise<TResult> {
  const response = await fetch(persistedRequest(endpoint, token, document, variables, method));
  const body = (await response.json()) as {
    data?: TResult | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (body.errors?.length || !body.data) {
    const codes = body.errors?.map((e) => e.extensions?.code ?? e.message).join(', ');
    throw new Error(`devgraph answered HTTP ${response.status}: ${codes ?? 'no data'}`);
  }
  return body.data;
}

/** The dashboard, by hash, over GET. */
export async function loadDashboardByHash(endpoint: string, token: string, days = 30) {
  const data = await executePersisted(
    endpoint,
    token,
    DashboardDocument,
    dashboardVariables(days),
    'GET',
  );
  return data.organization.teamSpaces.totalCount;
}
