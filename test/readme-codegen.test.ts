/**
 * The README's instructions for typed operations, run as written: its `codegen.ts` block in
 * a fresh NodeNext app (inside the repository, so the codegen packages resolve), an
 * operation of the app's own in a .ts file, `graphql-codegen`, then `tsc` over the app.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/child-gateway.js';

const run = promisify(execFile);
const bin = (path: string) => join(REPO, 'node_modules', path);

/** The ```ts block of the README that starts with `// codegen.ts`. */
function readmeCodegen(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /```ts\n(\/\/ codegen\.ts\n[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no ```ts block starting with // codegen.ts');
  return block;
}

const OPERATION = `import { graphql } from './gql/index.js';

export const MySessions = graphql(\`
  query MySessions {
    sessions(first: 10) { edges { node { id state lastSyncedAt } } }
  }
\`);
`;

const USE = `import type { MySessionsQuery } from './gql/graphql.js';

type Node = MySessionsQuery['sessions']['edges'][number]['node'];
export const state: Node['state'] = 'ACTIVE';
// @ts-expect-error state is SessionState, not any string
export const wrong: Node['state'] = 'SLEEPING';
`;

const TSCONFIG = {
  compilerOptions: {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  },
  include: ['src'],
};

const dir = (() => {
  mkdirSync(join(REPO, '.tmp'), { recursive: true });
  return mkdtempSync(join(REPO, '.tmp', 'codegen-app-'));
})();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the README's codegen instructions", () => {
  it('generate typed operations that a NodeNext app type-checks', async () => {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'codegen.ts'), readmeCodegen());
    copyFileSync(join(REPO, 'schema.graphql'), join(dir, 'schema.graphql'));
    writeFileSync(join(dir, 'src/operations.ts'), OPERATION);
    writeFileSync(join(dir, 'src/use.ts'), USE);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    await run(
      process.execPath,
      [bin('@graphql-codegen/cli/cjs/bin.js'), '--config', 'codegen.ts'],
      { cwd: dir },
    );
    const generated = readFileSync(join(dir, 'src/gql/index.ts'), 'utf8');
    expect(generated).toMatch(/from ["']\.\/gql\.js["']/);
    await run(process.execPath, [bin('typescript/bin/tsc'), '-p', dir]);
  }, 120_000);
});
