// Starts GraphiQL on devgraph's page. The settings (endpoint, and in dev
// mode the demo owner's Authorization header) come from a JSON block in the
// page, so the page needs no inline script and its Content-Security-Policy
// can forbid every script that devgraph did not serve itself.
(function () {
  var config = JSON.parse(document.getElementById('devgraph-config').textContent);
  var fetcher = GraphiQL.createFetcher({ url: config.endpoint, headers: config.headers });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      // The schema's deprecated arguments and input fields show in the docs.
      inputValueDeprecation: true,
    }),
  );
})();
