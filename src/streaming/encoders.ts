import { stringify, type Options } from 'csv-stringify/sync';
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
 * RFC 4180 with csv-stringify: CRLF line ends, fields quoted when they need it (and when they
 * hold a line break or start or end with white space, which spreadsheets would trim). A cell that a spreadsheet
 * would run as a formula (`=`, `+`, `-`, `@`, tab, CR, and their full-width forms) is
 * neutralised as OWASP advises: a leading `'` and quoted.
 */
const CSV_OPTIONS: Options = {
  record_delimiter: 'windows',
  escape_formulas: true,
  quoted_match: [/^\s|\s$|[\r\n]/, /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/],
  eof: true,
};

const csvLine = (fields: (string | number | null | undefined)[]) => stringify([fields], CSV_OPTIONS);

/** CSV has no place for an error marker, so a failure aborts the connection. */
export function csvEncoder<T>(columns: CsvColumn<T>[]): RowEncoder<T> {
  const header = csvLine(columns.map((c) => c.header));
  return {
    head: () => header,
    row: (r) => csvLine(columns.map((c) => c.value(r))),
  };
}

/** One field as it appears in a line (tests, one-off cells). */
export const csvField = (v: string | number | null | undefined): string => csvLine([v]).slice(0, -2);
