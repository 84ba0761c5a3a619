// The import rules of src/ (docs/architecture.md), checked by `npm run deps` in CI:
//
//   cli → server (composition root) → http → core (application) → domain (permissions → audit → identity
//   → partners → keys) → ports → common → envelope → crypto;
//   adapters (store/, memory/, redis/) implement ports and are wired only in the composition root (and the CLI).
//
// A module may import its own layer and any layer below it, never one above; no import cycles between
// files (type-only imports included) nor between folders. The domain folders are ordered too, so
// that no two of them can import each other.

/** Top to bottom. `path` matches the files of the layer (relative to the repository root). */
const LAYERS = [
  { name: 'cli', path: '^src/cli/' },
  { name: 'composition root', path: '^src/(server|services)[.]ts$' },
  { name: 'http', path: '^src/(http|web)/' },
  { name: 'core (application)', path: '^src/core/' },
  { name: 'permissions', path: '^src/permissions/' },
  { name: 'audit', path: '^src/audit/' },
  { name: 'identity', path: '^src/identity/' },
  { name: 'partners', path: '^src/partners/' },
  { name: 'keys', path: '^src/keys/' },
  { name: 'ports', path: '^src/ports/' },
  { name: 'common', path: '^src/(common/|config[.]ts$)' },
  { name: 'envelope', path: '^src/envelope/' },
  { name: 'crypto', path: '^src/crypto/' },
];

const ADAPTERS = '^src/(store|memory|redis|prometheus)/';

/**
 * Known exceptions, each one file and the imports it may make against the rules below; the comment
 * says what removes it.
 */
const EXCEPTIONS = [
  // The audit thread sink opens its own SQLite connection on its thread (the group commit's fsync
  // stays off the event loop). Removed when the sink is built from a store-port factory passed in
  // workerData (issue 12's PostgreSQL sink needs that seam anyway).
  { file: 'src/audit/append-thread-worker.ts', mayImport: ['src/store/sqlite-connection.ts'] },
];

/** A path as the regular expression that matches it alone. */
const exactly = (path) => `^${path.replace(/[.]/g, '[.]')}$`;

/**
 * `rule` as one rule for the files no exception names, plus one per named file of `from` that
 * leaves out the imports its exception allows.
 */
function withExceptions(rule) {
  const named = EXCEPTIONS.filter((e) => new RegExp(rule.from.path).test(e.file));
  const general = { ...rule, from: { ...rule.from, pathNot: [rule.from.pathNot, ...named.map((e) => exactly(e.file))].filter(Boolean).join('|') } };
  return [
    general,
    ...named.map((e) => ({
      ...rule,
      name: `${rule.name} (known exception)`,
      from: { path: exactly(e.file) },
      to: { ...rule.to, pathNot: e.mayImport.map(exactly).join('|') },
    })),
  ];
}

const above = (name) =>
  LAYERS.slice(
    0,
    LAYERS.findIndex((l) => l.name === name),
  )
    .map((l) => `(${l.path})`)
    .join('|');

/** One rule per layer: nothing it imports may be in a layer above it. */
const layerRules = LAYERS.slice(1).flatMap((layer) =>
  withExceptions({
    name: `layer:${layer.name}`,
    comment: `${layer.name} must not import a layer above it (docs/architecture.md)`,
    severity: 'error',
    from: { path: layer.path },
    to: { path: above(layer.name) },
  }),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles between files, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No import cycles between folders.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    ...withExceptions({
      name: 'adapters-only-in-the-composition-root',
      comment: 'Adapters (store/, memory/, redis/) are wired in src/services.ts and src/server.ts (and used by the CLI); the rest depends on src/ports/.',
      severity: 'error',
      from: { path: '^src/', pathNot: `${ADAPTERS}|^src/cli/|^src/(server|services)[.]ts$` },
      to: { path: ADAPTERS },
    }),
    {
      name: 'adapters-below-the-domain',
      comment: 'An adapter implements a port: it may use ports, common, envelope and crypto, not the domain or anything above it.',
      severity: 'error',
      from: { path: ADAPTERS },
      to: { path: above('ports') },
    },
    {
      name: 'sdk-stands-alone',
      comment: 'The SDK (packages/sdk, @pqseal/sdk) is its own package: the server imports it (envelope format, error catalogue), never the other way round.',
      severity: 'error',
      from: { path: '^packages/sdk/' },
      to: { path: '^src/' },
    },
  ],
  options: {
    // bench/ is a plugin the composition root loads only with PQSEAL_BENCH_ROUTES; it may use the core.
    doNotFollow: { path: ['node_modules', '^bench/'] },
    exclude: { path: ['^src/web/public/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a cycle of types is still a cycle between modules.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
