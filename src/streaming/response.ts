import { compress } from 'hono/compress';
import { chunkedStream, type ChunkedStreamOptions, type RowEncoder } from './chunked-stream';

export type StreamResponseOptions = ChunkedStreamOptions & {
  contentType: string;
  headers?: Record<string, string>;
};

/** A 200 whose body is the chunked stream; status and headers are final before the first row. */
export function streamResponse<T>(
  source: AsyncIterable<readonly T[]>,
  encoder: RowEncoder<T>,
  opts: StreamResponseOptions,
): Response {
  return new Response(chunkedStream(source, encoder, opts), {
    status: 200,
    headers: {
      'content-type': opts.contentType,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...opts.headers,
    },
  });
}

const STREAMED_TYPES = /^\s*(?:application\/(?:x-ndjson|json)|text\/csv)(?:[;\s]|$)/i;

/**
 * gzip for streamed routes when Accept-Encoding allows it (q-values honoured by Hono's
 * compress). It compresses after the chunking, so the 32 KiB logic applies to the
 * uncompressed rows; cancelling the compressed stream cancels the source behind it.
 */
export const gzipWhenAccepted = () =>
  compress({ encoding: 'gzip', contentTypeFilter: (type) => STREAMED_TYPES.test(type) });
