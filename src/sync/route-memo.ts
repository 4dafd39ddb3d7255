/**
 * What a scope sees of a history entry, decided once per distinct scope: sessions with the
 * same queries and the same read rule (as `Scope.key` says) share the answer and the change
 * object. Bounded: the newest versions only, and up to a number of scopes per version
 * (past it, each session decides for itself, as without the memo).
 */
import type { DownloadChange } from './download-batch.js';
import type { HistoryEntry } from './model.js';
import type { Scope } from './scope.js';

/** Versions remembered; the oldest goes first. */
const MAX_VERSIONS = 256;
/** Distinct scopes remembered per version. */
const MAX_SCOPES = 256;

export type Route = (scope: Scope, h: HistoryEntry) => DownloadChange | null;

export class RouteMemo {
  private readonly byVersion = new Map<number, Map<string, DownloadChange | null>>();

  constructor(private readonly route: Route) {}

  /** `route(scope, h)`, or its answer for an equal scope. */
  routed(scope: Scope, h: HistoryEntry): DownloadChange | null {
    const byScope = this.scopesOf(h.version);
    const known = byScope.get(scope.key);
    if (known !== undefined) return known;
    const change = this.route(scope, h);
    if (byScope.size < MAX_SCOPES) byScope.set(scope.key, change);
    return change;
  }

  private scopesOf(version: number): Map<string, DownloadChange | null> {
    let byScope = this.byVersion.get(version);
    if (!byScope) {
      if (this.byVersion.size >= MAX_VERSIONS) {
        this.byVersion.delete(this.byVersion.keys().next().value!);
      }
      this.byVersion.set(version, (byScope = new Map()));
    }
    return byScope;
  }
}
