/**
 * The reason our own controllers abort with when an operation or a stream simply ends: one
 * shared value, so that ending one does not build a DOMException (and its stack) each time,
 * as `abort()` without a reason does. Nothing reads an abort's reason; code that must tell
 * an abort apart checks `signal.aborted`.
 */
export const STOPPED: unknown = Object.freeze({ name: 'Stopped', message: 'stopped' });
