import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorReply } from '@cz/contracts';

/** Operational counters of this replica (no content); callers with `archiver.read`. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/archiver/stats',
    {
      onRequest: app.requireCaller('archiver.read'),
      schema: {
        response: {
          401: ErrorReply,
          403: ErrorReply,
          503: ErrorReply,
          200: Type.Object({
            batches: Type.Integer(),
            stored: Type.Integer(),
            duplicates: Type.Integer(),
            deadLettered: Type.Integer(),
            contentConflicts: Type.Integer(),
          }),
        },
      },
    },
    async () => app.archiveStats,
  );
};

export default routes;
