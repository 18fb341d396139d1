// The GraphiQL page's own script (no inline script: the page's Content-Security-Policy
// allows none). It runs after the asset scripts; when they did not load, it says so.
"use strict";

(function () {
  const container = document.getElementById("graphiql");

  function unavailable(missing) {
    const from = container.dataset.assetsFrom;
    container.className = "unavailable";
    container.replaceChildren();
    const lines = [
      "GraphiQL could not be loaded: its scripts (" + missing.join(", ") +
        ") did not load from " + from + ".",
      from === "this server"
        ? "The files under ESS_GRAPHIQL_ASSETS may be incomplete or altered; " +
          "reinstall them with `npm ci --prefix <directory>` (see the README)."
        : "This browser cannot reach the CDN. Install the assets on the server with " +
          "`npm ci --prefix <directory>` and point ESS_GRAPHIQL_ASSETS at that " +
          "directory (see the README), then reload this page.",
      "The GraphQL API itself works: POST queries to this URL.",
    ];
    for (const line of lines) {
      const paragraph = document.createElement("p");
      paragraph.textContent = line;
      container.appendChild(paragraph);
    }
  }

  const globals = {
    React: window.React,
    ReactDOM: window.ReactDOM,
    GraphiQL: window.GraphiQL,
    GraphiQLPluginExplorer: window.GraphiQLPluginExplorer,
  };
  const missing = Object.keys(globals).filter((name) => !globals[name]);
  if (missing.length) {
    unavailable(missing);
    return;
  }

  // URL parameters: a query to share (q), its variables.
  const parameters = Object.fromEntries(new URLSearchParams(window.location.search));

  function updateURL(data) {
    Object.assign(parameters, data);
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(parameters)) {
      if (value) search.set(key, value);
    }
    history.replaceState(null, "", "?" + search.toString());
  }

  const fetchURL = window.location.href.split("?")[0];
  const subscriptionURL = new URL(fetchURL);
  subscriptionURL.protocol = subscriptionURL.protocol === "https:" ? "wss:" : "ws:";
  subscriptionURL.hash = "";

  const fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    subscriptionUrl: subscriptionURL.toString(),
  });

  const DEFAULT_QUERY = `# Put your API key in the Headers below:
#   {"Authorization": "Bearer <key>"}
# then run a query with Ctrl-Enter (or the play button).
{
  __typename
}
`;

  function GraphiQLWithExplorer() {
    const [query, setQuery] = React.useState(parameters.q || DEFAULT_QUERY);
    const [variables, setVariables] = React.useState(parameters.variables);
    const [headers, setHeaders] = React.useState(undefined);
    const explorer = React.useMemo(() => GraphiQLPluginExplorer.explorerPlugin(), []);

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorer],
      query: query,
      variables: variables,
      headers: headers,
      onEditQuery: (value) => { setQuery(value); updateURL({ q: value }); },
      onEditVariables: (value) => { setVariables(value); updateURL({ variables: value }); },
      onEditHeaders: setHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  container.replaceChildren();
  ReactDOM.createRoot(container).render(React.createElement(GraphiQLWithExplorer));
})();
