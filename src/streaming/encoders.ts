import type { RowEncoder } from './chunked-stream';

/** The last line of an NDJSON stream that failed part-way; same shape as every error body. */
export const ndjsonErrorLine = (rows: number) =>
  `${JSON.stringify({
    error: {
      code: 'STREAM_INCOMPLETE',
      message: 'the stream failed before it was complete; the lines above are a partial result, retry',
      details: { rowsSent: rows },
    },
  })}\n`;

/** One JSON document a line; a failure ends the stream with `ndjsonErrorLine`. */
export function ndjsonEncoder<T>(toJson: (row: T) => unknown): RowEncoder<T> {
  return { row: (r) => `${JSON.stringify(toJson(r))}\n`, error: ndjsonErrorLine };
}

/** A JSON array written element by element; a failure aborts the connection (no valid end). */
export function jsonArrayEncoder<T>(toJson: (row: T) => unknown = (r) => r): RowEncoder<T> {
  return {
    head: () => '[',
    row: (r, i) => (i === 0 ? '' : ',') + JSON.stringify(toJson(r)),
    tail: () => ']',
  };
}

export type CsvColumn<T> = { header: string; value: (row: T) => string | number | null | undefined };

/**
 * RFC 4180 CSV (CRLF line ends, a header line, fields quoted when they need it). CSV has no
 * place for an error marker, so a failure aborts the connection.
 */
export function csvEncoder<T>(columns: CsvColumn<T>[]): RowEncoder<T> {
  const line = (fields: string[]) => `${fields.join(',')}\r\n`;
  return {
    head: () => line(columns.map((c) => csvField(c.header))),
    row: (r) => line(columns.map((c) => csvField(c.value(r)))),
  };
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
