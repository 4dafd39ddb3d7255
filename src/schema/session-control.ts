/** The shapes of session control: cancellation tokens and reconnect results. */
import type { TokenView } from '../session/cancellation.js';
import { builder } from './builder.js';

export const CancellationTokenRef = builder.objectRef<TokenView>('CancellationToken').implement({
  fields: (t) => ({ id: t.exposeID('id'), cancelled: t.exposeBoolean('cancelled') }),
});

export const ReconnectResultRef = builder
  .objectRef<{ sessions: number }>('ReconnectResult')
  .implement({
    fields: (t) => ({
      sessions: t.exposeInt('sessions', {
        description: 'How many sessions were asked to reconnect.',
      }),
    }),
  });
