/**
 * GraphQL Code Generator: typed documents for the SDK's operations, from the committed
 * schema. `npm run codegen` regenerates client/src/gql; a test fails when it is stale.
 * Apps generate types for their own operations the same way (see the README).
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

/** Where the output goes; the staleness test generates into a temporary folder instead. */
const out = process.env.CODEGEN_OUT ?? 'client/src/gql/';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  // ESM output: relative imports end in .js.
  emitLegacyCommonJSImports: false,
  documents: ['client/src/operations/*.graphql'],
  generates: {
    [out]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { JSON: 'unknown', DateTime: 'string' },
      },
    },
  },
};

export default config;
