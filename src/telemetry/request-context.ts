import { AsyncLocalStorage } from 'node:async_hooks';

/** Carries the request id to every log line written while serving that request. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();
