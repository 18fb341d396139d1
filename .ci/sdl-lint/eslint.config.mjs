// Lints the published SDL (schema/schema.graphql) with graphql-eslint's schema rules:
// the recommended set, the Relay set, and a description required on everything.
// Run from the repository root (see .ci/run and tests/test_sdl_lint.py):
//   .ci/sdl-lint/node_modules/.bin/eslint -c .ci/sdl-lint/eslint.config.mjs schema/schema.graphql
//   (or: npm run lint --prefix .ci/sdl-lint)
// Where a rule is relaxed, the comment says why it does not apply.
// package.json overrides @whatwg-node/promise-helpers to 1.x: 2.x needs Node 22, and the
// machines run Node 20 (the rest of that family serves loading schemas over HTTP,
// which this lint never does).
import graphql from "@graphql-eslint/eslint-plugin";

const recommended = graphql.configs["flat/schema-recommended"].rules;
const [, { EnumValueDefinition: _upperCase, ...recommendedNaming }] =
  recommended["@graphql-eslint/naming-convention"];

// Enums whose values are the words the specification and the REST shim use ("created",
// "int8_hnsw"): their GraphQL names are those values, so one status reads the same on
// every surface. Upper-casing them would break every client of the contract.
const VALUE_NAMED_ENUMS = ["ClusterStatus", "Quantization", "QuotaLevel", "Verdict"];
const valueNamed = VALUE_NAMED_ENUMS.join("|");

export default [
  {
    files: ["**/*.graphql"],
    languageOptions: {
      parser: graphql.parser,
      parserOptions: { graphQLConfig: { schema: "schema/schema.graphql" } },
    },
    plugins: { "@graphql-eslint": graphql },
    rules: {
      ...recommended,
      ...graphql.configs["flat/schema-relay"].rules,
      "@graphql-eslint/require-description": [
        "error",
        {
          types: true,
          rootField: true,
          DirectiveDefinition: true,
          FieldDefinition: true,
          InputValueDefinition: true,
          EnumValueDefinition: true,
          ScalarTypeDefinition: true,
        },
      ],
      "@graphql-eslint/naming-convention": [
        "error",
        {
          ...recommendedNaming,
          [`EnumValueDefinition[parent.name.value!=/^(${valueNamed})$/]`]: "UPPER_CASE",
          [`EnumValueDefinition[parent.name.value=/^(${valueNamed})$/]`]: "snake_case",
          "ObjectTypeDefinition,ObjectTypeExtension": {
            ...recommendedNaming["ObjectTypeDefinition,ObjectTypeExtension"],
            // Published under this name since quotas came: a type cannot be renamed
            // with a deprecation period, and fragments on it would break.
            ignorePattern: "^QuotaLimitsType$",
          },
        },
      ],
      // Bill.billedUntil and Quota.quota are the specification's and the REST shapes'
      // field names (billed_until, quota); renaming them would break the contract.
      "@graphql-eslint/no-typename-prefix": "off",
      "@graphql-eslint/strict-id-in-types": [
        "error",
        {
          acceptedIdNames: ["id"],
          acceptedIdTypes: ["ID"],
          exceptions: {
            suffixes: ["Connection", "Edge"],
            types: [
              // Values, not entities: a bill, a quota, a sizing, an event, a page,
              // a usage report have no identity of their own to cache them by.
              "Bill",
              "BillLine",
              "ClusterCredentials",
              "ClusterEvent",
              "ClusterEventUpdate",
              "DeploymentDetails",
              "IssuedApiKey",
              "OrganizationUser",
              "PageInfo",
              "Prices",
              "Quota",
              "QuotaLimitsType",
              "QuotaUsage",
              "ServiceAllocation",
              "UpgradeProgress",
              "UsageSample",
              "UserAllocation",
              "VectorSizing",
              // Its id has been an Int (the log's sequence number) since the first
              // release; a field's type cannot change with a deprecation period.
              "AuditEntry",
            ],
          },
        },
      ],
      "@graphql-eslint/relay-edge-types": [
        "error",
        {
          withEdgeSuffix: true,
          // The schema has no Node interface (no global object identification):
          // nodes are refetched by their own queries (tenantContainer, ...).
          shouldImplementNode: false,
          // Short bounded lists (a bill's lines, the price table) and the deprecated
          // plain lists that the connections replace stay plain lists.
          listTypeCanWrapOnlyEdgeType: false,
        },
      ],
      // Keyset pages are read forward only (first/after): there is no last/before.
      "@graphql-eslint/relay-arguments": ["error", { includeBoth: false }],
    },
  },
];
