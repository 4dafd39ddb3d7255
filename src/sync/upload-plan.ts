/**
 * An upload's integration plan as the store receives it: built from data only (the
 * changesets, the rules, the user, the report), so a store that integrates on another
 * thread builds the very same plan there (store/plan-source.ts).
 */
import { sourcedPlan, type IntegrationPlan } from '../store/port.js';
import { planIntegration, type UploadResult } from './integrate.js';
import type { Changeset } from './model.js';
import { UserPermissions, type RulesConfig } from './permissions.js';
import type { UploadReport } from './upload-accounting.js';

/** A rules configuration and its number in this process, so users' permissions are kept. */
export interface RulesRef {
  id: number;
  rules: RulesConfig;
}

const refs = new WeakMap<RulesConfig, RulesRef>();
let nextRulesId = 1;

/** The one reference of these rules in this process. */
export function rulesRef(rules: RulesConfig): RulesRef {
  let ref = refs.get(rules);
  if (!ref) {
    ref = { id: nextRulesId++, rules };
    refs.set(rules, ref);
  }
  return ref;
}

const PERMISSIONS_KEPT = 10_000;
const permissions = new Map<string, UserPermissions>();

/** One user's permissions under these rules, kept (their matchers compile once). */
export function permissionsFor(rules: RulesRef, userId: string): UserPermissions {
  const key = `${rules.id}\u0000${userId}`;
  let perms = permissions.get(key);
  if (!perms) {
    if (permissions.size >= PERMISSIONS_KEPT) permissions.clear();
    perms = new UserPermissions(rules.rules, userId);
    permissions.set(key, perms);
  }
  return perms;
}

/** The factory a plan source names: the upload's plan from its data. */
export function uploadPlanOf(
  changesets: readonly Changeset[],
  rules: RulesRef,
  userId: string,
  report: UploadReport,
): IntegrationPlan<UploadResult> {
  return planIntegration(changesets, permissionsFor(rules, userId), report);
}

/** The upload's plan, carrying its source. */
export function uploadPlan(
  changesets: readonly Changeset[],
  rules: RulesRef,
  userId: string,
  report: UploadReport,
): IntegrationPlan<UploadResult> {
  return sourcedPlan(
    import.meta.url,
    'uploadPlanOf',
    uploadPlanOf,
    changesets,
    rules,
    userId,
    report,
  );
}
