/**
 * React bindings (React 18 and 19): hooks for a query's live result, one document, the
 * session's state, its progress and the connection state. Each follows the SDK's own
 * subscriptions through `useSyncExternalStore`, so a component re-renders only when what it
 * reads changed.
 */
export {
  useConnectionState,
  useDocument,
  useProgress,
  useQuery,
  useSessionState,
} from './hooks.js';
