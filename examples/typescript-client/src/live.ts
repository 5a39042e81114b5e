// Live activity over devgraph's WebSocket endpoint (graphql-transport-ws),
// with the graphql-ws client: credentials in `connectionParams`, the
// subscription sent by its persisted hash (an empty `query`, the hash in
// `extensions.persistedQuery`), so it also runs on a server in
// trusted-documents mode. In a browser the global WebSocket is used; in Node
// pass one (`webSocketImpl`, e.g. from the `ws` package).
import { type Client, createClient } from 'graphql-ws';
import {
  LiveActivityDocument,
  type LiveActivitySubscription,
  type LiveActivitySubscriptionVariables,
} from '../generated/client/graphql.js';
import { persistedHash } from './persisted.js';

/** A client of `/graphql/ws` beside `endpoint` (`http://host/graphql`). */
export function liveClient(endpoint: string, token: string, webSocketImpl?: unknown): Client {
  const url = new URL(endpoint);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/graphql/ws';
  return createClient({
    url: url.toString(),
    connectionParams: { Authorization: `Bearer ${token}` },
    ...(webSocketImpl === undefined ? {} : { webSocketImpl }),
  });
}

export type ActivityChange = LiveActivitySubscription['metricsChanged'];

/**
 * Calls `onChange` with the counts at the start, then with each change;
 * returns the function that ends the subscription.
 */
export function watchActivity(
  client: Client,
  variables: LiveActivitySubscriptionVariables,
  onChange: (change: ActivityChange) => void,
  onError: (error: unknown) => void,
): () => void {
  const extensions = {
    persistedQuery: { version: 1, sha256Hash: persistedHash(LiveActivityDocument) },
  };
  return client.subscribe<LiveActivitySubscription>(
    { query: '', variables, extensions },
    {
      next: (message) => {
        if (message.data) onChange(message.data.metricsChanged);
        if (message.errors) onError(message.errors);
      },
      error: onError,
      complete: () => {},
    },
  );
}
