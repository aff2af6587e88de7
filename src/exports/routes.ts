import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import { requireAdmin, type AuthEnv, type AuthMiddleware } from '../http/auth';
import { errorResponses, IdParam } from '../http/schemas';
import type { StreamStats } from '../streaming/chunked-stream';
import { gzipWhenAccepted, streamResponse } from '../streaming/response';
import { EXPORT_STATUSES, exportCsv, exportNdjson } from './reservations';
import type { ExportService } from './service';

const StatusList = z
  .string()
  .transform((s) => [...new Set(s.split(',').map((v) => v.trim()))])
  .pipe(z.array(z.enum(EXPORT_STATUSES)).min(1))
  .openapi({ type: 'string', description: `comma-separated: ${EXPORT_STATUSES.join(',')} (default all)`, example: 'held,confirmed' });

const ExportQuery = z.object({
  format: z.enum(['ndjson', 'csv']).default('ndjson').openapi({ param: { name: 'format', in: 'query' } }),
  status: StatusList.optional().openapi({ param: { name: 'status', in: 'query' } }),
});

const FORMATS = {
  ndjson: { encoder: exportNdjson, contentType: 'application/x-ndjson; charset=utf-8' },
  csv: { encoder: exportCsv, contentType: 'text/csv; charset=utf-8; header=present' },
} as const;

export type ExportRouteDeps = {
  auth: AuthMiddleware;
  logger: Logger;
  /** Bytes per chunk (config STREAM_CHUNK_BYTES). */
  chunkBytes: number;
  /** Rows per cursor fetch. */
  batchRows?: number;
  onFinish?: (stats: StreamStats) => void;
};

/** Admin exports streamed from a PostgreSQL cursor in ~32 KiB chunks. */
export function exportRoutes(app: OpenAPIHono<AuthEnv>, exports: ExportService, opts: ExportRouteDeps): void {
  const { chunkBytes, logger } = opts;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/events/{id}/reservations/export',
      tags: ['admin'],
      summary: 'Every reservation of the event, one a line, streamed',
      description:
        'NDJSON (default) or CSV, streamed in ~32 KiB chunks (gzip when accepted). A failure after the ' +
        'first byte ends NDJSON with an error line `{"error":{"code":"STREAM_INCOMPLETE",...}}`; a CSV ' +
        'export is cut off instead (the transfer is incomplete).',
      security: [{ bearer: [] }],
      middleware: [opts.auth, requireAdmin, gzipWhenAccepted()] as const,
      request: { params: IdParam, query: ExportQuery },
      responses: {
        200: {
          description: 'the export',
          content: {
            'application/x-ndjson': { schema: z.string() },
            'text/csv': { schema: z.string() },
          },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { format, status } = c.req.valid('query');
      const rows = await exports.reservations(id, status ?? null, opts.batchRows);
      const { encoder, contentType } = FORMATS[format];
      return streamResponse(rows, encoder, {
        contentType,
        headers: { 'content-disposition': `attachment; filename="reservations-${id}.${format === 'csv' ? 'csv' : 'ndjson'}"` },
        chunkBytes,
        signal: c.req.raw.signal,
        logger,
        name: 'reservations-export',
        onFinish: (stats) => {
          logger.info({ eventId: id, format, ...stats }, 'reservations export finished');
          opts.onFinish?.(stats);
        },
      });
    },
  );
}
