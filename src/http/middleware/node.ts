import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';

/** What @hono/node-server puts in c.env; absent when a test drives the app with app.request(). */
export type NodeBindings = { incoming: IncomingMessage; outgoing: ServerResponse };

export function nodeIncoming(c: Context): IncomingMessage | undefined {
  return (c.env as Partial<NodeBindings> | undefined)?.incoming;
}

export function nodeOutgoing(c: Context): ServerResponse | undefined {
  return (c.env as Partial<NodeBindings> | undefined)?.outgoing;
}

/**
 * A request header without building the Web Headers object: Node has parsed them already
 * (lower-cased keys). Falls back to the Web request in process (app.request()).
 */
export function rawHeader(c: Context, name: string): string | undefined {
  const incoming = nodeIncoming(c);
  if (!incoming) return c.req.header(name);
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
