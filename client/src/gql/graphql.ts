/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type ChangeInput = {
  collection: string;
  /** INSERT: the whole document. */
  document?: unknown;
  id: string | number;
  op: ChangeOp;
  /** UPDATE: fields to set. */
  set?: unknown;
  /** UPDATE: fields to remove. */
  unset?: Array<string> | null | undefined;
};

export type ChangeOp =
  | 'DELETE'
  | 'INSERT'
  | 'UPDATE';

export type ChangesetInput = {
  changes: Array<ChangeInput>;
  clientVersion: number;
  /** Hybrid logical clock: 2026-11-26T19:55:08.123Z-0001 */
  timestamp: string;
};

export type ConnectionState =
  | 'CONNECTED'
  | 'CONNECTING'
  | 'DISCONNECTED';

/** REMOVE: deleted, or no longer in the session's queries. */
export type DownloadOp =
  | 'REMOVE'
  | 'UPSERT';

export type OpenSessionInput = {
  clientId: string | number;
  queries: Array<SyncQueryInput>;
};

export type ProgressDirection =
  | 'DOWNLOAD'
  | 'UPLOAD';

export type ProgressMode =
  | 'FOR_CURRENTLY_OUTSTANDING_WORK'
  | 'REPORT_INDEFINITELY';

export type SessionEventType =
  | 'CLIENT_RESET_REQUIRED'
  | 'CLOSED'
  | 'PAUSED'
  | 'QUERIES_CHANGED'
  | 'RECONNECT_REQUESTED'
  | 'RESUMED';

/** INACTIVE while a pause is in force (in either direction). */
export type SessionState =
  | 'ACTIVE'
  | 'INACTIVE';

export type SyncQueryInput = {
  collection: string;
  /** A MongoDB filter; omit for the whole collection. */
  filter?: unknown;
};

export type SessionFieldsFragment = { id: string, clientId: string, state: SessionState, connectionState: ConnectionState, pausedDirections: Array<ProgressDirection>, lastIntegratedClientVersion: number, lastDownloadedServerVersion: number, queriesVersion: number, resetRequired: boolean };

export type OpenSessionMutationVariables = Exact<{
  input: OpenSessionInput;
}>;


export type OpenSessionMutation = { openSession: { id: string, clientId: string, state: SessionState, connectionState: ConnectionState, pausedDirections: Array<ProgressDirection>, lastIntegratedClientVersion: number, lastDownloadedServerVersion: number, queriesVersion: number, resetRequired: boolean } };

export type PauseSessionMutationVariables = Exact<{
  id: string | number;
  direction?: ProgressDirection | null | undefined;
}>;


export type PauseSessionMutation = { pauseSession: { id: string, clientId: string, state: SessionState, connectionState: ConnectionState, pausedDirections: Array<ProgressDirection>, lastIntegratedClientVersion: number, lastDownloadedServerVersion: number, queriesVersion: number, resetRequired: boolean } };

export type ResumeSessionMutationVariables = Exact<{
  id: string | number;
}>;


export type ResumeSessionMutation = { resumeSession: { id: string, clientId: string, state: SessionState, connectionState: ConnectionState, pausedDirections: Array<ProgressDirection>, lastIntegratedClientVersion: number, lastDownloadedServerVersion: number, queriesVersion: number, resetRequired: boolean } };

export type UpdateQueriesMutationVariables = Exact<{
  sessionId: string | number;
  queries: Array<SyncQueryInput> | SyncQueryInput;
}>;


export type UpdateQueriesMutation = { updateQueries: { id: string, clientId: string, state: SessionState, connectionState: ConnectionState, pausedDirections: Array<ProgressDirection>, lastIntegratedClientVersion: number, lastDownloadedServerVersion: number, queriesVersion: number, resetRequired: boolean } };

export type WaitForDownloadMutationVariables = Exact<{
  sessionId: string | number;
  cancellationToken?: string | number | null | undefined;
}>;


export type WaitForDownloadMutation = { waitForDownload: { lastDownloadedServerVersion: number } };

export type CreateCancellationTokenMutationVariables = Exact<{ [key: string]: never; }>;


export type CreateCancellationTokenMutation = { createCancellationToken: { id: string } };

export type CancelMutationVariables = Exact<{
  cancellationToken: string | number;
}>;


export type CancelMutation = { cancel: { id: string, cancelled: boolean } };

export type SessionEventsSubscriptionVariables = Exact<{
  sessionId: string | number;
}>;


export type SessionEventsSubscription = { sessionEvents: { type: SessionEventType, at: string, session: { id: string, clientId: string, state: SessionState, connectionState: ConnectionState, pausedDirections: Array<ProgressDirection>, lastIntegratedClientVersion: number, lastDownloadedServerVersion: number, queriesVersion: number, resetRequired: boolean } } };

export type ProgressSubscriptionVariables = Exact<{
  sessionId: string | number;
  direction: ProgressDirection;
  mode: ProgressMode;
}>;


export type ProgressSubscription = { progress: { direction: ProgressDirection, progressEstimate: number, transferredBytes: number, transferableBytes: number } };

export type SessionQueryVariables = Exact<{
  id: string | number;
}>;


export type SessionQuery = { session: { id: string, clientId: string, state: SessionState, connectionState: ConnectionState, pausedDirections: Array<ProgressDirection>, lastIntegratedClientVersion: number, lastDownloadedServerVersion: number, queriesVersion: number, resetRequired: boolean } | null };

export type UploadChangesMutationVariables = Exact<{
  sessionId: string | number;
  changesets: Array<ChangesetInput> | ChangesetInput;
  latestClientVersion?: number | null | undefined;
  pendingBytes?: number | null | undefined;
}>;


export type UploadChangesMutation = { uploadChanges: { lastIntegratedClientVersion: number, serverVersion: number, compensatingWrites: Array<{ collection: string, id: string, reason: string, document: unknown }> } };

export type AcknowledgeDownloadMutationVariables = Exact<{
  sessionId: string | number;
  serverVersion: number;
  queriesVersion?: number | null | undefined;
}>;


export type AcknowledgeDownloadMutation = { acknowledgeDownload: { lastDownloadedServerVersion: number } };

export type ChangesSubscriptionVariables = Exact<{
  sessionId: string | number;
  since?: number | null | undefined;
  bootstrapUntil?: number | null | undefined;
}>;


export type ChangesSubscription = { changes: { fromServerVersion: number, toServerVersion: number, latestServerVersion: number, remainingChanges: number, bootstrapUntil: number | null, queriesVersion: number, changes: Array<{ serverVersion: number, collection: string, id: string, op: DownloadOp, document: unknown }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const SessionFieldsFragmentDoc = new TypedDocumentString(`
    fragment SessionFields on SyncSession {
  id
  clientId
  state
  connectionState
  pausedDirections
  lastIntegratedClientVersion
  lastDownloadedServerVersion
  queriesVersion
  resetRequired
}
    `, {"fragmentName":"SessionFields"}) as unknown as TypedDocumentString<SessionFieldsFragment, unknown>;
export const OpenSessionDocument = new TypedDocumentString(`
    mutation OpenSession($input: OpenSessionInput!) {
  openSession(input: $input) {
    ...SessionFields
  }
}
    fragment SessionFields on SyncSession {
  id
  clientId
  state
  connectionState
  pausedDirections
  lastIntegratedClientVersion
  lastDownloadedServerVersion
  queriesVersion
  resetRequired
}`) as unknown as TypedDocumentString<OpenSessionMutation, OpenSessionMutationVariables>;
export const PauseSessionDocument = new TypedDocumentString(`
    mutation PauseSession($id: ID!, $direction: ProgressDirection) {
  pauseSession(id: $id, direction: $direction) {
    ...SessionFields
  }
}
    fragment SessionFields on SyncSession {
  id
  clientId
  state
  connectionState
  pausedDirections
  lastIntegratedClientVersion
  lastDownloadedServerVersion
  queriesVersion
  resetRequired
}`) as unknown as TypedDocumentString<PauseSessionMutation, PauseSessionMutationVariables>;
export const ResumeSessionDocument = new TypedDocumentString(`
    mutation ResumeSession($id: ID!) {
  resumeSession(id: $id) {
    ...SessionFields
  }
}
    fragment SessionFields on SyncSession {
  id
  clientId
  state
  connectionState
  pausedDirections
  lastIntegratedClientVersion
  lastDownloadedServerVersion
  queriesVersion
  resetRequired
}`) as unknown as TypedDocumentString<ResumeSessionMutation, ResumeSessionMutationVariables>;
export const UpdateQueriesDocument = new TypedDocumentString(`
    mutation UpdateQueries($sessionId: ID!, $queries: [SyncQueryInput!]!) {
  updateQueries(sessionId: $sessionId, queries: $queries) {
    ...SessionFields
  }
}
    fragment SessionFields on SyncSession {
  id
  clientId
  state
  connectionState
  pausedDirections
  lastIntegratedClientVersion
  lastDownloadedServerVersion
  queriesVersion
  resetRequired
}`) as unknown as TypedDocumentString<UpdateQueriesMutation, UpdateQueriesMutationVariables>;
export const WaitForDownloadDocument = new TypedDocumentString(`
    mutation WaitForDownload($sessionId: ID!, $cancellationToken: ID) {
  waitForDownload(sessionId: $sessionId, cancellationToken: $cancellationToken) {
    lastDownloadedServerVersion
  }
}
    `) as unknown as TypedDocumentString<WaitForDownloadMutation, WaitForDownloadMutationVariables>;
export const CreateCancellationTokenDocument = new TypedDocumentString(`
    mutation CreateCancellationToken {
  createCancellationToken {
    id
  }
}
    `) as unknown as TypedDocumentString<CreateCancellationTokenMutation, CreateCancellationTokenMutationVariables>;
export const CancelDocument = new TypedDocumentString(`
    mutation Cancel($cancellationToken: ID!) {
  cancel(cancellationToken: $cancellationToken) {
    id
    cancelled
  }
}
    `) as unknown as TypedDocumentString<CancelMutation, CancelMutationVariables>;
export const SessionEventsDocument = new TypedDocumentString(`
    subscription SessionEvents($sessionId: ID!) {
  sessionEvents(sessionId: $sessionId) {
    type
    at
    session {
      ...SessionFields
    }
  }
}
    fragment SessionFields on SyncSession {
  id
  clientId
  state
  connectionState
  pausedDirections
  lastIntegratedClientVersion
  lastDownloadedServerVersion
  queriesVersion
  resetRequired
}`) as unknown as TypedDocumentString<SessionEventsSubscription, SessionEventsSubscriptionVariables>;
export const ProgressDocument = new TypedDocumentString(`
    subscription Progress($sessionId: ID!, $direction: ProgressDirection!, $mode: ProgressMode!) {
  progress(sessionId: $sessionId, direction: $direction, mode: $mode) {
    direction
    progressEstimate
    transferredBytes
    transferableBytes
  }
}
    `) as unknown as TypedDocumentString<ProgressSubscription, ProgressSubscriptionVariables>;
export const SessionDocument = new TypedDocumentString(`
    query Session($id: ID!) {
  session(id: $id) {
    ...SessionFields
  }
}
    fragment SessionFields on SyncSession {
  id
  clientId
  state
  connectionState
  pausedDirections
  lastIntegratedClientVersion
  lastDownloadedServerVersion
  queriesVersion
  resetRequired
}`) as unknown as TypedDocumentString<SessionQuery, SessionQueryVariables>;
export const UploadChangesDocument = new TypedDocumentString(`
    mutation UploadChanges($sessionId: ID!, $changesets: [ChangesetInput!]!, $latestClientVersion: Int, $pendingBytes: Float) {
  uploadChanges(
    sessionId: $sessionId
    changesets: $changesets
    latestClientVersion: $latestClientVersion
    pendingBytes: $pendingBytes
  ) {
    lastIntegratedClientVersion
    serverVersion
    compensatingWrites {
      collection
      id
      reason
      document
    }
  }
}
    `) as unknown as TypedDocumentString<UploadChangesMutation, UploadChangesMutationVariables>;
export const AcknowledgeDownloadDocument = new TypedDocumentString(`
    mutation AcknowledgeDownload($sessionId: ID!, $serverVersion: Int!, $queriesVersion: Int) {
  acknowledgeDownload(
    sessionId: $sessionId
    serverVersion: $serverVersion
    queriesVersion: $queriesVersion
  ) {
    lastDownloadedServerVersion
  }
}
    `) as unknown as TypedDocumentString<AcknowledgeDownloadMutation, AcknowledgeDownloadMutationVariables>;
export const ChangesDocument = new TypedDocumentString(`
    subscription Changes($sessionId: ID!, $since: Int, $bootstrapUntil: Int) {
  changes(sessionId: $sessionId, since: $since, bootstrapUntil: $bootstrapUntil) {
    fromServerVersion
    toServerVersion
    latestServerVersion
    remainingChanges
    bootstrapUntil
    queriesVersion
    changes {
      serverVersion
      collection
      id
      op
      document
    }
  }
}
    `) as unknown as TypedDocumentString<ChangesSubscription, ChangesSubscriptionVariables>;