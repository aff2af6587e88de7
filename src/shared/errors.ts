/**
 * Domain errors carry the contract's status and code; the HTTP error boundary is the only
 * place that turns them into responses.
 */
export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 402 | 403 | 404 | 409 | 410 | 413 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    // A domain answer, not a fault: no stack to capture (a rejection path runs it per request).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'AppError';
  }
}

export const Errors = {
  invalid: (message: string, details?: Record<string, unknown>) =>
    new AppError(400, 'INVALID_REQUEST', message, details),
  unauthenticated: (message = 'a valid bearer token is required') =>
    new AppError(401, 'UNAUTHENTICATED', message),
  forbidden: (message = 'not allowed') => new AppError(403, 'FORBIDDEN', message),
  queuePassRequired: (message = 'a valid queue pass for this event is required') =>
    new AppError(403, 'QUEUE_PASS_REQUIRED', message),
  queuePassRevoked: (message = 'this queue pass was revoked') => new AppError(403, 'QUEUE_PASS_REVOKED', message),
  challengeRequired: (message = 'a solved proof-of-work challenge is required (GET .../queue/challenge, sent back in X-Queue-Challenge)') =>
    new AppError(403, 'CHALLENGE_REQUIRED', message),
  rateLimited: (message: string, retryAfterS: number, details?: Record<string, unknown>) =>
    new AppError(429, 'RATE_LIMITED', message, details, { 'Retry-After': String(retryAfterS) }),
  notFound: (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`),
  salesClosed: (details?: Record<string, unknown>) =>
    new AppError(409, 'SALES_CLOSED', 'sales are not open for this event', details),
  seatsUnavailable: (seats: string[], details: Record<string, unknown> = {}) =>
    new AppError(409, 'SEATS_UNAVAILABLE', 'some requested seats are no longer available', {
      seats,
      ...details,
    }),
  soldOut: (zone: string) => new AppError(409, 'SOLD_OUT', `zone ${zone} is sold out`, { zone }),
  conflict: (code: string, message: string, details?: Record<string, unknown>) =>
    new AppError(409, code, message, details),
  paymentRequired: (reservationId: string) =>
    new AppError(402, 'PAYMENT_REQUIRED', 'this reservation is confirmed by paying for it', {
      checkout: `/v1/reservations/${reservationId}/checkout`,
    }),
  holdExpired: () => new AppError(410, 'HOLD_EXPIRED', 'the hold has expired'),
  idempotencyKeyReused: () =>
    new AppError(
      422,
      'IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was already used with a different request body',
    ),
  limitExceeded: (max: number, current: number, requested: number) =>
    new AppError(
      429,
      'LIMIT_EXCEEDED',
      `at most ${max} seats per user for this event`,
      { max, current, requested },
    ),
  /** An event whose Redis inventory is being rebuilt from PostgreSQL. */
  restoring: () => new AppError(503, 'UNAVAILABLE', 'event inventory is being restored, retry shortly', undefined, { 'Retry-After': '2' }),
  unavailable: (message = 'temporarily unavailable, retry shortly', retryAfterS = 1) =>
    new AppError(503, 'UNAVAILABLE', message, undefined, { 'Retry-After': String(retryAfterS) }),
  overloaded: (message = 'too busy to finish in time, retry shortly') => new Overloaded(message),
};

/**
 * 503 because this process is behind (a hold queued past its write budget), not because a
 * dependency failed: the same answer for the caller, but no circuit breaker counts it, so
 * a load peak sheds the late requests instead of opening a breaker for everyone.
 */
export class Overloaded extends AppError {
  constructor(message: string) {
    super(503, 'UNAVAILABLE', message, undefined, { 'Retry-After': '1' });
  }
}

/**
 * Codes raised outside the factories above (through Errors.conflict or a direct AppError),
 * by status: the OpenAPI document's per-status code enums are the factories' codes plus
 * these, and a test fails when the source raises a code listed nowhere.
 */
export const OTHER_CODES: Readonly<Record<number, readonly string[]>> = {
  400: ['INVALID_SIGNATURE'],
  409: [
    'IDEMPOTENCY_IN_PROGRESS',
    'RESERVATION_CANCELLED',
    'ALREADY_CONFIRMED',
    'QUEUE_DISABLED',
    'CHALLENGE_DISABLED',
    'EVENT_CANCELLED',
    'INVALID_TRANSITION',
    'PRICE_LOCKED',
    'PAYMENTS_DISABLED',
    'NOTHING_TO_PAY',
    'NOT_CONFIRMED',
    'RESERVATION_REFUNDED',
    'TICKET_REVOKED',
    'ALREADY_CHECKED_IN',
  ],
  413: ['PAYLOAD_TOO_LARGE'],
};
