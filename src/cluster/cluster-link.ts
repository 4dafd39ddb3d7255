/**
 * Joins a gateway to the others of its deployment through a SignalBus: what happens
 * here goes out (commits, session changes, events, connection states, cancellations),
 * and what happens elsewhere is applied to this gateway's streams, waits and watchers.
 * Connection reports are renewed while they hold, so a gateway that dies lapses.
 */
import type { SessionService } from '../session/session-service.js';
import type { Envelope, SignalBus } from './signals.js';

export class ClusterLink {
  private stopSubscription: () => void = () => undefined;
  private renewal: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: SignalBus,
    private readonly sessions: SessionService,
    private readonly renewMs = 10_000,
  ) {}

  async start(): Promise<void> {
    const { connections, tokens } = this.sessions;
    connections.onLocalChange = (sessionId, state) =>
      this.bus.publish({ type: 'connection', sessionId, state });
    tokens.onCancel = (tokenId) => this.bus.publish({ type: 'cancelled', tokenId });
    this.sessions.onEmit = (event, sessionId) =>
      this.bus.publish({ type: 'event', sessionId, event });
    this.stopSubscription = this.bus.subscribe((envelope) => this.apply(envelope));
    await this.bus.start();
    this.renewal = setInterval(() => this.renew(), this.renewMs);
    this.renewal.unref();
  }

  async stop(): Promise<void> {
    if (this.renewal) clearInterval(this.renewal);
    const { connections, tokens } = this.sessions;
    connections.onLocalChange = () => undefined;
    tokens.onCancel = () => undefined;
    this.sessions.onEmit = () => undefined;
    this.stopSubscription();
    await this.bus.stop();
  }

  private renew(): void {
    for (const [sessionId, state] of this.sessions.connections.localSessions()) {
      this.bus.publish({ type: 'connection', sessionId, state });
    }
  }

  private apply({ origin, signal }: Envelope): void {
    const { core, connections, tokens } = this.sessions;
    if (signal.type === 'committed') core.feed.advance(signal.version);
    else if (signal.type === 'session') {
      core.feed.poke(signal.sessionId);
      core.sessionUpdates.publish(signal.sessionId, signal.sessionId);
    } else if (signal.type === 'event') this.sessions.received(signal.event, signal.sessionId);
    else if (signal.type === 'connection')
      connections.report(origin, signal.sessionId, signal.state);
    else if (signal.type === 'cancelled') tokens.cancelledRemotely(signal.tokenId);
    else void this.recover();
  }

  /** After missed signals: catch up with the store's latest version and wake everything. */
  private async recover(): Promise<void> {
    const { core } = this.sessions;
    core.feed.advance(await core.store.latestVersion());
    core.feed.pokeAll();
    for (const topic of core.sessionUpdates.topics()) core.sessionUpdates.publish(topic, topic);
  }
}
