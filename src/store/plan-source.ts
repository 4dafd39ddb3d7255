/**
 * Plans built again from their source (port.ts `sourcedPlan`): the factory's module and
 * name and its arguments travel to another thread (the SQLite writer thread), which
 * imports the module and calls the factory with the same arguments.
 */
import type { IntegrationPlan, PlanSource } from './port.js';

const modules = new Map<string, Promise<Record<string, unknown>>>();

/** The plan a source describes, its module imported once per thread. */
export async function planFromSource<R>(source: PlanSource): Promise<IntegrationPlan<R>> {
  let loading = modules.get(source.module);
  if (!loading) {
    loading = import(source.module) as Promise<Record<string, unknown>>;
    modules.set(source.module, loading);
  }
  const factory = (await loading)[source.factory];
  if (typeof factory !== 'function') {
    throw new Error(`plan source: ${source.module} exports no function ${source.factory}`);
  }
  return (factory as (...args: unknown[]) => IntegrationPlan<R>)(...source.args);
}
