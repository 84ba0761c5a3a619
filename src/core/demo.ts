import type { Store } from '../ports/store.js';
import type { NewOrganisation } from './organisations.js';

const DEMO_ORG_NAME = 'Demo Organisation';
const BOOTSTRAP_MARK = 'demo_bootstrapped_at';

export interface DemoBootstrap {
  readonly org: NewOrganisation;
}

export interface DemoDeps {
  readonly store: Pick<Store, 'getMeta' | 'setMeta'>;
  createOrganisation(name: string): Promise<NewOrganisation>;
}

/**
 * On the first start with an empty DATA_DIR, creates the demo organisation. Its secrets exist only in
 * the return value, which the caller prints once; later starts find the mark and print nothing.
 */
export async function bootstrapDemo(deps: DemoDeps): Promise<DemoBootstrap | undefined> {
  if (await deps.store.getMeta(BOOTSTRAP_MARK)) return undefined;
  const org = await deps.createOrganisation(DEMO_ORG_NAME);
  await deps.store.setMeta(BOOTSTRAP_MARK, new Date().toISOString());
  return { org };
}
