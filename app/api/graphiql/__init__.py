"""The GraphiQL page at ``GET /graphql`` (in a browser) and the files it loads: its own
script and stylesheet always from this server, GraphiQL and React from the directory
``ESS_GRAPHIQL_ASSETS`` names when they are installed there, from the CDN otherwise."""
