import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { HealthReply } from '@cz/contracts';

export type HealthCheck = () => Promise<void>;

/** GET /healthz (liveness: the process answers) and GET /readyz (every dependency answers). */
export const healthPlugin = fp<{ service: string; checks: Record<string, HealthCheck> }>(
  async (app: FastifyInstance, { service, checks }) => {
    app.get('/healthz', { schema: { response: { 200: HealthReply } } }, async () => ({
      status: 'ok' as const,
      service,
      checks: {},
    }));
    app.get(
      '/readyz',
      { schema: { response: { 200: HealthReply, 503: HealthReply } } },
      async (_request, reply) => {
        const results: Record<string, string> = {};
        let healthy = true;
        for (const [name, check] of Object.entries(checks)) {
          try {
            await check();
            results[name] = 'ok';
          } catch (err) {
            healthy = false;
            results[name] = err instanceof Error ? err.message : String(err);
          }
        }
        return reply
          .code(healthy ? 200 : 503)
          .send({ status: healthy ? 'ok' : 'degraded', service, checks: results });
      },
    );
  },
  { name: 'cz-health' },
);
