import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CorpId,
  ErrorReply,
  ReviewDecisionRequest,
  ReviewItemView,
  ReviewListReply,
  ReviewParams,
  ReviewQuery,
  ReviewSamplingConfig,
} from '@cz/contracts';
import { AppError, badRequest, notFound } from '@cz/common';
import { appendAudit } from '../audit';
import { integrityContext } from '../integrity';
import { loadAccess } from '../scope';
import {
  decideReview,
  findReview,
  reviewFingerprint,
  reviewPage,
  reviewView,
  samplingConfig,
  setSamplingConfig,
} from '../compliance/reviews';
import { noteText } from '../compliance/alert-actions';

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply };

/** `?corpId=`: one corp's sampling settings; without it, the settings of every corp (`*`). */
const SamplingConfigQuery = Type.Object(
  { corpId: Type.Optional(Type.Union([CorpId, Type.Literal('*')])) },
  { additionalProperties: false },
);

/**
 * The review queue (抽检复核): conversation-days with alerts and a random sample of the rest, for
 * the reviewers (auditors, risk officers) within their data scope (REG-05: an item outside it is
 * a 404). A decision is recorded once, with a sealed note; the admin sets how much is sampled.
 * Every read and change is in the audit trail (never a note's text).
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/reviews',
    {
      preHandler: app.requireUser('auditor', 'risk_officer', 'admin'),
      schema: { querystring: ReviewQuery, response: { 200: ReviewListReply, ...errors } },
    },
    async (request) => {
      const user = request.user!;
      const query = request.query;
      const fingerprint = reviewFingerprint(query);
      const after = query.cursor ? app.cursors.decode(query.cursor, fingerprint) : undefined;
      const rows = await reviewPage(app.db, await loadAccess(app.db, user), query, after);
      const limit = query.limit ?? 50;
      const page = rows.slice(0, limit);
      const integrity = integrityContext(app.db, request);
      const items: ReviewItemView[] = [];
      for (const row of page) items.push(await reviewView(app.keys, integrity, row));
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > limit && last
          ? app.cursors.encode({ t: new Date(last.created_at).getTime(), id: last.id }, fingerprint)
          : null;
      await appendAudit(app.db, {
        actor: user.username,
        action: 'review.list',
        target: 'reviews',
        detail: {
          filters: {
            status: query.status ?? null,
            reason: query.reason ?? null,
            corpId: query.corpId ?? null,
          },
          page: query.cursor ? 'next' : 'first',
          count: items.length,
          ids: items.map((i) => i.id),
        },
      });
      return { items, nextCursor };
    },
  );

  app.post(
    '/v1/reviews/:id/decision',
    {
      // the reviewers; an admin configures the queue but does not review
      preHandler: app.requireUser('auditor', 'risk_officer'),
      schema: {
        params: ReviewParams,
        body: ReviewDecisionRequest,
        response: { 200: ReviewItemView, ...errors, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const user = request.user!;
      const { id } = request.params;
      const { decision } = request.body;
      const note = noteText(request.body.note);
      if (decision === 'issue' && note === null)
        throw badRequest('note_required', 'an issue needs a note that describes it');
      const access = await loadAccess(app.db, user);
      const item = await findReview(app.db, access, id);
      if (!item) {
        // outside the scope it does not exist for the caller, but an attempt on a real item is on record
        const [exists] = await app.db.query<unknown[]>('SELECT 1 AS ok FROM review_item WHERE id = ?', [id]);
        if (exists)
          await appendAudit(app.db, {
            actor: user.username,
            action: 'review.decision_denied',
            target: `review_item:${id}`,
            detail: { reason: 'out_of_scope' },
          });
        throw notFound(`no review item ${id}`);
      }
      const already = () => new AppError(409, 'already_decided', `review item ${id} was already decided`);
      if (item.status !== 'pending') throw already();
      if (!(await decideReview(app.db, app.keys, item, decision, note, user.username))) throw already();
      await appendAudit(app.db, {
        actor: user.username,
        action: 'review.decision',
        target: `review_item:${id}`,
        detail: {
          corpId: item.corp_id,
          conversationId: item.conversation_id,
          day: item.day,
          reason: item.reason,
          decision,
          noted: note !== null,
        },
      });
      const decided = await findReview(app.db, access, id);
      if (!decided) throw notFound(`no review item ${id}`);
      return reviewView(app.keys, integrityContext(app.db, request), decided);
    },
  );

  app.get(
    '/v1/reviews/config',
    {
      preHandler: app.requireUser('admin'),
      schema: { querystring: SamplingConfigQuery, response: { 200: ReviewSamplingConfig, ...errors } },
    },
    async (request) => {
      const { samplePercent, maxPerDay } = await samplingConfig(app.db, request.query.corpId ?? '*');
      return { samplePercent, maxPerDay };
    },
  );

  app.put(
    '/v1/reviews/config',
    {
      preHandler: app.requireUser('admin'),
      schema: {
        querystring: SamplingConfigQuery,
        body: ReviewSamplingConfig,
        response: { 200: ReviewSamplingConfig, ...errors },
      },
    },
    async (request) => {
      const user = request.user!;
      const corpId = request.query.corpId ?? '*';
      const before = await samplingConfig(app.db, corpId);
      await setSamplingConfig(app.db, corpId, request.body, user.username);
      const { samplePercent, maxPerDay } = await samplingConfig(app.db, corpId);
      await appendAudit(app.db, {
        actor: user.username,
        action: 'review.config',
        target: `review_config:${corpId}`,
        detail: {
          before: { samplePercent: before.samplePercent, maxPerDay: before.maxPerDay, from: before.source },
          after: { samplePercent, maxPerDay },
        },
      });
      return { samplePercent, maxPerDay };
    },
  );
};

export default routes;
