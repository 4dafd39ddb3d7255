/**
 * A subscription over HTTP as server-sent events: Yoga's ordinary execution (the sockets'
 * subscriptions go through the gateway's direct and shared execution instead). The `next`
 * events' payloads are collected, parsed, in order, until `signal` aborts.
 */
export async function sseSubscriber(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  signal: AbortSignal,
): Promise<unknown[]> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  const payloads: unknown[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    const reader = response.body!.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffered += decoder.decode(read.value, { stream: true });
      const events = buffered.split('\n\n');
      buffered = events.pop()!;
      for (const event of events) {
        const data = event.split('\n').find((line) => line.startsWith('data: '));
        if (data && event.startsWith('event: next')) payloads.push(JSON.parse(data.slice(6)));
      }
    }
  })().catch(() => undefined);
  return payloads;
}
