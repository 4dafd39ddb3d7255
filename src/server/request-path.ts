/** The path of a Node HTTP request's URL, without its query string. */
import type { IncomingMessage } from 'node:http';

export const requestPath = (req: IncomingMessage): string => (req.url ?? '').split('?')[0]!;
