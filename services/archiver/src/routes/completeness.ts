import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CorpId, ErrorReply } from '@cz/contracts';
import { assertCorp, badRequest } from '@cz/common';
import { dayIn } from '../completeness/calendar-day';
import { reconcileDay } from '../completeness/reconciliation';

const Gap = Type.Object({
  fromSeq: Type.Integer(),
  toSeq: Type.Integer(),
  state: Type.String(),
  detectedAt: Type.String({ format: 'date-time' }),
});

/**
 * Completeness of one corp for operators (seq numbers and counts only, no content): reads need
 * `archiver.read`, a reconciliation `archiver.reconcile`, both for a corp the caller was granted.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/completeness/:corpId',
    {
      onRequest: app.requireCaller('archiver.read'),
      schema: {
        params: Type.Object({ corpId: CorpId }),
        response: {
          401: ErrorReply,
          403: ErrorReply,
          503: ErrorReply,
          200: Type.Object({
            corpId: Type.String(),
            lowSeq: Type.Union([Type.Integer(), Type.Null()]),
            highSeq: Type.Union([Type.Integer(), Type.Null()]),
            seqRecords: Type.Integer(),
            duplicates: Type.Integer(),
            conflicts: Type.Integer(),
            openGaps: Type.Array(Gap),
          }),
        },
      },
    },
    async (request) => {
      const { corpId } = request.params;
      assertCorp(request, corpId);
      const [t]: Record<string, string | null>[] = await app.db.query(
        'SELECT low_seq, high_seq, seq_records, duplicates, conflicts FROM wecom_seq_tracker WHERE corp_id = ?',
        [corpId],
      );
      const gaps: { from_seq: string; to_seq: string; state: string; detected_at: Date }[] =
        await app.db.query(
          `SELECT from_seq, to_seq, state, detected_at FROM completeness_gap
          WHERE corp_id = ? AND state IN ('suspected', 'alerted') ORDER BY from_seq LIMIT 1000`,
          [corpId],
        );
      const n = (v: string | null | undefined) => (v == null ? null : Number(v));
      return {
        corpId,
        lowSeq: n(t?.low_seq),
        highSeq: n(t?.high_seq),
        seqRecords: Number(t?.seq_records ?? 0),
        duplicates: Number(t?.duplicates ?? 0),
        conflicts: Number(t?.conflicts ?? 0),
        openGaps: gaps.map((g) => ({
          fromSeq: Number(g.from_seq),
          toSeq: Number(g.to_seq),
          state: g.state,
          detectedAt: new Date(g.detected_at).toISOString(),
        })),
      };
    },
  );

  app.post(
    '/v1/completeness/:corpId/reconciliations/:day',
    {
      onRequest: app.requireCaller('archiver.reconcile'),
      schema: {
        params: Type.Object({ corpId: CorpId, day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }) }),
        response: {
          200: Type.Object({
            created: Type.Boolean(),
            digestSm3: Type.String(),
            body: Type.Record(Type.String(), Type.Unknown()),
          }),
          400: ErrorReply,
          401: ErrorReply,
          403: ErrorReply,
          503: ErrorReply,
        },
      },
    },
    async (request) => {
      const { corpId, day } = request.params;
      assertCorp(request, corpId);
      // a record is frozen once written: an unfinished day would be frozen half-counted
      if (day >= dayIn(app.completeness.timeZone, new Date())) {
        throw badRequest('day_not_finished', `${day} is not over yet in ${app.completeness.timeZone}`);
      }
      const { body, digest, created } = await reconcileDay(app.db, corpId, day, app.completeness.timeZone);
      return { created, digestSm3: digest, body: body as unknown as Record<string, unknown> };
    },
  );
};

export default routes;
