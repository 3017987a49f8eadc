/**
 * The layering docs/architecture.md describes, checked on every `npm test` (`npm run deps`, offline).
 * Type-only imports count: a type from the CDK in a handler is still the CDK in a handler.
 */
const AWS_SDK = '^node_modules/(@aws-sdk|@smithy)/';
const CDK = '^node_modules/(aws-cdk-lib|constructs|cdk-nag)/';
const RUNTIME_AND_CLI = '^(lib/local|lib/query|lib/simulator|bin)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'lib/core is domain code: no AWS SDK, no CDK, no adapter (lib/storage) or runtime code',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { path: `${AWS_SDK}|${CDK}|^node_modules/@aws-lambda-powertools/|^lib/(?!core/)` },
    },
    {
      name: 'handlers-no-cdk',
      comment: 'Lambda handlers (and everything they import) run in Lambda: no CDK',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: CDK, reachable: true },
    },
    {
      name: 'infrastructure-no-cli-or-runtime',
      comment: 'Constructs and stacks are deploy-time code: they import no CLI or runtime code',
      severity: 'error',
      from: { path: '^lib/(constructs|stacks)/' },
      to: { path: RUNTIME_AND_CLI, reachable: true },
    },
    {
      name: 'catalog-is-pure',
      comment: 'lib/catalog is shared by deploy time, the runtime and the tests: no AWS SDK, no runtime code',
      severity: 'error',
      from: { path: '^lib/catalog/' },
      to: { path: `${AWS_SDK}|${CDK}|${RUNTIME_AND_CLI}`, reachable: true },
    },
    {
      name: 'query-tool-no-runtime',
      comment: 'The query tool talks to Athena (AWS or the embedded endpoint); bin/query.ts passes it the local engine',
      severity: 'error',
      from: { path: '^lib/query/' },
      to: { path: '^(lib/local|lib/simulator|lib/constructs|lib/stacks|bin)/' },
    },
    {
      name: 'lib-not-bin',
      comment: 'bin/ only wires: nothing imports it',
      severity: 'error',
      from: { pathNot: '^bin/' },
      to: { path: '^bin/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycle that loads at run time',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-types',
      comment: 'Type-only cycles load nothing, but still tie two modules together: reported, not failed',
      severity: 'warn',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(cdk\\.out|\\.local)/' },
  },
};
