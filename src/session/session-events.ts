/** What `sessionEvents` carries: control messages for one session's client. */
export type SessionEventType =
  | 'PAUSED'
  | 'RESUMED'
  | 'RECONNECT_REQUESTED'
  | 'CLIENT_RESET_REQUIRED'
  | 'QUERIES_CHANGED'
  | 'CLOSED';

export interface SessionEvent {
  type: SessionEventType;
  sessionId: string;
  at: Date;
}
