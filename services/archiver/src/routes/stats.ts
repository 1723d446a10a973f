import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

/** Operational counters of this replica (no content). */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/archiver/stats',
    {
      schema: {
        response: {
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
